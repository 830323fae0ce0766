"""Make the bundled pretrained generators with the engine's own CLI, then check them with `eval`.

    python assets/make_pretrained.py            # about 10 minutes on a 2-core CPU

Each is `python -m ganengine train --preset NAME --seconds S --seed 0`, copied to assets/pretrained/ with its
metrics. The Explore tab shows them at once, so a visitor sees good digits before training anything.
"""
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "assets" / "pretrained"
JOBS = [("dcgan-mnist", 300, "dcgan_digits.pt"), ("cgan-mnist", 300, "cgan_digits.pt")]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    report = {}
    for preset, seconds, name in JOBS:
        run_dir = ROOT / "runs" / f"pretrained-{preset}"
        cmd = [sys.executable, "-m", "ganengine", "train", "--preset", preset, "--seconds", str(seconds),
               "--seed", "0", "--out", str(run_dir)]
        print(" ".join(cmd[1:]), flush=True)
        subprocess.run(cmd, cwd=ROOT, check=True)
        shutil.copyfile(run_dir / "checkpoint.pt", OUT / name)
        shutil.copyfile(run_dir / "samples.png", OUT / name.replace(".pt", ".png"))
        metrics = subprocess.run([sys.executable, "-m", "ganengine", "eval", str(OUT / name)], cwd=ROOT, check=True,
                                 capture_output=True, text=True).stdout
        report[name] = {"command": " ".join(["python"] + cmd[1:]).replace(str(ROOT) + "/", ""),
                        **{k: v for k, v in json.loads(metrics).items() if k not in ("checkpoint",)}}
        print(json.dumps(report[name], indent=1), flush=True)
    (OUT / "metrics.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
