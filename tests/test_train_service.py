"""The Train tab's logic without Gradio: setup, commands, knobs, ticks, timeline, exports, bad input."""
import json
import time

import pytest

from playground.sessions import SessionRegistry
from playground.settings import Settings
from playground.train_service import TrainService, lr_from_log


@pytest.fixture
def service(tmp_path):
    settings = Settings(max_trainers=2, data_root=str(tmp_path), allow_downloads=False)
    reg = SessionRegistry(max_trainers=2, lease_seconds=30, idle_seconds=60)
    yield TrainService(registry=reg, settings=settings)
    reg.shutdown()


def small_ring(service):
    setup = service.preset_setup("ring8")
    setup.update(width=16, latent_dim=4, batch_size=32)
    return setup


def wait_step(service, sid, at_least, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if service.status(sid)["step"] >= at_least:
            return True
        time.sleep(0.05)
    return False


def test_start_tick_and_pause(service):
    assert "Setup ready" in service.apply_setup("v1", small_ring(service))
    first = service.tick("v1")
    assert first.losses and "Press Start" in json.loads(first.losses)["layout"]["annotations"][0]["text"]
    service.start("v1")
    assert wait_step(service, "v1", 150)
    t = service.tick("v1")
    assert t.running and "Step" in t.counter
    assert t.losses is not None and json.loads(t.losses)["data"]  # curves present
    # The views are drawn on the render pool's thread, after the step that asked for them: under load the first
    # ticks can still carry the empty field, so tick as the page does (each second) until the drawn one arrives.
    panel, deadline = t.panel, time.monotonic() + 30
    while not (panel and json.loads(panel)["data"]) and time.monotonic() < deadline:
        time.sleep(0.2)
        t = service.tick("v1")
        panel = t.panel or panel
    assert t.panel is not None and json.loads(t.panel)["data"][0]["type"] == "heatmap"  # 2-D field
    again = service.tick("v1")
    assert again.panel is None or again.panel != t.panel  # unchanged outputs are not resent
    service.pause("v1")
    assert service.registry.session("v1").live_trainer.wait_idle(5)
    assert service.status("v1")["status"] == "paused"


def test_steps_of_each_kind(service):
    service.apply_setup("v1", small_ring(service))
    for kind in ("both", "d", "g"):
        service.step("v1", kind)
    trainer = service.registry.session("v1").live_trainer
    assert trainer.wait_idle(10)
    s = service.status("v1")
    assert (s["step"], s["d_updates"], s["g_updates"]) == (3, 2, 2)


def test_knobs_live_and_refused(service):
    service.apply_setup("v1", small_ring(service))
    assert "2.00e-03" in service.set_knob("v1", "lr_g", -2.69897)  # log10(0.002)
    assert service.set_knob("v1", "lr_d", "nan").startswith("⚠")
    assert service.set_knob("v1", "batch_size", 0).startswith("⚠")
    assert service.set_knob("v1", "bogus", 1).startswith("⚠")
    service.start("v1")
    assert wait_step(service, "v1", 5)
    assert service.set_knob("v1", "loss", "hinge") == "loss = hinge"
    trainer = service.registry.session("v1").live_trainer
    deadline = time.monotonic() + 5
    while trainer.snapshot().knobs.loss != "hinge" and time.monotonic() < deadline:
        time.sleep(0.02)
    with trainer.with_run() as run:
        assert run.knobs.loss == "hinge" and run.opt_g.param_groups[0]["lr"] == pytest.approx(2e-3 * run.lr_scale())
    api = service.set_knobs("v1", {"lr_d": -1})
    assert api["ok"] is False and "learning rate" in api["error"]


def test_bad_setup_changes_nothing(service):
    service.apply_setup("v1", small_ring(service))
    service.step("v1")
    bad = dict(small_ring(service), data="ring8", model="dcgan")
    assert service.apply_setup("v1", bad).startswith("⚠")
    assert service.status("v1")["model"] == "mlp"
    assert service.apply_setup("v1", dict(small_ring(service), latent_dim=0)).startswith("⚠")
    assert service.apply_setup("v1", dict(small_ring(service), data="points"), points_path="/nope.csv").startswith("⚠")


def test_timeline_and_exports(service):
    setup = small_ring(service)
    service.apply_setup("v1", setup)
    service.start("v1")
    assert wait_step(service, "v1", 350)
    service.pause("v1")
    html = service.timeline_frame("v1", 0)
    assert "data:image/png;base64," in html and "step 1 ·" in html  # the first frame is the first step
    snap = service.registry.session("v1").live_trainer.snapshot()
    thinned = [i for i, st in enumerate(snap.timeline_steps) if snap.rewind_target(st) not in (None, st)]
    if thinned:                       # a frame without its own restore point says where a rewind goes instead
        i = thinned[-1]
        target = snap.rewind_target(snap.timeline_steps[i])
        assert f"Rewind goes to step {target:,}" in service.timeline_frame("v1", i)
        answer = service.rewind("v1", i)
        assert answer.ok and f"Rewound to step {target:,} (the nearest restore point" in answer
        assert service.timeline_position("v1")[1] == len(service.registry.session("v1").live_trainer.snapshot()
                                                         .timeline_steps) - 1
    else:
        assert "Rewind goes to this step" in service.timeline_frame("v1", len(snap.timeline_steps) - 1)
    assert "frame" in service.timeline_frame("v1", 10**9)  # out of range is clamped
    path, msg = service.export_gif("v1")
    assert path and open(path, "rb").read(6) == b"GIF89a"
    ckpt, msg = service.checkpoint_file("v1")
    from ganengine.checkpoint import read_checkpoint
    assert read_checkpoint(ckpt)["_config"].data == "ring8"


def test_no_trainer_no_crash(service):
    assert service.status("nobody")["status"] == "none"
    assert "Nothing" in service.reset("nobody")
    assert service.export_gif("nobody")[0] is None
    assert "No frames" in service.timeline_frame("nobody", 0)


def test_slots_are_capped_with_a_clear_message(service):
    for sid in ("a", "b"):
        service.apply_setup(sid, small_ring(service))
        service.start(sid)           # a slot is for training: two runs train
    service.apply_setup("c", small_ring(service))
    msg = service.start("c")
    assert msg.startswith("◷") and "slots" in msg


def test_lr_from_log():
    assert lr_from_log(-3) == pytest.approx(1e-3)
    assert lr_from_log("x") != lr_from_log("x")  # NaN, refused later by Knobs


def test_a_typed_learning_rate_is_taken_as_people_write_it(service):
    """Issue 15: typing 0.001 used to be read as log10 (an error toast, and a label the run disagreed with)."""
    service.apply_setup("v1", small_ring(service))
    for typed, lr in (("0.001", 1e-3), (" 2e-4 ", 2e-4), ("1E-2", 1e-2)):
        reply, now = service.set_lr("v1", "lr_g", typed)
        assert reply.ok and now == pytest.approx(lr) and service.knob("v1", "lr_g") == pytest.approx(lr)
    service.start("v1")
    assert wait_step(service, "v1", 2)
    reply, now = service.set_lr("v1", "lr_d", "0.0005")
    assert reply.ok and "5.00e-04" in reply and now == pytest.approx(5e-4)
    before = service.knob("v1", "lr_d")
    for bad in ("abc", "", "-3", "0.5", "nan", "inf", None):
        reply, now = service.set_lr("v1", "lr_d", bad)
        assert not reply.ok and "type a learning rate from 1e-05 to 0.01" in reply
        assert now == before == service.knob("v1", "lr_d")          # nothing changed; the box gets the lr back
    service.pause("v1")


def test_saved_checkpoints_survive_a_restart(tmp_path):
    """Saving writes to the save folder; a new app (registry and service) finds and loads it unchanged."""
    from ganengine.checkpoint import read_checkpoint
    settings = Settings(save_dir=str(tmp_path / "saved"), data_root=str(tmp_path), allow_downloads=False)
    reg = SessionRegistry(max_trainers=1, lease_seconds=30, idle_seconds=60)
    first = TrainService(registry=reg, settings=settings)
    first.apply_setup("v", small_ring(first))
    first.step("v", "both", 3)
    assert reg.session("v").live_trainer.wait_idle(10)
    path, _ = first.checkpoint_file("v")
    reg.shutdown()  # the app stops
    again = SessionRegistry(max_trainers=1, lease_seconds=30, idle_seconds=60)
    assert read_checkpoint(path)["step"] == 3 and str(tmp_path / "saved") in path
    again.shutdown()


FORM_FIELDS = ("data", "model", "latent_dim", "width", "seed", "lr_g", "lr_d", "d_steps", "loss", "batch_size",
               "label_smoothing", "r1_weight", "ema_decay", "lr_decay_steps")   # what the Train tab's form shows


@pytest.mark.parametrize("name", ["grid25", "cgan-mnist", "ring8"])
def test_a_preset_chosen_in_the_form_keeps_its_hidden_fields(service, name):
    """The form shows only some fields; choosing a preset must still give exactly the tuned preset."""
    preset = service.preset_setup(name)
    form = {k: preset[k] for k in FORM_FIELDS}
    assert service.apply_setup("v", form, base=preset).startswith("Setup ready")
    config, knobs = service.registry.session("v").setup
    built = {**config.to_dict(), **knobs.to_dict()}
    for key in ("depth", "beta1", "beta2", "lr_floor", "sample_every", "ema_decay"):
        assert built[key] == preset[key], key

    # a later form change (a rebuild) keeps them too
    assert service.apply_setup("v", dict(form, width=form["width"] * 2, seed=3)).startswith("Setup ready")
    config, knobs = service.registry.session("v").setup
    assert config.width == form["width"] * 2 and config.seed == 3
    assert (config.depth, knobs.beta1, knobs.beta2, knobs.lr_floor) == \
        (preset["depth"], preset["beta1"], preset["beta2"], preset["lr_floor"])


def test_a_new_dataset_in_the_form_starts_from_its_tuned_preset(service):
    ring = service.preset_setup("ring8")
    service.apply_setup("v", {k: ring[k] for k in FORM_FIELDS}, base=ring)
    assert service.apply_setup("v", {"data": "grid25"}).startswith("Setup ready")
    config, knobs = service.registry.session("v").setup
    assert config.data == "grid25" and config.depth == service.preset_setup("grid25")["depth"]


def test_how_to_read_follows_the_loss_and_family_in_use(service):
    """Issue 15: the text said Loss D sits near 0.69 while the image presets use the hinge loss."""
    service.apply_setup("v1", small_ring(service))
    service.step("v1", "both", 1)
    service.registry.session("v1").live_trainer.wait_idle(20)
    tick = service.tick("v1")
    first = tick.how_to_read
    assert "log 2 ≈ 0.69" in first and "Data space" in first             # 2-D data: the field is drawn
    assert "modes captured" in tick.quality_help and "SRGAN" not in tick.quality_help   # only this run's measure
    assert service.tick("v1").how_to_read is None                    # sent once until it changes
    assert service.set_knob("v1", "loss", "hinge").ok
    service.step("v1", "both", 1)
    service.registry.session("v1").live_trainer.wait_idle(20)
    hinge = service.tick("v1").how_to_read
    assert "Hinge" in hinge and "0.69" not in hinge


def test_the_reading_texts_follow_the_family():
    """Issue 15: the texts follow the family in use: no 2-D data-space paragraph beside a video family's views, and
    the quality help names only the measure of the run in use (it listed all eight families)."""
    from playground import texts
    video = texts.how_to_read("ns", "vid2vid", points=False)
    assert "Data space" not in video and "temporal D" in video
    assert "warp error" in texts.quality_help("vid2vid") and "CoGAN" not in texts.quality_help("vid2vid")
    assert "FD (classifier" in texts.quality_help("gan") and "modes captured" in texts.quality_help("gan", True)


def test_a_new_setup_says_which_run_it_replaced(service):
    """Issue 15: choosing a preset silently discarded the running run."""
    assert "Setup ready" in service.apply_setup("v1", small_ring(service))
    service.step("v1", "both", 3)
    service.registry.session("v1").live_trainer.wait_idle(20)
    setup = small_ring(service)
    setup["data"] = "spiral"
    answer = service.apply_setup("v1", setup)
    assert answer.ok and "Your ring8 run at step 3 was replaced" in answer and "(spiral, mlp)" in answer
    # The preset menu sends its event twice (seen in Chromium): the same setup again answers the same, not
    # "Rebuilt ... step 0" without the notice, and rebuilds nothing
    trainer = service.registry.session("v1").live_trainer
    assert service.apply_setup("v1", dict(setup)) == answer and trainer.snapshot().step == 0
    assert "was replaced" not in service.apply_setup("v1", small_ring(service))     # nothing trained: nothing lost


def test_a_new_run_or_panel_kind_resets_the_plot_axes(service):
    """Issue 15: switching from a 2-D preset to an image preset kept the histogram's old axes (plotly's uirevision)."""
    import json
    service.apply_setup("v1", small_ring(service))
    service.step("v1", "both", 2)
    service.registry.session("v1").live_trainer.wait_idle(20)
    first = service.tick("v1")
    field = json.loads(first.panel)["layout"]["uirevision"]
    losses = json.loads(first.losses)["layout"]["uirevision"]
    setup = service.preset_setup("dcgan-mnist")
    setup.update(width=8, batch_size=8)
    service.apply_setup("v1", setup)
    service.step("v1", "both", 1)
    service.registry.session("v1").live_trainer.wait_idle(60)
    second = service.tick("v1")
    assert json.loads(second.panel)["layout"]["uirevision"] not in (field,)
    assert json.loads(second.losses)["layout"]["uirevision"] != losses
