"""The thread policy (ganengine.device): a small step trains on 1 thread, a larger one on every core headless."""
import os

import torch

from ganengine.device import SMALL_STEP_FLOPS, default_threads, run_step_flops
from ganengine.presets import preset_for_data
from ganengine.run import GANRun
from ganengine.trainer import Trainer


def test_small_step_gets_one_thread(monkeypatch):
    monkeypatch.delenv("GAN_THREADS", raising=False)
    cores = len(os.sched_getaffinity(0))
    assert default_threads(headless=True, step_flops=SMALL_STEP_FLOPS / 2) == 1
    assert default_threads(headless=True, step_flops=SMALL_STEP_FLOPS * 2) == cores
    assert default_threads(headless=True) == cores          # cost not known: as before
    monkeypatch.setenv("GAN_THREADS", "3")
    assert default_threads(headless=True, step_flops=1.0) == 3  # the override wins


def test_ring8_preset_counts_as_small_and_trains_on_one_thread(monkeypatch):
    monkeypatch.delenv("GAN_THREADS", raising=False)
    config, knobs = preset_for_data("ring8").build(seed=0)
    assert 0 < run_step_flops(GANRun(config=config, knobs=knobs)) < SMALL_STEP_FLOPS
    before = torch.get_num_threads()
    try:
        trainer = Trainer(config=config, knobs=knobs, max_steps=2)
        trainer.run_foreground()
        assert trainer.run.step == 2 and torch.get_num_threads() == 1
        trainer.close()
    finally:
        torch.set_num_threads(before)


def test_image_step_is_not_small():
    config, knobs = preset_for_data("mnist").build(seed=0)
    assert run_step_flops(GANRun(config=config, knobs=knobs)) > SMALL_STEP_FLOPS
