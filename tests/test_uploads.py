"""Uploaded data and checkpoints: every bad input gets a clear message and changes nothing else."""
import io
import os
import zipfile

import numpy as np
import pytest
import torch

from ganengine.config import ConfigError
from ganengine.data import archive
from ganengine.data.archive import extract_images


def png_bytes(seed=0, size=20):
    from PIL import Image
    arr = np.random.default_rng(seed).integers(0, 256, (size, size, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def make_zip(path, members):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            z.writestr(name, data)
    return path


def test_good_zip_extracts_images_only(tmp_path):
    z = make_zip(tmp_path / "ok.zip", [("cats/a.png", png_bytes(1)), ("dogs/b.png", png_bytes(2)),
                                       ("readme.txt", b"hi"), ("script.py", b"import os")])
    counts = extract_images(z, tmp_path / "out")
    assert counts["images"] == 2 and counts["skipped"] == 2
    assert sorted(p.name for p in (tmp_path / "out").rglob("*") if p.is_file()) == ["a.png", "b.png"]


@pytest.mark.parametrize("name", ["../evil.png", "/abs/evil.png", "a/../../evil.png", "C:/evil.png", "..\\evil.png"])
def test_paths_that_climb_out_are_refused(tmp_path, name):
    z = make_zip(tmp_path / "bad.zip", [("fine.png", png_bytes()), (name, png_bytes())])
    with pytest.raises(ConfigError, match="leaves its folder"):
        extract_images(z, tmp_path / "out")
    assert not (tmp_path / "evil.png").exists() and not (tmp_path / "out").exists()


def test_zip_bomb_is_refused(tmp_path):
    z = make_zip(tmp_path / "bomb.zip", [("bomb.png", b"\0" * (5 * 2**20))])  # deflates about 1000x
    with pytest.raises(ConfigError, match="zip bomb"):
        extract_images(z, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_too_many_files_is_refused_before_writing(tmp_path, monkeypatch):
    monkeypatch.setattr(archive, "MAX_FILES", 50)
    z = make_zip(tmp_path / "many.zip", [(f"img{i}.png", png_bytes(i, 4)) for i in range(51)])
    with pytest.raises(ConfigError, match="more than 50"):
        extract_images(z, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_total_size_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(archive, "MAX_TOTAL_BYTES", 2000)
    z = make_zip(tmp_path / "big.zip", [(f"img{i}.png", png_bytes(i)) for i in range(3)])
    with pytest.raises(ConfigError, match="unpacks to more than"):
        extract_images(z, tmp_path / "out")


def test_not_a_zip_and_no_images(tmp_path):
    bad = tmp_path / "x.zip"
    bad.write_bytes(b"PK but not really")
    with pytest.raises(ConfigError, match="not a readable zip"):
        extract_images(bad, tmp_path / "out")
    with pytest.raises(ConfigError, match="no images"):
        extract_images(make_zip(tmp_path / "t.zip", [("a.txt", b"x")]), tmp_path / "out")


def test_a_lying_header_cannot_write_more(tmp_path):
    z = make_zip(tmp_path / "lie.zip", [("a.png", png_bytes(0, 64))])
    raw = bytearray(z.read_bytes())
    info = zipfile.ZipFile(z).infolist()[0]
    true_size = info.file_size
    # shrink the declared size in the central directory: extraction must stop rather than trust it
    cd = raw.rfind(b"PK\x01\x02")
    raw[cd + 24:cd + 28] = (true_size // 2).to_bytes(4, "little")
    z.write_bytes(bytes(raw))
    with pytest.raises((ConfigError, zipfile.BadZipFile)):
        extract_images(z, tmp_path / "out")


# ---- through the Train tab's service ----------------------------------------------------------------------------
@pytest.fixture
def service(tmp_path):
    from playground.sessions import SessionRegistry
    from playground.settings import Settings
    from playground.train_service import TrainService
    reg = SessionRegistry(max_trainers=2, lease_seconds=30, idle_seconds=60)
    yield TrainService(registry=reg, settings=Settings(max_upload_mb=1, data_root=str(tmp_path), allow_downloads=False))
    reg.shutdown()


def folder_setup(service):
    return dict(service.preset_setup("dcgan-mnist"), data="folder", width=8)


def test_zip_of_images_trains_and_is_deleted_with_the_visitor(service, tmp_path):
    z = make_zip(tmp_path / "imgs.zip", [(f"c{i % 2}/x{i}.png", png_bytes(i)) for i in range(6)])
    assert "Setup ready" in service.apply_setup("v", folder_setup(service), points_path=str(z))
    service.step("v", "both")
    trainer = service.registry.session("v").live_trainer
    assert trainer.wait_idle(20)
    snap = trainer.snapshot()
    assert snap.step == 1 and snap.spec.shape == (3, 32, 32) and snap.spec.num_classes == 2
    workdir = service.registry.session("v").workdir
    assert os.path.isdir(workdir)
    service.registry.drop("v")
    assert not os.path.exists(workdir)


def test_bad_uploads_change_nothing(service, tmp_path):
    service.apply_setup("v", dict(service.preset_setup("ring8"), width=16))
    service.step("v")
    assert service.registry.session("v").live_trainer.wait_idle(10)
    big = tmp_path / "big.csv"
    big.write_bytes(b"1,2\n" * 400_000)  # 1.5 MiB > 1 MiB
    assert "limited to 1 MiB" in service.apply_setup("v", dict(service.preset_setup("ring8"), data="points"),
                                                     points_path=str(big))
    text = tmp_path / "t.csv"
    text.write_text("x,y\n1,2\nhello,world\n")
    assert "not two numbers" in service.apply_setup("v", dict(service.preset_setup("ring8"), data="points"),
                                                    points_path=str(text))
    bomb = make_zip(tmp_path / "bomb.zip", [("b.png", b"\0" * (4 * 2**20))])
    assert service.apply_setup("v", folder_setup(service), points_path=str(bomb)).startswith("⚠")
    assert service.status("v")["data"] == "ring8" and service.status("v")["step"] == 1


def test_uploaded_checkpoints(tmp_path):
    from playground.explore_service import ExploreService
    from playground.sessions import SessionRegistry
    from playground.settings import Settings
    reg = SessionRegistry(max_trainers=1, lease_seconds=30, idle_seconds=60)
    svc = ExploreService(registry=reg, settings=Settings(max_upload_mb=1))
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    evil = tmp_path / "evil.pt"
    torch.save({"format": "ganengine-checkpoint", "version": 1, "x": Payload()}, evil)
    src, msg = svc.upload("v", str(evil))
    assert src is None and "refused" in msg and not marker.exists()
    junk = tmp_path / "junk.pt"
    junk.write_bytes(os.urandom(5000))
    assert svc.upload("v", str(junk))[0] is None
    huge = tmp_path / "huge.pt"
    huge.write_bytes(b"0" * (2 * 2**20))
    assert "limited to 1 MiB" in svc.upload("v", str(huge))[1]
    assert svc.upload("v", None)[0] is None
    reg.shutdown()


# ---- image dimensions (issue 17) -----------------------------------------------------------------------------------
def png_header_only(width, height):
    """A tiny PNG that declares width x height (PIL reads only the header until it decodes)."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


@pytest.mark.parametrize("side", [20000, 5000])
def test_a_zip_with_a_huge_image_is_refused_with_the_limit(tmp_path, side):
    """A 20000 x 20000 PNG compresses small and used to reach training as a raw error (or 1.1 GiB of pixels)."""
    z = make_zip(tmp_path / "huge.zip", [("ok.png", png_bytes()), ("huge.png", png_header_only(side, side))])
    with pytest.raises(ConfigError, match=f"huge.png is (larger than the limit|{side} x {side} pixels).*4096 x 4096"):
        extract_images(z, tmp_path / "out")


def test_a_zip_with_an_unreadable_image_is_refused(tmp_path):
    z = make_zip(tmp_path / "junk.zip", [("ok.png", png_bytes()), ("junk.png", b"not an image at all" * 10)])
    with pytest.raises(ConfigError, match="junk.png is not a readable image"):
        extract_images(z, tmp_path / "out")


def test_a_huge_image_in_a_folder_is_refused_when_decoded(tmp_path):
    from ganengine.data.images import read_image
    (tmp_path / "huge.png").write_bytes(png_header_only(20000, 20000))
    with pytest.raises(ConfigError, match="4096 x 4096"):
        read_image(tmp_path / "huge.png", 32, 3)
    (tmp_path / "ok.png").write_bytes(png_bytes())
    assert read_image(tmp_path / "ok.png", 16, 3).shape == (3, 16, 16)
