"""Reading a legacy root without ever following a symbolic link.

A legacy folder is input from somewhere else: a ``documents/`` file linked to ``/etc/passwd`` or a
session folder linked to another user's must not become data of this root. So every listing here
uses ``lstat`` (``os.scandir`` without following), a symlink is reported as such and never
descended into, and every file is opened with ``O_NOFOLLOW`` so a link swapped in between the
listing and the read fails instead of being read through.

The line rule (what counts as a record line) is here too, so the reader and the comparison's
completeness audit count lines the same way: a UTF-8 BOM at the start of a file is not data, and a
line holding only whitespace (``\\r`` of a CRLF file included) is blank.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

__all__ = [
    "BOM",
    "FFEntry",
    "count_record_lines",
    "describe_link",
    "entry_kind",
    "iter_raw_lines",
    "list_entries",
    "open_nofollow",
    "read_nofollow",
]

BOM = b"\xef\xbb\xbf"
EntryKind = Literal["dir", "file", "symlink", "other"]


@dataclass(frozen=True)
class FFEntry:
    """One child of a directory, typed by ``lstat`` (a symlink is a ``symlink``, never its target)."""

    path: Path
    kind: EntryKind

    @property
    def name(self) -> str:
        return self.path.name


def entry_kind(path: Path) -> EntryKind | None:
    """What ``path`` itself is (not what a link points to); None when it does not exist."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return None
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISREG(mode):
        return "file"
    return "other"


def list_entries(directory: Path) -> list[FFEntry]:
    """The children of ``directory``, sorted by name, typed without following links."""
    entries: list[FFEntry] = []
    with os.scandir(directory) as scan:
        for item in scan:
            if item.is_symlink():
                kind: EntryKind = "symlink"
            elif item.is_dir(follow_symlinks=False):
                kind = "dir"
            elif item.is_file(follow_symlinks=False):
                kind = "file"
            else:
                kind = "other"
            entries.append(FFEntry(Path(item.path), kind))
    entries.sort(key=lambda e: e.name)
    return entries


def describe_link(path: Path) -> str:
    """The reason a symlink is skipped, naming where it points."""
    try:
        target = os.readlink(path)
    except OSError:
        target = "?"
    return f"symbolic link to {target!r}: migration never follows links; not imported"


def open_nofollow(path: Path) -> BinaryIO:
    """Open a file for reading; OSError (ELOOP) when ``path`` is a symlink."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    return os.fdopen(fd, "rb")


def read_nofollow(path: Path) -> bytes:
    """The bytes of a file, refusing a symlink (OSError)."""
    with open_nofollow(path) as handle:
        return handle.read()


def iter_raw_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(line number, bytes) of a file, the BOM of the first line removed."""
    with open_nofollow(path) as handle:
        for number, raw in enumerate(handle, start=1):
            if number == 1 and raw.startswith(BOM):
                raw = raw[len(BOM):]
            yield number, raw


def count_record_lines(path: Path) -> int:
    """How many non-blank lines a file has (each one must be imported or listed)."""
    return sum(1 for _n, raw in iter_raw_lines(path) if raw.strip())
