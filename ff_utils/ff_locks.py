"""Per-file locks that hold across threads, processes and inside one asyncio event loop.

Across processes we use ``filelock`` (``flock`` on POSIX) on a hidden sibling lock file
``.<name>.lock``; the lock file is kept, because deleting it on release lets a third process lock
a fresh inode while a second still holds the old one. Inside a process a plain ``threading.Lock``
per path sits in front, so waiting threads sleep instead of polling the file lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import filelock

from ff_utils.ff_errors import FFStorageError, ff_translate_errors

__all__ = ["ff_lock_path", "ff_file_lock", "ff_async_file_lock", "FF_LOCK_SUFFIX"]

FF_LOCK_SUFFIX = ".lock"
_DEFAULT_TIMEOUT_S = 30.0

_registry_guard = threading.Lock()
_thread_locks: dict[Path, threading.Lock] = {}


def ff_lock_path(path: Path | str) -> Path:
    """Where the cross-process lock for ``path`` lives: a hidden sibling file."""
    target = Path(path)
    return target.with_name(f".{target.name}{FF_LOCK_SUFFIX}")


def _thread_lock_for(lock_file: Path) -> threading.Lock:
    with _registry_guard:
        lock = _thread_locks.get(lock_file)
        if lock is None:
            lock = _thread_locks[lock_file] = threading.Lock()
        return lock


def _acquire(path: Path, timeout: float) -> tuple[threading.Lock, filelock.BaseFileLock]:
    lock_file = ff_lock_path(path)
    with ff_translate_errors("create lock directory", lock_file.parent):
        lock_file.parent.mkdir(parents=True, exist_ok=True)
    thread_lock = _thread_lock_for(lock_file)
    if not thread_lock.acquire(timeout=timeout):
        raise FFStorageError(f"lock not acquired within {timeout:.1f}s", path=path)
    process_lock = filelock.FileLock(
        lock_file, timeout=timeout, thread_local=False, preserve_lock_file=True, poll_interval=0.001
    )
    try:
        process_lock.acquire()
    except filelock.Timeout as exc:
        thread_lock.release()
        raise FFStorageError(f"lock held by another process for over {timeout:.1f}s", path=path) from exc
    except BaseException:
        thread_lock.release()
        raise
    return thread_lock, process_lock


def _release(thread_lock: threading.Lock, process_lock: filelock.BaseFileLock) -> None:
    try:
        process_lock.release()
    finally:
        thread_lock.release()


@contextlib.contextmanager
def ff_file_lock(path: Path | str, *, timeout: float = _DEFAULT_TIMEOUT_S) -> Iterator[None]:
    """Hold the lock for ``path`` (the data file, not the lock file) for the ``with`` body."""
    held = _acquire(Path(path), timeout)
    try:
        yield
    finally:
        _release(*held)


@contextlib.asynccontextmanager
async def ff_async_file_lock(path: Path | str, *, timeout: float = _DEFAULT_TIMEOUT_S) -> AsyncIterator[None]:
    """The same lock for coroutines: waiting happens in a worker thread, never on the loop."""
    held = await asyncio.to_thread(_acquire, Path(path), timeout)
    try:
        yield
    finally:
        await asyncio.to_thread(_release, *held)
