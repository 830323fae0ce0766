"""python -m bench [--quick] [--only SECTION ...] [--out bench/RESULTS.md]

Sections: throughput, quality, interactivity (app + page + clients, in a subprocess), scale, gpu; and `presets`
(the issue-4 5-seed check, about 18 minutes), which runs only when named with --only. The default run takes
about 21 minutes on the 2-core CPU (section times in bench/RESULTS.md); --quick is a smoke version (under a minute
per section) that the tests run.
Results are written as markdown with the machine and date.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

from bench.common import ROOT, machine, table

DEFAULT = ["throughput", "quality", "interactivity", "scale", "gpu"]
TITLES = {"throughput": "1. Training throughput: engine against the bare PyTorch loop",
          "quality": "2. Time to quality", "interactivity": "3. Interactivity (and throughput with the page open)",
          "scale": "4. Scale", "gpu": "5. GPU", "presets": "Fast presets: the issue-4 targets over 5 seeds"}


def interactivity(quick: bool) -> tuple[str, dict]:
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    cmd = [sys.executable, "-m", "bench.app_probe"] + (["--quick"] if quick else [])
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    line = next((l for l in proc.stdout.splitlines() if l.startswith("RESULT ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"app probe failed ({proc.returncode}): {proc.stderr[-2000:]}")
    r = json.loads(line[len("RESULT "):])
    rows = [[name, v["bare_1_thread"], v["app_steps_per_sec"], f"{v['ratio']:.2f}"] for name, v in r["page_open"].items()]
    text = (f"The app in one process ({r['threads']} torch thread, OMP_WAIT_POLICY=PASSIVE, as app.py), a headless "
            f"Chromium page open on it and polling every second.\n\n"
            + table(["model", "bare loop, 1 thread, no page (it/s)", "app with the page open (it/s)",
                     "app / bare (median of pairs)"], rows))
    lat, web = r["slider_latency_ms"], r["browser_slider_ms"]
    text += ("\n\nLatent-slider update on the pretrained DCGAN, in the browser (a key press on a slider until the new "
             "image has loaded) and through gradio_client (`generate`, round trip); training = the page's own DCGAN "
             "run training meanwhile:\n\n"
             + table(["state", "browser p50 (ms)", "browser p95 (ms)", "API p50 (ms)", "API p95 (ms)"],
                     [[k, web[k]["p50"], web[k]["p95"], lat[k]["p50"], lat[k]["p95"]] for k in lat]))
    text += ("\n\nThe refresh tick (server CPU of the tick handler, and the bytes of figures and images it returns; "
             "full = every output rebuilt, incremental = only what changed in 0.5 s):\n\n"
             + table(["data", "full: ms", "full: bytes", "incremental: ms", "incremental: bytes"],
                     [[k, v["full_ms_p50"], v["full_bytes_p50"], v["incremental_ms_p50"], v["incremental_bytes_p50"]]
                      for k, v in r["tick"].items()]))
    mem = r["memory_mb"]
    text += ("\n\nMemory per visitor with a trainer (RSS growth of the app process; visitors then leave):\n\n"
             + table(["preset", "visitors", "MiB per visitor", "MiB still held after they left", "trainers left"],
                     [[k, v["visitors"], v["per_visitor"], v["after_leaving"], v["trainers_left"]]
                      for k, v in mem.items() if isinstance(v, dict)]))
    return text, r


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="smoke version, under a minute per section")
    parser.add_argument("--only", nargs="+", choices=DEFAULT + ["presets"], help="run these sections only")
    parser.add_argument("--out", default=None, help="markdown output (default bench/RESULTS.md; --quick: none)")
    args = parser.parse_args(argv)
    sections = args.only or DEFAULT
    out = args.out or (None if args.quick else str(ROOT / "bench" / "RESULTS.md"))
    m = machine()
    parts = [f"# Benchmark results\n\nMachine: {m['cpu']}, {m['cores']} cores, GPU: {m['gpu']}; python {m['python']}, "
             f"torch {m['torch']}; {m['date']}. Command: `python -m bench{' --quick' if args.quick else ''}"
             f"{' --only ' + ' '.join(sections) if args.only else ''}`. Absolute times on shared machines drift; "
             f"compare the ratios taken in one run.\n"]
    raw = {"machine": m}
    for name in sections:
        t0 = time.time()
        print(f"== {TITLES[name]}", flush=True)
        if name == "interactivity":
            text, data = interactivity(args.quick)
        else:
            module = __import__(f"bench.{name}", fromlist=["run"])
            text, data = module.run(quick=args.quick)
        took = time.time() - t0
        print(text, f"\n({took:.0f} s)\n", flush=True)
        parts.append(f"## {TITLES[name]}\n\n{text}\n\n_Section time: {took:.0f} s._\n")
        raw[name] = data
    if out:
        from pathlib import Path
        Path(out).write_text("\n".join(parts))
        Path(out).with_suffix(".json").write_text(json.dumps(raw, indent=1, default=str))
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
