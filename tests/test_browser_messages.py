"""Issue 15's fixes in a real browser (Debian's Chromium driven by playwright): a command's answer stays on the page
until the visitor acts again (it used to be overwritten by the next refresh within a second), and the learning-rate
boxes take the number people type (0.001, 2e-4), not its log10."""
import time

import pytest

from apphelpers import running_app
from browserhelpers import ARTIFACTS, launch_browser, need_chromium
from waiting import wait_for


def reply(page) -> str:
    return page.locator("#gp-reply").inner_text()


def test_messages_stay_and_learning_rates_are_typed_as_numbers():
    from playwright.sync_api import sync_playwright
    need_chromium()
    with running_app(max_trainers=1) as (playground, url), sync_playwright() as p:
        browser = launch_browser(p)
        first, second = (browser.new_page(viewport={"width": 1280, "height": 720}) for _ in range(2))
        errors = []
        for page in (first, second):
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(url, wait_until="load")
            page.locator("#gp-start").wait_for(timeout=30_000)

        first.locator("#gp-start").click()
        assert wait_for(lambda: "Step" in first.locator("#gp-counter").inner_text()
                        and any(s.live_trainer for s in playground.registry.sessions()), 30, 0.2)
        second.locator("#gp-start").click()                  # the only slot is taken
        assert wait_for(lambda: "training slots are in use" in reply(second), 30, 0.2), reply(second)
        time.sleep(3.5)                                      # three refreshes later it is still there
        assert "training slots are in use" in reply(second)
        second.screenshot(path=str(ARTIFACTS / "15-slot-message-stays.png"), full_page=True)

        first.locator("#gp-pause").click()
        assert wait_for(lambda: "aused" in reply(first), 30, 0.2), reply(first)
        paused = reply(first)
        time.sleep(2.5)
        assert reply(first) == paused

        box = first.locator("#gp-lr-g-value textarea, #gp-lr-g-value input").first
        box.fill("0.001")
        box.press("Enter")
        assert wait_for(lambda: "G learning rate = 1.00e-03" in first.locator("#gp-knob-msg").inner_text(), 20, 0.2)
        trainer = [s for s in playground.registry.sessions() if s.live_trainer is not None][0].live_trainer
        assert wait_for(lambda: trainer.knobs_now().lr_g == pytest.approx(1e-3), 10, 0.1)
        slider = first.locator("#gp-lr-g input[type=range]")
        assert wait_for(lambda: float(slider.input_value()) == pytest.approx(-3), 10, 0.2), slider.input_value()
        box.fill("fast please")
        box.press("Enter")
        assert wait_for(lambda: "type a learning rate" in first.locator("#gp-knob-msg").inner_text(), 20, 0.2)
        assert wait_for(lambda: box.input_value() == "0.001", 10, 0.2), box.input_value()   # the lr in use again
        assert trainer.knobs_now().lr_g == pytest.approx(1e-3)
        assert first.locator(".toast-body").count() == 0, "an error toast appeared"
        first.screenshot(path=str(ARTIFACTS / "16-lr-typed.png"), full_page=True)
        browser.close()
    assert not errors, errors
