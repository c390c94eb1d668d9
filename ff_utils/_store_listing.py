"""Listing a directory under the data root without following a symlink to it or in it.

Managers list folders to find sessions, panels, days of metrics. ``os.scandir(path)`` resolves
``path`` by its text, so a folder swapped for a symlink lists whatever it points at. Here the
folder is reached by the no-follow walk from the root (:mod:`ff_utils._dir_fd`), opened with
``O_DIRECTORY | O_NOFOLLOW`` and listed through its descriptor; each entry's type comes from the
directory read (``lstat`` semantics), so a symlink inside is reported as one, never as its target.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from ff_utils._dir_fd import NOFOLLOW, ff_open_parent, ff_refuse_link
from ff_utils.ff_errors import ff_translate_errors

__all__ = ["FFDirEntry", "ff_list_dir"]

_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)


@dataclass(frozen=True, slots=True)
class FFDirEntry:
    """One entry of a listed directory, typed without following symlinks."""

    name: str
    path: Path
    is_dir: bool
    is_file: bool
    is_symlink: bool


def _open_listed(path: str, root: str | None) -> int:
    if path == root:
        with ff_translate_errors("list directory", path):
            return os.open(root, _DIR_FLAGS)
    with ff_open_parent(path, root) as (parent, name), ff_translate_errors("list directory", path):
        try:
            return os.open(name, _DIR_FLAGS | NOFOLLOW, dir_fd=parent)
        except OSError:
            if _is_link(parent, name):
                raise ff_refuse_link(name, path) from None
            raise


def _is_link(parent: int, name: str) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode)
    except OSError:
        return False


def ff_list_dir(path: Path | str, root: str | None) -> list[FFDirEntry]:
    """Entries of directory ``path`` (under ``root``), sorted by name; FFNotFoundError when missing."""
    text = os.fspath(path)
    fd = _open_listed(text, root)
    try:
        with ff_translate_errors("list directory", text), os.scandir(fd) as listing:
            entries = [
                FFDirEntry(
                    entry.name,
                    Path(text, entry.name),
                    entry.is_dir(follow_symlinks=False),
                    entry.is_file(follow_symlinks=False),
                    entry.is_symlink(),
                )
                for entry in listing
            ]
    finally:
        os.close(fd)
    entries.sort(key=lambda entry: entry.name)
    return entries
