"""Gradio's cache writes made atomic, so identical concurrent outputs never serve a truncated file.

Why: gradio 6.31.0 names each cached output by the hash of its bytes (`<cache>/<sha256>/image.png`), but
`processing_utils.save_pil_to_cache` and `save_bytes_to_cache` write that path in place (`Path.write_bytes`: truncate,
then write). When two visitors get the identical image at once (everyone's default Explore image, identical API
calls), the second write truncates the file while the first request is being served from it: 8 gradio_client
visitors calling /generate with identical arguments at the same instant, 15 rounds, broke 3-5 of 120 responses
("peer closed connection without sending complete message body", 0-byte images; h11 logged "Too little data for
declared Content-Length"). `save_file_to_cache` (used for gr.File outputs: GIFs, checkpoints) already stages and renames.

The fix replaces the two functions in `gradio.processing_utils` with versions that do what `save_file_to_cache` does:
a file that already exists is returned as is (same hash, same bytes) and touched, because `delete_cache` ages files
by their time stamps; otherwise the bytes go to a temporary file in the same folder, renamed into place with
`os.replace` (atomic on POSIX and Windows). Every caller in gradio 6.31.0 goes through the module attribute
(`processing_utils.save_pil_to_cache(...)` in image_utils, gallery, annotated_image; `save_img_array_to_cache` calls
it through the module's globals), so replacing the attribute covers numpy and PIL images and bytes outputs.
`install()` is idempotent, and refuses (with a warning) to patch functions whose signature is not the one it was
written for, so a gradio upgrade cannot silently break outputs.
"""
from __future__ import annotations

import inspect
import os
import tempfile
import warnings
from pathlib import Path

from gradio import processing_utils

_MARK = "_gan_playground_atomic"
_EXPECTED = {"save_pil_to_cache": ["img", "cache_dir", "name", "format"],
             "save_bytes_to_cache": ["data", "file_name", "cache_dir"]}


def write_once(path: Path, data: bytes) -> str:
    """Put `data` at `path` (a content-addressed name) unless it is there already; return the resolved path.

    Readers see either no file or the whole file, never a partial one."""
    path = path.resolve()
    if path.exists():
        try:
            os.utime(path)  # handed out again: restart its delete_cache clock
        except OSError:
            pass
        return str(path)
    fd, staging = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(staging, 0o644)  # mkstemp makes 0600; keep write_bytes' usual permissions
        os.replace(staging, path)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise
    return str(path)


def save_pil_to_cache(img, cache_dir: str, name: str = "image", format: str = "webp") -> str:
    """gradio's save_pil_to_cache (same arguments, result and exceptions), written atomically."""
    data = processing_utils.encode_pil_to_bytes(img, format)  # raises KeyError/ValueError as before (png fallback)
    folder = Path(cache_dir) / processing_utils.hash_bytes(data)
    folder.mkdir(exist_ok=True, parents=True)
    return write_once(folder / f"{name}.{format}", data)


def save_bytes_to_cache(data: bytes, file_name: str, cache_dir: str) -> str:
    """gradio's save_bytes_to_cache (same arguments and result), written atomically."""
    folder = Path(cache_dir) / processing_utils.hash_bytes(data)
    folder.mkdir(exist_ok=True, parents=True)
    if not Path(file_name).suffix:
        file_name = file_name + processing_utils.detect_audio_format(data)
    return write_once(folder / Path(file_name).name, data)


setattr(save_pil_to_cache, _MARK, True)
setattr(save_bytes_to_cache, _MARK, True)


def install() -> bool:
    """Replace the two writers in gradio.processing_utils (once). Returns True when both are the atomic ones."""
    ours = {"save_pil_to_cache": save_pil_to_cache, "save_bytes_to_cache": save_bytes_to_cache}
    for name, fn in ours.items():
        current = getattr(processing_utils, name, None)
        if current is None or getattr(current, _MARK, False):
            continue
        params = list(inspect.signature(current).parameters)
        if params != _EXPECTED[name]:
            warnings.warn(f"gradio.processing_utils.{name} has changed ({params}); not patched: identical concurrent "
                          f"outputs may be served truncated (playground/cache_writes.py)", stacklevel=2)
            continue
        setattr(processing_utils, name, fn)
    return all(getattr(getattr(processing_utils, n, None), _MARK, False) for n in ours)
