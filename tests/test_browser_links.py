"""Issue 15, experiments in the URL, in a real browser (Debian's Chromium driven by playwright): a copied link opens
the same experiment paused, the address follows the settings as they change, classroom=1 hides the advanced
controls, and the watchable speed slows a run down."""
import time
from urllib.parse import parse_qs

from apphelpers import running_app
from browserhelpers import ARTIFACTS, launch_browser, need_chromium, open_page
from waiting import wait_for


def query(page) -> dict:
    return {k: v[0] for k, v in parse_qs(page.evaluate("() => window.location.search").lstrip("?")).items()}


def test_a_link_opens_the_experiment_and_the_address_follows_it():
    from playwright.sync_api import sync_playwright
    need_chromium()
    with running_app(max_trainers=2) as (playground, url), sync_playwright() as p:
        browser, errors = launch_browser(p), []
        page = open_page(browser, url + "?preset=ring8&seed=3&lr_d=0.001&loss=hinge&pace=5&bogus=1", errors,
                         width=1280, height=720)
        page.locator("#gp-start").wait_for(timeout=30_000)
        reply = page.locator("#gp-reply")
        assert wait_for(lambda: "Opened from a link" in reply.inner_text(), 30, 0.2), reply.inner_text()
        assert "Ring of 8" in page.locator("#gp-preset input").input_value()
        assert page.locator("#gp-lr-d-value textarea, #gp-lr-d-value input").first.input_value() == "0.001"
        page.screenshot(path=str(ARTIFACTS / "15-link-opened.png"), full_page=True)
        session = [s for s in playground.registry.sessions() if s.setup is not None][0]
        config, knobs = session.setup
        assert (config.data, config.seed, knobs.lr_d, knobs.loss, session.pace) == ("ring8", 3, 0.001, "hinge", 5.0)
        assert session.live_trainer is None                           # paused: nothing trains until Start

        page.locator("#gp-start").click()                             # the watchable pace holds: ~5 steps/s
        assert wait_for(lambda: session.live_trainer is not None and session.live_trainer.snapshot().step >= 5, 30, 0.2), \
            (reply.inner_text(), session.live_trainer and session.live_trainer.snapshot())
        time.sleep(2.0)
        first = session.live_trainer.snapshot().step
        time.sleep(2.0)
        assert session.live_trainer.snapshot().step - first <= 14    # 5 steps/s, never the hundreds of full speed

        box = page.locator("#gp-lr-g-value textarea, #gp-lr-g-value input").first
        box.fill("0.0005")
        box.press("Enter")                                            # the address follows the new setting
        assert wait_for(lambda: query(page).get("lr_g") == "0.0005", 20, 0.2), \
            (page.evaluate("() => window.location.href"), page.locator("#gp-knob-msg").inner_text(), session.live_trainer.knobs_now().lr_g,
             page.locator("#gp-url-query textarea, #gp-url-query input").first.input_value(), errors)
        assert {k: query(page).get(k) for k in ("preset", "seed", "lr_d", "loss", "pace")} == \
            {"preset": "ring8", "seed": "3", "lr_d": "0.001", "loss": "hinge", "pace": "5"}
        page.locator("#gp-copy-link").click()
        link = page.locator("#gp-link textarea, #gp-link input").first
        assert wait_for(lambda: "lr_g=0.0005" in link.input_value(), 10, 0.2)

        other = browser.new_page(viewport={"width": 1280, "height": 720})   # the copied link, in a new visit
        other.goto(link.input_value() + "&classroom=1", wait_until="load")
        other.locator("#gp-start").wait_for(timeout=30_000)
        assert wait_for(lambda: "Opened from a link" in other.locator("#gp-reply").inner_text(), 30, 0.2)
        assert wait_for(lambda: not other.locator("#gp-step-d").is_visible(), 10, 0.2)   # classroom mode
        assert not other.get_by_text("Setup: changing these rebuilds the run").is_visible()
        other.screenshot(path=str(ARTIFACTS / "15-link-classroom.png"), full_page=True)
        opened = [s for s in playground.registry.sessions() if s is not session and s.setup is not None][0]
        assert (opened.setup[0].seed, opened.setup[1].lr_g, opened.setup[1].lr_d) == (3, 0.0005, 0.001)
        assert not errors, errors
        browser.close()
