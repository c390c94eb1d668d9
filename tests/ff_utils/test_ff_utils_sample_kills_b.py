"""Survivors of the 2026-12-06 sample of ``ff_utils`` (files, locks, logs), killed by exact
assertions (docs/MUTATION.md, "``ff_utils``: sampled survivors, files, locks and logs").

- ``ff_safe_path``: a space is a valid name character (only controls are refused); the refusals
  of a segment that is not valid Unicode or longer than 255 bytes say so, and name the part.
- ``ff_open_read``: a missing file is "cannot open file".
- ``ff_flush_jsonl``: a failing fsync is "cannot fsync JSONL".
- ``ff_read_jsonl``: ``decode`` gets the line without its line end (LF or CRLF).
- ``ff_file_lock``: a lock file is 0644 (umask 022); both timeouts name the data file; handles of
  released locks stay cached (up to 256).
- ``FFIOThread``: the thread is named ``ff-io`` by default.

No sleeps as synchronisation: the lock timeouts are the behaviour under test, and short.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import threading
from pathlib import Path

import pytest

from ff_utils.ff_errors import FFNotFoundError, FFStorageError, FFValidationError
from ff_utils.ff_file_ops import ff_open_read, ff_safe_path
from ff_utils.ff_io_thread import FFIOThread
from ff_utils.ff_json_utils import ff_append_jsonl, ff_flush_jsonl, ff_read_jsonl
from ff_utils.ff_locks import ff_file_lock, ff_lock_path
from tests.ff_utils._lock_handles import open_lock_handles

# ------------------------------------------------------------------ ff_safe_path / ff_open_read


def test_a_segment_with_a_space_is_a_valid_name(tmp_path: Path) -> None:
    # _check_segment 30: ``ord(ch) <= 32`` would refuse the space as a control character.
    assert ff_safe_path(tmp_path, "my notes/a b.txt") == tmp_path.resolve() / "my notes" / "a b.txt"


def test_a_segment_that_is_not_unicode_is_refused_with_its_reason_and_part(tmp_path: Path) -> None:
    part = "ok/bad\udc80name"
    with pytest.raises(FFValidationError) as caught:
        ff_safe_path(tmp_path, part)
    assert caught.value.message == f"unsafe path: not valid Unicode in {part!r}"
    assert caught.value.field == "path"
    assert caught.value.value == part


def test_a_segment_over_255_bytes_is_refused_with_its_reason_and_part(tmp_path: Path) -> None:
    part = "dir/" + "é" * 128  # 256 bytes in UTF-8, 128 characters
    with pytest.raises(FFValidationError) as caught:
        ff_safe_path(tmp_path, part)
    assert caught.value.message == "unsafe path: path segment longer than 255 bytes"
    assert caught.value.field == "path"
    assert caught.value.value == part


def test_a_control_character_refusal_names_the_part(tmp_path: Path) -> None:
    part = "a/b\x01c"
    with pytest.raises(FFValidationError) as caught:
        ff_safe_path(tmp_path, part)
    assert caught.value.message == f"unsafe path: control character in {part!r}"
    assert caught.value.value == part


def test_open_read_of_a_missing_file_says_open_file(tmp_path: Path) -> None:
    target = tmp_path / "missing.bin"
    with pytest.raises(FFNotFoundError) as caught:
        ff_open_read(target, tmp_path)
    assert caught.value.message == "cannot open file: no such file"
    assert caught.value.path == target


# ------------------------------------------------------------------ JSONL flush / read


def test_a_failing_fsync_on_flush_says_fsync_jsonl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "log.jsonl"
    ff_append_jsonl(log, {"a": 1}, durability="never")

    def failing(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fsync", failing)
    with pytest.raises(FFStorageError) as caught:
        ff_flush_jsonl(log)
    assert caught.value.message == "cannot fsync JSONL: Input/output error [EIO]"
    assert caught.value.path == log
    monkeypatch.undo()
    ff_flush_jsonl(log)  # still dirty: the real fsync now succeeds


@pytest.mark.parametrize("ending", [b"\n", b"\r\n"])
def test_decode_gets_the_encoded_line_without_its_line_end(tmp_path: Path, ending: bytes) -> None:
    log = tmp_path / "log.jsonl"
    log.write_bytes(b"ENC:" + b'{"a":1}' + ending + b"ENC:" + b'{"b":2}' + ending)
    seen: list[bytes] = []

    def decode(line: bytes) -> bytes:
        seen.append(line)
        if not line.startswith(b"ENC:"):
            raise ValueError("no prefix")
        return line[4:]

    assert list(ff_read_jsonl(log, decode=decode)) == [{"a": 1}, {"b": 2}]
    assert seen == [b'ENC:{"a":1}', b'ENC:{"b":2}']


# ------------------------------------------------------------------ locks


def test_a_new_lock_file_is_0644_under_umask_022(tmp_path: Path) -> None:
    data = tmp_path / "doc.json"
    old = os.umask(0o022)
    try:
        with ff_file_lock(data, root=tmp_path):
            pass
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(ff_lock_path(data)).st_mode) == 0o644


def test_a_lock_held_by_this_process_times_out_naming_the_data_file(tmp_path: Path) -> None:
    data = tmp_path / "doc.json"
    with ff_file_lock(data):
        with pytest.raises(FFStorageError) as caught, ff_file_lock(data, timeout=0.05):
            pass
    assert caught.value.message == "lock not acquired within 0.1s"
    assert caught.value.path == data


def test_a_lock_held_by_another_open_file_times_out_naming_the_data_file(tmp_path: Path) -> None:
    data = tmp_path / "doc.json"
    with ff_file_lock(data):  # creates the lock file
        pass
    # flock locks belong to the open file: a second open stands in for another process.
    with open(ff_lock_path(data), "ab") as other:
        fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(FFStorageError) as caught, ff_file_lock(data, timeout=0.05):
            pass
    assert caught.value.message == "lock held by another process for over 0.1s"
    assert caught.value.path == data
    with ff_file_lock(data, timeout=5.0):  # released with the other handle
        pass



@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
def test_handles_of_released_locks_stay_cached_up_to_the_bound(tmp_path: Path) -> None:
    # _close_idle_handles 3: counting each open handle twice halves the cache (128, not 256).
    folder = (tmp_path / "many").resolve()
    folder.mkdir()
    for i in range(150):
        with ff_file_lock(folder / f"f{i}"):
            pass
    assert open_lock_handles(folder) == 150


# ------------------------------------------------------------------ I/O thread


async def test_the_io_thread_is_named_ff_io_by_default() -> None:
    io = FFIOThread()
    names: list[str] = []

    def job(key: str, items: list[int]) -> list[int]:
        names.append(threading.current_thread().name)
        return items

    try:
        assert await io.submit(job, "k", 1) == 1
    finally:
        await io.close()
    assert io.name == "ff-io" and names == ["ff-io"]
