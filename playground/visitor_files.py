"""Where a visitor's files live, and the quotas that keep one visitor (or many) from filling the disk.

- Each visitor has one private folder (created on first use, deleted with the session): uploads extracted there,
  and exports (GIFs, PNGs) written there. A new export of a kind replaces the previous one, so a visitor who clicks
  "Make a GIF" a hundred times holds one GIF. At most one extracted image zip is kept per visitor (the one in use).
- Extracted uploads of all visitors together stay under ``extract_quota`` bytes: an upload that would go over is
  refused with the limit named.
- Saved checkpoints (``save_dir``, kept across restarts) are capped per visitor (the newest ``MAX_SAVES_PER_VISITOR``
  of a page are kept; older ones of that page are deleted) and in total (the oldest files of the folder are deleted
  until the folder is under ``save_quota`` bytes), and a page may save once every ``SAVE_INTERVAL`` seconds.
Gradio copies every file it serves into its own cache, which ``delete_cache`` empties (playground/app.py).
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Iterable, Optional

MAX_SAVES_PER_VISITOR = 3
SAVE_INTERVAL = 5.0          # seconds between two saves of one page
SAVE_PATTERN = "gan-*.pt"    # the only files the quota ever deletes in the save folder


def visitor_dir(session) -> Path:
    """The visitor's private folder (created on first use; the registry deletes it when the visitor leaves)."""
    if session.workdir is None:
        session.workdir = tempfile.mkdtemp(prefix="gan-visitor-")
    return Path(session.workdir)


def replace_export(session, kind: str, name: str, data: bytes) -> Path:
    """Write an export (kind: "gif", "png", ...) into the visitor's folder, deleting the previous one of that kind.
    The file gets a folder of its own so its name stays readable for the download."""
    root = visitor_dir(session) / f"export-{kind}"
    shutil.rmtree(root, ignore_errors=True)
    folder = root / str(time.monotonic_ns())
    folder.mkdir(parents=True)
    path = folder / name
    path.write_bytes(data)
    return path


def tree_bytes(path: Path) -> int:
    """Bytes of the regular files under path (0 when it does not exist)."""
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(root, f)).st_size
            except OSError:
                pass
    return total


def drop_other_extractions(session, keep: Optional[str]) -> None:
    """Delete the visitor's extracted uploads other than ``keep`` (the folder their setup uses)."""
    if session.workdir is None:
        return
    keep_path = Path(keep).resolve() if keep else None
    for folder in Path(session.workdir).glob("images-*"):
        if keep_path is None or folder.resolve() != keep_path:
            shutil.rmtree(folder, ignore_errors=True)


def zip_unpacked_bytes(path: str | Path) -> int:
    """What a zip's directory says it unpacks to (0 for an unreadable zip: extraction then refuses it)."""
    import zipfile
    try:
        with zipfile.ZipFile(path) as zf:
            return sum(info.file_size for info in zf.infolist())
    except (zipfile.BadZipFile, OSError):
        return 0


def extracted_bytes(sessions: Iterable) -> int:
    """Bytes of extracted uploads across the given visitors."""
    return sum(tree_bytes(f) for s in sessions if s.workdir for f in Path(s.workdir).glob("images-*"))


class SaveFolder:
    """The checkpoint folder with its per-visitor and total quotas."""

    def __init__(self, folder: str | Path, quota_bytes: int):
        self.folder, self.quota_bytes = Path(folder), int(quota_bytes)

    def check_can_save(self, session, now: float) -> Optional[str]:
        """A sentence when this page may not save now (too soon after its last save), else None."""
        if now - session.last_save < SAVE_INTERVAL:
            return f"⚠ one save every {SAVE_INTERVAL:g} s per page; try again in a moment."
        return None

    def record(self, session, path: Path, now: float) -> None:
        """Remember a page's new save; delete its saves beyond the newest MAX_SAVES_PER_VISITOR and keep the folder
        under its total quota (oldest files first, never the file just written)."""
        saves = session.saves
        saves.append(str(path))
        session.last_save = now
        while len(saves) > MAX_SAVES_PER_VISITOR:
            Path(saves.pop(0)).unlink(missing_ok=True)
        self.enforce_quota(keep=path)

    def enforce_quota(self, keep: Optional[Path] = None) -> None:
        files = []
        for p in self.folder.glob(SAVE_PATTERN):
            try:
                st = p.stat()
            except OSError:
                continue
            files.append((st.st_mtime, st.st_size, p))
        total = sum(size for _, size, _ in files)
        for _, size, p in sorted(files, key=lambda f: f[0]):
            if total <= self.quota_bytes:
                break
            if keep is not None and p.resolve() == Path(keep).resolve():
                continue
            p.unlink(missing_ok=True)
            total -= size
