"""JSON documents (replaced atomically) and JSONL logs (append-only), with orjson.

JSON documents: :func:`ff_write_json` replaces the whole file atomically; :func:`ff_update_json`
is the one way to change a document (lock, read, apply a function to plain data, write), so
locking and atomic replace live in one place (tinydb's ``_update_table`` idea).

JSONL logs: :func:`ff_append_jsonl` appends whole lines. orjson escapes newlines inside strings,
so one record is always one line. Appends to one file from many threads are *group committed*:
the first writer to arrive becomes the leader, takes every line queued so far, writes them with
one ``write()`` under the cross-process file lock and, with durability ``always``, one ``fsync``
for the whole group; followers wait for their group and return only once it is durable. Readers
(:func:`ff_read_jsonl`, :func:`ff_tail_jsonl`) skip a corrupt line or a torn last line and report
it through ``on_bad_line`` instead of crashing; :func:`ff_repair_jsonl` truncates a torn tail.
"""

from __future__ import annotations

import atexit
import enum
import math
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import orjson

from ff_utils.ff_errors import FFNotFoundError, FFStorageError, FFValidationError, ff_translate_errors
from ff_utils.ff_file_ops import ff_atomic_write, ff_ensure_directory, ff_fsync_directory
from ff_utils.ff_locks import ff_file_lock
from ff_utils.ff_logging import get_logger

__all__ = [
    "Durability",
    "FFBadLine",
    "FFJsonlHealth",
    "ff_dumps",
    "ff_loads",
    "ff_write_json",
    "ff_read_json",
    "ff_update_json",
    "ff_append_jsonl",
    "ff_read_jsonl",
    "ff_tail_jsonl",
    "ff_check_jsonl",
    "ff_count_jsonl_lines",
    "ff_repair_jsonl",
    "ff_flush_jsonl",
    "DEFAULT_MAX_RECORD_BYTES",
]

Durability = Literal["always", "batch", "never"]
DEFAULT_MAX_RECORD_BYTES = 16 * 1024 * 1024
_BATCH_FSYNC_INTERVAL_S = 0.2
_TAIL_BLOCK = 16 * 1024
_MISSING: Any = object()

_log = get_logger("json")


@dataclass(frozen=True, slots=True)
class FFBadLine:
    """A JSONL line a reader skipped: where it is and why."""

    path: Path
    offset: int
    reason: str
    torn: bool = False
    line_number: int | None = None


@dataclass(frozen=True, slots=True)
class FFJsonlHealth:
    """What :func:`ff_check_jsonl` found in one JSONL file."""

    path: Path
    records: int
    bad_lines: tuple[FFBadLine, ...]
    torn_tail_bytes: int

    @property
    def healthy(self) -> bool:
        return not self.bad_lines


def _default(value: Any) -> Any:
    # Pydantic models, paths and sets show up in records often enough to accept them directly.
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, bytes):
        raise TypeError("bytes are not JSON; encode them (base64) first")
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def ff_dumps(value: Any, *, indent: bool = False) -> bytes:
    """Serialise to JSON bytes; FFValidationError for anything JSON cannot hold."""
    option = orjson.OPT_SERIALIZE_NUMPY | (orjson.OPT_INDENT_2 if indent else 0)
    try:
        return orjson.dumps(value, default=_default, option=option)
    except (orjson.JSONEncodeError, TypeError) as exc:
        raise FFValidationError(f"value cannot be stored as JSON: {exc}", field="record") from exc


def ff_loads(data: bytes | str, *, path: Path | None = None) -> Any:
    """Parse JSON; FFCorruptionError (naming ``path``) when the bytes are not valid JSON."""
    with ff_translate_errors("parse JSON", path):
        return orjson.loads(data)


# --------------------------------------------------------------------------- JSON documents


def ff_write_json(path: Path | str, data: Any, *, durability: Durability = "always") -> None:
    """Replace the JSON document at ``path`` atomically (indented, so people can read it)."""
    ff_atomic_write(path, ff_dumps(data, indent=True) + b"\n", fsync=durability != "never")


def ff_read_json(path: Path | str, default: Any = _MISSING) -> Any:
    """Read a JSON document.

    Raises FFNotFoundError when it is missing and no ``default`` is given, FFCorruptionError
    naming the file when it does not parse.
    """
    target = Path(path)
    try:
        with ff_translate_errors("read JSON", target):
            raw = target.read_bytes()
    except FFNotFoundError:
        if default is _MISSING:
            raise
        return default
    return ff_loads(raw, path=target)


def ff_update_json(
    path: Path | str,
    updater: Callable[[Any], Any],
    *,
    default: Any = _MISSING,
    durability: Durability = "always",
) -> Any:
    """Read-modify-write a JSON document under its lock; return what was written.

    ``updater`` gets the current plain data (or ``default`` when the file is missing) and returns
    the new data. If it raises, nothing is written.
    """
    target = Path(path)
    ff_ensure_directory(target.parent)
    with ff_file_lock(target):
        current = ff_read_json(target, default)
        updated = updater(current)
        ff_write_json(target, updated, durability=durability)
        return updated


# --------------------------------------------------------------------------- JSONL append


_STRENGTH: dict[str, int] = {"never": 0, "batch": 1, "always": 2}


class _GroupCommitAppender:
    """Serialises appends to one file within this process and shares fsyncs between them.

    A group is written with the strongest durability any of its writers asked for: the leader
    may have asked for ``never`` while a follower in its group asked for ``always``, and that
    follower must not return before its bytes are fsynced.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
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

    def append(self, data: bytes, durability: Durability, batch_interval: float) -> None:
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

    def _write_group(self, payload: bytes, durability: Durability, batch_interval: float) -> None:
        with ff_file_lock(self._name), ff_translate_errors("append JSONL", self.path), self._fd_lock:
            fd, start, created = self._open_for_append()
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
            if created and durability != "never":
                ff_fsync_directory(self.path.parent)

    def _open_for_append(self) -> tuple[int, int, bool]:
        """The descriptor to append with, the file's current size, and whether it was created.

        Called under the file lock. The descriptor is kept open between groups (opening and
        closing it was a fifth of an append's cost); one ``stat`` of the path tells whether it
        still names the same file. A rename over it (an atomic rewrite, a restore) or a delete
        shows as a different inode or a missing file, and a fork as a new generation: then the
        old descriptor is closed and the path opened again. While we hold the descriptor its
        inode cannot be reused, so an equal (device, inode) really is the same file.
        """
        try:
            st: os.stat_result | None = os.stat(self._name)
        except FileNotFoundError:
            st = None
        if self._fd is not None and (
            st is None or self._fd_generation != _fork_generation or (st.st_dev, st.st_ino) != self._fd_identity
        ):
            self._close_fd()
        if self._fd is None or st is None:
            if st is None:
                ff_ensure_directory(self.path.parent)  # checked only here: a stat found no file
            fd = os.open(self._name, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                opened = os.fstat(fd)
            except BaseException:
                os.close(fd)
                raise
            self._fd, self._fd_identity, self._fd_generation, self._end = fd, (opened.st_dev, opened.st_ino), _fork_generation, None
            _remember_open(self)
            return fd, opened.st_size, st is None
        return self._fd, st.st_size, False

    def _close_fd(self) -> None:
        """Close the cached descriptor (the caller holds ``_fd_lock``). In a forked child this
        closes only the child's copy; the parent's descriptor is untouched."""
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
            try:
                with ff_translate_errors("fsync JSONL", self.path):
                    fd = os.open(self.path, os.O_RDONLY)
            except FFNotFoundError:
                # Deleted or renamed away since the append (a temp tree, a swapped staging copy):
                # nothing is left at this path to make durable.
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

# Appenders holding an open descriptor, least recently opened first; bounded so that appending
# to many files never runs the process out of descriptors.
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


# The same appenders by the absolute path string callers pass: building and hashing a Path
# per append was a tenth of its cost. Relative paths are not cached here (they follow the cwd).
_appenders_by_name: dict[str, _GroupCommitAppender] = {}


def _appender_for(path: Path | str) -> _GroupCommitAppender:
    name = os.fspath(path)
    appender = _appenders_by_name.get(name)
    if appender is not None:
        return appender
    key = Path(name).absolute()
    with _appenders_guard:
        appender = _appenders.get(key)
        if appender is None:
            appender = _appenders[key] = _GroupCommitAppender(key)
        if os.path.isabs(name):
            _appenders_by_name[name] = appender
        return appender


def _encode_line(record: Any, max_record_bytes: int) -> bytes:
    line = ff_dumps(record)
    if len(line) > max_record_bytes:
        raise FFValidationError(
            f"record of {len(line):,} bytes exceeds the limit of {max_record_bytes:,}", field="record"
        )
    return line + b"\n"


def ff_append_jsonl(
    path: Path | str,
    records: Any,
    *,
    durability: Durability = "always",
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    batch_interval: float = _BATCH_FSYNC_INTERVAL_S,
    many: bool = False,
) -> None:
    """Append one record (or, with ``many=True``, an iterable of records) as whole lines.

    Every record is validated and encoded before anything is written, so bad input writes
    nothing. Returns once the lines are written and, for ``always``, fsynced.
    """
    items: Iterable[Any] = records if many else (records,)
    payload = b"".join(_encode_line(item, max_record_bytes) for item in items)
    if not payload:
        return
    # The parent directory is created (if missing) by the appender, under the file's lock.
    _appender_for(path).append(payload, durability, batch_interval)


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


# --------------------------------------------------------------------------- JSONL read


def _report(on_bad_line: Callable[[FFBadLine], None] | None, bad: FFBadLine) -> None:
    if on_bad_line is None:
        _log.warning("skipped %s line at byte %d of %s: %s", "torn" if bad.torn else "corrupt", bad.offset, bad.path, bad.reason)
    else:
        on_bad_line(bad)


def _parse_line(line: bytes, path: Path, offset: int, line_number: int | None) -> tuple[Any, FFBadLine | None]:
    try:
        return orjson.loads(line), None
    except orjson.JSONDecodeError as exc:
        return None, FFBadLine(path, offset, f"invalid JSON: {exc}", False, line_number)


def ff_read_jsonl(path: Path | str, *, on_bad_line: Callable[[FFBadLine], None] | None = None) -> Iterator[Any]:
    """Stream the records of a JSONL file, oldest first, in constant memory.

    A missing file reads as empty. Corrupt lines and a torn last line are skipped and passed to
    ``on_bad_line`` (or logged). Blank lines are ignored.
    """
    target = Path(path)
    try:
        with ff_translate_errors("open JSONL", target):
            handle = target.open("rb")
    except FFNotFoundError:
        return
    with handle:
        offset = 0
        for number, line in enumerate(handle, start=1):
            line_offset, offset = offset, offset + len(line)
            if not line.endswith(b"\n"):
                _report(on_bad_line, FFBadLine(target, line_offset, "torn last line (no newline)", True, number))
                return
            if not line.strip():
                continue
            record, bad = _parse_line(line, target, line_offset, number)
            if bad is not None:
                _report(on_bad_line, bad)
            else:
                yield record


def _reverse_lines(handle: Any, size: int) -> Iterator[tuple[int, bytes, bool]]:
    """Yield ``(offset, line, torn)`` from the end of the file backwards, one block at a time.

    Only the file's last line can be torn (no newline after it). It is flagged by position, not
    by block: a torn tail longer than one block spans several reads and must still be flagged.
    """
    position = size
    carry = b""
    at_last_line = True  # the next piece yielded is the text after the file's final newline
    while position > 0:
        step = min(_TAIL_BLOCK, position)
        position -= step
        handle.seek(position)
        chunk = handle.read(step) + carry
        pieces = chunk.split(b"\n")
        carry = pieces[0]
        end = position + len(chunk)
        for piece in reversed(pieces[1:]):
            start = end - len(piece)
            if at_last_line:
                at_last_line = False
                if piece:  # a well-formed file ends with a newline, leaving nothing after it
                    yield (start, piece, True)
            else:
                yield (start, piece, False)
            end = start - 1  # the newline before it
    if carry:
        yield (0, carry, at_last_line)  # the first line (torn if it is also the only one)


def ff_tail_jsonl(path: Path | str, n: int, *, on_bad_line: Callable[[FFBadLine], None] | None = None) -> list[Any]:
    """The last ``n`` good records, oldest first, reading backwards from the end.

    The cost depends on ``n`` and the record size, not on the file's length. A missing file
    reads as empty; bad lines are skipped (and reported), so up to ``n`` good records return.
    """
    if n <= 0:
        return []
    target = Path(path)
    try:
        with ff_translate_errors("open JSONL", target):
            handle = target.open("rb")
    except FFNotFoundError:
        return []
    found: list[Any] = []
    with handle:
        size = os.fstat(handle.fileno()).st_size
        for offset, line, torn in _reverse_lines(handle, size):
            if torn:
                _report(on_bad_line, FFBadLine(target, offset, "torn last line (no newline)", True))
                continue
            if not line.strip():
                continue
            record, bad = _parse_line(line, target, offset, None)
            if bad is not None:
                _report(on_bad_line, bad)
                continue
            found.append(record)
            if len(found) == n:
                break
    found.reverse()
    return found


def ff_check_jsonl(path: Path | str) -> FFJsonlHealth:
    """Count good records and list every bad line (a full scan)."""
    target = Path(path)
    bad: list[FFBadLine] = []
    records = sum(1 for _ in ff_read_jsonl(target, on_bad_line=bad.append))
    torn = sum(1 for b in bad if b.torn)
    torn_bytes = (target.stat().st_size - next(b.offset for b in bad if b.torn)) if torn else 0
    return FFJsonlHealth(target, records, tuple(bad), torn_bytes)


def ff_count_jsonl_lines(path: Path | str) -> int:
    """Count the complete (newline-terminated) lines of a JSONL file without parsing them.

    A fast, constant-memory count (1 MiB blocks, counted in C) for "how many records" questions
    that must not parse every record. A torn last line is not counted; a corrupt complete line
    is (a full parse, :func:`ff_check_jsonl`, tells them apart). A missing file counts 0.
    """
    target = Path(path)
    try:
        with ff_translate_errors("open JSONL", target):
            handle = target.open("rb", buffering=0)
    except FFNotFoundError:
        return 0
    count = 0
    with handle, ff_translate_errors("count JSONL lines", target):
        while block := handle.read(1024 * 1024):
            count += block.count(b"\n")
    return count


def ff_repair_jsonl(path: Path | str) -> int:
    """Truncate a torn last line (left by a crash mid-write); return the bytes removed.

    Runs under the file's lock, so it never races an appender. Corrupt complete lines in the
    middle are left alone: they are reported by readers, and deleting data is not a repair.
    """
    target = Path(path)
    if not target.exists():
        return 0
    with ff_file_lock(target), ff_translate_errors("repair JSONL", target):
        with target.open("r+b") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size == 0:
                return 0
            handle.seek(size - 1)
            if handle.read(1) == b"\n":
                return 0
            # Find the last newline; everything after it is the torn fragment.
            keep = 0
            position = size
            while position > 0:
                step = min(_TAIL_BLOCK, position)
                position -= step
                handle.seek(position)
                index = handle.read(step).rfind(b"\n")
                if index >= 0:
                    keep = position + index + 1
                    break
            handle.truncate(keep)
            handle.flush()
            os.fsync(handle.fileno())
            removed = size - keep
    _log.warning("repaired %s: removed a torn tail of %d bytes", target, removed)
    return removed

