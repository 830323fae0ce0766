"""The edge reader: which digit an edge image shows (CoGAN's digits-edges domain B; ganengine.metrics.coupled).

The bundled digit classifier cannot read edge images (37% right), so domain B has its own reader: the same LeNet
(ganengine.metrics.classifier.DigitClassifier) trained by assets/make_edge_reader.py on the soft edges of randomly
thickened, softened and posed training digits (never on generated images), 97.2% right on the 500 held-out edge
images. Input: (B, 1, 32, 32) edge images in [-1, 1] (their centre 28 px is read). Weights: assets/edge_reader.pt, a
plain dict loaded with weights_only=True.
"""
from __future__ import annotations

from pathlib import Path

import torch

from ganengine.metrics.classifier import DigitClassifier, load_classifier
from ganengine.metrics.image_quality import centre_crop

WEIGHTS = Path(__file__).resolve().parents[2] / "assets" / "edge_reader.pt"


def load_edge_reader(path: Path = WEIGHTS) -> DigitClassifier:
    """The shipped edge reader in eval mode on the CPU (cached per process, by the classifier's loader)."""
    return load_classifier(path, what="edge reader", maker="assets/make_edge_reader.py")


@torch.no_grad()
def read_edges(edges: torch.Tensor, batch: int = 500) -> torch.Tensor:
    """Edge images (N, 1, 32, 32) in [-1, 1] -> the digit class each shows, int64 (N,) on the CPU."""
    model = load_edge_reader()
    return torch.cat([model(centre_crop(c.float().cpu())).argmax(1) for c in edges.split(batch)])
