"""The Translate tab in a real browser (Debian's Chromium driven by playwright): the page's own live pix2pix run,
trained for a few hundred steps through the service, turns a sketch drawn with the mouse into a digit; each stroke
updates the output, and while the run trains the output follows G without a new stroke. Screenshots go to
test-artifacts/ (look at them: the sketch must read as the digit drawn)."""
import time

import pytest

from apphelpers import running_app
from browserhelpers import ARTIFACTS, canvas_frame, launch_browser, need_chromium, open_page, stroke
from waiting import wait_for

TRAIN_STEPS = 300     # edges2digits: ~90% of held-out edge maps read as their digit after 300-400 steps (bench/)


@pytest.fixture(scope="module")
def served():
    need_chromium()
    with running_app(max_trainers=2) as (playground, url):
        yield playground, url


def until(pred, timeout):
    return wait_for(pred, timeout, 0.25)


def src(page, elem_id):
    return page.evaluate(f"() => document.querySelector('#{elem_id} img')?.getAttribute('src') || ''")


def test_a_sketch_turns_into_a_digit_with_the_live_run(served):
    from playwright.sync_api import sync_playwright
    playground, url = served
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser, errors = launch_browser(p), []
        page = open_page(browser, url, errors, width=1400, height=1000)
        page.locator("#gp-intro").wait_for(timeout=60_000)
        sid = page.evaluate("() => window.__gradio_session_hash__")
        train = playground.train
        assert not train.apply_setup(sid, train.preset_setup("edges2digits")).startswith("⚠")
        assert not train.step(sid, "both", TRAIN_STEPS).startswith(("⚠", "◷"))
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
        assert not train.start(sid).startswith(("⚠", "◷"))
        assert until(lambda: src(page, "gp-tx-output") != drawn, 30), "the output did not follow training"
        train.pause(sid)
        assert "step" in page.locator("#gp-tx-caption").inner_text()

        page.locator("#gp-tx-example").click()
        assert until(lambda: src(page, "gp-tx-target"), 30), "the random example showed no target"
        page.screenshot(path=str(ARTIFACTS / "translate-02-example.png"), full_page=True)
        browser.close()
    assert not errors, errors
