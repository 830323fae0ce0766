"""The Translate tab in a real browser (Debian's Chromium driven by playwright): the page's own live pix2pix run,
trained for a few hundred steps through the service, turns a sketch drawn with the mouse into a digit; each stroke
updates the output, and while the run trains the output follows G without a new stroke. Screenshots go to
test-artifacts/ (look at them: the sketch must read as the digit drawn)."""
import shutil
import time
from pathlib import Path

import pytest

from apphelpers import running_app
from waiting import wait_for

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
TRAIN_STEPS = 300     # edges2digits: ~90% of held-out edge maps read as their digit after 300-400 steps (bench/)


@pytest.fixture(scope="module")
def served():
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is not installed: run `apt-get install -y chromium` (bash .ci/run does it)")
    with running_app(max_trainers=2) as (playground, url):
        yield playground, url


def until(pred, timeout):
    return wait_for(pred, timeout, 0.25)


def src(page, elem_id):
    return page.evaluate(f"() => document.querySelector('#{elem_id} img')?.getAttribute('src') || ''")


def stroke(page, points, origin, scale):
    """Drag the mouse through canvas points (in canvas pixels, 0-255) with the button held."""
    def to_screen(p):
        return origin[0] + p[0] * scale, origin[1] + p[1] * scale
    page.mouse.move(*to_screen(points[0]))
    page.mouse.down()
    for a, b in zip(points, points[1:]):
        for t in (0.25, 0.5, 0.75, 1.0):
            page.mouse.move(*to_screen((a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)))
    page.mouse.up()


def canvas_frame(page):
    """(screen x, y of the canvas's pixel (0, 0), screen px per canvas px): the white drawing square is centred in
    the editor's pixi canvas and shown at the zoom its toolbar prints (e.g. "113%")."""
    box = page.locator("#gp-sketch canvas").first.bounding_box()
    zoom = page.evaluate("() => [...document.querySelectorAll('#gp-sketch *')].map(e => e.textContent.trim())"
                         ".find(t => /^\\d+%$/.test(t)) || '100%'")
    scale = float(zoom.rstrip("%")) / 100
    side = 256 * scale
    return (box["x"] + (box["width"] - side) / 2, box["y"] + (box["height"] - side) / 2), scale


def test_a_sketch_turns_into_a_digit_with_the_live_run(served):
    from playwright.sync_api import sync_playwright
    playground, url = served
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url, wait_until="load")
        page.locator("#gp-intro").wait_for(timeout=60_000)
        sid = page.evaluate("() => window.__gradio_session_hash__")
        train = playground.train
        assert not train.apply_setup(sid, train.preset_setup("edges2digits")).startswith("⚠")
        assert not train.step(sid, "both", TRAIN_STEPS).startswith(("⚠", "⏳"))
        trainer = playground.registry.session(sid).live_trainer
        assert trainer.wait_idle(240), "the live run did not finish its steps"

        page.get_by_role("tab", name="Translate").click()
        assert until(lambda: f"step {TRAIN_STEPS}" in page.locator("#gp-tx-source-msg").inner_text(), 30), \
            page.locator("#gp-tx-source-msg").inner_text()
        page.locator("#gp-sketch canvas").first.wait_for(timeout=30_000)
        assert until(lambda: "select the draw tool" not in page.locator("#gp-sketch").inner_text(), 20), \
            "the brush was not picked for the visitor"
        origin, scale = canvas_frame(page)

        stroke(page, [(70, 45), (185, 45)], origin, scale)                   # a 7's bar ...
        assert until(lambda: src(page, "gp-tx-output"), 30), "no output after the first stroke"
        first = src(page, "gp-tx-output")
        assert f"step {TRAIN_STEPS}" in page.locator("#gp-tx-caption").inner_text()
        seen = src(page, "gp-tx-seen")
        stroke(page, [(185, 45), (150, 120), (115, 215)], origin, scale)      # ... and its stem
        assert until(lambda: src(page, "gp-tx-seen") != seen, 30), "the second stroke never reached G"
        assert until(lambda: src(page, "gp-tx-output") not in ("", first), 30), "the output ignored a stroke"
        time.sleep(1.0)
        page.locator("#gp-tx-output").scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "translate-01-sketch.png"), full_page=True)

        # the run trains on: the output follows G with no new stroke
        drawn = src(page, "gp-tx-output")
        assert not train.start(sid).startswith(("⚠", "⏳"))
        assert until(lambda: src(page, "gp-tx-output") != drawn, 30), "the output did not follow training"
        train.pause(sid)
        assert "step" in page.locator("#gp-tx-caption").inner_text()

        page.locator("#gp-tx-example").click()
        assert until(lambda: src(page, "gp-tx-target"), 30), "the random example showed no target"
        page.screenshot(path=str(ARTIFACTS / "translate-02-example.png"), full_page=True)
        browser.close()
    assert not errors, errors
