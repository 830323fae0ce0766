"""Issue 15: a single step shows what it changed (step numbers, losses, D's verdicts before and after), and a
diagnosis names the setting change that preceded it. The cGAN grid carries its column classes."""
import numpy as np
import pytest

from ganengine.metrics.diagnostics import diagnose, last_change
from ganengine.run import Event
from playground.sessions import SessionRegistry
from playground.settings import Settings
from playground.step_report import step_and_report
from playground.train_service import TrainService
from playground.views import image_html, views_html


@pytest.fixture
def service(tmp_path):
    settings = Settings(max_trainers=2, data_root=str(tmp_path), allow_downloads=False)
    reg = SessionRegistry(max_trainers=2, lease_seconds=30, idle_seconds=60)
    yield TrainService(registry=reg, settings=settings)
    reg.shutdown()


def test_each_step_says_what_it_changed(service):
    setup = service.preset_setup("ring8")
    setup.update(width=16, latent_dim=4, batch_size=32)
    service.apply_setup("v", setup)
    first = step_and_report(service, "v", "both")
    assert first.ok and first.startswith("**Step 0 → 1** (D then G)"), first
    assert "Loss D – → " in first and "Loss G – → " in first      # nothing before the first step
    assert "D(G(z)) on the same fakes " in first and "before D's update →" in first
    d = step_and_report(service, "v", "d")
    assert d.startswith("**Step 1 → 2** (D only, G unchanged)"), d
    loss_d = [p for p in d.split(" · ") if p.startswith("Loss D ")][0]
    was, now = (float(v) for v in loss_d.removeprefix("Loss D ").split(" → "))
    assert was != now and "Loss G" not in d                        # D's loss moved; G's was not computed
    assert "on this batch's fakes, before D's update" in d
    g = step_and_report(service, "v", "g")
    assert g.startswith("**Step 2 → 3** (G only, D unchanged)") and "Loss G " in g, g
    assert service.status("v")["step"] == 3
    bad = step_and_report(service, "v", "x")
    assert not bad.ok and "both, d or g" in bad


def test_a_diagnosis_names_the_last_setting_change():
    events = [Event(100, "lr_g", "lr_g 0.0002 -> 0.001"), Event(400, "lr_d", "lr_d 0.0002 -> 0.001"),
              Event(450, "rewind", "rewound to step 420")]
    assert last_change(events) == "lr_d 0.0002 -> 0.001 at step 400"
    assert last_change([Event(5, "rollback", "diverged at step 5; rolled back to step 0")]) == ""
    found = diagnose({"step": np.zeros(0)}, [], events + [Event(500, "rollback", "diverged at step 500")], "ns")
    assert found and found[0].kind == "diverged" and found[0].after == "lr_d 0.0002 -> 0.001 at step 400"


def test_the_cgan_grid_has_column_labels():
    grid = np.zeros((62, 302, 3), np.uint8)
    html = views_html({"step": 5, "views": ("grid",), "grid": grid, "captions": {"grid": "samples"},
                       "column_labels": {"grid": [str(c) for c in range(10)]}})
    assert "repeat(10, 1fr)" in html and "".join(f"<span>{c}</span>" for c in range(10)) in html
    assert "gp-columns" not in image_html(grid, "plain grid")


def test_a_cgan_run_labels_its_columns_on_the_page(service):
    import time
    setup = service.preset_setup("cgan-mnist")
    setup.update(width=8, batch_size=16)
    service.apply_setup("c", setup)
    assert step_and_report(service, "c", "both").ok
    deadline, html = time.monotonic() + 20, ""
    while time.monotonic() < deadline and "gp-columns" not in html:
        html += service.tick("c").grid_html or ""
        time.sleep(0.1)
    assert "repeat(10, 1fr)" in html and "<span>9</span>" in html
    assert "gp-columns" in service.timeline_frame("c", 0)      # the timeline's frames too
