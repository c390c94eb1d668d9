"""Appending to JSONL logs: whole lines, group committed across threads, fsynced by durability.

orjson escapes newlines inside strings, so one record is always one line. Appends to one file
from many threads are *group committed*: the first writer to arrive becomes the leader, takes
every line queued so far, writes them with one ``write()`` under the cross-process file lock
and, with durability ``always``, one ``fsync`` for the whole group; followers wait for their
group and return only once it is durable. A failed group is rolled back (truncated) so its
writers may retry without leaving duplicates. Public names are re-exported by
:mod:`ff_utils.ff_json_utils`; fault-injection tests patch ``os`` in this module.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import math
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ff_utils._dir_fd import NOFOLLOW, ff_refuse_link, ff_relative_parts, ff_walk_parent
from ff_utils._json_codec import DEFAULT_MAX_RECORD_BYTES, Durability, ff_dumps
from ff_utils.ff_errors import FFNotFoundError, FFStorageError, FFValidationError, ff_translate_errors
from ff_utils.ff_file_ops import ff_open_read
from ff_utils.ff_locks import ff_file_lock, ff_lock_held, ff_locks_failing_fast
from ff_utils.ff_logging import get_logger

__all__ = ["ff_append_jsonl", "ff_flush_jsonl"]

_BATCH_FSYNC_INTERVAL_S = 0.2
_APPEND_FLAGS = os.O_RDWR | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
LineEncoder = Callable[[bytes], bytes]
_log = get_logger("json")

_STRENGTH: dict[str, int] = {"never": 0, "batch": 1, "always": 2}
_HELD = contextlib.nullcontext()  # the caller already holds the file's lock (see append)


class _GroupCommitAppender:
    """Serialises appends to one file within this process and shares fsyncs between them.

    A group is written with the strongest durability any of its writers asked for: the leader
    may have asked for ``never`` while a follower in its group asked for ``always``, and that
    follower must not return before its bytes are fsynced.
    """

    def __init__(self, path: Path, root: str | None = None) -> None:
        self.path = path
        self.root = root  # the no-follow walk starts here (None: the final name only)
        self._durability_needs_dir_sync = True
        self._name = os.fspath(path)  # for the per-append syscalls: no pathlib on the hot path
        self._cond = threading.Condition(threading.Lock())
        self._pending: list[bytes] = []
        self._pending_durability: Durability = "never"
        self._pending_interval = math.inf
        self._pending_writers = 0
        self._open_group = 1  # the group new lines join
        self._completed = 0  # every group <= this one is written
        self._flushing = False
        # group -> [error, writers of that group yet to collect it]; dropped by the last one.
        self._failures: dict[int, list[Any]] = {}
        self._dirty = False  # written but not fsynced (batch / never)
        self._last_fsync = 0.0
        # The descriptor kept open between groups (see _open_for_append). _fd_lock guards it
        # against _evict_idle_fds closing it from another thread mid-write.
        self._fd_lock = threading.Lock()
        self._fd: int | None = None
        self._fd_identity: tuple[int, int] = (0, 0)  # (st_dev, st_ino) of the open file
        self._fd_generation = 0  # _fork_generation when it was opened
        self._end: int | None = None  # the file's size right after our last write through _fd
        self._dir_fd: int | None = None  # the log's directory, kept while its name holds (_parent)
        self._dir_generation = 0
        self._dir_text = os.path.dirname(self._name)
        self._base_name = os.path.basename(self._name)

    def append(self, data: bytes, durability: Durability, batch_interval: float) -> None:
        if ff_lock_held(self._name):
            # The caller holds the file's lock (memory's "check the ids, then append" is one
            # step under it): no other writer, in this process or another, can write the file
            # now, so there is no group to join, and waiting for one could deadlock (a leader
            # of another thread would be waiting for the very lock this thread holds).
            self._write_group(data, durability, batch_interval, held=True)
            return
        if ff_locks_failing_fast():
            # The caller must not wait (ff_locks_fail_fast): no group to join, whose leader may wait
            # for the lock. The lock is taken at once or FFLockBusy raised, before any write.
            self._write_group(data, durability, batch_interval)
            return
        with self._cond:
            group = self._open_group
            self._pending.append(data)
            self._pending_writers += 1
            if _STRENGTH[durability] > _STRENGTH[self._pending_durability]:
                self._pending_durability = durability
            self._pending_interval = min(self._pending_interval, batch_interval)
            while self._completed < group:
                if self._flushing:
                    self._cond.wait()
                    continue
                self._flushing = True
                lines, self._pending = self._pending, []
                group_durability, self._pending_durability = self._pending_durability, "never"
                interval, self._pending_interval = self._pending_interval, math.inf
                writers, self._pending_writers = self._pending_writers, 0
                flushing = self._open_group
                self._open_group += 1
                self._cond.release()
                failure: BaseException | None = None
                try:
                    self._write_group(b"".join(lines), group_durability, interval)
                except BaseException as exc:  # handed to every writer in the group below
                    failure = exc
                finally:
                    self._cond.acquire()
                if failure is not None:
                    self._failures[flushing] = [failure, writers]
                self._completed = flushing
                self._flushing = False
                self._cond.notify_all()
            failure = None
            entry = self._failures.get(group)
            if entry is not None:
                failure = entry[0]
                entry[1] -= 1
                if entry[1] <= 0:
                    del self._failures[group]
        if failure is not None:
            raise failure

    def _write_group(self, payload: bytes, durability: Durability, batch_interval: float, *, held: bool = False) -> None:
        self._durability_needs_dir_sync = durability != "never"
        lock = _HELD if held else ff_file_lock(self._name, root=self.root)
        with lock, ff_translate_errors("append JSONL", self.path), self._fd_lock:
            fd, start, _created = self._open_for_append()
            # The last byte is read only when someone else may have changed the file since our
            # own last write (its size differs): our writes always end with a newline.
            if start and start != self._end and os.pread(fd, 1, start - 1) != b"\n":
                # A writer died mid-line: end its fragment so our records start on a fresh
                # line. The fragment stays as a bad line that readers report and repair drops.
                payload = b"\n" + payload
            now = time.monotonic()
            sync = durability == "always" or (durability == "batch" and now - self._last_fsync >= batch_interval)
            try:
                view = memoryview(payload)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                if sync:
                    os.fsync(fd)
            except BaseException:
                # Never leave half a group behind, nor a group its writers were told failed
                # (a failed fsync included): they may retry, and must not find duplicates.
                # The descriptor is dropped too: the next group starts from a fresh look.
                try:
                    os.ftruncate(fd, start)
                finally:
                    self._close_fd()
                raise
            self._end = start + len(payload)
            if sync:
                self._last_fsync = now
                self._dirty = False
            else:
                self._dirty = True

    def _open_for_append(self) -> tuple[int, int, bool]:
        """The descriptor to append with, the file's current size, and whether it was created.

        Called under the file lock. The descriptor is kept open between groups (opening and
        closing it was a fifth of an append's cost); one ``lstat`` of the name, relative to the
        parent directory reached by the no-follow walk from the root (:mod:`ff_utils._dir_fd`),
        tells whether the path still names the same file. A rename over it (an atomic rewrite, a
        restore), a delete, a directory on the way swapped for a symlink (refused by the walk) or
        the file itself swapped for one (refused here) all show, and a fork shows as a new
        generation: then the old descriptor is closed and the file opened again, never through a
        symlink. While we hold the descriptor its inode cannot be reused, so an equal (device,
        inode) really is the same file in the same place.
        """
        parent, name = self._parent()
        try:
            try:
                st: os.stat_result | None = os.stat(name, dir_fd=parent, follow_symlinks=False)
            except FileNotFoundError:
                st = None
            if self._fd is not None and (
                st is None or self._fd_generation != _fork_generation or (st.st_dev, st.st_ino) != self._fd_identity
            ):
                self._close_file_fd()  # the directory descriptor stays: it is in use right here
            if self._fd is not None and st is not None:
                return self._fd, st.st_size, False
            try:
                fd = os.open(name, _APPEND_FLAGS | NOFOLLOW, 0o644, dir_fd=parent)
            except OSError as exc:
                if exc.errno == errno.ELOOP:  # the log itself is a symlink: never appended through
                    raise ff_refuse_link(name, self.path) from None
                raise
            try:
                opened = os.fstat(fd)
                if st is None and self._durability_needs_dir_sync:
                    os.fsync(parent)  # the new name is durable before any record is acknowledged
            except BaseException:
                os.close(fd)
                raise
        except BaseException:
            self._close_parent()  # the next group walks again from the root
            raise
        self._fd, self._fd_identity, self._fd_generation, self._end = fd, (opened.st_dev, opened.st_ino), _fork_generation, None
        _remember_open(self)
        return fd, opened.st_size, st is None

    def _parent(self) -> tuple[int, str]:
        """The log's directory descriptor, reached by the no-follow walk from the root.

        It is kept between groups, but only while the kernel still names it by the path the
        walk took (``/proc/self/fd``: one ``readlink`` instead of an ``openat`` and a ``close``
        per level): a directory on the way moved, renamed or swapped for a symlink gives it
        another name, and the walk is done again, which refuses the symlink. Without /proc (or
        with no root, or a root that is not canonical) every group walks.
        """
        fd = self._dir_fd
        if fd is not None and self._dir_generation == _fork_generation:
            try:
                if os.readlink(f"/proc/self/fd/{fd}") == self._dir_text:
                    return fd, self._base_name
            except OSError:
                pass
        self._close_parent()
        fd, name = ff_walk_parent(self._name, self.root, create=True)
        self._dir_fd, self._dir_generation, self._base_name = fd, _fork_generation, name
        return fd, name

    def _close_parent(self) -> None:
        fd, self._dir_fd = self._dir_fd, None
        if fd is not None:
            os.close(fd)

    def _close_fd(self) -> None:
        """Close the cached descriptors (the caller holds ``_fd_lock``). In a forked child this
        closes only the child's copies; the parent's descriptors are untouched."""
        self._close_parent()
        self._close_file_fd()

    def _close_file_fd(self) -> None:
        fd, self._fd, self._end = self._fd, None, None
        _forget_open(self)
        if fd is not None:
            os.close(fd)

    def flush(self) -> None:
        with self._cond:
            # Wait out a group being written: fsyncing mid-write and then clearing ``_dirty``
            # would leave that group's bytes unsynced yet marked clean.
            while self._flushing:
                self._cond.wait()
            if not self._dirty:
                return
            # Under _fd_lock: a write by a lock holder (which does not wait for _flushing) either
            # lands before this fsync or sets _dirty after it is cleared, never in between.
            with self._fd_lock:
                try:
                    fd = ff_open_read(self.path, self.root)
                except (FFNotFoundError, FFValidationError):
                    # Deleted or renamed away since the append (a temp tree, a swapped staging copy),
                    # or replaced by a symlink that is never followed: nothing of ours is left there.
                    self._dirty = False
                    return
                with ff_translate_errors("fsync JSONL", self.path):
                    try:
                        os.fsync(fd)
                    finally:
                        os.close(fd)
                self._dirty = False
                self._last_fsync = time.monotonic()


_appenders_guard = threading.Lock()
_appenders: dict[Path, _GroupCommitAppender] = {}

# Appenders holding an open descriptor, least recently opened first; bounded (never out of descriptors).
_MAX_OPEN_LOGS = 64
_open_logs_guard = threading.Lock()
_open_logs: OrderedDict[int, _GroupCommitAppender] = OrderedDict()
_fork_generation = 0


def _remember_open(appender: _GroupCommitAppender) -> None:
    with _open_logs_guard:
        _open_logs[id(appender)] = appender
        _open_logs.move_to_end(id(appender))
        excess = len(_open_logs) - _MAX_OPEN_LOGS
        idle = [a for a in _open_logs.values() if a is not appender][: max(excess, 0)]
    for other in idle:
        # Skip one mid-write (its lock is held); it is closed on a later round.
        if other._fd_lock.acquire(blocking=False):
            try:
                other._close_fd()
            finally:
                other._fd_lock.release()


def _forget_open(appender: _GroupCommitAppender) -> None:
    with _open_logs_guard:
        _open_logs.pop(id(appender), None)


def _after_fork_in_child() -> None:
    # Descriptors inherited from the parent are closed and reopened on the child's next append
    # (the generation no longer matches); the registry of open ones starts empty.
    global _fork_generation, _open_logs_guard, _open_logs
    _fork_generation += 1
    _open_logs_guard = threading.Lock()
    _open_logs = OrderedDict()


os.register_at_fork(after_in_child=_after_fork_in_child)


# The same appenders by the absolute path callers pass (a Path per append cost a tenth); relative ones follow the cwd.
_appenders_by_name: dict[str, _GroupCommitAppender] = {}


def _appender_for(path: Path | str, root: str | None = None) -> _GroupCommitAppender:
    name = os.fspath(path)
    appender = _appenders_by_name.get(name)
    if appender is not None and (root is None or appender.root == root):
        return appender
    key = Path(name).absolute()
    with _appenders_guard:
        appender = _appenders.get(key)
        if appender is None:
            appender = _appenders[key] = _GroupCommitAppender(key, root)
        elif root is not None and (appender.root is None or len(root) < len(appender.root)):
            appender.root = root  # the walk from the outermost root known checks the most levels
        elif root is not None:  # not walked from, but a root not holding the path is refused all the same
            ff_relative_parts(root, appender._name)
        if os.path.isabs(name):
            _appenders_by_name[name] = appender
        return appender


def _encode_line(record: Any, max_record_bytes: int, encode: LineEncoder | None) -> bytes:
    line = ff_dumps(record)
    if len(line) > max_record_bytes:
        raise FFValidationError(
            f"record of {len(line):,} bytes exceeds the limit of {max_record_bytes:,}", field="record"
        )
    return (line if encode is None else encode(line)) + b"\n"


def ff_append_jsonl(
    path: Path | str,
    records: Any,
    *,
    durability: Durability = "always",
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    batch_interval: float = _BATCH_FSYNC_INTERVAL_S,
    many: bool = False,
    root: Path | str | None = None,
    encode: LineEncoder | None = None,
) -> None:
    """Append one record (or, with ``many=True``, an iterable of records) as whole lines.

    Every record is validated and encoded before anything is written, so bad input writes
    nothing. Returns once the lines are written and, for ``always``, fsynced. With ``root``,
    no symlink below it is followed (FFValidationError); ``encode`` turns each serialised
    record into the bytes of its line (a storage middleware: encryption), and must not
    produce a newline.
    """
    items: Iterable[Any] = records if many else (records,)
    payload = b"".join(_encode_line(item, max_record_bytes, encode) for item in items)
    if not payload:
        return
    # The parent directory is created (if missing) by the appender, under the file's lock.
    _appender_for(path, None if root is None else os.fspath(root)).append(payload, durability, batch_interval)


def ff_flush_jsonl(path: Path | str | None = None) -> None:
    """fsync what ``batch``/``never`` appends left in the page cache (one file, or all)."""
    with _appenders_guard:
        if path is None:
            targets = list(_appenders.values())
        else:
            found = _appenders.get(Path(path).absolute())
            targets = [found] if found is not None else []
    for appender in targets:
        appender.flush()


@atexit.register
def _flush_at_exit() -> None:
    try:
        ff_flush_jsonl()
    except FFStorageError as exc:  # the process is ending; say so and carry on
        _log.warning("final fsync failed: %s", exc)

