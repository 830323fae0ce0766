"""What every browser test does first: find Debian's Chromium, launch it headless, open the app's page with its
JavaScript errors collected; and the page helpers several tests use (the step counter, the preset menu, mouse
strokes on a drawing canvas). The app itself is launched by tests/apphelpers.py (running_app)."""
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"     # screenshots (gitignored): look at them
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def need_chromium() -> None:
    """Fail (not skip) without Chromium, and make the screenshot folder."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is not installed: run `apt-get install -y chromium` (bash .ci/run does it)")
    ARTIFACTS.mkdir(exist_ok=True)


def launch_browser(p):
    """Headless Chromium from a sync_playwright() handle."""
    return p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)


def open_page(browser, url: str, errors: list, *, width: int = 1440, height: int = 1000):
    """A new page loaded at url; its uncaught JavaScript errors are appended to errors (tests assert it stays empty)."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url, wait_until="load")
    return page


def step_number(page) -> int:
    """The step the Train tab's counter shows ("Step 1,234 · ...")."""
    text = page.locator("#gp-counter").inner_text()
    return int(text.split("Step")[1].split("·")[0].strip().replace(",", ""))


def pick_preset(page, title: str) -> None:
    page.locator("#gp-preset input[role=combobox]").click()
    page.locator("#gp-preset li[role=option]", has_text=title).click()


def stroke(page, points, origin, scale):
    """Drag the mouse through canvas points (in canvas pixels) with the button held."""
    def to_screen(p):
        return origin[0] + p[0] * scale, origin[1] + p[1] * scale
    page.mouse.move(*to_screen(points[0]))
    page.mouse.down()
    for a, b in zip(points, points[1:]):
        for t in (0.25, 0.5, 0.75, 1.0):
            page.mouse.move(*to_screen((a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)))
    page.mouse.up()


def canvas_frame(page, elem: str = "#gp-sketch", side: int = 256):
    """(screen x, y of the canvas's pixel (0, 0), screen px per canvas px) of the image editor elem: its white
    drawing square (side x side) is centred in the editor's pixi canvas and shown at the zoom its toolbar prints
    (e.g. "113%")."""
    box = page.locator(f"{elem} canvas").first.bounding_box()
    zoom = page.evaluate(f"() => [...document.querySelectorAll('{elem} *')].map(e => e.textContent.trim())"
                         ".find(t => /^\\d+%$/.test(t)) || '100%'")
    scale = float(zoom.rstrip("%")) / 100
    return (box["x"] + (box["width"] - side * scale) / 2, box["y"] + (box["height"] - side * scale) / 2), scale
