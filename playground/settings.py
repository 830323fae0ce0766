"""Settings of the app, read from environment variables once at start-up, with safe defaults for a public host.

| variable | default (local / public host) | meaning |
|---|---|---|
| GAN_MAX_TRAINERS | 4 / 2 (GPU: its free memory's share, playground.gpu_slots) | trainings at once in this process; the next visitor is told to wait |
| GAN_RUN_SECONDS | 0 (none) / 600 | training seconds one run may use before it pauses as "finished" |
| GAN_RUN_STEPS | 0 (none) / 200000 | iterations one run may take |
| GAN_LEASE_SECONDS | 10 | a run whose page has not refreshed for this long pauses (hidden tab); it resumes when the page returns |
| GAN_IDLE_SECONDS | 120 | a visitor silent this long (closed tab, lost connection) has their trainer stopped and freed |
| GAN_MAX_UPLOAD_MB | 50 | largest upload (checkpoint, points CSV, image zip) |
| GAN_ALLOW_DOWNLOADS | 1 / 0 | offer torchvision datasets that are not on disk yet (they download on first use) |
| GAN_DATA_ROOT | ./data | where torchvision datasets live |
| GAN_SAVE_DIR | ./runs/saved | where "Save a checkpoint" writes (atomically), so saved checkpoints survive a restart |
| GAN_MAX_KEPT | 3 x GAN_MAX_TRAINERS | trainers kept in memory (paused or finished ones hold no slot, only memory) |
| GAN_MAX_STEP_GFLOPS | 0 (none) / 20 | estimated cost of one training iteration; a setup or batch size over it is refused |
| GAN_SAVE_QUOTA_MB | 2048 / 512 | total size of GAN_SAVE_DIR's checkpoints; the oldest are deleted beyond it |
| GAN_EXTRACT_QUOTA_MB | 2048 / 600 | extracted image zips of all visitors together |
| GAN_THREADS | 1 on <= 2 cores | torch threads for training (ganengine.device) |
| GAN_PUBLIC | set on a Hugging Face Space (SPACE_ID) | use the public-host defaults |
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from playground.gpu_slots import default_max_trainers


def _env_number(name: str, default, cast=int):
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = cast(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a number, got {raw!r}") from None
    if value < 0:
        raise SystemExit(f"{name} must not be negative, got {raw!r}")
    return value


@dataclass(frozen=True, kw_only=True)
class Settings:
    public: bool = False
    max_trainers: int = 4
    run_seconds: float = 0.0
    run_steps: int = 0
    lease_seconds: float = 10.0
    idle_seconds: float = 120.0
    max_upload_mb: int = 50
    allow_downloads: bool = True
    data_root: str = "data"
    save_dir: str = "runs/saved"
    max_kept: int = 0               # 0 = 3 x max_trainers
    max_step_gflops: float = 0.0    # 0 = no limit
    save_quota_mb: int = 2048
    extract_quota_mb: int = 2048

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 2**20


def load_settings() -> Settings:
    public = bool(os.environ.get("GAN_PUBLIC", "").strip() not in ("", "0") or os.environ.get("SPACE_ID"))
    return Settings(
        public=public,
        max_trainers=max(1, _env_number("GAN_MAX_TRAINERS", default_max_trainers(2 if public else 4))),
        run_seconds=_env_number("GAN_RUN_SECONDS", 600.0 if public else 0.0, float),
        run_steps=_env_number("GAN_RUN_STEPS", 200_000 if public else 0),
        lease_seconds=max(2.0, _env_number("GAN_LEASE_SECONDS", 10.0, float)),
        idle_seconds=max(5.0, _env_number("GAN_IDLE_SECONDS", 120.0, float)),
        max_upload_mb=max(1, _env_number("GAN_MAX_UPLOAD_MB", 50)),
        allow_downloads=_env_number("GAN_ALLOW_DOWNLOADS", 0 if public else 1) > 0,
        data_root=os.environ.get("GAN_DATA_ROOT", "data"),
        save_dir=os.environ.get("GAN_SAVE_DIR", "runs/saved"),
        max_kept=_env_number("GAN_MAX_KEPT", 0),
        max_step_gflops=_env_number("GAN_MAX_STEP_GFLOPS", 20.0 if public else 0.0, float),
        save_quota_mb=max(1, _env_number("GAN_SAVE_QUOTA_MB", 512 if public else 2048)),
        extract_quota_mb=max(1, _env_number("GAN_EXTRACT_QUOTA_MB", 600 if public else 2048)),
    )
