"""A bound on the memory an ImageEditor (gr.Sketchpad) keeps for drawings that are never used (gradio 6.31).

How the canvas reaches a handler: before each event the page POSTs every image of the canvas (background, layers,
composite; a PNG each) to /gradio_api/component_server, where ``ImageEditor.accept_blobs`` stores it in
``editor.blob_storage[id]``, a plain dict shared by every visitor; the event then sends only the id, and
``preprocess`` pops the entry. An entry whose event never runs stays for good: with trigger_mode="always_last" the
page skips the events of strokes drawn while one was running (measured: 5 of 12 quick strokes left ~7.7 KB each),
and any client can POST blobs under new ids without sending an event (up to the 1 MiB body cap each).

Gradio decodes every stored PNG in full when the event runs (``convert_and_format_image``), and PIL only refuses
images over 2 x 89 megapixels: a 1 MiB PNG of one colour can describe 10,000 x 10,000 pixels, 400 MB decoded.

``bound_blob_storage(editor)`` swaps in a dict that keeps the newest MAX_ENTRIES entries and MAX_BYTES in all,
dropping the oldest, and drops any image whose header (read without decoding) says it is over MAX_PIXELS or that is
not an image at all. A dropped entry's event (if it ever comes) finds no drawing, and the handler asks the visitor to
draw; the next stroke sends the whole canvas again.
"""
from __future__ import annotations

import threading

MAX_ENTRIES = 64            # drawings in flight at once, all visitors together (each lives about a second)
MAX_BYTES = 32 * 2**20      # their PNGs in all (a 256 px canvas: ~10 KB per stroke, 263 KB at worst)
MAX_PIXELS = 1024 * 1024    # per image; the canvas is 256 x 256 (playground/translate_service.py CANVAS)


def header_pixels(data: bytes) -> int:
    """Width x height from an image's header, without decoding it; ValueError if it is not an image."""
    import io
    import warnings

    from PIL import Image
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                w, h = img.size
    except Exception as err:   # UnidentifiedImageError, DecompressionBombError, truncated headers...
        raise ValueError(f"not an image ({type(err).__name__})") from None
    return w * h


def drop_oversized(entry, max_pixels: int) -> None:
    """Set to None every image of an EditorDataBlobs that is not an image or is over max_pixels."""
    def ok(part) -> bool:
        try:
            return isinstance(part, (bytes, bytearray)) and header_pixels(bytes(part)) <= max_pixels
        except ValueError:
            return False
    for name in ("background", "composite"):
        if getattr(entry, name, None) is not None and not ok(getattr(entry, name)):
            setattr(entry, name, None)
    layers = getattr(entry, "layers", None)
    if layers:
        entry.layers = [part if part is None or ok(part) else None for part in layers]


def entry_bytes(entry) -> int:
    """Bytes of one EditorDataBlobs (background, layers, composite)."""
    layers = getattr(entry, "layers", None) or []
    parts = [getattr(entry, "background", None), getattr(entry, "composite", None), *layers]
    return sum(len(p) for p in parts if isinstance(p, (bytes, bytearray)))


class BoundedBlobs(dict):
    """A dict of id -> EditorDataBlobs that forgets its oldest entries beyond max_entries or max_bytes, and keeps no
    image over max_pixels."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS):
        super().__init__()
        self.max_entries, self.max_bytes, self.max_pixels = max_entries, max_bytes, max_pixels
        self._sizes: dict = {}
        self._lock = threading.Lock()

    def __setitem__(self, key, value) -> None:
        drop_oversized(value, self.max_pixels)         # header reads only, outside the lock
        with self._lock:
            super().pop(key, None)                     # re-inserted last: the newest
            self._sizes.pop(key, None)
            super().__setitem__(key, value)
            self._sizes[key] = entry_bytes(value)
            while len(self) > 1 and (len(self) > self.max_entries or sum(self._sizes.values()) > self.max_bytes):
                oldest = next(iter(self))
                super().pop(oldest)
                self._sizes.pop(oldest, None)

    def pop(self, key, *default):
        with self._lock:
            self._sizes.pop(key, None)
            return super().pop(key, *default)

    def get(self, key, default=None):
        with self._lock:
            return super().get(key, default)

    def __deepcopy__(self, memo):       # a per-session copy of the component starts empty (a lock cannot be copied)
        return BoundedBlobs(self.max_entries, self.max_bytes, self.max_pixels)

    __copy__ = lambda self: self.__deepcopy__({})  # noqa: E731

    def total_bytes(self) -> int:
        with self._lock:
            return sum(self._sizes.values())


def bound_blob_storage(editor) -> None:
    """Give an ImageEditor (or Sketchpad) a bounded blob store (see the module docstring)."""
    editor.blob_storage = BoundedBlobs()
