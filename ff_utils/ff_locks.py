"""Per-file locks that hold across threads, processes and inside one asyncio event loop.

Across processes: ``portalocker`` (``flock`` on POSIX, ``LockFileEx`` on Windows) on a hidden
sibling lock file ``.<name>.lock``. The lock file is never deleted, because deleting it on release
lets a third process lock a fresh inode while a second still holds the old one.

Inside a process: a ``threading.Lock`` per lock file sits in front, so waiting threads sleep
instead of polling, and only one thread at a time uses the file handle.

Why portalocker on a cached handle rather than ``filelock``: every durable append takes this
lock, and ``filelock`` 4.x measured ~480 µs per acquire/release on this machine against ~17 µs
for portalocker on an open handle (raw ``flock`` ~3 µs). On POSIX the lock is taken with
``fcntl.flock`` directly, the same call portalocker makes there (so processes using either
interoperate), minus its per-call overhead; elsewhere portalocker. Handles are cached (bounded,
LRU) and dropped in a forked child: a child must never share its parent's open file
description, or both would "hold" the same flock at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import portalocker

try:
    import fcntl
except ImportError:  # Windows: portalocker's LockFileEx path
    fcntl = None  # type: ignore[assignment]

from ff_utils._dir_fd import NOFOLLOW, ff_open_parent, ff_refuse_link
from ff_utils.ff_errors import FFStorageError, ff_translate_errors

__all__ = [
    "FF_LOCK_SUFFIX",
    "FFLockBusy",
    "ff_async_file_lock",
    "ff_file_lock",
    "ff_lock_held",
    "ff_lock_path",
    "ff_locks_fail_fast",
    "ff_locks_failing_fast",
]

FF_LOCK_SUFFIX = ".lock"
_DEFAULT_TIMEOUT_S = 30.0
_MAX_OPEN_HANDLES = 256
_POLL_START_S = 0.0002
_POLL_MAX_S = 0.005
_LOCK_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)


class FFLockBusy(Exception):
    """A lock was held by someone else while the calling thread was in :func:`ff_locks_fail_fast`.

    Not an FFError on purpose: it never reaches a caller of the public API. The code that
    turned fail-fast on catches it and takes another way (the I/O thread hands the group to a
    thread that may wait; the metrics appender writes to its own overflow file). It is raised
    before anything is written under the lock.
    """

    def __init__(self, path: Path | str) -> None:
        super().__init__(f"lock busy: {path}")
        self.path = path


_fail_fast = threading.local()


@contextlib.contextmanager
def ff_locks_fail_fast() -> Iterator[None]:
    """In the ``with`` body, a lock the calling thread cannot take at once raises FFLockBusy.

    Why: a thread that serves many callers (the store's I/O thread) must not sleep on one
    contended lock. The holder may be a process that is frozen (SIGSTOP, a VM pause) or
    stuck on a slow disk; waiting for it would stall every other caller's write behind one
    user's lock. Re-entrant and per thread.
    """
    previous = getattr(_fail_fast, "on", False)
    _fail_fast.on = True
    try:
        yield
    finally:
        _fail_fast.on = previous


def ff_locks_failing_fast() -> bool:
    """Whether the calling thread is inside :func:`ff_locks_fail_fast`."""
    return getattr(_fail_fast, "on", False)


@dataclass(eq=False)
class _Entry:
    """The in-process half of one lock file: a thread lock and the (lazily opened) handle."""

    thread_lock: threading.Lock = field(default_factory=threading.Lock)
    handle: IO[bytes] | None = None
    owner: int = 0  # the thread holding it through ff_file_lock (0: none, or an async holder)


_registry_guard = threading.Lock()
_entries: OrderedDict[str, _Entry] = OrderedDict()  # keyed by str: pathlib hashing is slow


def _forget_after_fork() -> None:
    # The child gets fresh locks and no handles: inherited handles share the parent's flock, and a
    # thread lock held by another parent thread at fork time would stay locked forever here.
    global _registry_guard, _entries
    _registry_guard = threading.Lock()
    _entries = OrderedDict()


os.register_at_fork(after_in_child=_forget_after_fork)


def _lock_file_name(path: Path | str) -> str:
    directory, name = os.path.split(os.fspath(path))
    return os.path.join(directory, f".{name}{FF_LOCK_SUFFIX}")


def ff_lock_path(path: Path | str) -> Path:
    """Where the cross-process lock for ``path`` lives: a hidden sibling file."""
    return Path(_lock_file_name(path))


def _entry_for(lock_file: str) -> _Entry:
    with _registry_guard:
        entry = _entries.get(lock_file)
        if entry is None:
            entry = _entries[lock_file] = _Entry()
        else:
            _entries.move_to_end(lock_file)
        return entry


def _close_idle_handles() -> None:
    """Keep at most _MAX_OPEN_HANDLES handles open; only entries nobody holds are closed.

    Called when a handle was just opened (not on every acquire: counting the open handles is
    a walk over every lock file this process ever used, which grew with the sessions touched).
    """
    with _registry_guard:
        open_count = sum(1 for e in _entries.values() if e.handle is not None)
        if open_count <= _MAX_OPEN_HANDLES:
            return
        for entry in list(_entries.values()):
            if open_count <= _MAX_OPEN_HANDLES:
                break
            if entry.handle is not None and entry.thread_lock.acquire(blocking=False):
                try:
                    entry.handle.close()
                    entry.handle = None
                    open_count -= 1
                finally:
                    entry.thread_lock.release()


def _try_lock_posix(handle: IO[bytes]) -> None:
    # The very call portalocker makes on POSIX (its default locker is fcntl.flock), without its
    # flag-enum arithmetic, which was most of the lock's cost on every durable append.
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise portalocker.AlreadyLocked() from None
    except OSError as exc:
        raise portalocker.LockException(exc) from exc


def _try_lock_portable(handle: IO[bytes]) -> None:
    portalocker.lock(handle, portalocker.LOCK_EX | portalocker.LOCK_NB)


def _unlock_posix(handle: IO[bytes]) -> None:
    fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _unlock_portable(handle: IO[bytes]) -> None:
    portalocker.unlock(handle)


_try_lock = _try_lock_posix if fcntl is not None else _try_lock_portable
_unlock = _unlock_posix if fcntl is not None else _unlock_portable


def _lock_handle(handle: IO[bytes], path: Path | str, timeout: float, fail_fast: bool = False) -> None:
    if fail_fast:
        try:
            _try_lock(handle)
            return
        except portalocker.AlreadyLocked:
            raise FFLockBusy(path) from None
        except portalocker.LockException as exc:
            raise FFStorageError(f"cannot lock: {exc}", path=path) from exc
    deadline = time.monotonic() + timeout
    pause = _POLL_START_S
    while True:
        try:
            _try_lock(handle)
            return
        except portalocker.AlreadyLocked:
            if time.monotonic() >= deadline:
                raise FFStorageError(f"lock held by another process for over {timeout:.1f}s", path=path) from None
            time.sleep(pause)
            pause = min(pause * 2, _POLL_MAX_S)
        except portalocker.LockException as exc:
            raise FFStorageError(f"cannot lock: {exc}", path=path) from exc


def _open_lock_file(lock_file: str, root: Path | str | None) -> IO[bytes]:
    """Open (create) the lock file without following a symlink, walked from ``root``."""
    with ff_open_parent(lock_file, root, create=True) as (parent, name), ff_translate_errors("open lock file", lock_file):
        try:
            fd = os.open(name, _LOCK_FLAGS | NOFOLLOW, 0o644, dir_fd=parent)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise ff_refuse_link(name, lock_file) from None
            raise
        return os.fdopen(fd, "ab")


_lock_names: dict[str, str] = {}  # data file -> lock file, for the paths locked on hot paths
_MAX_LOCK_NAMES = 4096


def _lock_file_for(path: Path | str) -> str:
    text = path if type(path) is str else os.fspath(path)
    lock_file = _lock_names.get(text)
    if lock_file is None:
        if len(_lock_names) >= _MAX_LOCK_NAMES:
            _lock_names.clear()
        lock_file = _lock_names[text] = _lock_file_name(text)
    return lock_file


def ff_lock_held(path: Path | str) -> bool:
    """Whether the calling thread holds ``path``'s lock through :class:`ff_file_lock`.

    Lets a writer that must hold one lock across "check, then append" (memory's session log:
    the id check and the write) hand the append to code that would otherwise take the same
    lock again: the appender skips its own acquire instead of deadlocking on a lock that is
    not re-entrant. Locks taken by :func:`ff_async_file_lock` never count (their holder is a
    coroutine, not the worker thread that happened to acquire them).
    """
    entry = _entries.get(_lock_file_for(path))
    return entry is not None and entry.owner == threading.get_ident()


def _acquire(path: Path | str, timeout: float, root: Path | str | None = None) -> _Entry:
    lock_file = _lock_file_for(path)
    entry = _entry_for(lock_file)
    fail_fast = getattr(_fail_fast, "on", False)
    if fail_fast:
        if not entry.thread_lock.acquire(blocking=False):
            raise FFLockBusy(path)
    elif not entry.thread_lock.acquire(timeout=timeout):
        raise FFStorageError(f"lock not acquired within {timeout:.1f}s", path=path)
    opened = False
    try:
        handle = entry.handle
        if handle is None or handle.closed:
            handle = entry.handle = _open_lock_file(lock_file, root)  # cached on purpose, see module doc
            opened = True
        _lock_handle(handle, path, timeout, fail_fast)
    except BaseException:
        entry.thread_lock.release()
        raise
    if opened:
        _close_idle_handles()  # ours is held: it is never the one closed
    return entry


def _release(entry: _Entry) -> None:
    try:
        if entry.handle is not None:
            _unlock(entry.handle)
    finally:
        entry.thread_lock.release()


class ff_file_lock:
    """Hold the lock for ``path`` (the data file, not the lock file) for the ``with`` body.

    Not re-entrant: taking the same path's lock twice in one thread waits for ``timeout`` and
    raises FFStorageError. Raises FFStorageError when another process holds it past ``timeout``.
    With ``root``, the lock file is reached without following a symlink below it.

    A small class rather than a ``@contextmanager`` generator: every durable append takes one,
    and the generator's set-up was a tenth of an append's CPU time. While it is held,
    :func:`ff_lock_held` answers True in the holding thread.
    """

    __slots__ = ("_entry", "_path", "_root", "_timeout")

    def __init__(self, path: Path | str, *, timeout: float = _DEFAULT_TIMEOUT_S, root: Path | str | None = None) -> None:
        self._path, self._timeout, self._root = path, timeout, root
        self._entry: _Entry | None = None

    def __enter__(self) -> None:
        entry = self._entry = _acquire(self._path, self._timeout, self._root)
        entry.owner = threading.get_ident()

    def __exit__(self, *exc_info: object) -> None:
        entry, self._entry = self._entry, None
        if entry is not None:
            entry.owner = 0
            _release(entry)


@contextlib.asynccontextmanager
async def ff_async_file_lock(
    path: Path | str, *, timeout: float = _DEFAULT_TIMEOUT_S, root: Path | str | None = None
) -> AsyncIterator[None]:
    """The same lock for coroutines: waiting happens in a worker thread, never on the loop."""
    entry = await asyncio.to_thread(_acquire, path, timeout, root)
    try:
        yield
    finally:
        await asyncio.to_thread(_release, entry)
