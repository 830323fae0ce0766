"""Offline data: the benchmark mixtures, user points, the bundled digits, and torchvision formats made by the tests."""
import pickle
import struct
import urllib.error
from pathlib import Path

import numpy as np
import pytest
import torch

from ganengine.config import ConfigError, RunConfig
from ganengine.data import DataUnavailable, build_source
from ganengine.data.points import grid25_centres, parse_points, ring8_centres

CPU = torch.device("cpu")


def test_ring8_is_the_published_protocol():
    c = ring8_centres()
    k = np.arange(8)
    np.testing.assert_allclose(c, np.stack([np.cos(2 * np.pi * k / 8), np.sin(2 * np.pi * k / 8)], 1), atol=1e-6)
    assert len(np.unique(np.round(c, 4), axis=0)) == 8  # not linspace(0, 2*pi, 8), which has 7 distinct
    src = build_source(RunConfig(data="ring8"), CPU)
    assert src.spec.sigma == 0.01
    x, y = src.sample(4000)
    d = np.linalg.norm(x.numpy()[:, None] - c[None], axis=2).min(1)
    # in 2-D, P(|x - c| < 3 sigma) = 1 - exp(-9/2) = 0.989: the ceiling of "% high quality"
    assert y is None and abs(np.mean(d < 0.03) - (1 - np.exp(-4.5))) < 0.01


def test_grid25_is_the_published_protocol():
    c = grid25_centres()
    assert c.shape == (25, 2) and set(np.unique(c)) == {-4, -2, 0, 2, 4}
    src = build_source(RunConfig(data="grid25"), CPU)
    assert src.spec.sigma == 0.05
    x, _ = src.sample(5000)
    nearest = np.linalg.norm(x.numpy()[:, None] - c[None], axis=2).argmin(1)
    assert len(np.unique(nearest)) == 25


@pytest.mark.parametrize("name", ["spiral", "moons"])
def test_curves_sample_within_bounds(name):
    src = build_source(RunConfig(data=name), CPU)
    x, _ = src.sample(2000)
    xmin, xmax, ymin, ymax = src.spec.bounds
    assert x.shape == (2000, 2)
    assert (x[:, 0] > xmin).all() and (x[:, 0] < xmax).all() and (x[:, 1] > ymin).all() and (x[:, 1] < ymax).all()


def test_same_seed_same_data_order():
    a = build_source(RunConfig(data="ring8", seed=3), CPU).sample(10)[0]
    b = build_source(RunConfig(data="ring8", seed=3), CPU).sample(10)[0]
    c = build_source(RunConfig(data="ring8", seed=4), CPU).sample(10)[0]
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_user_points_csv_and_npy(tmp_path):
    csv = tmp_path / "pts.csv"
    csv.write_text("x,y\n0,1\n2,3\n4,5\n")
    src = build_source(RunConfig(data="points", points_path=str(csv)), CPU)
    assert src.spec.size == 3
    x, _ = src.sample(50)
    assert set(map(tuple, x.numpy().tolist())) <= {(0, 1), (2, 3), (4, 5)}
    npy = tmp_path / "pts.npy"
    np.save(npy, np.random.rand(100, 2))
    assert build_source(RunConfig(data="points", points_path=str(npy)), CPU).spec.size == 100


@pytest.mark.parametrize("raw", [b"\xef\xbb\xbf0,1\n2,3\n4,5\n", b"\xef\xbb\xbfx,y\n0,1\n2,3\n4,5\n"])
def test_a_byte_order_mark_keeps_the_first_row(raw):
    """Excel's "CSV UTF-8" starts with a BOM: with no header, the first row used to be taken for one and dropped."""
    np.testing.assert_array_equal(parse_points(raw), [[0, 1], [2, 3], [4, 5]])


@pytest.mark.parametrize("text,match", [
    ("1,2\n3,nan\n", "NaN"), ("1,2,3\n4,5,6\n", "columns"), ("a,b\nc,d\n", "not two numbers"), ("", "between 2"),
    ("1,2\n", "between 2"), ("1,inf\n2,3\n", "NaN or infinite"), ("1e9,1\n1,2\n", "1e6"),
])
def test_bad_points_are_refused(text, match):
    with pytest.raises(ConfigError, match=match):
        parse_points(text.encode())


def test_points_limits():
    with pytest.raises(ConfigError, match="limit"):
        parse_points(b"1,2\n" * 300_000)
    with pytest.raises(ConfigError, match="not a text CSV"):
        parse_points(b"\xff\xfe\x00binary")
    import io
    buf = io.BytesIO()
    np.save(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ConfigError):
        parse_points(buf.getvalue())  # object arrays need pickle: refused


def test_bundled_mnist_offline():
    src = build_source(RunConfig(data="mnist", model="dcgan"), CPU)
    assert src.spec.shape == (1, 28, 28) and src.spec.num_classes == 10 and src.spec.size == 5000
    x, y = src.sample(64)
    assert x.shape == (64, 1, 28, 28) and x.dtype == torch.float32
    assert x.min() >= -1 and x.max() <= 1 and x.min() == -1  # background is -1
    assert y.dtype == torch.int64 and 0 <= y.min() and y.max() <= 9


def test_resize_to_32():
    src = build_source(RunConfig(data="mnist", model="dcgan", image_size=32), CPU)
    assert src.sample(4)[0].shape == (4, 1, 32, 32)


# ---- torchvision formats, written by the tests ----------------------------------------------------------------
def write_idx(folder: Path, prefix: str, images: np.ndarray, labels: np.ndarray):
    folder.mkdir(parents=True, exist_ok=True)
    n, h, w = images.shape
    (folder / f"{prefix}-images-idx3-ubyte").write_bytes(struct.pack(">IIII", 0x803, n, h, w) + images.tobytes())
    (folder / f"{prefix}-labels-idx1-ubyte").write_bytes(struct.pack(">II", 0x801, n) + labels.tobytes())


@pytest.mark.parametrize("name,folder", [("mnist-full", "MNIST"), ("fashion-mnist", "FashionMNIST")])
def test_torchvision_idx_files_load_offline(tmp_path, name, folder):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (40, 28, 28), dtype=np.uint8)
    labels = (np.arange(40) % 10).astype(np.uint8)
    for prefix in ("train", "t10k"):
        write_idx(tmp_path / folder / "raw", prefix, images, labels)
    src = build_source(RunConfig(data=name, model="dcgan", data_root=str(tmp_path), download=False), CPU)
    assert src.spec.size == 40 and src.spec.shape == (1, 28, 28)
    x, y = src.sample(40)
    assert sorted(y.tolist()) == sorted(labels.tolist())
    np.testing.assert_allclose(np.sort(((x.numpy() + 1) * 127.5).round().ravel()), np.sort(images.ravel()), atol=0)


def test_cifar10_batches_load_offline(tmp_path, monkeypatch):
    import torchvision.datasets.cifar as cifar
    root = tmp_path / "cifar-10-batches-py"
    root.mkdir()
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {"data": rng.integers(0, 256, (4, 3072), dtype=np.uint8), "labels": list(range(4))}
        (root / name).write_bytes(pickle.dumps(batch))
    (root / "batches.meta").write_bytes(pickle.dumps({"label_names": ["a"] * 10}))
    # Real downloads are md5-checked by torchvision; the test's files are not the real ones.
    monkeypatch.setattr(cifar, "check_integrity", lambda *a, **k: True)
    src = build_source(RunConfig(data="cifar10", model="dcgan", data_root=str(tmp_path), download=False), CPU)
    assert src.spec.shape == (3, 32, 32) and src.spec.size == 20
    assert src.sample(8)[0].shape == (8, 3, 32, 32)


def test_offline_error_names_dataset_folder_and_the_bundled_alternative(tmp_path, monkeypatch):
    import torchvision.datasets.mnist as mnist

    def offline(*a, **k):
        raise urllib.error.URLError("no network")
    monkeypatch.setattr(mnist, "download_and_extract_archive", offline)
    with pytest.raises(DataUnavailable) as err:
        build_source(RunConfig(data="mnist-full", model="dcgan", data_root=str(tmp_path)), CPU)
    msg = str(err.value)
    assert "mnist-full" in msg and str(tmp_path / "MNIST") in msg and "bundled 'mnist'" in msg
    with pytest.raises(DataUnavailable, match="turned off"):
        build_source(RunConfig(data="fashion-mnist", model="dcgan", data_root=str(tmp_path), download=False), CPU)


def make_images(folder: Path, n: int, size=(40, 30), mode="RGB"):
    from PIL import Image
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(n)
    for i in range(n):
        arr = rng.integers(0, 256, (size[1], size[0], 3) if mode == "RGB" else (size[1], size[0]), dtype=np.uint8)
        Image.fromarray(arr).save(folder / f"img{i}.png")


def test_image_folder_with_classes(tmp_path):
    make_images(tmp_path / "cats", 3)
    make_images(tmp_path / "dogs", 2)
    (tmp_path / "cats" / "notes.txt").write_text("not an image")
    src = build_source(RunConfig(data="folder", model="cgan", folder_path=str(tmp_path), image_size=32), CPU)
    assert src.spec.class_names == ("cats", "dogs") and src.spec.size == 5 and src.spec.shape == (3, 32, 32)
    x, y = src.sample(5)
    assert x.shape == (5, 3, 32, 32) and sorted(y.tolist()) == [0, 0, 0, 1, 1]


def test_greyscale_folder_and_errors(tmp_path):
    make_images(tmp_path / "g", 4, mode="L")
    src = build_source(RunConfig(data="folder", model="dcgan", folder_path=str(tmp_path / "g"), image_size=16), CPU)
    assert src.spec.shape == (1, 16, 16) and src.spec.num_classes == 0
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="no images"):
        build_source(RunConfig(data="folder", model="dcgan", folder_path=str(tmp_path / "empty")), CPU)
    with pytest.raises(ConfigError, match="not found"):
        build_source(RunConfig(data="folder", model="dcgan", folder_path=str(tmp_path / "nope")), CPU)


def test_celeba_folder_is_centre_cropped_to_64(tmp_path):
    make_images(tmp_path / "celeba" / "img_align_celeba", 3, size=(178, 218))
    src = build_source(RunConfig(data="celeba", model="dcgan", data_root=str(tmp_path), download=False), CPU)
    assert src.spec.shape == (3, 64, 64)
    assert src.sample(2)[0].shape == (2, 3, 64, 64)
