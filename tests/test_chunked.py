"""ZeroGPU's chunked mode (playground.chunked) on the CPU: chunks chain into exactly the one-process run, the
generator event streams a view per chunk, and @spaces.GPU is used only when `spaces` is installed."""
import sys
import types

import numpy as np
import torch

from ganengine.presets import get_preset
from ganengine.run import GANRun
from playground import chunked

PRESET = "ring8"


def test_two_chunks_are_the_one_process_run():
    config, knobs = get_preset(PRESET).build()
    first = chunked.train_chunk(config.to_dict(), knobs.to_dict(), None, 15)
    second = chunked.train_chunk(config.to_dict(), knobs.to_dict(), first["saved"], 15)
    assert second["step"] == 30
    plain = GANRun(config=config, knobs=knobs)
    for _ in range(30):
        plain.train_iteration("both")
    state = second["saved"]["state"]
    for name, net in plain.nets.items():
        for key, t in net.state_dict().items():
            assert torch.equal(t, state["nets"][name][key]), (name, key)   # bit-equal: the state round-trips
    for name, net in plain.ema.items():
        for key, t in net.state_dict().items():
            assert torch.equal(t, state["ema"][name][key]), (name, key)


def test_stream_yields_a_view_and_a_status_per_chunk():
    updates = list(chunked.stream(PRESET, None, chunks=3, steps=10))
    assert len(updates) == 3
    image, status, saved = updates[-1]
    assert isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim == 3
    assert "Chunk 3 of 3: step 30" in status and "loss/D" in status
    again = next(chunked.stream(PRESET, saved, chunks=1, steps=10))    # a second click continues the run
    assert "step 40" in again[1]
    capped = list(chunked.stream(PRESET, saved, chunks=3, steps=10, max_steps=45))   # the server's limit per run
    assert len(capped) == 2 and "step 40" in capped[0][1] and "this server's limit per run (45)" in capped[1][1]
    assert capped[1][2]["counters"]["step"] == 40                          # the run is kept, not lost


def test_gpu_decorator_only_with_spaces(monkeypatch):
    monkeypatch.setitem(sys.modules, "spaces", None)                     # not installed: import fails
    f = lambda: 1  # noqa: E731
    assert chunked.gpu(60)(f) is f
    asked = []
    fake = types.SimpleNamespace(GPU=lambda duration: (asked.append(duration), lambda fn: ("wrapped", fn))[1])
    monkeypatch.setitem(sys.modules, "spaces", fake)
    assert chunked.chunk_function(90) == ("wrapped", chunked.train_chunk) and asked == [90]


def test_enabled_by_setting_or_zerogpu(monkeypatch):
    monkeypatch.delenv("GAN_CHUNKED", raising=False)
    monkeypatch.delenv("SPACES_ZERO_GPU", raising=False)
    assert not chunked.enabled()
    monkeypatch.setenv("SPACES_ZERO_GPU", "true")
    assert chunked.enabled()
    monkeypatch.delenv("SPACES_ZERO_GPU")
    monkeypatch.setenv("GAN_CHUNKED", "1")
    assert chunked.enabled()
