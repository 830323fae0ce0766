"""The Translate tab in a real browser for the unpaired families (Debian's Chromium driven by playwright): a CycleGAN
run's direction menu and its cycle back, a style-transfer run's style menu, blend and every-style strip, each on a
digit drawn with the mouse and on a held-out example. The runs are trained through the service first (a few steps
here; GP_TX_STEPS=cyclegan,styles trains longer for screenshots worth looking at). Screenshots go to
test-artifacts/translate-1*.png."""
import os

import pytest

from apphelpers import running_app
from browserhelpers import ARTIFACTS, canvas_frame, launch_browser, need_chromium, open_page, stroke
from test_browser_translate import src
from waiting import wait_for

STEPS = dict(zip(("cyclegan-digits", "digit-styles"), map(int, os.environ.get("GP_TX_STEPS", "20,10").split(","))))
SEVEN = ([(70, 45), (185, 45)], [(185, 45), (150, 120), (115, 215)])


@pytest.fixture(scope="module")
def served():
    need_chromium()
    with running_app(max_trainers=2) as (playground, url):
        yield playground, url


def open_translate(playground, url, p, preset):
    """A page whose live run is the preset trained STEPS[preset] steps, on the Translate tab with a 7 drawn."""
    browser, errors = launch_browser(p), []
    page = open_page(browser, url, errors, width=1400, height=1100)
    page.locator("#gp-intro").wait_for(timeout=60_000)
    sid = page.evaluate("() => window.__gradio_session_hash__")
    train = playground.train
    assert not train.apply_setup(sid, train.preset_setup(preset)).startswith("⚠")
    assert not train.step(sid, "both", STEPS[preset]).startswith(("⚠", "◷"))
    assert playground.registry.session(sid).live_trainer.wait_idle(600), "the live run did not finish its steps"
    page.get_by_role("tab", name="Translate").click()
    assert wait_for(lambda: f"step {STEPS[preset]}" in page.locator("#gp-tx-source-msg").inner_text(), 30, 0.25)
    assert wait_for(lambda: page.locator("#gp-tx-choice").is_visible(), 20, 0.25), "no direction / style menu"
    page.locator("#gp-sketch canvas").first.wait_for(timeout=30_000)
    assert wait_for(lambda: "select the draw tool" not in page.locator("#gp-sketch").inner_text(), 20, 0.25)
    origin, scale = canvas_frame(page)
    for line in SEVEN:
        seen = src(page, "gp-tx-seen")
        stroke(page, line, origin, scale)
        if not wait_for(lambda: src(page, "gp-tx-seen") not in ("", seen), 30, 0.25):
            stroke(page, line, origin, scale)     # on a loaded machine the canvas may not have taken the first one
            assert wait_for(lambda: src(page, "gp-tx-seen") not in ("", seen), 60, 0.25), "a stroke never reached G"
    assert wait_for(lambda: src(page, "gp-tx-back"), 30, 0.25), "no cycle back beside the output"
    return browser, page, errors


def choose(page, elem_id, text):
    page.locator(f"#{elem_id} input[role=combobox]").click()
    page.locator(f"#{elem_id} li[role=option]", has_text=text).first.click()


def test_cyclegan_translates_either_way_with_its_cycle_back(served):
    from playwright.sync_api import sync_playwright
    playground, url = served
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser, page, errors = open_translate(playground, url, p, "cyclegan-digits")
        assert "thin → thick" in page.locator("#gp-tx-caption").inner_text()
        assert "Direction" in page.locator("#gp-tx-choice").inner_text()
        assert not page.locator("#gp-tx-blend").is_visible() and not page.locator("#gp-tx-every").is_visible()
        assert "Back to thin" in page.locator("#gp-tx-back").inner_text()
        page.screenshot(path=str(ARTIFACTS / "translate-10-cyclegan-ab.png"), full_page=True)
        output = src(page, "gp-tx-output")
        choose(page, "gp-tx-choice", "B → A")
        assert wait_for(lambda: "thick → thin" in page.locator("#gp-tx-caption").inner_text(), 30, 0.25)
        assert src(page, "gp-tx-output") != output and "Back to thick" in page.locator("#gp-tx-back").inner_text()
        page.locator("#gp-tx-example").click()
        assert wait_for(lambda: page.locator("#gp-tx-target").is_visible() and src(page, "gp-tx-target"), 30, 0.25)
        assert "held-out example" in page.locator("#gp-tx-caption").inner_text()
        page.screenshot(path=str(ARTIFACTS / "translate-11-cyclegan-ba-example.png"), full_page=True)
        browser.close()
    assert not errors, errors


def test_style_transfer_takes_a_style_a_blend_and_shows_every_style(served):
    from playwright.sync_api import sync_playwright
    playground, url = served
    with sync_playwright() as p:
        browser, page, errors = open_translate(playground, url, p, "digit-styles")
        assert page.locator("#gp-tx-blend").is_visible() and page.locator("#gp-tx-every").is_visible()
        assert "every style" in page.locator("#gp-tx-every").inner_text()
        choose(page, "gp-tx-choice", "hatched")
        assert wait_for(lambda: "(hatched)" in page.locator("#gp-tx-caption").inner_text(), 30, 0.25)
        assert "Style" in page.locator("#gp-tx-choice").inner_text()
        choose(page, "gp-tx-blend-to", "brush")
        number = page.locator("#gp-tx-blend input[type=number]")
        number.fill("0.5")
        number.press("Enter")
        assert wait_for(lambda: "50% toward brush" in page.locator("#gp-tx-caption").inner_text(), 30, 0.25), \
            page.locator("#gp-tx-caption").inner_text()
        page.screenshot(path=str(ARTIFACTS / "translate-12-styles-blend.png"), full_page=True)
        page.locator("#gp-tx-example").click()
        assert wait_for(lambda: page.locator("#gp-tx-target").is_visible() and src(page, "gp-tx-target"), 30, 0.25)
        page.screenshot(path=str(ARTIFACTS / "translate-13-styles-example.png"), full_page=True)
        browser.close()
    assert not errors, errors
