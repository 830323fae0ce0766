"""Your own 2-D data, drawn, in a real browser (Debian's Chromium driven by playwright): drag the mouse on the
canvas to draw a ring and a bar, see the points, train on them, see the energy-distance quality curves; turn on G's
latent grid over the 2-D view; then on an image preset, frame each sample by D's verdict. Screenshots go to
test-artifacts/."""
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
CANVAS = 300


def stroke(page, points, origin, scale):
    """Drag the mouse through canvas points (canvas pixels) with the button held."""
    def to_screen(p):
        return origin[0] + p[0] * scale, origin[1] + p[1] * scale
    page.mouse.move(*to_screen(points[0]))
    page.mouse.down()
    for a, b in zip(points, points[1:]):
        for t in (0.25, 0.5, 0.75, 1.0):
            page.mouse.move(*to_screen((a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)))
    page.mouse.up()


def canvas_frame(page):
    """(screen x, y of the canvas's pixel (0, 0), screen px per canvas px), as tests/test_browser_translate.py."""
    box = page.locator("#gp-draw-canvas canvas").first.bounding_box()
    zoom = page.evaluate("() => [...document.querySelectorAll('#gp-draw-canvas *')].map(e => e.textContent.trim())"
                         ".find(t => /^\\d+%$/.test(t)) || '100%'")
    scale = float(zoom.rstrip("%")) / 100
    side = CANVAS * scale
    return (box["x"] + (box["width"] - side) / 2, box["y"] + (box["height"] - side) / 2), scale


def trace_names(page, elem_id):
    return page.evaluate(f"() => (document.querySelector('#{elem_id} .js-plotly-plot')?.data || [])"
                         f".map(t => t.name || '')")


def test_draw_train_and_see_quality_manifold_and_scores():
    import math
    from playwright.sync_api import sync_playwright
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is not installed: run `apt-get install -y chromium`")
    ARTIFACTS.mkdir(exist_ok=True)
    with running_app(max_trainers=2) as (playground, url), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url, wait_until="load")
        page.locator("#gp-start").wait_for(timeout=60_000)
        page.evaluate("() => document.querySelector('#gp-draw button').click()")   # open it (under any loading overlay)
        page.locator("#gp-draw-canvas canvas").first.wait_for(timeout=30_000)
        assert wait_for(lambda: "select the draw tool" not in page.locator("#gp-draw-canvas").inner_text(), 20), \
            "the brush was not picked for the visitor"
        page.locator("#gp-draw-canvas").scroll_into_view_if_needed()
        time.sleep(0.5)
        origin, scale = canvas_frame(page)
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
