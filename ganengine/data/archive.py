"""Safe extraction of an uploaded zip of images into a folder the image-folder dataset can read.

Every limit is checked from the zip's directory before a byte is written, and again while writing (a lying header
cannot push past the limits):
- at most MAX_FILES image members (a zip of a million tiny files is refused whole);
- at most MAX_TOTAL_BYTES uncompressed in all, and MAX_MEMBER_BYTES per member;
- a compression ratio of at most MAX_RATIO per member (zip bombs);
- no absolute paths, no "..", no drive letters, no symlinks: every member lands inside the target folder;
- only image files are extracted (by suffix), other members are skipped and counted.
- every extracted image must be readable and at most MAX_IMAGE_PIXELS, read from its header (a 20000 x 20000 PNG
  compresses to a few hundred KB but decodes to 1.1 GiB); the caller deletes the folder when the zip is refused.
Images are checked again when decoded (images.read_image).
"""
from __future__ import annotations

import stat
import zipfile
from pathlib import Path, PurePosixPath

from ganengine.config import ConfigError
from ganengine.data.images import IMAGE_SUFFIXES, open_image

MAX_FILES = 20_000
MAX_TOTAL_BYTES = 300 * 2**20
MAX_MEMBER_BYTES = 20 * 2**20
MAX_RATIO = 200
LIMITS_TEXT = (f"at most {MAX_FILES:,} images, {MAX_TOTAL_BYTES // 2**20} MiB unpacked "
               f"({MAX_MEMBER_BYTES // 2**20} MiB per image)")


def _safe_name(name: str) -> PurePosixPath | None:
    """The member's relative path if it stays inside the target, else None."""
    name = name.replace("\\", "/")
    p = PurePosixPath(name)
    if p.is_absolute() or not p.parts or any(part in ("..", "") for part in p.parts) or ":" in p.parts[0]:
        return None
    return p


def extract_images(zip_path: str | Path, target: str | Path) -> dict:
    """Extract the image members of zip_path into target (created). Returns counts; raises ConfigError."""
    target = Path(target)
    try:
        zf = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as err:
        raise ConfigError(f"not a readable zip file ({err})") from None
    with zf:
        members, skipped, total = [], 0, 0
        for info in zf.infolist():
            if info.is_dir():
                continue
            is_link = stat.S_ISLNK(info.external_attr >> 16)
            rel = _safe_name(info.filename)
            if rel is None:
                raise ConfigError(f"the zip holds a path that leaves its folder ({info.filename[:80]!r}); refused")
            if is_link or rel.suffix.lower() not in IMAGE_SUFFIXES or rel.name.startswith("."):
                skipped += 1
                continue
            if len(members) >= MAX_FILES:
                raise ConfigError(f"the zip holds more than {MAX_FILES:,} images; the limit is {LIMITS_TEXT}")
            if info.file_size > MAX_MEMBER_BYTES:
                raise ConfigError(f"{rel.name} unpacks to {info.file_size / 2**20:.0f} MiB; the limit is {LIMITS_TEXT}")
            if info.compress_size and info.file_size / info.compress_size > MAX_RATIO:
                raise ConfigError(f"{rel.name} is compressed {info.file_size // info.compress_size}x: refused as a "
                                  f"possible zip bomb")
            total += info.file_size
            if total > MAX_TOTAL_BYTES:
                raise ConfigError(f"the zip unpacks to more than {MAX_TOTAL_BYTES // 2**20} MiB; the limit is "
                                  f"{LIMITS_TEXT}")
            members.append((info, rel))
        if not members:
            raise ConfigError(f"the zip holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
        target.mkdir(parents=True, exist_ok=True)
        root = target.resolve()
        written = 0
        for info, rel in members:
            out = (target / Path(*rel.parts)).resolve()
            if root not in out.parents:
                raise ConfigError(f"the zip holds a path that leaves its folder ({info.filename[:80]!r}); refused")
            out.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(out, "wb") as dst:
                remaining = info.file_size
                while True:
                    chunk = src.read(1 << 16)
                    if not chunk:
                        break
                    remaining -= len(chunk)
                    written += len(chunk)
                    if remaining < 0 or written > MAX_TOTAL_BYTES:
                        raise ConfigError("the zip's contents are larger than its directory says: refused")
                    dst.write(chunk)
            with open_image(out, rel.name):  # header only: refuses unreadable and oversized images
                pass
    return {"images": len(members), "skipped": skipped, "bytes": written}
