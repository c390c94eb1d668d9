"""Survivors of the second ``ff_utils`` sample (seed 20261207) in files, locks and logs, killed by
exact assertions (docs/MUTATION.md, "``ff_utils``: second sample (seed 20261207), files, locks and
logs").

- ``ff_safe_path``: the refusal of an empty segment quotes the part cut at 60 characters; a path
  over 4,096 bytes is refused as "path too long".
- a lock taken by a relative name with no root creates nothing but its lock file in the cwd.
- ``ff_file_lock``: a lock file that cannot be opened names it; a failing ``flock`` under fail-fast
  is "cannot lock: …"; past the bound of 256 cached handles, the extra ones are closed one by one.
- ``ff_read_jsonl``: ``decode`` gets trailing blanks of a line (only the line end is cut).
- ``ff_check_jsonl``: the health names the file.
- ``ff_append_jsonl``: a log never fsynced counts its last fsync at the clock's zero.
- ``FFIOThread``: a caller cancelled while its group was written does not keep the other callers
  of that group from their results.

No sleeps as synchronisation: the I/O thread test waits on events with bounded timeouts.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import os
import stat
import threading
import time
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from ff_utils import ff_locks
from ff_utils.ff_errors import FFStorageError, FFValidationError
from ff_utils.ff_file_ops import ff_safe_path
from ff_utils.ff_io_thread import FFIOThread
from ff_utils.ff_json_utils import ff_append_jsonl, ff_check_jsonl, ff_read_jsonl
from ff_utils.ff_locks import ff_file_lock, ff_lock_path, ff_locks_fail_fast
from tests.ff_utils._lock_handles import open_lock_handles

# ------------------------------------------------------------------ ff_safe_path


def test_an_empty_segment_refusal_quotes_the_part_cut_at_60_characters(tmp_path: Path) -> None:
    # _check_segment 9: ``part[:61]``.
    part = "a" * 70 + "//b"
    with pytest.raises(FFValidationError) as caught:
        ff_safe_path(tmp_path, part)
    assert caught.value.message == f"unsafe path: segment '' in {part[:60]!r}"
    assert caught.value.value == part


def test_a_path_over_4096_bytes_is_refused_as_too_long(tmp_path: Path) -> None:
    # ff_safe_path 68: the reason upper-cased.
    parts = ["d" * 200] * 21  # 21 x 201 bytes below the root: over 4,096
    with pytest.raises(FFValidationError) as caught:
        ff_safe_path(tmp_path, *parts)
    candidate = os.path.join(os.path.realpath(tmp_path), *parts)
    assert caught.value.message == "unsafe path: path too long"
    assert caught.value.field == "path"
    assert caught.value.value == candidate[:80]


# ------------------------------------------------------------------ locks


def test_a_lock_by_relative_name_without_root_creates_only_its_lock_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # _dir_fd.ff_walk_parent 12: ``makedirs(directory or "XX.XX")`` made a stray folder in the cwd.
    monkeypatch.chdir(tmp_path)
    with ff_file_lock("doc.json"):
        pass
    assert sorted(os.listdir(tmp_path)) == [".doc.json.lock"]
    assert (tmp_path / ".doc.json.lock").is_file()


def test_a_lock_file_that_cannot_be_opened_names_the_lock_file(tmp_path: Path) -> None:
    # _open_lock_file 9: the translated error's path dropped.
    data = tmp_path / "doc.json"
    lock_file = ff_lock_path(data)
    lock_file.mkdir()  # a folder where the lock file goes: EISDIR on open
    with pytest.raises(FFStorageError) as caught, ff_file_lock(data, root=tmp_path):
        pass
    assert caught.value.message == "cannot open lock file: Is a directory [EISDIR]"
    assert caught.value.path == lock_file


def test_a_failing_flock_under_fail_fast_is_cannot_lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # _lock_handle 6: the fail-fast branch's FFStorageError lost its message.
    data = tmp_path / "doc.json"

    def flock(fd: int, operation: int) -> None:
        if operation & fcntl.LOCK_EX:
            raise OSError(errno.ENOLCK, "No locks available")

    fake = types.SimpleNamespace(flock=flock, LOCK_EX=fcntl.LOCK_EX, LOCK_NB=fcntl.LOCK_NB, LOCK_UN=fcntl.LOCK_UN)
    monkeypatch.setattr(ff_locks, "fcntl", fake)
    with ff_locks_fail_fast(), pytest.raises(FFStorageError) as caught, ff_file_lock(data):
        pass
    assert caught.value.message == "cannot lock: [Errno 37] No locks available"
    assert caught.value.path == data
    monkeypatch.undo()
    with ff_file_lock(data, timeout=5.0):  # nothing left held
        pass



@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
def test_handles_over_the_bound_are_closed_down_to_it_exactly(tmp_path: Path) -> None:
    # _close_idle_handles 16: ``open_count -= 2`` stopped closing two handles early (258 kept).
    folder = (tmp_path / "many").resolve()
    folder.mkdir()
    with contextlib.ExitStack() as stack:
        for i in range(260):  # all held: none of them may be closed, so 260 stay open
            stack.enter_context(ff_file_lock(folder / f"f{i}"))
        assert open_lock_handles(folder) == 260
    with ff_file_lock(folder / "one-more"):  # 261 open: the five oldest idle ones are closed
        pass
    assert open_lock_handles(folder) == 256


# ------------------------------------------------------------------ JSONL read / check / append


def test_decode_gets_a_lines_trailing_blanks(tmp_path: Path) -> None:
    # _parse_coded 4: ``rstrip(None)`` also cut the spaces and tab before the line end.
    log = tmp_path / "log.jsonl"
    log.write_bytes(b'ENC:{"a":1} \t\r\n')
    seen: list[bytes] = []

    def decode(line: bytes) -> bytes:
        seen.append(line)
        return line[4:]

    assert list(ff_read_jsonl(log, decode=decode)) == [{"a": 1}]
    assert seen == [b'ENC:{"a":1} \t']


def test_check_jsonl_names_the_file(tmp_path: Path) -> None:
    # ff_check_jsonl 20: the health's path → None.
    log = tmp_path / "log.jsonl"
    log.write_bytes(b'{"a":1}\nnot json\n{"b"')
    health = ff_check_jsonl(log)
    assert health.path == log
    assert health.records == 1
    assert [b.offset for b in health.bad_lines] == [8, 17]
    assert health.torn_tail_bytes == 4


@pytest.fixture
def fsyncs(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Records each fsync as "dir" or "file" (the descriptor's type), then does it."""
    seen: list[str] = []
    real = os.fsync

    def recording(fd: int) -> None:
        seen.append("dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real(fd)

    monkeypatch.setattr(os, "fsync", recording)
    yield seen


def test_a_log_never_fsynced_counts_its_last_fsync_at_the_clocks_zero(tmp_path: Path, fsyncs: list[str]) -> None:
    # __init__ 26: ``_last_fsync = 1.0`` skipped the first batch fsync for an interval that has
    # passed since the monotonic clock's zero but not since one second after it.
    interval = time.monotonic() - 0.01
    ff_append_jsonl(tmp_path / "log.jsonl", {"a": 1}, durability="batch", batch_interval=interval)
    assert fsyncs == ["dir", "file"]
    ff_append_jsonl(tmp_path / "log.jsonl", {"b": 2}, durability="batch", batch_interval=interval)
    assert fsyncs == ["dir", "file"]  # fsynced just now: the interval has not passed again


# ------------------------------------------------------------------ I/O thread


async def test_a_caller_cancelled_mid_write_leaves_the_rest_of_its_group_resolved() -> None:
    # _settle 1: ``continue`` → ``break`` left every caller after a cancelled one waiting forever.
    io = FFIOThread(name="ff-io-settle")
    started, release = threading.Event(), threading.Event()

    def job(key: str, items: list[int]) -> list[int]:
        started.set()
        release.wait(10.0)
        return [item * 10 for item in items]

    try:
        first = io.submit(job, "k", 1)
        second = io.submit(job, "k", 2)
        third = io.submit(job, "k", 3)
        assert await asyncio.to_thread(started.wait, 10.0)
        first.cancel()  # its item is being written: the thread still settles the group
        release.set()
        assert await asyncio.wait_for(second, 10.0) == 20
        assert await asyncio.wait_for(third, 10.0) == 30
        assert io.wakeups == 1  # one group: the three were handed over together
    finally:
        release.set()
        await io.close()
    assert first.cancelled()
