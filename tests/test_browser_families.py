"""A family other than gan in the Train tab of a real browser (Debian's Chromium driven by playwright): pick the
pix2pix preset, see its own knob (lambda_L1) appear and the latent size disappear, train, see the input | output |
target strips with their caption and the translation quality; then continue a saved checkpoint in a fresh page.
Screenshots go to test-artifacts/."""
import pytest

from apphelpers import running_app
from browserhelpers import ARTIFACTS, launch_browser, need_chromium, open_page, pick_preset, step_number
from waiting import wait_for


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A pix2pix checkpoint at step 3, written by the engine as the CLI writes it."""
    from ganengine.checkpoint import save_checkpoint
    from ganengine.presets import get_preset
    from ganengine.run import GANRun
    config, knobs = get_preset("edges2digits").build(width=8, batch_size=4, device="cpu")
    run = GANRun(config=config, knobs=knobs.with_changes(lambda_l1=42.0))
    for _ in range(3):
        run.train_iteration("both")
    return save_checkpoint(run, tmp_path_factory.mktemp("ckpt") / "p2p.pt")


def test_pix2pix_trains_in_the_train_tab(checkpoint):
    from playwright.sync_api import sync_playwright
    need_chromium()
    with running_app(max_trainers=2) as (playground, url), sync_playwright() as p:
        browser, errors = launch_browser(p), []
        page = open_page(browser, url, errors)
        page.locator("#gp-start").wait_for(timeout=30_000)
        assert not page.locator("#gp-family-knob-0").is_visible()

        pick_preset(page, "pix2pix: edges -> digits")
        knob = page.locator("#gp-family-knob-0")
        assert wait_for(knob.is_visible, 20), "lambda_L1's slider never appeared"
        assert "lambda_L1" in knob.inner_text()
        assert knob.locator("input[type=number]").input_value() == "100"

        page.locator("#gp-start").click()
        page.wait_for_selector("#gp-grid img[alt=strips]", timeout=90_000)
        assert "held-out pairs" in page.locator("#gp-grid").inner_text()
        assert wait_for(lambda: step_number(page) >= 150, 120), "training stalled"

        number = knob.locator("input[type=number]")   # type a new weight into the slider's box
        number.fill("30")
        number.press("Enter")
        number.blur()
        assert wait_for(lambda: "lambda_L1 = 30" in page.locator("#gp-knob-msg").inner_text(), 20)
        sid = [s for s in playground.registry.sessions() if s.live_trainer is not None][0]
        assert wait_for(lambda: sid.live_trainer.snapshot().knobs.get("lambda_l1") == 30, 10)
        assert wait_for(lambda: page.locator("#gp-plot-quality .scatterlayer .trace").count() >= 3, 60), \
            "no translation quality curves"
        page.screenshot(path=str(ARTIFACTS / "10-pix2pix-train.png"), full_page=True)
        page.locator("#gp-pause").click()

        fresh = open_page(browser, url, errors)
        fresh.locator("#gp-start").wait_for(timeout=30_000)
        fresh.get_by_text("Setup: changing these rebuilds the run").click()
        fresh.locator("#gp-resume input[type=file]").set_input_files(str(checkpoint))
        assert wait_for(lambda: "step 3, paused" in fresh.locator("#gp-setup-msg").inner_text(), 60), \
            fresh.locator("#gp-setup-msg").inner_text()
        assert wait_for(lambda: fresh.locator("#gp-family-knob-0 input[type=number]").input_value() == "42", 20)
        assert wait_for(lambda: step_number(fresh) == 3, 20)
        fresh.locator("#gp-step").click()
        assert wait_for(lambda: step_number(fresh) == 4, 60), "the loaded run did not continue"
        fresh.screenshot(path=str(ARTIFACTS / "11-checkpoint-continued.png"), full_page=True)
        browser.close()
    assert not errors, errors


@pytest.mark.parametrize("title, views, knob, caption, artifact", [
    ("CycleGAN: thin <-> thick strokes", ("cycles", "identity"), "lambda_cycle", "Cycles on 20 held-out digits",
     "12-cyclegan-train.png"),
    ("Style transfer: one G, five digit styles", ("styles", "interpolate"), "lambda_cls", "One held-out digit per row",
     "13-styles-train.png"),
])
def test_an_unpaired_family_shows_its_views_knobs_and_quality(title, views, knob, caption, artifact):
    """CycleGAN's cycle strips and identity view, the style family's styles and interpolation views: each with its
    caption, its own knobs in the slider slots, and its quality curves once measured."""
    from playwright.sync_api import sync_playwright
    need_chromium()
    with running_app(max_trainers=2) as (playground, url), sync_playwright() as p:
        browser, errors = launch_browser(p), []
        page = open_page(browser, url, errors)
        page.locator("#gp-start").wait_for(timeout=30_000)
        pick_preset(page, title)
        assert wait_for(lambda: knob in page.locator("#gp-family-knob-0").inner_text(), 20), f"no {knob} slider"
        page.locator("#gp-start").click()
        for view in views:
            page.wait_for_selector(f"#gp-grid img[alt={view}]", timeout=120_000)
        assert caption in page.locator("#gp-grid").inner_text()
        assert wait_for(lambda: page.locator("#gp-plot-quality .scatterlayer .trace").count() >= 2, 180), \
            "no quality curves"
        page.locator("#gp-pause").click()
        page.screenshot(path=str(ARTIFACTS / artifact), full_page=True)
        browser.close()
    assert not errors, errors


def test_srgan_trains_in_the_train_tab():
    """sr-digits: its two knobs, the low-res | bicubic | SRGAN | high-res strips with PSNR and SSIM in the caption,
    the switch from the MSE warm-up to the adversarial phase, and the quality against bicubic."""
    from playwright.sync_api import sync_playwright
    need_chromium()
    with running_app(max_trainers=2) as (playground, url), sync_playwright() as p:
        browser, errors = launch_browser(p), []
        page = open_page(browser, url, errors)
        page.locator("#gp-start").wait_for(timeout=30_000)
        pick_preset(page, "SRGAN: 7x7 -> 28x28 digits")
        weight, warm = page.locator("#gp-family-knob-0"), page.locator("#gp-family-knob-1")
        assert wait_for(warm.is_visible, 20), "the SRGAN knobs never appeared"
        assert "adversarial weight" in weight.inner_text() and "warm-up" in warm.inner_text()
        number = warm.locator("input[type=number]")              # a short warm-up: D joins within seconds
        number.fill("60")
        number.press("Enter")
        number.blur()
        assert wait_for(lambda: "= 60" in page.locator("#gp-knob-msg").inner_text(), 20)
        page.locator("#gp-start").click()
        page.wait_for_selector("#gp-grid img[alt=strips]", timeout=90_000)
        assert wait_for(lambda: "Adversarial phase since step 60" in page.locator("#gp-grid").inner_text(), 120), \
            "the adversarial phase never showed"
        assert "SRGAN PSNR" in page.locator("#gp-grid").inner_text()
        assert wait_for(lambda: page.locator("#gp-plot-quality .scatterlayer .trace").count() >= 5, 60), \
            "no SRGAN-against-bicubic quality curves"
        page.screenshot(path=str(ARTIFACTS / "14-srgan-train.png"), full_page=True)
        page.locator("#gp-pause").click()
        browser.close()
    assert not errors, errors


def test_vid2vid_clips_play_in_the_train_tab():
    """The moving-digits preset: its three switches appear, training shows the frame strip and the clips view as an
    animated GIF (a view of frames), and the quality plot its video curves."""
    from playwright.sync_api import sync_playwright
    need_chromium()
    with running_app(max_trainers=2) as (playground, url), sync_playwright() as p:
        browser, errors = launch_browser(p), []
        page = open_page(browser, url, errors)
        page.locator("#gp-start").wait_for(timeout=30_000)
        pick_preset(page, "vid2vid: edges -> moving digit clips")
        assert wait_for(lambda: "temporal D weight" in page.locator("#gp-family-knob-0").inner_text(), 20)
        assert "previous frame" in page.locator("#gp-family-knob-1").inner_text()
        page.locator("#gp-start").click()
        page.wait_for_selector("#gp-grid img[alt=clips]", timeout=120_000)
        assert page.locator("#gp-grid img[alt=clips]").get_attribute("src").startswith("data:image/gif;base64,")
        assert page.locator("#gp-grid img[alt=strip]").count() == 1
        assert wait_for(lambda: step_number(page) >= 60, 180), "training stalled"
        assert wait_for(lambda: page.locator("#gp-plot-quality .scatterlayer .trace").count() >= 4, 90), \
            "no video quality curves"
        page.locator("#gp-grid img[alt=clips]").scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "17-vid2vid-train.png"), full_page=True)
        page.locator("#gp-pause").click()
        browser.close()
    assert not errors, errors
