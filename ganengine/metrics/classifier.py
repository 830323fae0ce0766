"""A small MNIST classifier, the feature extractor behind the digit metrics (no Inception weights offline).

Architecture (LeNet-like): conv 5x5 (1->32) + ReLU + maxpool 2 -> conv 5x5 (32->64) + ReLU + maxpool 2 ->
linear 1024 -> 128 (ReLU: the 128-D "features") -> linear 128 -> 10. Input: (B, 1, 28, 28) in [-1, 1].
Trained by assets/make_digit_classifier.py on the bundled digits; weights in assets/digit_classifier.pt (a plain
state dict, loaded with weights_only=True).
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

WEIGHTS = Path(__file__).resolve().parents[2] / "assets" / "digit_classifier.pt"


class DigitClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 32, 5), nn.ReLU(inplace=True), nn.MaxPool2d(2),   # 28 -> 24 -> 12
            nn.Conv2d(32, 64, 5), nn.ReLU(inplace=True), nn.MaxPool2d(2),  # 12 -> 8 -> 4
            nn.Flatten(),                                                   # (B, 64*4*4 = 1024)
            nn.Linear(1024, 128), nn.ReLU(inplace=True),                    # (B, 128) features
        )
        self.dropout = nn.Dropout(0.3)
        self.head = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor, *, with_features: bool = False):
        f = self.body(x)
        logits = self.head(self.dropout(f))
        return (logits, f) if with_features else logits


_CACHE: dict = {}


def load_classifier(path: Path = WEIGHTS, *, what: str = "digit classifier",
                    maker: str = "assets/make_digit_classifier.py") -> DigitClassifier:
    """A shipped DigitClassifier (the digit classifier, or another made by ``maker``, as the edge reader) in eval
    mode on the CPU (cached per process and file)."""
    key = str(path)
    if key not in _CACHE:
        if not Path(path).is_file():
            raise FileNotFoundError(f"{what} weights missing: {path} (run python {maker})")
        state = torch.load(path, map_location="cpu", weights_only=True)
        model = DigitClassifier()
        model.load_state_dict(state["state_dict"])
        model.eval().requires_grad_(False)
        _CACHE[key] = model
    return _CACHE[key]


@torch.no_grad()
def classify(images: torch.Tensor, model: DigitClassifier | None = None, batch: int = 500):
    """images (N, 1, 28, 28) in [-1, 1] -> (probabilities (N, 10), features (N, 128)) as CPU float tensors."""
    model = model or load_classifier()
    probs, feats = [], []
    for chunk in images.float().cpu().split(batch):
        logits, f = model(chunk, with_features=True)
        probs.append(torch.softmax(logits, 1))
        feats.append(f)
    return torch.cat(probs), torch.cat(feats)
