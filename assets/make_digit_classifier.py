"""Train the digit classifier behind the MNIST metrics and write assets/digit_classifier.pt.

    python assets/make_digit_classifier.py

Data: the 5,000 bundled MNIST digits (assets/mnist5k.npz), split per class into 4,000 for training and 1,000 held
out; accuracy on the held-out 1,000 is printed and stored with the weights. Augmentation: random shifts of up to
2 pixels, so the classifier is not thrown by a GAN's slightly off-centre strokes. Seeded and CPU-only: the same
weights every run on the same torch version.
"""
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from ganengine.metrics.classifier import WEIGHTS, DigitClassifier  # noqa: E402


def split(labels: np.ndarray, held_out_per_class: int = 100, seed: int = 0):
    rng = np.random.default_rng(seed)
    test = np.concatenate([rng.permutation(np.flatnonzero(labels == c))[:held_out_per_class] for c in range(10)])
    train = np.setdiff1d(np.arange(len(labels)), test)
    return train, test


def shift(x: torch.Tensor, gen: torch.Generator, max_shift: int = 2) -> torch.Tensor:
    pad = F.pad(x, (max_shift,) * 4, value=-1.0)
    dx, dy = torch.randint(0, 2 * max_shift + 1, (2,), generator=gen).tolist()
    return pad[:, :, dy:dy + 28, dx:dx + 28]


def main(epochs: int = 12, seed: int = 0) -> None:
    torch.manual_seed(seed)
    torch.set_num_threads(2)
    d = np.load(ROOT / "assets" / "mnist5k.npz")
    x = torch.from_numpy(d["images"]).float().div(127.5).sub(1).unsqueeze(1)  # (5000, 1, 28, 28) in [-1, 1]
    y = torch.from_numpy(d["labels"].astype(np.int64))
    train, test = split(d["labels"])
    model, gen = DigitClassifier(), torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    t0 = time.time()
    for epoch in range(epochs):
        model.train()
        perm = torch.from_numpy(train)[torch.randperm(len(train), generator=gen)]
        for idx in perm.split(64):
            loss = F.cross_entropy(model(shift(x[idx], gen)), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
        model.eval()
        with torch.no_grad():
            acc = (model(x[test]).argmax(1) == y[test]).float().mean().item()
        print(f"epoch {epoch + 1:2d}/{epochs}  loss {loss.item():.3f}  held-out accuracy {100 * acc:.1f}%", flush=True)
    torch.save({"state_dict": model.state_dict(), "held_out_accuracy": acc, "epochs": epochs, "seed": seed,
                "train_size": len(train), "held_out_size": len(test)}, WEIGHTS)
    print(f"wrote {WEIGHTS} ({time.time() - t0:.0f} s); held-out accuracy {100 * acc:.2f}% on {len(test)} digits")


if __name__ == "__main__":
    main()
