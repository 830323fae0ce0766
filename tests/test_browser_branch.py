"""Branch and compare in a real browser (issue 15): train ring8, pick a timeline frame, fork with another D learning
rate, see both runs compared (curves overlaid with the fork marked, samples side by side, settings with the
difference highlighted, the slot count), then keep the branch. Screenshots go to test-artifacts/."""
import shutil
from pathlib import Path

import pytest

from apphelpers import running_app
from waiting import wait_for

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def step_number(page) -> int:
    text = page.locator("#gp-counter").inner_text()
    return int(text.split("Step")[1].split("·")[0].strip().replace(",", ""))


def test_fork_compare_and_keep_a_branch():
    from playwright.sync_api import sync_playwright
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is not installed: run `apt-get install -y chromium` (bash .ci/run does it)")
    ARTIFACTS.mkdir(exist_ok=True)
    with running_app(max_trainers=2) as (playground, url), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url, wait_until="load")
        page.locator("#gp-start").wait_for(timeout=30_000)
        page.locator("#gp-preset input[role=combobox]").click()
        page.locator("#gp-preset li[role=option]", has_text="Ring of 8 Gaussians").click()
        assert wait_for(lambda: "ring8" in page.locator("#gp-reply").inner_text() or
                        "Setup ready" in page.locator("#gp-reply").inner_text(), 30)
        page.locator("#gp-start").click()
        assert wait_for(lambda: step_number(page) >= 300, 600), "training stalled"   # slow at load 20+
        page.locator("#gp-pause").click()

        page.locator("#gp-branch").get_by_text("Branch and compare").first.click()       # open the panel
        frame = page.locator("#gp-timeline input[type=number]")
        frame.fill("2")                                                  # frames at steps 1, 100, 200, ...
        frame.press("Enter")
        assert wait_for(lambda: "step 200" in page.locator("#gp-frame").inner_text(), 20)
        page.locator("#gp-branch-value input, #gp-branch-value textarea").first.fill("0.003")
        page.locator("#gp-branch-fork").click()
        reply = page.locator("#gp-branch-reply")
        assert wait_for(lambda: "forked at step 200" in reply.inner_text(), 120), reply.inner_text()
        assert "D learning rate" in reply.inner_text()
        assert wait_for(lambda: "one of your 2 training slots" in page.locator("#gp-branch-slots").inner_text(), 20)
        assert wait_for(lambda: page.locator("#gp-branch-losses .scatterlayer .trace").count() >= 4, 30)
        assert wait_for(lambda: page.locator("#gp-branch-samples img").count() == 2, 30)
        settings = page.locator("#gp-branch-settings").inner_text()
        assert "Differences" in settings and "0.003" in settings
        page.locator("#gp-branch-start-both").click()
        assert wait_for(lambda: "Both training" in reply.inner_text(), 30)
        assert wait_for(lambda: "2 of 2 training slots in use" in page.locator("#gp-branch-slots").inner_text(), 30)
        sess = [s for s in playground.registry.sessions() if s.branch is not None][0]
        assert wait_for(lambda: sess.branch.snapshot().step >= 250, 300)
        page.locator("#gp-branch").scroll_into_view_if_needed()
        page.wait_for_timeout(1500)
        page.locator("#gp-branch").screenshot(path=str(ARTIFACTS / "15-branch-compare.png"))
        page.locator("#gp-branch-pause-both").click()
        assert wait_for(lambda: "Both paused" in reply.inner_text(), 20)
        page.locator("#gp-branch-keep").click()
        assert wait_for(lambda: "now your run" in reply.inner_text(), 30)
        assert wait_for(lambda: page.locator("#gp-lr-d-value input, #gp-lr-d-value textarea").first
                        .input_value() == "0.003", 20), "the knobs do not show the kept branch's lr"
        assert sess.branch is None and sess.live_trainer.snapshot().knobs.lr_d == 0.003
        assert not errors, errors
        browser.close()
