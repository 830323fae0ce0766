"""Issue 15's items in headless Chromium at four settings: screenshots to look at, into test-artifacts/ui/<setting>/.

    /work/bin/lowprio python bench/ui_shots.py [desktop] [laptop] [phone] [dark] [--only open,train,...]

The app runs in-process (tests/apphelpers.running_app, max_trainers=2), Debian's Chromium is driven by playwright
(/usr/bin/chromium; never `playwright install`). Each scenario drives items of issue 15's "New" and "Fix" lists and
takes element screenshots (the elements that show the item, so text stays legible at 390 px). Nothing here asserts:
each check the script can read (a reply's text, the address, a count) is printed as `ok`/`OFF` with what was read,
next to the screenshot names; the screenshots still have to be opened and looked at (bench/UI_CHECKS.md records
what was seen). Slow: one setting takes 4-10 minutes on a loaded 2-core machine.
"""
from __future__ import annotations

import math
import sys
import time
import traceback
from pathlib import Path
from urllib.parse import parse_qs

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT)]

from apphelpers import running_app                                   # noqa: E402
from browserhelpers import canvas_frame, launch_browser, pick_preset, step_number, stroke   # noqa: E402
from waiting import wait_for                                          # noqa: E402

SETTINGS = {"desktop": (1920, 1080, ""), "laptop": (1280, 720, ""), "phone": (390, 844, ""),
            "dark": (1280, 720, "__theme=dark")}
OUT = ROOT / "test-artifacts" / "ui"


class Shots:
    """Screenshots and readable checks of one setting."""

    def __init__(self, tag: str, url: str, browser):
        self.tag, self.url, self.browser = tag, url, browser
        self.width, self.height, self.theme = SETTINGS[tag]
        self.dir = OUT / tag
        self.dir.mkdir(parents=True, exist_ok=True)
        self.n, self.errors, self.pages = 0, [], []

    def page(self, query: str = ""):
        q = "&".join(x for x in (query, self.theme) if x)
        page = self.browser.new_page(viewport={"width": self.width, "height": self.height})
        page.on("pageerror", lambda e: self.errors.append(str(e)[:200]))
        self.pages.append(page)
        page.goto(self.url + ("?" + q if q else ""), wait_until="load")
        page.locator("#gp-start").wait_for(timeout=180_000)
        page.wait_for_function("() => window.Plotly !== undefined", timeout=180_000)
        return page

    def shot(self, page, name: str, *selectors: str, pad: int = 6) -> None:
        """The union of the selectors' boxes (each scrolled into view first), or the viewport when none."""
        self.n += 1
        path = self.dir / f"{self.n:02d}-{name}.png"
        try:
            if not selectors:
                page.screenshot(path=str(path))
            else:
                boxes = []
                for sel in selectors:
                    loc = page.locator(sel).first
                    loc.scroll_into_view_if_needed(timeout=10_000)
                    page.wait_for_timeout(300)
                    box = page.evaluate("s => { const r = document.querySelector(s).getBoundingClientRect();"
                                        " return [r.left + scrollX, r.top + scrollY, r.right + scrollX,"
                                        " r.bottom + scrollY]; }", sel)
                    boxes.append(box)
                x0, y0 = max(0, min(b[0] for b in boxes) - pad), max(0, min(b[1] for b in boxes) - pad)
                x1, y1 = max(b[2] for b in boxes) + pad, max(b[3] for b in boxes) + pad
                page.screenshot(path=str(path), full_page=True,
                                clip={"x": x0, "y": y0, "width": min(x1, self.width) - x0, "height": y1 - y0})
            print(f"  shot {path.relative_to(ROOT)}", flush=True)
        except Exception as e:
            print(f"  FAILED shot {name}: {str(e)[:160]}", flush=True)

    @staticmethod
    def check(what: str, good: bool, seen="") -> None:
        print(f"  {'ok ' if good else 'OFF'} {what}: {str(seen)[:220]!r}", flush=True)


def text(page, sel: str) -> str:
    loc = page.locator(sel)
    return loc.first.inner_text() if loc.count() else ""


def typed(page, elem: str, value: str) -> None:
    box = page.locator(f"{elem} textarea, {elem} input").first
    box.fill(value)
    box.press("Enter")


def frame_to(page, index: int) -> None:
    box = page.locator("#gp-timeline input[type=number]")
    box.fill(str(index))
    box.press("Enter")


def open_accordion(page, elem: str, label: str) -> None:
    page.locator(elem).get_by_text(label).first.click()
    page.wait_for_timeout(800)


def next_stage(page, number: int, timeout: float = 120) -> str:
    page.locator("#gp-sm-next").click()
    wait_for(lambda: f"stage {number} of" in text(page, "#gp-sm-text"), timeout)
    return text(page, "#gp-sm-text")


# ---- scenarios ----------------------------------------------------------------------------------------------------

def scenario_train(s: Shots, playground) -> None:
    """Pretrained start, a 2-D preset first, watchable speed, link reply; a run: diagnostics naming a change, change
    marker labels, log ticks, latent grid; messages that stay (pause, step, rewind, slots full); slow motion on 2-D;
    branch and compare; the preset notice while running; an image preset's histogram, How to read this, D-score
    tint, classes with the unrecognisable bucket; slow motion on images; reset."""
    page = s.page("preset=ring8&pace=20")
    wait_for(lambda: "Opened from a link" in text(page, "#gp-reply"), 30)
    s.shot(page, "open-viewport")
    s.shot(page, "open-controls", "#gp-controls")
    s.check("ring8 chosen on opening", "Ring of 8" in page.locator("#gp-preset input").input_value(),
            page.locator("#gp-preset input").input_value())
    page.locator("#gp-start").click()
    s.check("training", wait_for(lambda: step_number(page) >= 60, 120), text(page, "#gp-counter"))
    typed(page, "#gp-lr-d-value", "0.001")                       # a setting change: marker + diagnosis names it
    s.check("lr typed as 0.001", wait_for(lambda: "1.00e-03" in text(page, "#gp-knob-msg"), 30),
            text(page, "#gp-knob-msg"))
    wait_for(lambda: step_number(page) >= 320, 120)
    box = page.locator("#gp-show-manifold input")
    if box.count() and box.first.is_visible():
        box.first.check()
    page.wait_for_timeout(2500)
    s.check("diagnosis names the change", "lr" in text(page, "#gp-diagnosis").lower(), text(page, "#gp-diagnosis"))
    s.shot(page, "diagnosis-and-curves", "#gp-diagnosis", "#gp-plot-losses", "#gp-plot-dprob")
    s.shot(page, "grad-log-ticks-and-latent-grid", "#gp-plot-grad", "#gp-plot-panel")
    s.shot(page, "quality-ring8", "#gp-quality")

    page.locator("#gp-pause").click()                            # messages stay
    wait_for(lambda: "aused" in text(page, "#gp-reply"), 30)
    paused = text(page, "#gp-reply")
    page.wait_for_timeout(3000)
    s.check("Pause message stays 3 s", text(page, "#gp-reply") == paused and paused, paused)
    page.locator("#gp-step").click()
    wait_for(lambda: text(page, "#gp-reply") != paused, 60)
    page.wait_for_timeout(3000)
    s.check("Step message says what changed", "->" in text(page, "#gp-reply") or "→" in text(page, "#gp-reply"),
            text(page, "#gp-reply"))
    s.shot(page, "step-message", "#gp-counter", "#gp-reply")

    frame_to(page, 2)                                            # rewind to the frame at step 200
    wait_for(lambda: "step 200" in text(page, "#gp-frame"), 30)
    page.wait_for_timeout(1500)
    s.check("the frame says where a rewind goes", "Rewind goes to" in text(page, "#gp-frame"), text(page, "#gp-frame"))
    s.shot(page, "rewind-target-before", "#gp-timeline", "#gp-frame", "#gp-rewind")
    page.locator("#gp-rewind").click()
    wait_for(lambda: "ewound" in text(page, "#gp-reply") or "ewind" in text(page, "#gp-reply"), 60)
    page.wait_for_timeout(3000)
    s.check("rewind went to step 200", "200" in text(page, "#gp-counter"), text(page, "#gp-counter"))
    s.check("rewind message stays 3 s", "Rewound" in text(page, "#gp-reply"), text(page, "#gp-reply"))
    s.shot(page, "rewind-message", "#gp-counter", "#gp-reply")
    s.shot(page, "rewind-timeline", "#gp-timeline", "#gp-frame", "#gp-rewind")
    s.shot(page, "rewind-quality", "#gp-plot-quality")

    open_accordion(page, "#gp-slow", "Slow motion")              # slow motion on 2-D data
    next_stage(page, 1)
    s.check("slow motion stage 2", "stage 2 of" in next_stage(page, 2), text(page, "#gp-sm-text"))
    page.wait_for_timeout(1500)
    s.shot(page, "slow-2d-stage2", "#gp-slow")
    for n in range(3, 10):
        next_stage(page, n)
    page.wait_for_timeout(1500)
    s.shot(page, "slow-2d-stage9", "#gp-slow")
    page.locator("#gp-sm-prev").click()
    wait_for(lambda: "stage 8 of" in text(page, "#gp-sm-text"), 60)
    s.check("Previous stage goes back", "stage 8 of" in text(page, "#gp-sm-text"), text(page, "#gp-sm-text")[:80])
    open_accordion(page, "#gp-slow", "Slow motion")              # close it again

    open_accordion(page, "#gp-branch", "Branch and compare")     # branch and compare (frame 2 = step 200)
    typed(page, "#gp-branch-value", "0.003")
    page.locator("#gp-branch-fork").click()
    s.check("forked", wait_for(lambda: "forked at step" in text(page, "#gp-branch-reply"), 120),
            text(page, "#gp-branch-reply"))
    page.locator("#gp-branch-start-both").click()
    wait_for(lambda: "2 of 2" in text(page, "#gp-branch-slots"), 30)
    try:
        other = s.page("")                                       # a second visitor: the slots are full
        other.locator("#gp-start").click()
        full = wait_for(lambda: "slots are in use" in text(other, "#gp-reply"), 60)
        other.wait_for_timeout(3500)
        s.check("slots-full message stays 3.5 s", full and "slots are in use" in text(other, "#gp-reply"),
                text(other, "#gp-reply"))
        s.shot(other, "slots-full-message", "#gp-start", "#gp-reply")
        other.close()
    except Exception as e:
        print(f"  EXCEPTION in the second visitor's page: {str(e)[:200]}", flush=True)
    wait_for(lambda: len(playground.registry.sessions()) <= 1, 20)
    page.wait_for_timeout(6000)
    s.shot(page, "branch-panel", "#gp-branch")
    page.locator("#gp-branch-pause-both").click()
    wait_for(lambda: "Both paused" in text(page, "#gp-branch-reply"), 30)
    page.locator("#gp-branch-discard").click()
    page.wait_for_timeout(1500)
    open_accordion(page, "#gp-branch", "Branch and compare")

    page.locator("#gp-start").click()                            # choosing a preset while running: the notice
    before = step_number(page)
    s.check("running again before the preset is chosen", wait_for(lambda: step_number(page) > before + 5, 60),
            text(page, "#gp-counter"))
    pick_preset(page, "DCGAN on MNIST")
    seen, t0 = [], time.time()
    while time.time() - t0 < 15:                                 # every answer shown, in order
        now = text(page, "#gp-reply")
        if not seen or now != seen[-1]:
            seen.append(now)
        page.wait_for_timeout(250)
    s.check("the replies after choosing the preset", True, seen)
    s.check("preset notice while running", "was replaced" in text(page, "#gp-reply"),
            text(page, "#gp-reply"))
    s.shot(page, "preset-while-running", "#gp-preset", "#gp-reply")
    page.locator("#gp-start").click()
    wait_for(lambda: step_number(page) >= 150, 240)
    box = page.locator("#gp-show-scores input")
    if box.count() and box.first.is_visible():
        box.first.check()
    page.wait_for_timeout(4000)
    s.shot(page, "image-histogram-after-2d", "#gp-plot-grad", "#gp-plot-panel")
    s.shot(page, "image-scored-grid", "#gp-grid")
    s.shot(page, "how-to-read-hinge", "#gp-how-to-read")
    s.check("How to read follows the hinge loss", "hinge" in text(page, "#gp-how-to-read").lower(),
            text(page, "#gp-how-to-read")[:200])
    wait_for(lambda: page.locator("#gp-plot-classes .bars .point").count() > 0, 120)
    s.shot(page, "image-quality-classes", "#gp-quality")
    page.locator("#gp-pause").click()
    wait_for(lambda: "aused" in text(page, "#gp-reply"), 30)
    open_accordion(page, "#gp-slow", "Slow motion")              # slow motion on an image preset
    next_stage(page, 1)
    next_stage(page, 2)
    wait_for(lambda: page.locator("#gp-sm-pictures .gp-sm-tile").count() >= 16, 30)
    s.shot(page, "slow-image-stage2", "#gp-slow")
    open_accordion(page, "#gp-slow", "Slow motion")
    page.locator("#gp-reset").click()                            # reset: its message stays
    wait_for(lambda: "eset" in text(page, "#gp-reply"), 30)
    page.wait_for_timeout(3000)
    s.check("Reset message stays 3 s", "eset" in text(page, "#gp-reply"), text(page, "#gp-reply"))
    s.shot(page, "reset-message", "#gp-counter", "#gp-reply")
    page.close()


def scenario_cgan(s: Shots, playground) -> None:
    """The cGAN grid's column labels, D-score frames; the pretrained "Open the trained GAN" button."""
    page = s.page("preset=cgan-mnist")
    page.locator("#gp-open-trained").click()
    wait_for(lambda: step_number(page) > 0, 120)
    page.wait_for_timeout(3000)
    s.shot(page, "open-trained", "#gp-open-trained", "#gp-reply")
    page.locator("#gp-start").click()
    wait_for(lambda: "before you train anything" not in text(page, "#gp-grid"), 120)
    page.wait_for_timeout(3000)
    box = page.locator("#gp-show-scores input")
    if box.count() and box.first.is_visible():
        box.first.check()
    page.wait_for_timeout(4000)
    s.shot(page, "cgan-grid", "#gp-grid")
    page.locator("#gp-pause").click()
    page.close()


def scenario_explore(s: Shots, playground) -> None:
    """Explore: no live run, a change of generator and digit, the image on screen while a slider moves."""
    page = s.page("")
    page.get_by_role("tab", name="Explore").click()
    page.locator("#gp-source input[role=combobox]").wait_for(timeout=30_000)
    page.locator("#gp-source input[role=combobox]").click()
    page.locator("#gp-source li[role=option]", has_text="Your live run").click()
    page.wait_for_timeout(4000)
    s.shot(page, "explore-no-live-run", "#gp-source", "#gp-explore-view")
    page.locator("#gp-source input[role=combobox]").click()
    page.locator("#gp-source li[role=option]", has_text="conditional digits").click()
    page.wait_for_timeout(5000)
    s.shot(page, "explore-cgan", "#gp-explore-view")
    slider = page.locator("#gp-dim-3 input[type=range]")
    slider.scroll_into_view_if_needed()
    slider.focus()
    for _ in range(10):
        page.keyboard.press("ArrowRight")
    page.wait_for_timeout(3000)
    top = page.evaluate("() => document.querySelector('#gp-explore-image').getBoundingClientRect().top")
    s.check("explore image on screen while the slider moves", -20 < top < s.height, f"image top at y={top:.0f}")
    s.shot(page, "explore-slider-viewport")
    page.close()


def scenario_draw(s: Shots, playground) -> None:
    """Draw your own 2-D data, train on it, its quality (energy distance)."""
    page = s.page("")
    page.evaluate("() => document.querySelector('#gp-draw button').click()")
    page.locator("#gp-draw-canvas canvas").first.wait_for(timeout=30_000)
    wait_for(lambda: "select the draw tool" not in text(page, "#gp-draw-canvas"), 20)
    page.locator("#gp-draw-canvas").scroll_into_view_if_needed()
    page.wait_for_timeout(600)
    origin, scale = canvas_frame(page, "#gp-draw-canvas", 300)
    ring = [(150 + 80 * math.cos(a / 12 * 2 * math.pi), 150 + 80 * math.sin(a / 12 * 2 * math.pi)) for a in range(13)]
    stroke(page, ring, origin, scale)
    stroke(page, [(60, 260), (240, 260)], origin, scale)
    s.check("drawn points previewed", wait_for(lambda: page.locator("#gp-draw-preview img").count() == 1, 30),
            text(page, "#gp-draw-preview"))
    page.locator("#gp-draw-train").click(force=True)
    wait_for(lambda: "Training on your drawing" in text(page, "#gp-draw-msg"), 60)
    names = "() => (document.querySelector('#gp-plot-quality .js-plotly-plot')?.data || []).map(t => t.name || '')"
    s.check("energy distance curve", wait_for(lambda: "energy distance (lower is better)" in page.evaluate(names),
                                                150), page.evaluate(names))
    s.shot(page, "draw-panel", "#gp-draw")
    s.shot(page, "draw-quality-and-panel", "#gp-plot-panel", "#gp-quality")
    page.locator("#gp-pause").click()
    page.close()


def scenario_link(s: Shots, playground) -> None:
    """The URL round trip, Copy a link, classroom mode; the API page."""
    page = s.page("preset=ring8&seed=3&lr_d=0.001&loss=hinge&pace=5")
    wait_for(lambda: "Opened from a link" in text(page, "#gp-reply"), 30)
    typed(page, "#gp-lr-g-value", "0.0005")
    query = lambda: {k: v[0] for k, v in parse_qs(page.evaluate("() => location.search").lstrip("?")).items()}
    s.check("address follows lr_g", wait_for(lambda: query().get("lr_g") == "0.0005", 30), query())
    page.locator("#gp-copy-link").click()
    link = page.locator("#gp-link textarea, #gp-link input").first
    wait_for(lambda: "lr_g=0.0005" in link.input_value(), 20)
    s.check("copy link holds the settings", "lr_d=0.001" in link.input_value(), link.input_value())
    s.shot(page, "copy-link", "#gp-copy-link", "#gp-link")
    address = link.input_value().split("?", 1)[1] if "?" in link.input_value() else ""
    page.close()
    other = s.page(address + "&classroom=1")
    wait_for(lambda: "Opened from a link" in text(other, "#gp-reply"), 30)
    other.wait_for_timeout(1500)
    s.check("classroom hides Step D", not other.locator("#gp-step-d").is_visible())
    s.shot(other, "classroom-viewport")
    other.close()
    api = s.browser.new_page(viewport={"width": s.width, "height": s.height})
    s.pages.append(api)
    api.goto(s.url + ("?" + s.theme if s.theme else ""), wait_until="load")
    api.get_by_text("Use via API").first.click(timeout=180_000)     # the footer link opens the API page
    step = api.get_by_text("/step", exact=False)
    wait_for(lambda: step.count() > 0, 120)
    api.wait_for_timeout(1500)
    s.shot(api, "api-page-viewport")
    if step.count():
        step.first.scroll_into_view_if_needed()
        api.wait_for_timeout(800)
        s.shot(api, "api-page-step")
    api.close()


SCENARIOS = {"train": scenario_train, "cgan": scenario_cgan, "explore": scenario_explore, "draw": scenario_draw,
             "link": scenario_link}


def main(argv: list) -> None:
    from playwright.sync_api import sync_playwright
    only = next((a.split("=", 1)[1] for a in argv if a.startswith("--only=")), "")
    names = [n for n in (only.split(",") if only else SCENARIOS)]
    tags = [a for a in argv if a in SETTINGS] or list(SETTINGS)
    with running_app(max_trainers=2) as (playground, url), sync_playwright() as p:
        browser = launch_browser(p)
        for tag in tags:
            s = Shots(tag, url, browser)
            for name in names:
                t0 = time.time()
                print(f"{tag} {name}", flush=True)
                try:
                    SCENARIOS[name](s, playground)
                except Exception:
                    print(f"  EXCEPTION {traceback.format_exc()[-600:]}", flush=True)
                for page in s.pages:                     # a page left open keeps its training slot
                    if not page.is_closed():
                        page.close(run_before_unload=True)
                s.pages.clear()
                wait_for(lambda: not any(x.live_trainer for x in playground.registry.sessions()), 30)
                print(f"  ({time.time() - t0:.0f} s)", flush=True)
            print(f"{tag}: JavaScript errors: {s.errors[:4]}", flush=True)
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1:])
