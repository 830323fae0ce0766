"""The Train tab's logic for every family: the dataset names the family, the family's own knobs, its views and
quality, and a saved checkpoint continued in the app."""
import json

import numpy as np
import pytest
import torch

from playground.sessions import SessionRegistry
from playground.settings import Settings
from playground.train_service import TrainService

FORM = ("data", "model", "latent_dim", "width", "seed", "lr_g", "lr_d", "d_steps", "loss", "batch_size",
        "label_smoothing", "r1_weight", "ema_decay", "lr_decay_steps")


def make_service(tmp_path, **settings):
    base = dict(max_trainers=2, data_root=str(tmp_path), allow_downloads=False, save_dir=str(tmp_path / "saves"))
    base.update(settings)
    reg = SessionRegistry(max_trainers=2, lease_seconds=30, idle_seconds=60)
    return TrainService(registry=reg, settings=Settings(**base)), reg


@pytest.fixture
def service(tmp_path):
    svc, reg = make_service(tmp_path)
    yield svc
    reg.shutdown()


def pix2pix_setup(service, **changes):
    s = service.preset_setup("edges2digits")
    s.update(width=8, batch_size=4, **changes)
    return s


def eventually(check, timeout=10.0):
    """check() became true within timeout (the training thread applies knobs before its next step)."""
    import time
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def run_steps(service, sid, n):
    service.step(sid, "both", n)
    trainer = service.registry.session(sid).live_trainer
    assert trainer.wait_idle(120)
    return trainer


def test_the_dataset_names_the_family_and_its_models(service):
    names = [v for _, v in service.dataset_choices()]
    assert {"edges2digits", "blur2digits", "mnist", "ring8"} <= set(names)
    assert [v for _, v in service.model_choices("edges2digits")] == ["unet"]
    assert [v for _, v in service.model_choices("ring8")] == ["mlp"]
    assert service.model_choices("no-such-data") == []
    assert not service.uses_latent("edges2digits") and service.uses_latent("mnist")
    assert {"edges2digits", "blur2digits"} <= {v for _, v in service.preset_choices()}


def test_switching_to_paired_data_builds_pix2pix_and_drops_other_families_knobs(service):
    gan = service.preset_setup("cgan-mnist")
    form = {k: gan[k] for k in FORM}
    form.update(data="edges2digits", model="unet", width=8, batch_size=4)
    assert "⚠" not in service.apply_setup("v1", form, base=gan)
    config, knobs = service.registry.session("v1").setup
    assert config.family == "pix2pix" and knobs.get("lambda_l1") == 100.0
    back = dict(form, data="mnist", model="dcgan")   # the form carries no lambda_L1 back into a gan run
    assert "⚠" not in service.apply_setup("v1", back, base={**config.to_dict(), **knobs.to_dict()})
    config, knobs = service.registry.session("v1").setup
    assert config.family == "gan" and dict(knobs.extra) == {}


def test_family_knobs_are_listed_set_and_checked(service):
    assert service.family_knobs("v1") == []                       # the default preset is a gan: none of its own
    assert "⚠" in service.set_knob("v1", "lambda_l1", 10)        # not a setting of a gan run
    service.apply_setup("v1", pix2pix_setup(service))
    (knob,) = service.family_knobs("v1")
    assert (knob["name"], knob["value"], knob["low"], knob["high"]) == ("lambda_l1", 100.0, 0, 1000)
    assert service.set_family_knob("v1", 0, 25) == "L1 weight lambda_L1 = 25"   # before a trainer: into the setup
    trainer = run_steps(service, "v1", 1)
    assert trainer.snapshot().knobs.get("lambda_l1") == 25
    assert service.set_family_knob("v1", 0, 40).endswith("= 40")
    assert eventually(lambda: trainer.snapshot().knobs.get("lambda_l1") == 40)
    for bad_index in (1, -1, "x", 0.5, True):
        assert service.set_family_knob("v1", bad_index, 5).startswith("⚠")
    assert service.set_family_knob("v1", 0, -3).startswith("⚠")
    assert service.set_family_knob("v1", 0, float("nan")).startswith("⚠")
    assert trainer.snapshot().knobs.get("lambda_l1") == 40        # refused values changed nothing


def test_pix2pix_tick_shows_its_view_caption_and_translation_quality(service):
    service.apply_setup("v1", pix2pix_setup(service, sample_every=2))
    trainer = run_steps(service, "v1", 3)
    trainer.measure_quality()
    assert eventually(lambda: len(trainer.snapshot().quality) >= 1)   # published by the training thread (the
    # monitor may measure too: it measures a run soon after its first steps)
    t = service.tick("v1")
    assert "held-out pairs" in t.grid_html and 'alt="strips"' in t.grid_html
    quality = json.loads(t.quality)
    assert "read correctly" in json.dumps(quality["layout"]) and len(quality["data"]) == 3
    classes = json.loads(t.classes)
    assert classes["data"][0]["x"] == [str(c) for c in range(10)]   # per-class accuracy of the outputs
    assert "pix2pix: U-Net G" in t.status


def test_run_number_replaces_the_identity_token(service):
    service.apply_setup("v1", pix2pix_setup(service))
    trainer = run_steps(service, "v1", 1)
    first = trainer.snapshot().run_number
    service.reset("v1")
    assert trainer.snapshot().run_number == first + 1


def test_a_saved_checkpoint_continues_in_another_page(service):
    service.apply_setup("v1", pix2pix_setup(service, seed=3))
    trainer = run_steps(service, "v1", 4)
    service.set_family_knob("v1", 0, 60)
    path, msg = service.checkpoint_file("v1")
    assert path, msg
    setup, msg = service.load_checkpoint("v2", path)
    assert setup is not None, msg
    assert "step 4" in msg and setup["family"] == "pix2pix" and setup["lambda_l1"] == 60
    other = service.registry.session("v2").live_trainer
    assert other is not trainer and other.snapshot().step == 4
    # the two runs go on identically from there
    for sid in ("v1", "v2"):
        run_steps(service, sid, 3)
    a, b = (service.registry.session(s).live_trainer.snapshot() for s in ("v1", "v2"))
    assert a.step == b.step == 7
    np.testing.assert_array_equal(a.metrics["loss/G/L1"][-3:], b.metrics["loss/G/L1"][-3:])


def test_bad_checkpoints_are_refused_and_change_nothing(service, tmp_path):
    service.apply_setup("v1", pix2pix_setup(service))
    trainer = run_steps(service, "v1", 2)
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    for path in ("", str(junk), str(tmp_path / "missing.pt")):
        setup, msg = service.load_checkpoint("v1", path)
        assert setup is None and msg
    assert service.registry.session("v1").live_trainer is trainer and trainer.snapshot().step == 2


def test_a_checkpoint_of_uploaded_points_carries_them_to_another_page(service, tmp_path):
    csv = tmp_path / "pts.csv"
    csv.write_text("\n".join(f"{x},{-x}" for x in np.linspace(-1, 1, 64)))
    ring = service.preset_setup("ring8")
    ring.update(data="points", width=16, latent_dim=4, batch_size=32)
    assert "⚠" not in service.apply_setup("v1", ring, points_path=str(csv))
    run_steps(service, "v1", 2)
    path, _ = service.checkpoint_file("v1")
    csv.unlink()                                   # the upload is gone: the checkpoint's own copy is used
    setup, msg = service.load_checkpoint("v2", path)
    assert setup is not None and "⚠" not in msg
    trainer = service.registry.session("v2").live_trainer
    assert trainer.snapshot().step == 2 and trainer.run.source.points.shape == (64, 2)
    old = torch.load(path, weights_only=True)
    old.pop("points")                              # a checkpoint written before points were carried
    torch.save(old, tmp_path / "old.pt")
    setup, msg = service.load_checkpoint("v3", str(tmp_path / "old.pt"))
    assert setup is None and "CLI" in msg and service.registry.session("v3").live_trainer is None


def test_a_checkpoint_over_the_step_cost_cap_is_refused(tmp_path):
    svc, reg = make_service(tmp_path)
    try:
        svc.apply_setup("v1", pix2pix_setup(svc))
        run_steps(svc, "v1", 1)
        path, _ = svc.checkpoint_file("v1")
    finally:
        reg.shutdown()
    capped, reg = make_service(tmp_path, max_step_gflops=0.001)
    try:
        setup, msg = capped.load_checkpoint("v2", path)
        assert setup is None and "GFLOP" in msg
    finally:
        reg.shutdown()


def test_replies_say_whether_the_action_happened(service):
    """Success is a flag on the reply (the API's ok), not read from the sentence."""
    setup = pix2pix_setup(service)
    assert service.apply_setup("v1", setup).ok
    assert not service.apply_setup("v1", dict(setup, width=-3)).ok
    assert not service.step("v1", "sideways").ok and not service.step("v1", "both", 0).ok
    assert service.step("v1", "d").ok
    assert not service.set_knob("v1", "lambda_l1", "lots").ok and service.set_knob("v1", "lambda_l1", 7).ok
    assert not service.rewind("v1", "x").ok
    assert service.pause("v1").ok and service.reset("v1").ok


def test_explore_refuses_a_translating_run_or_checkpoint_and_points_to_translate(service, tmp_path):
    """Explore draws from a latent z; pix2pix's G takes an image: one sentence, not a crash."""
    from playground.explore_service import ExploreService
    explore = ExploreService(registry=service.registry, settings=service.settings)
    service.apply_setup("v1", pix2pix_setup(service))
    run_steps(service, "v1", 1)
    path, _ = service.checkpoint_file("v1")
    src, msg = explore.upload("v1", path)
    assert src is None and "Translate tab" in msg
    assert explore.current("v1").name.startswith("pretrained")   # a refused upload changes nothing
    src, msg = explore.select("v1", "live")
    assert src is None and "Translate tab" in msg
    with pytest.raises(ValueError, match="Translate tab"):      # the menu says "Your live run": no other G's picture
        explore.current("v1")


def test_cyclegan_trains_in_the_train_tab_with_its_two_views_and_knobs(service):
    assert "thin2thick" in [v for _, v in service.dataset_choices()]
    assert "cyclegan-digits" in [v for _, v in service.preset_choices()]
    s = service.preset_setup("cyclegan-digits")
    s.update(width=4, batch_size=2, sample_every=2)
    assert service.apply_setup("v1", s).ok
    assert [k["name"] for k in service.family_knobs("v1")] == ["lambda_cycle", "lambda_identity"]
    run_steps(service, "v1", 2)
    t = service.tick("v1")
    assert 'alt="cycles"' in t.grid_html and 'alt="identity"' in t.grid_html
    assert service.set_family_knob("v1", 1, 0).ok          # identity off: the knob the README's failure story uses


def test_style_transfer_trains_in_the_train_tab_with_its_views_knobs_and_quality(service):
    assert "digit-styles" in [v for _, v in service.dataset_choices()]
    assert "digit-styles" in [v for _, v in service.preset_choices()]
    s = service.preset_setup("digit-styles")
    s.update(width=4, batch_size=5, sample_every=2)
    assert service.apply_setup("v1", s).ok
    assert {"lambda_cls", "lambda_rec", "lambda_id"} <= {k["name"] for k in service.family_knobs("v1")}
    trainer = run_steps(service, "v1", 2)
    trainer.measure_quality()
    assert eventually(lambda: len(trainer.snapshot().quality) >= 1)
    t = service.tick("v1")
    assert 'alt="styles"' in t.grid_html
    assert "content kept" in t.quality and "By style" in t.classes


def test_the_translate_tab_takes_a_style_transfer_run_and_its_checkpoint(service):
    """A family whose translate needs a style code gets the style menu and the blend (tests/test_translate_service)."""
    from playground.translate_service import TranslateService
    translate = TranslateService(registry=service.registry, settings=service.settings)
    s = service.preset_setup("digit-styles")
    s.update(width=4, batch_size=5)
    service.apply_setup("v1", s)
    run_steps(service, "v1", 1)
    assert not translate.describe("v1", "live").startswith("⚠")
    assert len(translate.controls("v1", "live").choices) == 5 and translate.controls("v1", "live").blend
    path, _ = service.checkpoint_file("v1")
    assert translate.load_checkpoint("v1", path).startswith("Loaded")
    assert translate.example("v1", "upload", 2, "pixel").target is not None


def test_the_translate_tab_takes_a_cyclegan_run_thin_to_thick(service):
    from playground.translate_service import TranslateService
    translate = TranslateService(registry=service.registry, settings=service.settings)
    s = service.preset_setup("cyclegan-digits")
    s.update(width=4, batch_size=2)
    service.apply_setup("v1", s)
    run_steps(service, "v1", 1)
    assert not translate.describe("v1", "live").startswith("⚠")
    shown = translate.example("v1", "live", 3)
    assert shown.output is not None and shown.target is not None


def test_cogan_trains_in_the_train_tab_and_explore_draws_the_pair_of_one_z(service):
    from playground.explore_service import ExploreService
    assert {"digits-negatives", "digits-edges"} <= {v for _, v in service.dataset_choices()}
    assert [v for _, v in service.model_choices("digits-edges")] == ["shared3", "shared2", "shared1", "shared0"]
    assert {"cogan-negatives", "cogan-edges", "cogan-unshared"} <= {v for _, v in service.preset_choices()}
    s = service.preset_setup("cogan-negatives")
    s.update(width=4, batch_size=4, sample_every=2)
    assert service.apply_setup("v1", s).ok
    trainer = run_steps(service, "v1", 2)
    trainer.measure_quality()
    assert eventually(lambda: len(trainer.snapshot().quality) >= 1, 30)
    t = service.tick("v1")
    assert 'alt="pairs"' in t.grid_html and 'alt="agreement"' in t.grid_html and "next start" in t.grid_html
    assert "one digit in both domains" in t.quality
    explore = ExploreService(registry=service.registry, settings=service.settings)
    src, msg = explore.select("v1", "live")
    assert src is not None, msg
    img, text = explore.render("v1", 3, [0.0] * 8)
    assert img.shape[1] > 1.9 * img.shape[0]          # G1(z) | G2(z) side by side


def test_vid2vid_trains_in_the_train_tab_with_its_strip_animation_and_knobs(service):
    assert "moving-digits" in [v for _, v in service.dataset_choices()]
    assert {"moving-digits", "moving-digits-per-frame"} <= {v for _, v in service.preset_choices()}
    s = service.preset_setup("moving-digits")
    s.update(width=4, batch_size=2, sample_every=2)
    assert service.apply_setup("v1", s).ok
    assert [k["name"] for k in service.family_knobs("v1")] == ["lambda_T", "prev_frame", "lambda_frame"]
    trainer = run_steps(service, "v1", 2)
    trainer.measure_quality()
    assert eventually(lambda: len(trainer.snapshot().quality) >= 1)
    t = service.tick("v1")
    assert 'alt="strip"' in t.grid_html and 'alt="clips" src="data:image/gif;base64,' in t.grid_html   # animated
    assert "warp error" in t.quality
    assert service.set_family_knob("v1", 1, 0).ok          # the previous frame off: per-frame generation
