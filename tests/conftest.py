"""Shared fixtures. Tests run on the CPU with one torch thread, so results are deterministic."""
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture
def tiny_points():
    """A small, fast 2-D config and knobs."""
    from ganengine.config import Knobs, RunConfig
    return RunConfig(data="ring8", latent_dim=4, width=16, depth=2, device="cpu", sample_every=10, log_every=5), \
        Knobs(batch_size=32, lr_g=1e-3, lr_d=1e-3)


@pytest.fixture
def tiny_digits():
    from ganengine.config import Knobs, RunConfig
    return RunConfig(data="mnist", model="dcgan", latent_dim=8, width=8, device="cpu", sample_every=5, log_every=5), \
        Knobs(batch_size=16)
