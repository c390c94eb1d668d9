"""One durable barrier for many files: ``syncfs`` of the filesystem that holds them.

Writing N small files durably one by one costs 2N fsyncs (each file, then its directory), and
on a journalling filesystem each one is a journal commit. A batch that only needs every file
durable *before one commit point* (a knowledge base's catalog) can instead write them all
without fsync and then flush the filesystem once: ``syncfs(2)`` writes back every dirty page and
inode of that filesystem and commits the journal, so the files' data, their names (the renames
of atomic writes) and new directories all reach the disk before it returns. Since Linux 5.8 it
also reports a writeback error (EIO) that happened since the descriptor was opened.

Where ``syncfs`` is missing (not Linux, or no libc symbol) ``os.sync()`` is the fallback: it
flushes every filesystem, which is slower on a busy machine but never weaker.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from collections.abc import Callable
from functools import cache
from pathlib import Path

from ff_utils.ff_errors import ff_translate_errors

__all__ = ["ff_sync_filesystem"]


@cache
def _syncfs() -> Callable[[int], int] | None:
    """libc's ``syncfs`` or None where there is none."""
    if not os.uname().sysname == "Linux":
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        function = libc.syncfs
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int]
    function.restype = ctypes.c_int
    return function  # type: ignore[no-any-return]


def ff_sync_filesystem(directory: Path | str) -> None:
    """Make everything written so far on ``directory``'s filesystem durable (one ``syncfs``).

    Raises FFStorageError (or a subclass, FFNotFoundError when ``directory`` is missing) when
    the directory cannot be opened or the flush reports an I/O error.
    """
    target = Path(directory)
    syncfs = _syncfs()
    with ff_translate_errors("sync filesystem", target):
        fd = os.open(target, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
        try:
            if syncfs is None:
                os.sync()
            elif syncfs(fd) != 0:
                error = ctypes.get_errno()
                raise OSError(error, os.strerror(error), os.fspath(target))
        finally:
            os.close(fd)
