"""Explore's path panel in a real browser (Debian's Chromium driven by playwright): the page's own live vid2vid run,
trained a few steps through the service, becomes Explore's source; the panel appears with a clip playing (an
animated GIF), a picked path (circle) and a path drawn with the mouse each render a new clip. Screenshot:
test-artifacts/18-vid2vid-explore.png (look at it)."""
from apphelpers import running_app
from browserhelpers import ARTIFACTS, launch_browser, need_chromium, open_page
from waiting import wait_for

TRAIN_STEPS = 40          # enough for a clip to look like something; the test checks the wiring, not the quality


def caption(page) -> str:
    return page.locator("#gp-path-clip").inner_text()


def clip_src(page) -> str:
    return page.evaluate("() => document.querySelector('#gp-path-clip img')?.getAttribute('src') || ''")


def test_a_live_vid2vid_run_renders_a_picked_and_a_drawn_path():
    from playwright.sync_api import sync_playwright
    need_chromium()
    with running_app(max_trainers=2) as (playground, url), sync_playwright() as p:
        browser, errors = launch_browser(p), []
        page = open_page(browser, url, errors, width=1400, height=1000)
        page.locator("#gp-start").wait_for(timeout=60_000)
        sid = page.evaluate("() => window.__gradio_session_hash__")
        train = playground.train
        setup = dict(train.preset_setup("moving-digits"), width=4, batch_size=2)     # small: the wiring is tested
        assert train.apply_setup(sid, setup).ok
        assert train.step(sid, "both", TRAIN_STEPS).ok
        assert playground.registry.session(sid).live_trainer.wait_idle(240), "the live run did not finish"

        try:
            explore_the_paths(page)
        finally:
            page.screenshot(path=str(ARTIFACTS / "18-vid2vid-explore.png"), full_page=True)
        browser.close()
    assert not errors, errors


def explore_the_paths(page):
    """The Explore tab with the live vid2vid run: the panel, a picked path, a drawn one."""
    page.get_by_role("tab", name="Explore").click()
    page.locator("#gp-source input[role=combobox]").click()
    page.locator("li[role=option]", has_text="Your live run").click()
    assert wait_for(lambda: page.locator("#gp-path-box").is_visible(), 60), "the path panel never appeared"
    assert wait_for(lambda: clip_src(page).startswith("data:image/gif;base64,"), 60), caption(page)
    assert "bounce path" in caption(page) and "Warp error" in caption(page)

    page.locator("#gp-path-choice label", has_text="Circle").click()
    assert wait_for(lambda: "circle path" in caption(page), 180), caption(page)

    sketch = page.locator("#gp-path-sketch")
    sketch.locator("canvas").first.scroll_into_view_if_needed()
    brush = sketch.locator('button[aria-label="Brush"]')
    if "select the draw tool" in sketch.inner_text() and brush.count():
        brush.first.click()
    box = sketch.locator("canvas").first.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx - 90, cy - 60)
    page.mouse.down()
    for i in range(1, 31):                                   # a stroke left to right, dipping in the middle
        page.mouse.move(cx - 90 + 6 * i, cy - 60 + (60 if 10 <= i <= 20 else 0))
    page.mouse.up()
    assert wait_for(lambda: "drawn path" in caption(page), 180), caption(page)   # ~50 s at load 19
    page.locator("#gp-path-clip").scroll_into_view_if_needed()
