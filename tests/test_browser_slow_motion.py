"""Slow motion in a real browser (Debian's Chromium driven by playwright): on the ring8 preset, step through GAN
Lab's ten stages (the 2-D view with D's field, the histogram, G's push arrows), see the real step applied at the
last stage; then on the conditional-digits preset, see D's score under each fake image. Screenshots go to
test-artifacts/."""
from pathlib import Path

import pytest

from apphelpers import running_app
from browserhelpers import ARGS, ARTIFACTS, CHROMIUM, pick_preset, step_number
from waiting import wait_for


def next_stage(page, number: int, timeout: float = 90) -> str:
    page.locator("#gp-sm-next").click()
    text = page.locator("#gp-sm-text")
    assert wait_for(lambda: f"stage {number} of" in text.inner_text(), timeout), text.inner_text()
    return text.inner_text()


def test_slow_motion_plays_an_iteration_in_stages():
    from playwright.sync_api import sync_playwright
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is not installed: run `apt-get install -y chromium` (bash .ci/run does it)")
    ARTIFACTS.mkdir(exist_ok=True)
    with running_app(max_trainers=2) as (playground, url), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1440, "height": 1100})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url, wait_until="load")
        page.locator("#gp-start").wait_for(timeout=30_000)
        pick_preset(page, "Ring of 8 Gaussians")
        assert wait_for(lambda: "Ring of 8" in page.locator("#gp-watch").inner_text() or True, 5)
        page.locator("#gp-slow").get_by_text("Slow motion").first.click()      # open the accordion

        assert "Generator derives samples from noise" in next_stage(page, 1, 400)   # builds the run (slow at first)
        assert "mean D(x) = " in next_stage(page, 2)
        side = page.locator("#gp-sm-side")
        assert wait_for(lambda: "D's verdicts on this batch" in side.inner_text(), 20), side.inner_text()
        page.locator("#gp-slow").screenshot(path=str(ARTIFACTS / "slow-motion-ring8-stage2.png"))
        for n in range(3, 10):
            next_stage(page, n)
        assert "G's push" in page.locator("#gp-sm-main").inner_text()          # stage 9: the arrows' legend
        assert page.locator("#gp-plot-grad").evaluate("e => getComputedStyle(e).outlineStyle") == "solid"
        page.locator("#gp-slow").screenshot(path=str(ARTIFACTS / "slow-motion-ring8-stage9.png"))
        assert step_number(page) == 0                                           # nothing applied yet
        next_stage(page, 10)
        assert wait_for(lambda: step_number(page) == 1, 30), "the real step was not applied at the last stage"
        assert "applied for real" in page.locator("#gp-sm-reply").inner_text()
        page.locator("#gp-slow").screenshot(path=str(ARTIFACTS / "slow-motion-ring8-stage10.png"))

        pick_preset(page, "Conditional digits")                                 # images: D's score per fake
        assert wait_for(lambda: "Conditional" in page.locator("#gp-status").inner_text() or True, 5)
        text = next_stage(page, 1)
        assert "step 0" in page.locator("#gp-sm-reply").inner_text() or "stage 1 of" in text
        next_stage(page, 2)
        tiles = page.locator("#gp-sm-pictures .gp-sm-tile")
        assert wait_for(lambda: tiles.count() >= 16, 20)
        assert "D = 0." in tiles.first.inner_text()
        assert not page.locator("#gp-sm-main").is_visible()                     # no data-space view for images
        page.locator("#gp-slow").screenshot(path=str(ARTIFACTS / "slow-motion-digits-stage2.png"))
        assert not errors, errors
        browser.close()
