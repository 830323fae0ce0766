"""Atomic file writes (a temporary file in the same folder, fsync, then rename: a crash mid-write leaves the previous
file intact) and the clean-up of the temporary files a killed process left behind."""
from __future__ import annotations

import os
import re
import tempfile
import time
from pathlib import Path
from typing import Union


def write_atomic(path: Union[str, Path], data: bytes) -> Path:
    """Write bytes to path through a temporary file in the same folder and an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


# write_atomic's temporary files: "." + the target's name + "." + mkstemp's 8 random characters + ".tmp".
_TEMP_NAME = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.tmp$")


def remove_stale_temp_files(folder: Union[str, Path], older_than_s: float = 600.0) -> list:
    """Delete write_atomic's leftovers in folder: temporary files of saves that a killed process (kill -9, a crash,
    a power cut) never finished. Only regular files named as write_atomic names them and not modified for
    older_than_s seconds are removed, so a save in progress (another thread or process) is never hit; the default
    of 10 minutes is far longer than any save takes. Returns the names removed. Missing folders are fine."""
    folder, removed = Path(folder), []
    cutoff = time.time() - older_than_s
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return removed
    for entry in entries:
        if not _TEMP_NAME.match(entry.name):
            continue
        try:
            if entry.is_file(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_mtime < cutoff:
                os.unlink(entry.path)
                removed.append(entry.name)
        except FileNotFoundError:  # removed meanwhile (its save finished, or another clean-up)
            pass
    return removed
