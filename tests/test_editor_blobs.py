"""The Sketchpad's blob store is bounded: drawings whose event never comes (skipped strokes, hostile uploads under
new ids) cannot grow the server's memory without end (playground/editor_blobs.py)."""
import copy

import gradio as gr
from gradio.components.image_editor import AcceptBlobs

from playground.editor_blobs import MAX_BYTES, MAX_ENTRIES, BoundedBlobs, bound_blob_storage


def post_blob(editor, blob_id: str, kind: str, data: bytes, index=None) -> None:
    """What the page's POST to /gradio_api/component_server does (fn_name accept_blobs)."""
    editor.accept_blobs(AcceptBlobs(data={"type": kind, "index": index, "file": b"", "id": blob_id},
                                    files=[("file", data)]))


def png(size, mode="L", noise=False) -> bytes:
    import io

    import numpy as np
    from PIL import Image
    buf = io.BytesIO()
    if noise:
        pixels = np.random.default_rng(0).integers(0, 256, (size[1], size[0], len(mode)), dtype=np.uint8)
        Image.fromarray(pixels.squeeze(-1) if len(mode) == 1 else pixels, mode).save(buf, format="PNG")
    else:
        Image.new(mode, size).save(buf, format="PNG")
    return buf.getvalue()


def test_the_store_keeps_the_newest_entries_within_its_bounds():
    editor = gr.Sketchpad()
    bound_blob_storage(editor)
    small = png((64, 64))
    for i in range(3 * MAX_ENTRIES):                  # strokes whose events never ran
        post_blob(editor, f"id{i}", "composite", small)
        post_blob(editor, f"id{i}", "background", small)
    store = editor.blob_storage
    assert isinstance(store, BoundedBlobs) and len(store) == MAX_ENTRIES
    assert f"id{3 * MAX_ENTRIES - 1}" in store and "id0" not in store
    assert store.total_bytes() == MAX_ENTRIES * 2 * len(small)
    big = png((500, 500), "RGBA", noise=True)         # about the body cap: at most 1 MiB per POST
    assert len(big) > 900_000
    for i in range(2 * MAX_BYTES // len(big)):
        post_blob(editor, f"big{i}", "composite", big)
    assert store.total_bytes() <= MAX_BYTES


def test_a_kept_drawing_still_reaches_the_handler_and_is_then_forgotten():
    import io

    import numpy as np
    from PIL import Image
    editor = gr.Sketchpad(type="numpy")
    bound_blob_storage(editor)
    buf = io.BytesIO()
    Image.new("RGBA", (8, 8), (0, 0, 0, 255)).save(buf, format="PNG")
    post_blob(editor, "stroke", "composite", buf.getvalue())
    from gradio.components.image_editor import EditorData
    value = editor.preprocess(EditorData(id="stroke"))
    assert isinstance(value["composite"], np.ndarray) and value["composite"].shape == (8, 8, 4)
    assert len(editor.blob_storage) == 0
    assert isinstance(copy.deepcopy(editor.blob_storage), BoundedBlobs)


def test_a_png_bomb_or_a_non_image_is_dropped_before_gradio_decodes_it():
    editor = gr.Sketchpad(type="numpy")
    bound_blob_storage(editor)
    bomb = png((6000, 6000))                          # 36 megapixels in a few dozen KB
    assert len(bomb) < 200_000
    post_blob(editor, "bomb", "composite", bomb)
    post_blob(editor, "bomb", "background", b"not an image")
    # (layer index 0 would be lost: BlobData parses "0" to 0, which accept_blobs reads as "no index")
    post_blob(editor, "bomb", "layer", png((256, 256), "RGBA"), index=1)
    post_blob(editor, "bomb", "layer", png((5000, 5000)), index=2)
    from gradio.components.image_editor import EditorData
    value = editor.preprocess(EditorData(id="bomb"))
    assert value["composite"] is None and value["background"] is None
    assert len(value["layers"]) == 1 and value["layers"][0].shape == (256, 256, 4)   # the small layer is kept


def test_the_translate_tabs_canvas_has_the_bounded_store():
    from playground.app import Playground, build_demo
    from playground.settings import Settings
    demo = build_demo(Playground(Settings(max_trainers=1)))
    editors = [b for b in demo.blocks.values() if isinstance(b, gr.ImageEditor)]
    assert editors and all(isinstance(e.blob_storage, BoundedBlobs) for e in editors)
