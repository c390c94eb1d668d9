"""The per-user write fence of one data root, honoured by every process that serves the root.

A move must copy a user's tree while nothing writes to it, and must know that no write which
started before the fence is still running. A fence document alone cannot say the second thing
(a writer may have checked "no fence" and still be about to append), so the fence is a lock plus
a document:

* every write for user U holds a **shared** ``flock`` on U's bucket lock file
  (``system/shard/fences/.bucket-NN.lock``, 256 buckets by SHA-256 of the id) for the length of
  the write, and, holding it, looks for U's fence document ``system/shard/fences/<U>.json``;
* ``set`` (the mover) takes the bucket's **exclusive** lock, which waits until every write of
  that bucket in flight has finished, writes the document atomically, and lets go.

So once ``set`` returns, every write of U either finished before (and is on disk: a handler
returns after its append) or sees the fence. A busy bucket lock only means "wait a moment", never
"frozen": the document decides (:meth:`FFUserFence.write_guard` waits up to ``wait_s`` for the
shared lock, then refuses with the retryable error if it still cannot tell).

Fence states:

* ``frozen`` (at the source, during a move): writes refused with FFUserFrozenError (503,
  Retry-After); reads still served: the data is complete and unchanged;
* ``incoming`` (at the destination, until the switch): reads and writes refused, retryable;
  the copy there is not the user's yet;
* ``moved`` (a tombstone at the old owner): reads and writes refused with FFUserMovedError
  (421) naming the new owner, so a client with a stale routing table re-reads it instead of
  being told the user has no data.

POSIX only (``fcntl.flock``), like the service's other cross-process locks.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import orjson

from ff_managers._shard.errors import FFUserFrozenError, FFUserMovedError
from ff_utils.ff_errors import FFCorruptionError, FFStorageError, FFTimeoutError
from ff_utils.ff_file_ops import ff_atomic_write
from ff_utils.ff_ids import ff_validate_id

__all__ = ["FENCE_DIR", "FFUserFence", "FenceState"]

FENCE_DIR = ("system", "shard", "fences")
FenceState = Literal["frozen", "incoming", "moved"]
_BUCKETS = 256
_OPEN_FLAGS = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
_CACHED_USERS = 100_000


class FFUserFence:
    """The fences of one data root (see the module doc). Cheap to create; holds no descriptor."""

    def __init__(self, root: Path | str, *, retry_after_s: int = 1, wait_s: float = 2.0) -> None:
        self.root = Path(root)
        self.folder = self.root.joinpath(*FENCE_DIR)
        self.retry_after_s = retry_after_s
        self.wait_s = wait_s
        self._made = False
        self._cache: dict[str, tuple[str, str]] = {}

    # -- paths --------------------------------------------------------------------------------

    def document(self, user_id: str) -> Path:
        return self.folder / f"{ff_validate_id(user_id, 'user_id')}.json"

    def _paths(self, user_id: str) -> tuple[str, str]:
        """``(fence document, bucket lock file)`` as strings, cached: every write of the service asks."""
        paths = self._cache.get(user_id)
        if paths is None:
            bucket = hashlib.sha256(user_id.encode()).digest()[0] % _BUCKETS
            paths = (os.fspath(self.document(user_id)), os.fspath(self.folder / f".bucket-{bucket:02x}.lock"))
            if len(self._cache) >= _CACHED_USERS:
                self._cache.clear()
            self._cache[user_id] = paths
        return paths

    def _open_lock(self, user_id: str) -> int:
        if not self._made:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._made = True
        return os.open(self._paths(user_id)[1], _OPEN_FLAGS, 0o644)

    # -- reading ------------------------------------------------------------------------------

    def state(self, user_id: str) -> dict[str, Any] | None:
        """The user's fence document (``{"state": ..., ...}``), None when the user is not fenced."""
        path = self._paths(user_id)[0]
        try:
            fd = os.open(path, _READ_FLAGS)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise FFStorageError(f"cannot read the fence of {user_id}: {exc.strerror}", path=path) from exc
        try:
            with os.fdopen(fd, "rb") as handle:
                raw = handle.read()
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise FFCorruptionError(f"fence document of {user_id} is not JSON", path=path) from exc
        if not isinstance(data, dict) or data.get("state") not in ("frozen", "incoming", "moved"):
            raise FFCorruptionError(f"fence document of {user_id} has no valid state", path=path)
        return data

    def _refusal(self, user_id: str, fence: dict[str, Any], *, write: bool) -> Exception | None:
        state = fence["state"]
        if state == "moved":
            return FFUserMovedError(f"user {user_id} has moved to shard {fence.get('owner')!r}", owner=fence.get("owner"))
        if state == "incoming" or write:
            return FFUserFrozenError(f"user {user_id} is being moved ({state}); retry shortly", retry_after=self.retry_after_s)
        return None

    def check_read(self, user_id: str) -> None:
        """Raise FFUserMovedError (tombstone) or FFUserFrozenError (``incoming``); a frozen user reads fine."""
        fence = self.state(user_id)
        if fence is not None and (error := self._refusal(user_id, fence, write=False)) is not None:
            raise error

    def write_guard(self, user_id: str) -> _WriteGuard:
        """``async with``: hold the user's bucket lock shared for the body (a write); refuse when the user is fenced."""
        return _WriteGuard(self, user_id)

    # -- the mover's side ---------------------------------------------------------------------

    @contextlib.contextmanager
    def _exclusive(self, user_id: str, timeout_s: float) -> Iterator[None]:
        fd = self._open_lock(user_id)
        try:
            deadline = time.monotonic() + timeout_s
            while not _try_flock(fd, fcntl.LOCK_EX, user_id):
                if time.monotonic() >= deadline:
                    raise FFTimeoutError(f"writes to {user_id} did not drain within {timeout_s}s", user_id=user_id)
                time.sleep(0.002)
            yield
        finally:
            os.close(fd)

    def set(self, user_id: str, state: FenceState, *, timeout_s: float = 30.0, **info: Any) -> None:
        """Fence the user; returns once every write of the user that was in flight has finished."""
        body = orjson.dumps({"state": state, "user_id": user_id, "since": time.time(), **info})
        with self._exclusive(user_id, timeout_s):
            ff_atomic_write(self.document(user_id), body + b"\n")

    def clear(self, user_id: str, *, timeout_s: float = 30.0) -> None:
        """Lift the user's fence (nothing happens when there is none)."""
        with self._exclusive(user_id, timeout_s):
            self.document(user_id).unlink(missing_ok=True)


def _try_flock(fd: int, mode: int, user_id: str) -> bool:
    """Take ``mode`` (shared or exclusive) on the fence's lock without waiting; False when it is held."""
    try:
        fcntl.flock(fd, mode | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
            raise FFStorageError(f"cannot lock the fence of {user_id}: {exc.strerror}") from exc
        return False
    return True


class _WriteGuard:
    """One write's hold on its user's fence (a class, not a generator: it runs on every write)."""

    __slots__ = ("_fd", "_fence", "_user")

    def __init__(self, fence: FFUserFence, user_id: str) -> None:
        self._fence, self._user, self._fd = fence, user_id, -1

    async def __aenter__(self) -> None:
        fence, user = self._fence, self._user
        fd = self._fd = fence._open_lock(user)
        try:
            deadline = None
            while not _try_flock(fd, fcntl.LOCK_SH, user):
                deadline = deadline if deadline is not None else time.monotonic() + fence.wait_s
                if time.monotonic() >= deadline:  # a mover holds it that long: treat as frozen, retryable
                    raise FFUserFrozenError(f"user {user} is being fenced; retry shortly", retry_after=fence.retry_after_s)
                await asyncio.sleep(0.002)
            state = fence.state(user)
            if state is not None and (error := fence._refusal(user, state, write=True)) is not None:
                raise error
        except BaseException:
            self._release()
            raise

    def _release(self) -> None:
        fd, self._fd = self._fd, -1
        if fd >= 0:
            os.close(fd)  # closing the descriptor releases its flock

    async def __aexit__(self, *exc_info: object) -> None:
        self._release()
