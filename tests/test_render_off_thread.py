"""Views are drawn off the training thread (ganengine.render_pool) from frozen copies, and match what the training
thread would have drawn; visuals of a timeline that was rewound are dropped."""
import threading

import numpy as np
import pytest

from ganengine.presets import get_preset
from ganengine.run import GANRun
from ganengine.trainer import Trainer

SMALL = {"ring8": dict(width=16), "cgan-mnist": dict(width=8, batch_size=8),
         "edges2digits": dict(width=8, batch_size=4)}


@pytest.mark.parametrize("preset", list(SMALL))
def test_a_drawing_job_draws_what_render_draws(preset):
    config, knobs = get_preset(preset).build(device="cpu", **SMALL[preset])
    run = GANRun(config=config, knobs=knobs)
    for _ in range(3):
        run.train_iteration()
    job = run.family.render_job()
    for _ in range(2):              # training goes on before the job runs: it drew the nets as they were
        run.train_iteration()
    drawn, now = job(), run.family.render()
    name = run.family.views[0]
    assert drawn[name].shape == now[name].shape
    assert not np.array_equal(drawn[name], now[name])
    back = GANRun(config=config, knobs=knobs)     # the same run, stopped at step 3, draws the job's picture
    for _ in range(3):
        back.train_iteration()
    np.testing.assert_array_equal(drawn[name], back.family.render()[name])


def test_a_trainer_behind_a_page_draws_on_the_render_thread():
    config, knobs = get_preset("cgan-mnist").build(device="cpu", width=8, batch_size=8, sample_every=2)
    trainer = Trainer(config=config, knobs=knobs)
    threads = []
    family = trainer.run.family
    real_job = family.render_job

    def spying_job():
        draw = real_job()
        return lambda: (threads.append(threading.current_thread().name), draw())[1]
    family.render_job = spying_job
    try:
        trainer.step(6)
        assert trainer.wait_idle(60)
        snap = trainer.snapshot()
        assert threads and all(name.startswith("gan-render") for name in threads)
        assert snap.visuals["step"] == 6 and snap.timeline_steps[-1] == 6
        assert list(snap.timeline_steps) == sorted(snap.timeline_steps)
    finally:
        trainer.close()


def test_visuals_of_a_rewound_timeline_are_dropped():
    config, knobs = get_preset("ring8").build(device="cpu", width=16, sample_every=2)
    run = GANRun(config=config, knobs=knobs)
    for _ in range(2):
        run.train_iteration()
    run.render_visuals()
    for _ in range(2):
        run.train_iteration()
    late = run.visuals_job()          # taken at step 4 ...
    run.rewind(2)                     # ... then the run goes back to step 2
    assert not run.add_frame(late())
    assert run.frames.steps == [2]
