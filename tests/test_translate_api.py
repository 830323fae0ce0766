"""The `translate` endpoint through gradio_client: a client's own pix2pix run turns an image file into a digit;
no run, a GAN run's client, a bad file and an unknown source each get one sentence."""
import json

import numpy as np
import pytest
from PIL import Image, ImageDraw

import waiting
from apphelpers import running_app


@pytest.fixture(scope="module")
def app():
    with running_app() as (playground, url):
        yield playground, url


def sketch(path):
    img = Image.new("L", (256, 256), 255)
    ImageDraw.Draw(img).line([(80, 50), (180, 50), (110, 216)], fill=0, width=9)
    img.save(path)
    return str(path)


def test_translate_an_image_file_with_the_clients_live_run(app, tmp_path):
    from gradio_client import Client, handle_file
    playground, url = app
    c = Client(url, verbose=False)
    try:
        with pytest.raises(Exception, match="No live run yet.*pix2pix: edges -> digits"):
            c.predict(handle_file(sketch(tmp_path / "seven.png")), "live", api_name="/translate")
        started = json.loads(c.predict("edges2digits", api_name="/start"))
        assert started["ok"], started
        trainer = playground.registry.session(c.session_hash).live_trainer
        assert waiting.wait_for(lambda: trainer.snapshot().step >= 2, 60, 0.1)
        json.loads(c.predict(api_name="/pause"))
        out = Image.open(c.predict(handle_file(sketch(tmp_path / "seven.png")), "live", api_name="/translate"))
        assert out.size == (256, 256)
        pixels = np.asarray(out.convert("L"))
        assert (pixels[::8, ::8] == pixels[7::8, 7::8]).all()      # G's 32 px output, 8x nearest-neighbour
        notes = tmp_path / "notes.png"
        notes.write_text("not an image")
        with pytest.raises(Exception, match="not a readable image"):
            c.predict(handle_file(str(notes)), "live", api_name="/translate")
        with pytest.raises(Exception, match="unknown source"):
            c.predict(handle_file(sketch(tmp_path / "seven.png")), "/etc/passwd", api_name="/translate")
        with pytest.raises(Exception, match="No checkpoint yet"):
            c.predict(handle_file(sketch(tmp_path / "seven.png")), "upload", api_name="/translate")
    finally:
        c.predict(api_name="/leave")
        c.close()


def test_translate_takes_a_style_or_direction_as_its_choice(app, tmp_path):
    from gradio_client import Client, handle_file
    playground, url = app
    c = Client(url, verbose=False)
    try:
        started = json.loads(c.predict("digit-styles", api_name="/start"))
        assert started["ok"], started
        trainer = playground.registry.session(c.session_hash).live_trainer
        assert waiting.wait_for(lambda: trainer.snapshot().step >= 1, 60, 0.1)
        json.loads(c.predict(api_name="/pause"))
        seven = handle_file(sketch(tmp_path / "seven.png"))
        hatched = np.asarray(Image.open(c.predict(seven, "live", "hatched", api_name="/translate")).convert("L"))
        brush = np.asarray(Image.open(c.predict(seven, "live", "brush", api_name="/translate")).convert("L"))
        assert hatched.shape == brush.shape == (256, 256) and not np.array_equal(hatched, brush)
        with pytest.raises(Exception, match="choose one of .*hatched"):
            c.predict(seven, "live", "ab", api_name="/translate")
    finally:
        c.predict(api_name="/leave")
        c.close()
