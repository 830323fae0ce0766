"""Image datasets, scaled to [-1, 1], labels kept for conditional models.

- mnist: 5,000 real MNIST digits bundled in assets/ (no network): the offline default.
- mnist-full, fashion-mnist, cifar10: torchvision's loaders, which download when the machine is online.
- celeba: the aligned CelebA faces, resized to 64 and centre-cropped as in the PyTorch DCGAN tutorial.
- folder: any folder of images (subfolders become class labels, as in torchvision's ImageFolder).
Stored datasets live on the training device as uint8 and are scaled per batch; folders decode per batch.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ganengine.config import ConfigError
from ganengine.data.spec import DataSpec
from ganengine.seeds import DATA, stream
from ganengine.data.order import EpochOrder

ASSETS = Path(__file__).resolve().parents[2] / "assets"
BUNDLED_MNIST = ASSETS / "mnist5k.npz"
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".gif", ".tif", ".tiff"}
MAX_FOLDER_FILES = 500_000
# Largest image decoded: 4096 x 4096 = 16.8 megapixels (48 MiB as RGB), a 12-megapixel phone photo fits. Checked from
# the file's header before decoding: a small PNG of 20000 x 20000 pixels would decode to 1.1 GiB.
MAX_IMAGE_PIXELS = 4096 * 4096
IMAGE_LIMIT_TEXT = f"{MAX_IMAGE_PIXELS / 1e6:.1f} megapixels (4096 x 4096)"
DIGITS = tuple(str(d) for d in range(10))
FASHION = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
CIFAR = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
OFFLINE_HINT = "use the bundled 'mnist' (5,000 digits, works offline) or a 2-D dataset"


class DataUnavailable(ConfigError):
    """A dataset is not on disk and could not be downloaded."""


def to_unit_range(images_uint8: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] -> float32 [-1, 1]: x / 127.5 - 1."""
    return images_uint8.float().div_(127.5).sub_(1.0)


class TensorImageSource:
    """Images held on the device as uint8 (N, C, H, W); batches walk a seeded permutation, epoch after epoch."""

    def __init__(self, *, spec: DataSpec, images: torch.Tensor, labels: torch.Tensor, seed: int, device):
        assert images.dtype == torch.uint8 and images.ndim == 4, images.shape
        self.spec = spec
        self.device = device
        self.images = images.to(device)              # (N, C, H, W) uint8
        self.labels = labels.to(torch.int64).to(device)  # (N,)
        self.order = EpochOrder(len(images), seed, "images")

    def _indices(self, n: int) -> torch.Tensor:
        return self.order.take(n)

    def sample(self, n: int):
        idx = self._indices(n).to(self.device, non_blocking=True)
        return to_unit_range(self.images[idx]), self.labels[idx]

    def real_sample(self, n: int, seed: int):
        idx = torch.randperm(len(self.images), generator=torch.Generator().manual_seed(seed))[:n]
        if n > len(idx):
            idx = torch.randint(len(self.images), (n,), generator=torch.Generator().manual_seed(seed))
        idx = idx.to(self.device)
        return to_unit_range(self.images[idx]), self.labels[idx]

    def get_state(self) -> dict:
        return self.order.get_state()

    def set_state(self, state: dict) -> None:
        self.order.set_state(state)


class FolderImageSource:
    """Image files decoded per batch (resize the shorter side, centre crop, as the DCGAN tutorial's transforms)."""

    def __init__(self, *, spec: DataSpec, files: list, labels: list, seed: int, device):
        self.spec = spec
        self.device = device
        self.files = files
        self.labels = torch.tensor(labels, dtype=torch.int64)
        self.order = EpochOrder(len(files), seed, "images")

    _indices = TensorImageSource._indices

    def _load(self, idx: torch.Tensor):
        batch = np.stack([read_image(self.files[i], self.spec.image_size, self.spec.channels) for i in idx.tolist()])
        x = to_unit_range(torch.from_numpy(batch)).to(self.device, non_blocking=True)  # (n, C, H, W)
        return x, self.labels[idx].to(self.device, non_blocking=True)

    def sample(self, n: int):
        return self._load(self._indices(n))

    def real_sample(self, n: int, seed: int):
        g = torch.Generator().manual_seed(seed)
        return self._load(torch.randint(len(self.files), (n,), generator=g))

    get_state = TensorImageSource.get_state
    set_state = TensorImageSource.set_state


def open_image(path, name: str = ""):
    """PIL's lazy Image.open (only the header is read), refused with ConfigError when it is not a readable image or
    has more than MAX_IMAGE_PIXELS pixels. Use as a context manager, like Image.open."""
    import warnings

    from PIL import Image
    name = name or Path(path).name
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(path)
    except Image.DecompressionBombError:  # PIL's own limit (about 179 megapixels), far above ours
        raise ConfigError(f"{name} is larger than the limit of {IMAGE_LIMIT_TEXT} per image") from None
    except (OSError, ValueError, SyntaxError) as err:  # UnidentifiedImageError is an OSError
        raise ConfigError(f"{name} is not a readable image ({str(err)[:80]})") from None
    w, h = img.size
    if w * h > MAX_IMAGE_PIXELS:
        img.close()
        raise ConfigError(f"{name} is {w} x {h} pixels; the limit is {IMAGE_LIMIT_TEXT} per image")
    return img


def read_image(path: Path, size: int, channels: int) -> np.ndarray:
    """Decode one image file to uint8 (C, size, size): shorter side resized to size, then centre-cropped.
    ConfigError if it is unreadable or over MAX_IMAGE_PIXELS (checked from its header, before decoding)."""
    from PIL import Image, ImageOps
    with open_image(path) as img:
        try:
            img = img.convert("L" if channels == 1 else "RGB")
            img = ImageOps.fit(img, (size, size), method=Image.Resampling.BICUBIC)
        except (OSError, ValueError, SyntaxError) as err:  # truncated or corrupt image data
            raise ConfigError(f"{Path(path).name} is not a readable image ({str(err)[:80]})") from None
        arr = np.asarray(img, dtype=np.uint8)
    return arr[None] if channels == 1 else arr.transpose(2, 0, 1)


def resize_uint8(images: torch.Tensor, size: int) -> torch.Tensor:
    """Resize uint8 (N, C, H, W) images to size x size with antialiased bilinear filtering, in chunks."""
    if images.shape[-1] == size and images.shape[-2] == size:
        return images
    out = []
    for chunk in images.split(4096):
        r = F.interpolate(chunk.float(), size=(size, size), mode="bilinear", antialias=True, align_corners=False)
        out.append(r.round_().clamp_(0, 255).to(torch.uint8))
    return torch.cat(out)


def load_bundled_mnist() -> tuple[torch.Tensor, torch.Tensor]:
    if not BUNDLED_MNIST.is_file():
        raise DataUnavailable(f"the bundled MNIST digits are missing: expected {BUNDLED_MNIST}")
    with np.load(BUNDLED_MNIST, allow_pickle=False) as d:
        images, labels = d["images"], d["labels"]
    return torch.from_numpy(images).unsqueeze(1), torch.from_numpy(labels.astype(np.int64))  # (N,1,28,28), (N,)


def load_torchvision(name: str, root: str, download: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST, Fashion-MNIST or CIFAR-10 (train split) through torchvision, as uint8 (N, C, H, W) and labels."""
    import torchvision.datasets as tvd
    cls, folder = {"mnist-full": (tvd.MNIST, "MNIST"), "fashion-mnist": (tvd.FashionMNIST, "FashionMNIST"),
                   "cifar10": (tvd.CIFAR10, "cifar-10-batches-py")}[name]
    where = Path(root) / folder
    try:
        ds = cls(root, train=True, download=download)
    except Exception as err:  # torchvision raises RuntimeError, URLError, OSError... when offline or corrupted
        how = "could not be downloaded" if download else "downloading is turned off"
        raise DataUnavailable(f"{name} is not in {where} and {how} ({type(err).__name__}: {str(err)[:120]}); "
                              f"{OFFLINE_HINT}") from None
    data = ds.data if isinstance(ds.data, torch.Tensor) else torch.from_numpy(np.asarray(ds.data))
    images = data.unsqueeze(1) if data.ndim == 3 else data.permute(0, 3, 1, 2)  # (N, C, H, W)
    labels = torch.as_tensor(np.asarray(ds.targets), dtype=torch.int64)
    return images.contiguous(), labels


def list_image_folder(folder: Path) -> tuple[list, list, tuple]:
    """Image files under folder; labels from the first-level subfolder when there are at least two of them."""
    if not folder.is_dir():
        raise ConfigError(f"image folder not found: {folder}")
    files = []
    for p in sorted(folder.rglob("*")):
        if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file() and not p.is_symlink():
            files.append(p)
            if len(files) > MAX_FOLDER_FILES:
                raise ConfigError(f"{folder} holds more than {MAX_FOLDER_FILES:,} images; the limit is {MAX_FOLDER_FILES:,}")
    if not files:
        raise ConfigError(f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) found in {folder}")
    tops = sorted({p.relative_to(folder).parts[0] for p in files if len(p.relative_to(folder).parts) > 1})
    if len(tops) >= 2 and all(len(p.relative_to(folder).parts) > 1 for p in files):
        index = {name: i for i, name in enumerate(tops)}
        return files, [index[p.relative_to(folder).parts[0]] for p in files], tuple(tops)
    return files, [0] * len(files), ()


def folder_channels(files: list) -> int:
    """1 if the first few images are all greyscale, else 3."""
    for f in files[:16]:
        with open_image(f) as img:
            if img.mode not in ("L", "1", "I;16", "I"):
                return 3
    return 1


def celeba_folder(root: str, download: bool) -> Path:
    """The aligned CelebA images folder, downloading it through torchvision when missing and allowed."""
    folder = Path(root) / "celeba" / "img_align_celeba"
    if folder.is_dir() and any(folder.iterdir()):
        return folder
    if download:
        try:
            import torchvision.datasets as tvd
            tvd.CelebA(root, split="train", download=True)
        except Exception as err:
            raise DataUnavailable(f"celeba is not in {folder} and could not be downloaded ({type(err).__name__}: "
                                  f"{str(err)[:120]}); unzip img_align_celeba.zip there, or {OFFLINE_HINT}") from None
        if folder.is_dir():
            return folder
    raise DataUnavailable(f"celeba is not in {folder}; unzip img_align_celeba.zip there, or {OFFLINE_HINT}")


def build_image_source(config, device):
    seed = stream(config.seed, DATA)
    if config.data in ("celeba", "folder"):
        folder = celeba_folder(config.data_root, config.download) if config.data == "celeba" else Path(config.folder_path)
        files, labels, classes = list_image_folder(folder)
        size = config.image_size or 64
        channels = 3 if config.data == "celeba" else folder_channels(files)
        title = "CelebA faces" if config.data == "celeba" else f"Image folder {folder.name}"
        spec = DataSpec(name=config.data, title=title, kind="image", shape=(channels, size, size),
                        num_classes=len(classes), class_names=classes, size=len(files), source=str(folder))
        return FolderImageSource(spec=spec, files=files, labels=labels, seed=seed, device=device)
    if config.data == "mnist":
        images, labels = load_bundled_mnist()
        title, names, source = "MNIST digits (5,000 bundled)", DIGITS, "assets/mnist5k.npz (LeCun, Cortes, Burges; CC BY-SA 3.0)"
    else:
        images, labels = load_torchvision(config.data, config.data_root, config.download)
        names = {"mnist-full": DIGITS, "fashion-mnist": FASHION, "cifar10": CIFAR}[config.data]
        title = {"mnist-full": "MNIST (60,000)", "fashion-mnist": "Fashion-MNIST", "cifar10": "CIFAR-10"}[config.data]
        source = f"torchvision, {config.data_root}"
    size = config.image_size or images.shape[-1]
    images = resize_uint8(images, size)
    spec = DataSpec(name=config.data, title=title, kind="image", shape=tuple(images.shape[1:]),
                    num_classes=len(names), class_names=names, size=len(images), source=source)
    return TensorImageSource(spec=spec, images=images, labels=labels, seed=seed, device=device)
