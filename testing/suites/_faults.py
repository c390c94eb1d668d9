"""Fault injection for the failure suite: I/O errors inside the storage layer, fsync spies.

The storage modules of ff_utils reach the operating system through their module-level ``os``
name (``os.write``, ``os.fsync``, ``os.replace``). :func:`os_fault` swaps that name, for the
duration of one ``with`` block, for a copy of ``os`` in which one function fails with an
``OSError`` (ENOSPC by default) -- but only for files at or under one target path, so the rest
of the process keeps its real file system. :func:`fsync_spy` swaps in a copy whose ``fsync``
records which file it made durable and how long the file was then.

The swap is process-wide while it lasts, which is why the failure suite runs one test at a time.
The real module is always put back (``finally``), even when the block raises.
"""

from __future__ import annotations

import contextlib
import errno
import os
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["FFFaultLog", "FFSyncRecord", "os_fault", "fsync_spy", "fd_path"]

_FD_FUNCTIONS = frozenset({"write", "fsync", "fdatasync", "ftruncate", "pread", "fstat"})
_PATH_ARGUMENT = {"replace": 1, "rename": 1, "open": 0, "unlink": 0, "mkdir": 0}


def fd_path(fd: int) -> Path | None:
    """The file an open descriptor refers to (Linux /proc), or None when it cannot be told."""
    try:
        return Path(os.readlink(f"/proc/self/fd/{fd}"))
    except OSError:
        return None


def _is_under(path: Path | None, target: Path) -> bool:
    # Without /proc the file cannot be told apart: fail every call rather than none.
    return path is None or path == target or target in path.parents


@dataclass(slots=True)
class FFFaultLog:
    """What an injected fault did: calls it failed, and bytes it let through before failing."""

    failed_calls: int = 0
    partial_bytes: int = 0
    paths: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class FFSyncRecord:
    """One fsync the spy saw: the file and its size at that moment."""

    path: Path | None
    size: int


def _call_target(function: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Path | None:
    if function in _FD_FUNCTIONS:
        return fd_path(args[0])
    index = _PATH_ARGUMENT.get(function)
    if index is None or len(args) <= index:
        return None
    # Storage opens and renames relative to a directory descriptor (no-follow walks).
    directory = kwargs.get("dst_dir_fd" if function in ("replace", "rename") else "dir_fd")
    base = fd_path(directory) if isinstance(directory, int) else None
    name = Path(os.fsdecode(args[index]))
    return base / name if base is not None else name.absolute()


@contextlib.contextmanager
def os_fault(
    module: types.ModuleType,
    function: str,
    target: Path,
    *,
    error: int = errno.ENOSPC,
    partial_write: bool = False,
) -> Iterator[FFFaultLog]:
    """Make ``module.os.<function>`` fail with ``OSError(error)`` for files at or under ``target``.

    With ``partial_write`` (for ``write`` only) the first failing call first writes half of its
    bytes and returns that short count, as a disk that fills up mid-write does; the next call
    raises. So "nothing partial is left behind" is tested against a real partial write.
    """
    real = module.os
    if not callable(getattr(real, function, None)):
        raise ValueError(f"os has no function {function!r}")
    resolved = target.resolve()
    log = FFFaultLog()
    original: Callable[..., Any] = getattr(real, function)

    def faulty(*args: Any, **kwargs: Any) -> Any:
        path = _call_target(function, args, kwargs)
        if not _is_under(path, resolved):
            return original(*args, **kwargs)
        if partial_write and function == "write" and log.partial_bytes == 0 and len(args[1]) > 1:
            written = original(args[0], args[1][: len(args[1]) // 2])
            log.partial_bytes = written
            return written
        log.failed_calls += 1
        log.paths.append(str(path))
        raise OSError(error, os.strerror(error), str(path))

    fake = types.SimpleNamespace(**vars(real))
    setattr(fake, function, faulty)
    module.os = fake  # type: ignore[attr-defined]
    try:
        yield log
    finally:
        module.os = real  # type: ignore[attr-defined]


@contextlib.contextmanager
def fsync_spy(module: types.ModuleType) -> Iterator[list[FFSyncRecord]]:
    """Record every ``module.os.fsync`` (file and size) while still really fsyncing."""
    real = module.os
    seen: list[FFSyncRecord] = []

    def spying_fsync(fd: int) -> None:
        real.fsync(fd)
        seen.append(FFSyncRecord(fd_path(fd), real.fstat(fd).st_size))

    fake = types.SimpleNamespace(**vars(real))
    fake.fsync = spying_fsync
    module.os = fake  # type: ignore[attr-defined]
    try:
        yield seen
    finally:
        module.os = real  # type: ignore[attr-defined]
