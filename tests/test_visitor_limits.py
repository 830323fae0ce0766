"""What one public visitor may cost (issue 17): budgets that resets and rewinds cannot refresh, files that do not pile
up on the disk, and one sentence for every malformed number."""
import io
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from playground.explore_service import ExploreService
from playground.sessions import SessionRegistry
from playground.settings import Settings
from playground.train_service import TrainService

import waiting


def make_service(tmp_path, **settings):
    base = dict(max_trainers=2, data_root=str(tmp_path), allow_downloads=False, save_dir=str(tmp_path / "saved"))
    base.update(settings)
    s = Settings(**base)
    reg = SessionRegistry(max_trainers=s.max_trainers, lease_seconds=30, idle_seconds=60)
    return TrainService(registry=reg, settings=s), ExploreService(registry=reg, settings=s)


@pytest.fixture
def limited(tmp_path):
    service, explore = make_service(tmp_path, run_steps=300)
    yield service
    service.registry.shutdown()


def small_ring(service):
    setup = service.preset_setup("ring8")
    setup.update(width=16, latent_dim=4, batch_size=32, sample_every=50)
    return setup


def finished(service, sid):
    return waiting.wait_for(lambda: service.status(sid)["status"] == "finished", 30)


def test_reset_and_a_new_preset_do_not_refresh_the_budget(limited):
    """Issue 17.4: `/start <preset>` (a rebuild) used to give a fresh budget every time."""
    service = limited
    service.apply_setup("v", small_ring(service))
    service.start("v")
    assert finished(service, "v") and service.status("v")["step"] == 300
    service.reset("v")                                     # step 0 again, but the page's 300 steps are spent
    reply = service.start("v")
    assert "training budget" in reply
    assert service.status("v")["step"] == 0
    assert "training budget" in service.step("v", "both", 5)
    service.apply_setup("v", small_ring(service))          # what `/start ring8` does first
    assert "training budget" in service.start("v")


def test_queued_steps_stop_at_the_limit(limited):
    """Issue 17.4: five /step calls of 100,000 on a finished run reached step 8,040."""
    service = limited
    service.apply_setup("v", small_ring(service))
    for _ in range(5):
        service.step("v", "both", 100_000)
    trainer = service.registry.session("v").live_trainer
    assert trainer.wait_idle(30)
    assert service.status("v")["step"] == 300


def test_rewind_does_not_refresh_the_budget(limited):
    service = limited
    service.apply_setup("v", small_ring(service))
    service.start("v")
    assert finished(service, "v")
    msg = service.rewind("v", 0)
    assert "Rewound" in msg
    back = service.status("v")["step"]
    assert back < 300
    service.start("v")                                     # nothing left: the rewind forgot work, not the budget
    time.sleep(0.5)
    trainer = service.registry.session("v").live_trainer
    assert trainer.wait_idle(10) and service.status("v")["step"] <= back + 1


@pytest.mark.parametrize("n", [float("inf"), float("nan"), 1e308, -1, 0, 2.5, True, "many", None, 10**9])
def test_step_counts_get_a_sentence(tmp_path, n):
    service, _ = make_service(tmp_path)
    try:
        msg = service.step("v", "both", n)
        assert msg.startswith("⚠") and "whole number" in msg
        assert service.registry.peek("v") is None or service.registry.peek("v").live_trainer is None
    finally:
        service.registry.shutdown()


def test_a_bad_step_kind_is_refused_not_turned_into_both(tmp_path):
    service, _ = make_service(tmp_path)
    try:
        assert "both, d or g" in service.step("v", "dd", 1)
    finally:
        service.registry.shutdown()


def test_exports_replace_each_other_and_leave_with_the_visitor(tmp_path):
    """Issue 17.5: every GIF export used to leave its own temp folder behind for good."""
    service, explore = make_service(tmp_path)
    try:
        service.apply_setup("v", small_ring(service))
        service.step("v", "both", 120)
        assert service.registry.session("v").live_trainer.wait_idle(20)
        paths = [service.export_gif("v")[0] for _ in range(5)]
        assert all(p for p in paths) and sum(Path(p).exists() for p in paths) == 1
        gifs = [explore.interpolation_gif("v", 1, 2, "slerp", 6) for _ in range(3)]
        assert sum(Path(p).exists() for p in gifs) == 1
        workdir = Path(service.registry.session("v").workdir)
        service.registry.drop("v")
        assert not workdir.exists()
    finally:
        service.registry.shutdown()


def test_interpolation_file_names_never_carry_visitor_text(tmp_path):
    service, explore = make_service(tmp_path)
    try:
        path = Path(explore.interpolation_gif("v", 1, 2, "../../../../tmp/evil", 4))
        assert path.name == "interpolation-1-2-slerp.gif"
        assert Path(service.registry.session("v").workdir) in path.parents
    finally:
        service.registry.shutdown()


def test_saved_checkpoints_are_capped_per_visitor_and_in_total(tmp_path, monkeypatch):
    """Issue 17.5: saves were never deleted (20 saves in 10 s: 119 MiB)."""
    import playground.visitor_files as vf
    monkeypatch.setattr(vf, "SAVE_INTERVAL", 0.0)
    service, _ = make_service(tmp_path, save_quota_mb=1)
    try:
        setup = small_ring(service)
        for sid in ("a", "b"):
            service.apply_setup(sid, setup)
            service.step(sid, "both", 2)
            assert service.registry.session(sid).live_trainer.wait_idle(10)
        paths = [service.checkpoint_file("a")[0] for _ in range(5)]
        assert [Path(p).exists() for p in paths] == [False, False, True, True, True]
        monkeypatch.setattr(vf, "SAVE_INTERVAL", 5.0)
        assert service.checkpoint_file("a")[0] is None                   # too soon after the last save
        assert "one save every" in service.checkpoint_file("a")[1]
        size = Path(paths[-1]).stat().st_size
        service.saves.quota_bytes = 4 * size                              # room for four files in all
        monkeypatch.setattr(vf, "SAVE_INTERVAL", 0.0)
        newest = [service.checkpoint_file("b")[0] for _ in range(2)]
        left = sorted(Path(service.settings.save_dir).glob("gan-*.pt"))
        assert len(left) == 4 and all(Path(p).exists() for p in newest)
    finally:
        service.registry.shutdown()


def zip_of_pngs(path: Path, n: int, side: int = 32) -> Path:
    rng = np.random.default_rng(0)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for i in range(n):
            buf = io.BytesIO()
            Image.fromarray(rng.integers(0, 255, (side, side, 3), dtype=np.uint8)).save(buf, format="PNG")
            zf.writestr(f"img{i}.png", buf.getvalue())
    return path


def test_one_extracted_zip_per_visitor_and_a_total_quota(tmp_path):
    """Issue 17.5: three 286 MiB extractions were held by one visitor until they left."""
    service, _ = make_service(tmp_path, extract_quota_mb=1)
    try:
        folder = dict(small_ring(service), data="folder", model="dcgan", width=8, latent_dim=8, batch_size=8)
        folder.pop("depth", None)
        z1 = zip_of_pngs(tmp_path / "one.zip", 20)
        z2 = zip_of_pngs(tmp_path / "two.zip", 21)
        assert not service.apply_setup("v", folder, points_path=str(z1)).startswith("⚠")
        assert not service.apply_setup("v", folder, points_path=str(z2)).startswith("⚠")
        workdir = Path(service.registry.session("v").workdir)
        assert len(list(workdir.glob("images-*"))) <= 2                    # the one in use and the new one
        big = zip_of_pngs(tmp_path / "big.zip", 400)                        # ~1.2 MiB unpacked: over the quota
        msg = service.apply_setup("w", folder, points_path=str(big))
        assert msg.startswith("⚠") and "MiB" in msg and "/tmp" not in msg
    finally:
        service.registry.shutdown()


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "x", True, None])
def test_explore_numbers_get_a_sentence(tmp_path, bad):
    _, explore = make_service(tmp_path)
    try:
        if bad is not None:
            with pytest.raises(ValueError):
                explore.interpolate("v", 1, 2, "slerp", bad, 5)
        explore.select("v", "pretrained:cgan-digits")
        if bad is not None:
            with pytest.raises(ValueError):
                explore.render("v", 7, [], bad)
        with pytest.raises(ValueError):
            explore.render("v", 7, [bad] if bad is not None else [0] * 9, 3)
    finally:
        explore.registry.shutdown()


def test_api_offsets_are_clamped_to_the_sliders_range(tmp_path):
    _, explore = make_service(tmp_path)
    try:
        src = explore.current("v")
        far = explore.latent(src, 7, [100, 0, 0, 0])
        edge = explore.latent(src, 7, [3, 0, 0, 0])
        assert float((far - edge).abs().max()) == 0.0
    finally:
        explore.registry.shutdown()


def test_messages_never_show_the_servers_temporary_paths(tmp_path):
    import tempfile

    from ganengine.config import ConfigError
    from playground.train_service import public_text
    where = f"{tempfile.gettempdir()}/gan-visitor-x1/images-digits-123"
    assert public_text(ConfigError(f"no images found in {where}")) == "no images found in your upload"
    service, _ = make_service(tmp_path)
    try:
        folder = dict(small_ring(service), data="folder", model="dcgan", width=8, latent_dim=8, batch_size=8)
        empty = tmp_path / "empty.zip"
        with zipfile.ZipFile(empty, "w") as zf:
            zf.writestr("notes.txt", "no images here")
        msg = service.apply_setup("v", folder, points_path=str(empty))
        assert msg.startswith("⚠") and tempfile.gettempdir() not in msg and str(tmp_path) not in msg
    finally:
        service.registry.shutdown()


def test_a_rewind_to_a_late_frame_gives_no_budget_twice(limited):
    """Review finding: a rewind to a late frame gave the run its step again on top of what was left (limit =
    step + left), so rewinding near the end over and over trained without limit. Limits now count from where the
    run's paid training began: spent + (step - paid_from) <= budget."""
    service = limited
    service.apply_setup("v", small_ring(service))
    service.start("v")
    assert finished(service, "v")
    n, _ = service.timeline_position("v")
    assert "Rewound" in service.rewind("v", n - 2)          # a frame near the end
    back = service.status("v")["step"]
    assert 0 < back < 300
    service.start("v")
    time.sleep(0.5)
    trainer = service.registry.session("v").live_trainer
    assert trainer.wait_idle(10) and service.status("v")["step"] <= back + 1


def test_a_branch_shares_the_page_budget_and_keep_gives_none_back(limited):
    """Review finding: fork at the last frame of a finished run, train the branch, keep it, repeat: each round gave a
    whole new budget. A branch now gets what the page has left; after keep the page's training is still capped."""
    from playground.branch_service import BranchService
    service, branches = limited, BranchService(limited)
    service.apply_setup("v", small_ring(service))
    service.start("v")
    assert finished(service, "v")
    n, _ = service.timeline_position("v")
    reply = branches.fork("v", n - 1, "lr_d", "0.001")
    assert not reply.ok and "training budget" in reply       # nothing left to share

    service.apply_setup("w", small_ring(service))
    assert service.step("w", "both", 200).ok
    main = service.registry.session("w").live_trainer
    assert main.wait_idle(60) and main.snapshot().step == 200
    n, _ = service.timeline_position("w")
    assert branches.fork("w", n - 1, "lr_d", "0.001").ok      # 100 steps left to share
    s = service.registry.session("w")
    fork_step = s.branch_info["step"]
    assert waiting.wait_for(lambda: not s.branch.working, 60)
    assert s.branch.snapshot().step == fork_step + 100
    assert branches.keep("w").ok                               # the old run's 200 - fork steps are spent
    kept = service.registry.session("w").live_trainer
    service.start("w")
    time.sleep(0.5)
    assert kept.wait_idle(10)
    spent = service.registry.session("w").spent_steps
    assert spent + kept.snapshot().step <= 300 + 1             # the page's training stays within its budget
