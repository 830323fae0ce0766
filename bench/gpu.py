"""Section 5: on a CUDA GPU, steps/s, images/s and the share of the device's measured peak, for DCGAN-64 and one
preset of each family, in the run's precision (ganengine.precision: bf16 autocast and channels_last by default).

    python -m bench --only gpu          (or: python -m bench.gpu [--quick])
    GAN_PRECISION=fp32 python -m bench.gpu    (the same rows in fp32, for the mixed-precision speed-up)

FLOPs of one training iteration are counted by torch.utils.flop_counter (matmul and convolution, forward and
backward) on the run itself. The peak is measured here with large matmuls in the run's compute dtype (the spec sheet
is not readable from torch), so "share of peak" is the share of what this device's matmul units reached. Steps/s is
timed between two torch.cuda.synchronize() calls over n iterations after a warm-up (the gather, the one sync point,
is left out as the trainer does between publications). On a machine without a GPU the rows say so.
"""
from __future__ import annotations

import time

import torch

from bench.common import table
from ganengine.config import Knobs, RunConfig
from ganengine.presets import PRESETS
from ganengine.run import GANRun


def step_flops(run) -> float:
    from torch.utils.flop_counter import FlopCounterMode
    with FlopCounterMode(display=False) as counter:
        run.train_iteration(run.family.phases[0])
    return float(counter.get_total_flops())


def matmul_peak(device, dtype=torch.float32, n=8192, reps=20) -> float:
    a, b = torch.randn(n, n, device=device, dtype=dtype), torch.randn(n, n, device=device, dtype=dtype)
    for _ in range(3):
        a @ b
    torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(reps):
        a @ b
    torch.cuda.synchronize()
    return 2 * n ** 3 * reps / (time.perf_counter() - t)


def cases():
    """(label, RunConfig, Knobs): DCGAN 64x64 at batch 64 (the DCGAN paper's 64 px setting, batch 128 there), and
    the first preset of each family other than the 2-D ones."""
    out = [("DCGAN 64x64, batch 64", RunConfig(data="mnist", model="dcgan", image_size=64, width=64, latent_dim=100,
                                                device="cuda"), Knobs(batch_size=64))]
    seen = {"gan"}
    for p in PRESETS.values():
        family = p.config.get("family", "gan")
        if family in seen:
            continue
        seen.add(family)
        config, knobs = p.build(device="cuda")
        out.append((f"{p.name} ({family}), batch {knobs.batch_size}", config, knobs))
    return out


def measure(config, knobs, n: int) -> dict:
    run = GANRun(config=config, knobs=knobs)
    flops = step_flops(run)
    kind = run.family.phases[0]
    for _ in range(10):
        run.train_iteration(kind)
    run.gather(1.0)
    torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(n):
        run.train_iteration(kind)
    torch.cuda.synchronize()
    rate = n / (time.perf_counter() - t)
    run.gather(1.0)
    return {"steps_per_sec": rate, "images_per_sec": rate * knobs.batch_size, "flops_per_step": flops,
            "precision": run.precision.describe()}


def run(quick: bool = False) -> tuple[str, dict]:
    header = ["model", "precision", "steps/s", "images/s", "GFLOP/step", "share of matmul peak"]
    if not torch.cuda.is_available():
        return ("No GPU on this machine: this section needs CUDA (the same script runs unchanged where there is one: "
                "`python -m bench --only gpu`).\n\n"
                + table(header, [[label, "no GPU", "", "", "", ""] for label, _, _ in cases_labels()]),
                {"gpu": None})
    device = torch.device("cuda")
    name = torch.cuda.get_device_name(0)
    n = 30 if quick else 300
    rows, data = [], {"gpu": name, "rows": []}
    peaks = {}
    for label, config, knobs in cases():
        r = measure(config, knobs, n)
        dtype = torch.bfloat16 if "bf16" in r["precision"] else torch.float16 if "fp16" in r["precision"] \
            else torch.float32
        if dtype not in peaks:
            peaks[dtype] = matmul_peak(device, dtype)
        share = r["steps_per_sec"] * r["flops_per_step"] / peaks[dtype]
        rows.append([label, r["precision"].split(",")[0], r["steps_per_sec"], r["images_per_sec"],
                     f"{r['flops_per_step'] / 1e9:.2f}", f"{100 * share:.1f}%"])
        data["rows"].append({"case": label, **r, "peak": peaks[dtype], "share": share})
    peak_text = ", ".join(f"{str(k).removeprefix('torch.')} {v / 1e12:.0f} TFLOP/s" for k, v in peaks.items())
    return (f"{name}; measured matmul peak: {peak_text}. {n} iterations each after 10 of warm-up.\n\n"
            + table(header, rows), data)


def cases_labels():
    """The labels of cases() without building CUDA configs (device cpu), for the no-GPU table."""
    labels = [("DCGAN 64x64, batch 64", None, None)]
    seen = {"gan"}
    for p in PRESETS.values():
        family = p.config.get("family", "gan")
        if family not in seen:
            seen.add(family)
            labels.append((f"{p.name} ({family}), batch {p.build()[1].batch_size}", None, None))
    return labels


if __name__ == "__main__":
    import sys
    text, _ = run(quick="--quick" in sys.argv)
    print(text)
