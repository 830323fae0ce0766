"""Train the edge reader behind CoGAN's class agreement on digits-edges and write assets/edge_reader.pt.

    python assets/make_edge_reader.py            # about 2-3 minutes on a 2-core CPU

The reader is the digit classifier's LeNet (ganengine.metrics.classifier.DigitClassifier) trained on *edge images*:
the soft Canny-style edges (ganengine.data.unpaired.soft_edges) of the 4,500 training digits of the unpaired split
(ganengine.data.unpaired.load_unpaired_digits; the 500 held-out digits are never seen). The edges are made afresh
for every batch from a randomly altered digit, so the reader is not thrown by a GAN's strokes, which are thicker,
softer and more tilted than MNIST's (a plain 1-NN reader, the one used before, read the edges of the bundled DCGAN's
digits as the classifier reads the digits only 61% of the time; bench/COGAN.md):
  stroke width   unchanged, dilated by the 3x3 cross, or by the 3x3 square (one of the three, equally likely)
  softness       half of the digits blurred (Gaussian, sigma 0.8) and rescaled to a peak of 1
  pose           rotation up to 12 degrees, scale 0.88-1.12, shift up to 2 px (one affine warp)
  noise          half of the edge images get Gaussian pixel noise (sigma 0.15 in [-1, 1])
Accuracy on the 500 held-out edge images (unaltered) is printed and stored with the weights. Seeded and CPU-only:
the same weights every run on the same torch version. Never trained on generated images.
"""
import math
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from ganengine.data.unpaired import dilate, load_unpaired_digits, soft_edges  # noqa: E402
from ganengine.metrics.classifier import DigitClassifier  # noqa: E402
from ganengine.metrics.edge_reader import WEIGHTS  # noqa: E402
from ganengine.metrics.image_quality import centre_crop, gaussian_filter  # noqa: E402


def alter(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Digits (B, 1, 32, 32) in [0, 1] -> randomly thickened, softened and posed digits (the module docstring)."""
    b = len(x)

    def pick(p_mask):  # (B,) bool -> (B, 1, 1, 1) for torch.where
        return p_mask[:, None, None, None]

    width = torch.randint(0, 3, (b,), generator=gen)                        # 0 as is, 1 cross, 2 square
    cross = dilate((x * 255).round().to(torch.uint8)).float() / 255
    square = F.max_pool2d(x, 3, 1, 1)
    x = torch.where(pick(width == 1), cross, torch.where(pick(width == 2), square, x))
    soft = gaussian_filter(x, 5, 0.8, padding=2)
    soft = soft / soft.amax((1, 2, 3), keepdim=True).clamp_min(1e-6)
    x = torch.where(pick(torch.rand(b, generator=gen) < 0.5), soft, x)
    angle = (torch.rand(b, generator=gen) * 2 - 1) * math.radians(12)
    scale = 1 + (torch.rand(b, generator=gen) * 2 - 1) * 0.12
    tx, ty = ((torch.rand(b, generator=gen) * 2 - 1) * (2 / 16) for _ in range(2))   # 2 px of 16 (half side)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, tx], 1), torch.stack([sin, cos, ty], 1)], 1)   # (B, 2, 3)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, align_corners=False, padding_mode="zeros")


def edge_images(x: torch.Tensor) -> torch.Tensor:
    """Digits (B, 1, 32, 32) in [0, 1] -> their soft edges in [-1, 1], the domain-B images a CoGAN's G2 draws."""
    return soft_edges(x) * 2 - 1


def main(epochs: int = 8, seed: int = 0) -> None:
    torch.manual_seed(seed)
    torch.set_num_threads(2)
    gen = torch.Generator().manual_seed(seed)
    data = load_unpaired_digits("digits-edges")
    train, test = torch.cat([data["a_train"], data["b_train"]]), data["test"]
    digits, labels = data["a"].float() / 255, data["label"]               # (5000, 1, 32, 32) in [0, 1], (5000,)
    model = DigitClassifier()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    held_out = centre_crop(edge_images(digits[test]))                      # (500, 1, 28, 28), unaltered
    t0 = time.time()
    for epoch in range(epochs):
        model.train()
        for idx in train[torch.randperm(len(train), generator=gen)].split(64):
            edges = edge_images(alter(digits[idx], gen))
            noisy = torch.rand(len(idx), 1, 1, 1, generator=gen) < 0.5
            edges = torch.where(noisy, edges + 0.15 * torch.randn(edges.shape, generator=gen), edges).clamp(-1, 1)
            loss = F.cross_entropy(model(centre_crop(edges)), labels[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
        model.eval()
        with torch.no_grad():
            acc = (model(held_out).argmax(1) == labels[test]).float().mean().item()
        print(f"epoch {epoch + 1}/{epochs}  loss {loss.item():.3f}  held-out edge accuracy {100 * acc:.1f}%", flush=True)
    torch.save({"state_dict": model.state_dict(), "held_out_accuracy": acc, "epochs": epochs, "seed": seed,
                "train_size": len(train), "held_out_size": len(test)}, WEIGHTS)
    print(f"wrote {WEIGHTS} ({time.time() - t0:.0f} s); held-out accuracy {100 * acc:.2f}% on {len(test)} edge images")


if __name__ == "__main__":
    main()
