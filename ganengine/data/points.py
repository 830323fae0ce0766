"""2-D toy distributions: the mode-collapse benchmark mixtures, two curves, and points a user supplies.

ring8 and grid25 follow the PacGAN / VEEGAN protocol exactly (shared/guide/BENCHMARKS.md):
  ring8:  8 Gaussians, centres (cos 2*pi*k/8, sin 2*pi*k/8), k = 0..7, sigma 0.01
  grid25: 25 Gaussians, centres {-4, -2, 0, 2, 4}^2, sigma 0.05
(Not linspace(0, 2*pi, 8), which puts the first and last ring centres on top of each other.)
Samples are drawn fresh from the density each batch, as GAN Lab does, from the source's own seeded generator.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from ganengine.config import ConfigError
from ganengine.data.spec import DataSpec
from ganengine.seeds import DATA, stream

MAX_POINTS = 200_000
MAX_POINTS_FILE_BYTES = 20 * 2**20


def ring8_centres() -> np.ndarray:
    k = np.arange(8)
    return np.stack([np.cos(2 * np.pi * k / 8), np.sin(2 * np.pi * k / 8)], axis=1).astype(np.float32)  # (8, 2)


def grid25_centres() -> np.ndarray:
    g = np.array([-4.0, -2.0, 0.0, 2.0, 4.0], dtype=np.float32)
    return np.stack(np.meshgrid(g, g, indexing="ij"), axis=-1).reshape(-1, 2)  # (25, 2)


class _PointSource:
    """Shared machinery: a CPU generator for data draws, moved to the training device per batch."""

    def __init__(self, *, spec: DataSpec, seed: int, device: torch.device):
        self.spec = spec
        self.device = device
        self.generator = torch.Generator().manual_seed(seed)

    def _draw(self, n: int, gen: torch.Generator) -> torch.Tensor:  # (n, 2) on CPU
        raise NotImplementedError

    def sample(self, n: int):
        return self._draw(n, self.generator).to(self.device, non_blocking=True), None

    def real_sample(self, n: int, seed: int):
        return self._draw(n, torch.Generator().manual_seed(seed)).to(self.device), None

    def get_state(self) -> dict:
        return {"generator": self.generator.get_state()}

    def set_state(self, state: dict) -> None:
        self.generator.set_state(state["generator"])


class MixtureSource(_PointSource):
    """Equal-weight Gaussian mixture: pick a centre uniformly, add sigma * N(0, I)."""

    def __init__(self, *, name: str, title: str, centres: np.ndarray, sigma: float, seed: int, device):
        pad = 6 * sigma + 0.25 * float(np.ptp(centres, axis=0).max())
        lo, hi = centres.min(axis=0) - pad, centres.max(axis=0) + pad
        spec = DataSpec(name=name, title=title, kind="points", shape=(2,), centres=centres, sigma=sigma,
                        bounds=(float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])),
                        source="PacGAN / VEEGAN mixture protocol")
        super().__init__(spec=spec, seed=seed, device=device)
        self._centres = torch.from_numpy(centres)

    def _draw(self, n, gen):
        idx = torch.randint(len(self._centres), (n,), generator=gen)
        return self._centres[idx] + self.spec.sigma * torch.randn(n, 2, generator=gen)


class SpiralSource(_PointSource):
    """One arm of an Archimedean spiral: r = t, angle = 3*pi*t for t ~ U(0.1, 1) (scaled by 2), noise 0.04."""

    def __init__(self, *, seed: int, device):
        spec = DataSpec(name="spiral", title="Spiral", kind="points", shape=(2,), bounds=(-2.4, 2.4, -2.4, 2.4),
                        source="analytic")
        super().__init__(spec=spec, seed=seed, device=device)

    def _draw(self, n, gen):
        t = 0.1 + 0.9 * torch.rand(n, generator=gen)
        angle = 3 * math.pi * t
        xy = 2 * t[:, None] * torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)
        return xy + 0.04 * torch.randn(n, 2, generator=gen)


class MoonsSource(_PointSource):
    """Two interleaving half circles (as sklearn's make_moons), centred, noise 0.05."""

    def __init__(self, *, seed: int, device):
        spec = DataSpec(name="moons", title="Two moons", kind="points", shape=(2,), bounds=(-2.0, 2.0, -1.6, 1.6),
                        source="analytic (as sklearn.datasets.make_moons)")
        super().__init__(spec=spec, seed=seed, device=device)

    def _draw(self, n, gen):
        angle = math.pi * torch.rand(n, generator=gen)
        upper = torch.rand(n, generator=gen) < 0.5
        x = torch.where(upper, torch.cos(angle), 1 - torch.cos(angle))
        y = torch.where(upper, torch.sin(angle), 0.5 - torch.sin(angle))
        xy = torch.stack([x - 0.5, y - 0.25], dim=1)
        return xy + 0.05 * torch.randn(n, 2, generator=gen)


class ArrayPointSource(_PointSource):
    """Points a user supplied: batches are rows drawn uniformly with replacement."""

    def __init__(self, *, points: np.ndarray, title: str, seed: int, device):
        lo, hi = points.min(axis=0), points.max(axis=0)
        pad = 0.1 * max(float((hi - lo).max()), 1e-3)
        spec = DataSpec(name="points", title=title, kind="points", shape=(2,), size=len(points),
                        bounds=(float(lo[0] - pad), float(hi[0] + pad), float(lo[1] - pad), float(hi[1] + pad)),
                        source="user supplied")
        super().__init__(spec=spec, seed=seed, device=device)
        self._points = torch.from_numpy(points)

    @property
    def points(self) -> torch.Tensor:  # (N, 2) float32: what a checkpoint carries (ganengine.checkpoint_points)
        return self._points

    def _draw(self, n, gen):
        return self._points[torch.randint(len(self._points), (n,), generator=gen)]


def parse_points(raw: bytes, name: str = "points") -> np.ndarray:
    """Parse N x 2 points from CSV text (an optional header line) or .npy bytes; raise ConfigError if unusable."""
    if len(raw) > MAX_POINTS_FILE_BYTES:
        raise ConfigError(f"{name}: the file is {len(raw) / 2**20:.1f} MiB; the limit is {MAX_POINTS_FILE_BYTES // 2**20} MiB")
    if raw[:6] == b"\x93NUMPY":
        import io
        try:
            arr = np.load(io.BytesIO(raw), allow_pickle=False)
        except (ValueError, OSError) as err:
            raise ConfigError(f"{name}: not a readable .npy array of numbers ({err})") from None
    else:
        try:
            text = raw.decode("utf-8-sig")  # drops a leading byte-order mark (Excel writes one), else row 1 is lost
        except UnicodeDecodeError:
            raise ConfigError(f"{name}: not a text CSV or a .npy file") from None
        rows, header_skipped = [], False
        for lineno, line in enumerate(text.splitlines(), start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            cells = [c.strip() for c in line.replace(";", ",").replace("\t", ",").split(",")]
            if len(cells) != 2 or "" in cells:
                raise ConfigError(f"{name}: line {lineno} has {len(cells)} columns; each line must be 'x,y'")
            try:
                rows.append((float(cells[0]), float(cells[1])))
            except ValueError:
                if not rows and not header_skipped:
                    header_skipped = True  # one header line before the data, e.g. "x,y"
                    continue
                raise ConfigError(f"{name}: line {lineno} is not two numbers: {line[:40]!r}") from None
            if len(rows) > MAX_POINTS:
                raise ConfigError(f"{name}: more than {MAX_POINTS:,} points; the limit is {MAX_POINTS:,}")
        arr = np.array(rows, dtype=np.float64).reshape(-1, 2)
    if arr.dtype.kind not in "fiu":
        raise ConfigError(f"{name}: the array holds {arr.dtype}, not numbers")
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ConfigError(f"{name}: expected an N x 2 array of points, got shape {arr.shape}")
    if not 2 <= len(arr) <= MAX_POINTS:
        raise ConfigError(f"{name}: needs between 2 and {MAX_POINTS:,} points, got {len(arr):,}")
    if not np.isfinite(arr).all():
        raise ConfigError(f"{name}: contains NaN or infinite values")
    if np.abs(arr).max() > 1e6:
        raise ConfigError(f"{name}: coordinates must lie within +-1e6")
    return arr.astype(np.float32)


def load_points_file(path: str) -> np.ndarray:
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"points file not found: {path}")
    if p.stat().st_size > MAX_POINTS_FILE_BYTES:
        raise ConfigError(f"{p.name}: the file is over the {MAX_POINTS_FILE_BYTES // 2**20} MiB limit")
    return parse_points(p.read_bytes(), p.name)


def build_point_source(config, device):
    seed = stream(config.seed, DATA)  # data draws use their own stream (ganengine.seeds)
    if config.data == "ring8":
        return MixtureSource(name="ring8", title="Ring of 8 Gaussians", centres=ring8_centres(), sigma=0.01,
                             seed=seed, device=device)
    if config.data == "grid25":
        return MixtureSource(name="grid25", title="Grid of 25 Gaussians", centres=grid25_centres(), sigma=0.05,
                             seed=seed, device=device)
    if config.data == "spiral":
        return SpiralSource(seed=seed, device=device)
    if config.data == "moons":
        return MoonsSource(seed=seed, device=device)
    points = load_points_file(config.points_path)
    return ArrayPointSource(points=points, title=f"Your points ({Path(config.points_path).name})", seed=seed,
                            device=device)
