"""The Translate tab's logic without Gradio: sources (live run, uploaded checkpoint), drawings -> G's input,
held-out examples, bad input, and visitors kept apart. Small setups, counted in steps."""
import io

import numpy as np
import pytest
import torch
from PIL import Image

from playground.http_limits import MAX_BODY_BYTES
from playground.sessions import SessionRegistry
from playground.settings import Settings
from playground.train_service import TrainService
from playground.sketch_input import BRUSH_RADIUS, CANVAS, sketch_to_input
from playground.translate_service import PRESET, Refusal, TranslateService, preset_title

PRETRAINED_GAN = "assets/pretrained/dcgan_digits.pt"


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    settings = Settings(max_trainers=3, data_root=str(tmp_path_factory.mktemp("data")), allow_downloads=False,
                        save_dir=str(tmp_path_factory.mktemp("saves")))
    reg = SessionRegistry(max_trainers=3, lease_seconds=60, idle_seconds=120)
    yield TrainService(registry=reg, settings=settings), TranslateService(registry=reg, settings=settings)
    reg.shutdown()


def train_steps(train, sid, preset, steps, **overrides):
    setup = train.preset_setup(preset)
    setup.update(overrides)
    assert not train.apply_setup(sid, setup).startswith("⚠")
    assert not train.step(sid, "both", steps).startswith(("⚠", "◷"))
    trainer = train.registry.session(sid).live_trainer
    assert trainer.wait_idle(60)
    return trainer


@pytest.fixture(scope="module")
def p2p(services):
    """A pix2pix live run of 3 steps in session "p2p"."""
    train, _ = services
    return train_steps(train, "p2p", PRESET, 3)


def canvas_with(lines, *, dark_on_light=True, side=CANVAS, width=2 * BRUSH_RADIUS + 1) -> np.ndarray:
    """A canvas like the Sketchpad's composite: RGBA, opaque, strokes drawn with the app's brush width."""
    from PIL import ImageDraw
    paper, ink = ((255, 255, 255, 255), (0, 0, 0, 255)) if dark_on_light else ((0, 0, 0, 255), (255, 255, 255, 255))
    img = Image.new("RGBA", (side, side), paper)
    draw = ImageDraw.Draw(img)
    for line in lines:
        draw.line(line, fill=ink, width=width)
    return np.asarray(img)


SEVEN = [[(80, 50), (180, 50), (110, 216)]]


def as_uint8(x: torch.Tensor) -> np.ndarray:
    """[-1, 1] -> uint8, as ganengine.render.image_grid."""
    return np.clip((x.numpy() + 1) * 127.5 + 0.5, 0, 255).astype(np.uint8)


# ---- a drawing -> G's input -------------------------------------------------------------------------------------
def test_a_drawing_becomes_an_edge_map_like_the_training_inputs():
    a = sketch_to_input(canvas_with(SEVEN))
    assert a.shape == (1, 1, 32, 32) and a.dtype == torch.float32
    assert float(a.min()) == -1.0 and float(a.max()) <= 1.0
    ink = (a[0, 0] + 1) / 2
    rows = torch.nonzero(ink.amax(1) > 0.25).squeeze(1)
    assert 19 <= int(rows[-1] - rows[0]) + 1 <= 21                         # fitted to MNIST's 20 px box
    assert float(ink[:2].sum() + ink[-2:].sum()) == 0                       # a black border, as the padded digits
    # the brush's stroke is ~1 px wide at 32 px, as the Canny edges: a line across the canvas is 1-2 rows of ink
    line = (sketch_to_input(canvas_with([[(0, 124), (255, 124)]]), fit=False)[0, 0] + 1) / 2
    assert 1 <= int((line.amax(1) > 0.25).sum()) <= 2 and float(line.max()) > 0.5
    # dark strokes on light paper and light strokes on dark paper give the same input
    assert torch.allclose(a, sketch_to_input(canvas_with(SEVEN, dark_on_light=False)))
    # transparent paper counts as white, grey or RGB drawings work too
    rgba = canvas_with(SEVEN).copy()
    rgba[..., 3] = np.where(rgba[..., 0] < 128, 255, 0)
    assert torch.allclose(a, sketch_to_input(rgba), atol=1e-5)
    assert torch.allclose(a, sketch_to_input(canvas_with(SEVEN)[..., 0]), atol=1e-5)


def test_fit_centres_a_small_drawing_in_a_corner_and_without_it_the_whole_canvas_is_seen():
    corner = canvas_with([[(10, 10), (40, 10), (20, 60)]])
    fitted = (sketch_to_input(corner, fit=True)[0, 0] + 1) / 2
    ys, xs = torch.nonzero(fitted > 0.25, as_tuple=True)
    assert 12 <= float(ys.float().mean()) <= 20 and 12 <= float(xs.float().mean()) <= 20
    whole = (sketch_to_input(corner, fit=False)[0, 0] + 1) / 2
    ys, xs = torch.nonzero(whole > 0.1, as_tuple=True)
    assert int(ys.max()) < 9 and int(xs.max()) < 7                        # where it was drawn, 8x smaller


@pytest.mark.parametrize("bad, why", [
    ("a string", "8-bit image"), (np.zeros((64, 64), np.float32), "8-bit image"),
    (np.zeros((64, 64, 5), np.uint8), "grey, RGB or RGBA"), (np.zeros((2, 2, 2, 2), np.uint8), "grey, RGB or RGBA"),
    (np.zeros((3000, 10), np.uint8), "2048 px"), (np.full((64, 64, 3), 255, np.uint8), "empty"),
    (np.zeros((0, 5), np.uint8), "px on each side"),
])
def test_bad_drawings_get_a_sentence(bad, why):
    with pytest.raises(ValueError, match=why):
        sketch_to_input(bad)


def test_the_canvas_png_fits_the_request_body_cap():
    """The page sends the canvas as PNG blobs, each one request capped at 1 MiB (playground/http_limits.py): even a
    canvas of pure noise, stored uncompressed, must fit with room for the multipart envelope."""
    noise = np.random.default_rng(0).integers(0, 256, (CANVAS, CANVAS, 4), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(noise, "RGBA").save(buf, format="PNG", compress_level=0)
    assert len(buf.getvalue()) + 64 * 1024 < MAX_BODY_BYTES


# ---- sources ------------------------------------------------------------------------------------------------------
def test_no_trainer_gets_a_message_naming_the_preset(services):
    _, tx = services
    assert "No live run yet" in tx.describe("nobody", "live") and preset_title() in tx.describe("nobody", "live")
    with pytest.raises(Refusal, match="No live run yet"):
        tx.drawing("nobody", "live", {"composite": canvas_with(SEVEN)})
    with pytest.raises(Refusal, match="No live run yet"):
        tx.example("nobody", "live", 3)


def test_a_gan_run_is_refused_with_the_preset_to_pick(services):
    train, tx = services
    trainer = train_steps(train, "gan", "ring8", 1, width=16, latent_dim=4, batch_size=32)
    step = trainer.snapshot().step
    message = tx.describe("gan", "live")
    assert message.startswith("⚠") and "gan run" in message and preset_title() in message
    for call in (lambda: tx.drawing("gan", "live", {"composite": canvas_with(SEVEN)}),
                 lambda: tx.example("gan", "live", 0)):
        with pytest.raises(Refusal, match="does not translate"):
            call()
    assert trainer.snapshot().step == step


def test_the_live_pix2pix_run_translates_a_drawing_and_the_output_follows_training(services, p2p):
    train, tx = services
    assert "step 3" in tx.describe("p2p", "live")
    t = tx.drawing("p2p", "live", {"background": None, "layers": [], "composite": canvas_with(SEVEN)})
    assert t.seen.shape == t.output.shape == (256, 256, 3) and t.target is None and t.live
    assert "step 3" in t.text
    assert p2p.snapshot().step == 3                                        # translating trains nothing
    with p2p.with_run() as run:                                            # the live G, the same as the family's
        expected = run.family.translate(sketch_to_input(canvas_with(SEVEN))).cpu()
    assert np.array_equal(t.output[::8, ::8, 0], as_uint8(expected[0, 0]))
    assert tx.follow("p2p", "live") is None                                # nothing new: no work
    train.step("p2p", "both", 1)
    assert p2p.wait_idle(30)
    again = tx.follow("p2p", "live")
    assert again is not None and "step 4" in again.text and not np.array_equal(again.output, t.output)
    tx.forget("p2p")
    assert tx.follow("p2p", "live") is None


def test_a_random_example_returns_input_output_and_target(services, p2p):
    _, tx = services
    t = tx.example("p2p", "live", 7)
    assert t.seen.shape == t.output.shape == t.target.shape == (256, 256, 3)
    assert "held-out example 8 of 500" in t.text
    assert np.array_equal(tx.example("p2p", "live", 507).target, t.target)   # wrapped around
    with p2p.with_run() as run:
        a, b, label = run.source.held_out()
    assert np.array_equal(t.target[::8, ::8, 0], as_uint8(b[7, 0]))
    assert f"a {int(label[7])}" in t.text
    for bad in ("3", 2.5, None, True):
        with pytest.raises(Refusal):
            tx.example("p2p", "live", bad)


def test_bad_input_changes_nothing(services, p2p, tmp_path):
    train, tx = services
    good = tx.drawing("p2p", "live", {"composite": canvas_with(SEVEN)})
    last = dict(train.registry.session("p2p").explore["translate:last"])
    big = tmp_path / "big.png"
    with open(big, "wb") as f:
        f.truncate(25 * 2**20)
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    huge = tmp_path / "huge.png"
    Image.new("L", (4100, 4100)).save(huge)
    for call, why in [
        (lambda: tx.drawing("p2p", "live", None), "Draw a digit"),
        (lambda: tx.drawing("p2p", "live", {"composite": None}), "Draw a digit"),
        (lambda: tx.drawing("p2p", "live", {"composite": "x" * 10_000}), "must be an image"),
        (lambda: tx.drawing("p2p", "live", {"composite": np.full((256, 256, 4), 255, np.uint8)}), "empty"),
        (lambda: tx.drawing("p2p", "live", np.zeros((4000, 4000), np.uint8)), "2048 px"),
        (lambda: tx.drawing("p2p", "nonsense", canvas_with(SEVEN)), "unknown source"),
        (lambda: tx.image_file("p2p", "live", str(big)), "limited to 20 MiB"),
        (lambda: tx.image_file("p2p", "live", str(text)), "not a readable image"),
        (lambda: tx.image_file("p2p", "live", str(huge)), "4096 x 4096"),
        (lambda: tx.image_file("p2p", "live", str(tmp_path / "missing.png")), "could not be read"),
        (lambda: tx.image_file("p2p", "live", {"path": "/etc/passwd"}), "no image file"),
    ]:
        with pytest.raises(Refusal, match=why):
            call()
    assert train.registry.session("p2p").explore["translate:last"]["request"] is last["request"]
    assert p2p.snapshot().step >= 3 and good.output is not None


def test_an_uploaded_image_translates_like_the_same_drawing(services, p2p, tmp_path):
    _, tx = services
    path = tmp_path / "sketch.png"
    Image.fromarray(canvas_with(SEVEN)).save(path)
    from_file = tx.image_file("p2p", "live", str(path))
    assert np.array_equal(from_file.seen, tx.drawing("p2p", "live", canvas_with(SEVEN)).seen)
    assert "your image" in from_file.text


def test_two_visitors_do_not_see_each_others_runs_or_checkpoints(services, p2p, tmp_path):
    train, tx = services
    assert "No live run yet" in tx.describe("stranger", "live")
    with pytest.raises(Refusal, match="No live run yet"):
        tx.drawing("stranger", "live", canvas_with(SEVEN))
    path = tmp_path / "p2p.pt"
    from ganengine.checkpoint import checkpoint_bytes
    with p2p.with_run() as run:
        path.write_bytes(checkpoint_bytes(run))
    assert tx.load_checkpoint("p2p", str(path)).startswith("Loaded")
    with pytest.raises(Refusal, match="No checkpoint yet"):
        tx.drawing("stranger", "upload", canvas_with(SEVEN))


def test_a_checkpoint_source_translates_and_a_gan_checkpoint_is_refused(services, p2p, tmp_path):
    train, tx = services
    with pytest.raises(Refusal, match="No checkpoint yet"):
        tx.example("ckpt", "upload", 0)
    message = tx.load_checkpoint("ckpt", PRETRAINED_GAN)
    assert message.startswith("⚠") and "gan checkpoint" in message and "pix2pix" in message
    assert "translate:checkpoint" not in train.registry.session("ckpt").explore
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    assert tx.load_checkpoint("ckpt", str(junk)).startswith("⚠")
    assert tx.load_checkpoint("ckpt", None).startswith("⚠")
    path = tmp_path / "p2p.pt"
    from ganengine.checkpoint import checkpoint_bytes
    with p2p.with_run() as run:
        path.write_bytes(checkpoint_bytes(run))
        expected = run.family.translate(sketch_to_input(canvas_with(SEVEN))).cpu()
    assert tx.load_checkpoint("ckpt", str(path)).startswith("Loaded")
    assert "checkpoint" in tx.describe("ckpt", "upload")
    t = tx.drawing("ckpt", "upload", {"composite": canvas_with(SEVEN)})
    assert not t.live and "checkpoint" in t.text
    assert np.array_equal(t.output[::8, ::8, 0], as_uint8(expected[0, 0]))
    example = tx.example("ckpt", "upload", 7)
    assert example.target is not None and np.array_equal(example.target, tx.example("p2p", "live", 7).target)
    assert tx.follow("ckpt", "upload") is None


# ---- CycleGAN: a direction and the cycle back; style transfer: a style, a blend, every style ----------------------
@pytest.fixture(scope="module")
def cyc(services):
    """A CycleGAN live run of 2 small steps in session "cyc"."""
    train, _ = services
    return train_steps(train, "cyc", "cyclegan-digits", 2, width=4, batch_size=2)


@pytest.fixture(scope="module")
def sty(services):
    """A style-transfer live run of 2 small steps in session "sty"."""
    train, _ = services
    return train_steps(train, "sty", "digit-styles", 2, width=4, batch_size=5)


def test_a_cyclegan_run_translates_either_way_and_shows_the_cycle_back(services, cyc):
    train, tx = services
    controls = tx.controls("cyc", "live")
    assert [v for _, v in controls.choices] == ["ab", "ba"] and not controls.blend
    assert "thin → thick" in controls.choices[0][0]
    a = sketch_to_input(canvas_with(SEVEN))
    with cyc.with_run() as run:
        G_AB, G_BA = run.sampler("G_AB"), run.sampler("G_BA")
        with torch.no_grad():
            ab, ba = G_AB.eval()(a), G_BA.eval()(a)
            ab_back, ba_back = G_BA(ab), G_AB(ba)
        G_AB.train(), G_BA.train()
    for choice, out, back in (("ab", ab, ab_back), ("ba", ba, ba_back), (None, ab, ab_back)):
        t = tx.drawing("cyc", "live", canvas_with(SEVEN), True, choice)
        assert np.array_equal(t.output[::8, ::8, 0], as_uint8(out[0, 0]))
        assert np.array_equal(t.back[::8, ::8, 0], as_uint8(back[0, 0]))
    assert "thin → thick" in t.text and "thin" in t.back_label and t.every is None
    # a held-out example the other way: its input is the thick digit and its target the thin one
    with cyc.with_run() as run:
        a_held, b_held, _ = run.source.held_out()
    t = tx.example("cyc", "live", 4, "ba")
    assert np.array_equal(t.seen[::8, ::8, 0], as_uint8(b_held[4, 0]))
    assert np.array_equal(t.target[::8, ::8, 0], as_uint8(a_held[4, 0]))
    # another direction re-translates the last input (the example, now thin -> thick)
    again = tx.again("cyc", "live", "ab")
    assert np.array_equal(again.seen[::8, ::8, 0], as_uint8(a_held[4, 0]))
    step = cyc.snapshot().step
    last = train.registry.session("cyc").explore["translate:last"]
    with pytest.raises(Refusal, match="choose one of ab, ba"):
        tx.drawing("cyc", "live", canvas_with(SEVEN), True, "sideways")
    assert train.registry.session("cyc").explore["translate:last"] is last and cyc.snapshot().step == step


def test_a_style_run_translates_into_a_chosen_style_blends_two_and_shows_every_style(services, sty):
    from ganengine.data.styles import STYLES
    train, tx = services
    controls = tx.controls("sty", "live")
    assert sorted(v for _, v in controls.choices) == sorted(STYLES) and controls.blend
    a = sketch_to_input(canvas_with(SEVEN))
    eye = torch.eye(len(STYLES))
    with sty.with_run() as run:
        G = run.sampler()
        G.eval()
        with torch.no_grad():
            hatched = G(a, eye[STYLES.index("hatched")][None])
            mixed = G(a, 0.7 * eye[STYLES.index("hatched")][None] + 0.3 * eye[STYLES.index("brush")][None])
            back = G(hatched, eye[0][None])
        G.train()
    t = tx.drawing("sty", "live", canvas_with(SEVEN), True, "hatched")
    assert np.array_equal(t.output[::8, ::8, 0], as_uint8(hatched[0, 0]))
    assert np.array_equal(t.back[::8, ::8, 0], as_uint8(back[0, 0])) and "plain" in t.back_label
    assert t.every.shape[1] == len(STYLES) * 32 * 4 + (len(STYLES) + 1) * 2 and "stipple" in t.every_label
    t = tx.drawing("sty", "live", canvas_with(SEVEN), True, "hatched", "brush", 0.3)
    assert np.array_equal(t.output[::8, ::8, 0], as_uint8(mixed[0, 0])) and "30% toward brush" in t.text
    with sty.with_run() as run:
        renderings, _ = run.source.held_out()
    t = tx.example("sty", "live", 9, "stipple")
    assert np.array_equal(t.seen[::8, ::8, 0], as_uint8(renderings[9, 0, 0]))
    assert np.array_equal(t.target[::8, ::8, 0], as_uint8(renderings[9, STYLES.index("stipple"), 0]))
    for bad in (1.5, -0.1, "half", True):
        with pytest.raises(Refusal, match="blend must be a number from 0 to 1"):
            tx.drawing("sty", "live", canvas_with(SEVEN), True, "hatched", "brush", bad)


def test_a_cyclegan_checkpoint_translates_as_its_live_run(services, cyc, tmp_path):
    train, tx = services
    from ganengine.checkpoint import checkpoint_bytes
    path = tmp_path / "cyc.pt"
    with cyc.with_run() as run:
        path.write_bytes(checkpoint_bytes(run))
    assert tx.load_checkpoint("cyc-ckpt", str(path)).startswith("Loaded")
    assert [v for _, v in tx.controls("cyc-ckpt", "upload").choices] == ["ab", "ba"]
    live = tx.drawing("cyc", "live", canvas_with(SEVEN), True, "ba")
    t = tx.drawing("cyc-ckpt", "upload", canvas_with(SEVEN), True, "ba")
    assert np.array_equal(t.output, live.output) and np.array_equal(t.back, live.back) and not t.live
    assert np.array_equal(tx.example("cyc-ckpt", "upload", 3, "ba").target, tx.example("cyc", "live", 3, "ba").target)


def test_an_srgan_run_upscales_a_drawing_shrunk_to_its_input_size(services):
    """SRGAN's G takes 7x7 inputs: a drawing is shrunk to 7x7 (strokes widened), the output is 28x28 in [-1, 1], and
    bicubic's answer to the same input stands beside it."""
    train, tx = services
    srg = train_steps(train, "srg", "sr-digits", 2, batch_size=4)
    assert tx.controls("srg", "live").choices == []
    t = tx.drawing("srg", "live", canvas_with(SEVEN))
    assert t.seen.shape == (56, 56, 3) and t.output.shape == (224, 224, 3)
    assert t.every is not None and "Bicubic" in t.every_label and t.back is None
    a = sketch_to_input(canvas_with(SEVEN), side=7, box=20 / 28, thick=True)
    thin = sketch_to_input(canvas_with(SEVEN), side=7, box=20 / 28)
    assert float(a.mean()) > float(thin.mean())                    # the widened strokes carry more ink at 7 px
    assert np.array_equal(t.seen[::8, ::8, 0], as_uint8(a[0, 0]))
    with srg.with_run() as run:
        expected = run.family.translate(a)
    assert np.array_equal(t.output[::8, ::8, 0], as_uint8(expected[0, 0].cpu()))
    example = tx.example("srg", "live", 5)
    assert example.seen.shape == (56, 56, 3) and example.target.shape == (224, 224, 3)


def test_a_drawing_made_for_another_run_is_refused_not_forced_into_the_new_g(services):
    """A pix2pix drawing (32 px) must not reach an SRGAN G (7 px) after the run changed: a sentence, and the page
    stops following it."""
    train, tx = services
    train_steps(train, "switch", PRESET, 1, batch_size=4)
    tx.drawing("switch", "live", canvas_with(SEVEN))
    train_steps(train, "switch", "sr-digits", 1, batch_size=4)
    with pytest.raises(Refusal, match="draw again"):
        tx.again("switch", "live")
    assert tx.follow("switch", "live") is None
    assert "translate:last" not in train.registry.session("switch").explore
    assert tx.drawing("switch", "live", canvas_with(SEVEN)).output.shape == (224, 224, 3)   # a new drawing fits
