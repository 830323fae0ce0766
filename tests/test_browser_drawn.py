"""Your own 2-D data, drawn, in a real browser (Debian's Chromium driven by playwright): drag the mouse on the
canvas to draw a ring and a bar, see the points, train on them, see the energy-distance quality curves; turn on G's
latent grid over the 2-D view; then on an image preset, frame each sample by D's verdict. Screenshots go to
test-artifacts/."""
import time

from apphelpers import running_app
from browserhelpers import ARTIFACTS, canvas_frame, launch_browser, need_chromium, open_page, stroke
from waiting import wait_for

CANVAS = 300


def trace_names(page, elem_id):
    return page.evaluate(f"() => (document.querySelector('#{elem_id} .js-plotly-plot')?.data || [])"
                         f".map(t => t.name || '')")


def test_draw_train_and_see_quality_manifold_and_scores():
    import math
    from playwright.sync_api import sync_playwright
    need_chromium()
    with running_app(max_trainers=2) as (playground, url), sync_playwright() as p:
        browser, errors = launch_browser(p), []
        page = open_page(browser, url, errors)
        page.locator("#gp-start").wait_for(timeout=60_000)
        page.evaluate("() => document.querySelector('#gp-draw button').click()")   # open it (under any loading overlay)
        page.locator("#gp-draw-canvas canvas").first.wait_for(timeout=30_000)
        assert wait_for(lambda: "select the draw tool" not in page.locator("#gp-draw-canvas").inner_text(), 20), \
            "the brush was not picked for the visitor"
        page.locator("#gp-draw-canvas").scroll_into_view_if_needed()
        time.sleep(0.5)
        origin, scale = canvas_frame(page, "#gp-draw-canvas", CANVAS)
        ring = [(150 + 80 * math.cos(a / 12 * 2 * math.pi), 150 + 80 * math.sin(a / 12 * 2 * math.pi))
                for a in range(13)]
        stroke(page, ring, origin, scale)
        stroke(page, [(60, 260), (240, 260)], origin, scale)
        assert wait_for(lambda: page.locator("#gp-draw-preview img").count() == 1, 30), "no preview of the points"
        assert "1,000 points" in page.locator("#gp-draw-preview").inner_text()
        page.locator("#gp-draw-train").click(force=True)
        assert wait_for(lambda: "Training on your drawing" in page.locator("#gp-draw-msg").inner_text(), 60), \
            page.locator("#gp-draw-msg").inner_text()
        sid = page.evaluate("() => window.__gradio_session_hash__")
        trainer = playground.registry.session(sid).live_trainer
        assert trainer.snapshot().config.data == "points"
        assert wait_for(lambda: "energy distance (lower is better)" in trace_names(page, "gp-plot-quality"), 120), \
            "no energy-distance quality curve"
        page.locator("#gp-show-manifold input").check(force=True)
        assert wait_for(lambda: any(n.startswith("G's latent grid") for n in trace_names(page, "gp-plot-panel")),
                        30), "the latent grid never appeared on the 2-D view"
        time.sleep(1.0)
        page.locator("#gp-plot-panel").scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "drawn-01-train.png"), full_page=True)
        page.locator("#gp-pause").click()

        page.locator("#gp-preset input[role=combobox]").click()          # an image preset: D's verdict per sample
        page.locator("#gp-preset li[role=option]", has_text="DCGAN on MNIST").first.click()
        assert wait_for(lambda: playground.registry.session(sid).live_trainer.snapshot().config.data == "mnist", 60)
        page.locator("#gp-show-scores input").check(force=True)
        page.locator("#gp-start").click()
        page.wait_for_selector("#gp-scored-grid .gp-scores div[title]", timeout=120_000)
        title = page.locator("#gp-scored-grid .gp-scores div[title]").first.get_attribute("title")
        assert "D says" in title and "real" in title
        page.locator("#gp-pause").click()
        page.locator("#gp-scored-grid").scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "drawn-02-scores.png"), full_page=True)
        assert not errors, errors
        browser.close()
