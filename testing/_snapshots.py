"""One way to snapshot a file tree, for proving that a refused call wrote nothing.

Used by the security suite (a hostile input must leave the data root and its outside neighbours
unchanged) and by the pytest suite (tests._fakes re-exports it), so both compare trees alike.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

__all__ = ["Snapshot", "snapshot_tree"]

Snapshot = dict[str, tuple[str, int, str]]


def snapshot_tree(top: Path) -> Snapshot:
    """Every entry under ``top`` with its kind, size and SHA-256; symlinks are recorded, not followed.

    Two snapshots compare equal exactly when nothing was created, removed, changed or re-linked.
    A missing ``top`` is an empty tree.
    """
    entries: Snapshot = {}
    if not top.exists():
        return entries
    for directory, dirnames, filenames in os.walk(top, followlinks=False):
        for name in dirnames + filenames:
            full = Path(directory) / name
            relative = full.relative_to(top).as_posix()
            if full.is_symlink():
                entries[relative] = ("link", 0, os.readlink(full))
            elif full.is_dir():
                entries[relative] = ("dir", 0, "")
            else:
                entries[relative] = ("file", full.lstat().st_size, hashlib.sha256(full.read_bytes()).hexdigest())
    return entries
