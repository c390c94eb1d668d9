"""Census of the surviving mutants of _jsonl_append (mutation review, issue #20), part 1: what a
caller of ff_append_jsonl / ff_flush_jsonl sees of a flush (which file is fsynced, how often, and
that a later batch append still works) and of the descriptors the appender keeps (which logs stay
open, a replaced log's old descriptor closed, a log being written not waited for, a log swapped for
a symlink to itself refused). Each test names the mutants it kills (`mutmut show` numbers). Part 2:
test_ff_utils_census_utils_a_2.py."""

from __future__ import annotations

import contextlib
import errno
import math
import os
import stat
import threading
import time
import types
from pathlib import Path
from typing import Any

import pytest

import ff_utils._jsonl_append as j
from ff_utils.ff_errors import FFStorageError, FFValidationError
from ff_utils.ff_json_utils import ff_append_jsonl, ff_flush_jsonl

from tests.ff_utils._fsync_recorder import fsynced  # noqa: F401  (a fixture)




# ------------------------------------------------------------------ _jsonl_append: flush


def test_a_batch_append_after_a_flush_is_written_and_not_fsynced_within_the_interval(
    tmp_path: Path, fsynced: list[str]
) -> None:
    """flush__mutmut_20 (the flush's `_last_fsync = None`: the next batch group raised TypeError);
    _write_group's `now + last_fsync >= interval` (an interval as long as the clock's reading had
    passed by that sum, so the group was fsynced)."""
    log = tmp_path / "log.jsonl"
    ff_append_jsonl(log, {"a": 1}, durability="never")
    ff_flush_jsonl(log)
    assert fsynced == [str(log)]
    interval = time.monotonic()  # the clock's reading: far longer than this test takes
    ff_append_jsonl(log, {"b": 2}, durability="batch", batch_interval=interval)
    assert log.read_bytes() == b'{"a":1}\n{"b":2}\n'
    assert fsynced == [str(log)]  # fsynced by the flush a moment ago: not again within the interval


def test_a_log_gone_at_a_flush_is_clean_and_a_new_file_at_its_name_is_not_fsynced(
    tmp_path: Path, fsynced: list[str]
) -> None:
    """flush__mutmut_8 (a log found gone left dirty: a file written later at its name, by
    someone else, was fsynced by every later flush)."""
    log = tmp_path / "log.jsonl"
    ff_append_jsonl(log, {"a": 1}, durability="batch", batch_interval=math.inf)
    log.unlink()
    ff_flush_jsonl(log)
    log.write_bytes(b'{"other":1}\n')
    ff_flush_jsonl(log)
    ff_flush_jsonl(log)
    assert fsynced == []


def test_flush_does_not_fsync_through_a_folder_swapped_for_a_symlink_below_the_root(
    tmp_path: Path, fsynced: list[str]
) -> None:
    """flush__mutmut_4, _6 (the flush's open without the appender's root: the file behind a
    symlinked folder on the way, outside the root, was opened and fsynced)."""
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    log = root / "sub" / "log.jsonl"
    ff_append_jsonl(log, {"a": 1}, durability="never", root=root)
    outside = tmp_path / "outside"
    (root / "sub").rename(outside)
    (root / "sub").symlink_to(outside)
    ff_flush_jsonl(log)
    assert fsynced == []
    assert (outside / "log.jsonl").read_bytes() == b'{"a":1}\n'


def test_a_log_never_written_to_is_not_fsynced_by_a_flush(tmp_path: Path, fsynced: list[str]) -> None:
    """__init__ 24 (a new appender started dirty: a log whose first append was refused, a symlink
    at its name, was fsynced by a flush once a file stood there)."""
    log = tmp_path / "log.jsonl"
    (tmp_path / "elsewhere").write_bytes(b"")
    log.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(FFValidationError):
        ff_append_jsonl(log, {"a": 1}, durability="never")
    log.unlink()
    log.write_bytes(b'{"other":1}\n')
    ff_flush_jsonl(log)
    assert fsynced == []


# ------------------------------------------------------------------ _jsonl_append: open descriptors


def _open_on(paths: list[Path]) -> list[Path]:
    """Which of ``paths`` this process holds a descriptor on (also deleted: "… (deleted)")."""
    names: dict[str, Path] = {}
    for path in paths:
        names[str(path)] = path
        names[f"{path} (deleted)"] = path
    held: list[Path] = []
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/self/fd/{fd}")
            if target in names:
                held.append(names[target])
    return sorted(held, key=paths.index)


def test_the_most_recently_opened_logs_keep_their_descriptors_up_to_the_bound_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """_remember_open 6, 13 (every other log closed on each open: `len + 64`, at least one), and
    _close_file_fd 3 (an evicted log's descriptor forgotten but never closed)."""
    monkeypatch.setattr(j, "_MAX_OPEN_LOGS", 4)
    logs = [tmp_path / f"log{i}.jsonl" for i in range(10)]
    for log in logs:
        ff_append_jsonl(log, {"x": 1}, durability="never")
    assert _open_on(logs) == logs[-4:]


def test_a_log_replaced_at_its_name_has_its_old_descriptor_closed(tmp_path: Path) -> None:
    """_close_file_fd 3 (the descriptor of the replaced file never closed: one leaked per rewrite)."""
    log = tmp_path / "log.jsonl"
    ff_append_jsonl(log, {"i": 0}, durability="never")
    old = tmp_path / "old.jsonl"
    log.rename(old)
    log.write_bytes(b"")
    ff_append_jsonl(log, {"i": 1}, durability="never")
    assert _open_on([old, log]) == [log]
    assert (old.read_bytes(), log.read_bytes()) == (b'{"i":0}\n', b'{"i":1}\n')


def test_opening_a_log_does_not_wait_for_a_log_being_written_to_close_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """_remember_open 15 (`acquire(blocking=True)`: a new log's open waited for the write in
    progress on the log to evict, instead of skipping it)."""
    monkeypatch.setattr(j, "_MAX_OPEN_LOGS", 1)
    busy, other = tmp_path / "busy.jsonl", tmp_path / "other.jsonl"
    writing, release = threading.Event(), threading.Event()
    real_write = os.write

    def held_write(fd: int, data: Any) -> int:
        if os.readlink(f"/proc/self/fd/{fd}") == str(busy):
            writing.set()
            release.wait(10)
        return real_write(fd, data)

    fake = types.SimpleNamespace(**vars(os))
    fake.write = held_write
    monkeypatch.setattr(j, "os", fake)
    writer = threading.Thread(target=ff_append_jsonl, args=(busy, {"b": 1}), kwargs={"durability": "never"})
    opener = threading.Thread(target=ff_append_jsonl, args=(other, {"o": 1}), kwargs={"durability": "never"})
    writer.start()
    try:
        assert writing.wait(10)
        opener.start()
        opener.join(5)
        finished = not opener.is_alive()
    finally:
        release.set()
        writer.join(10)
        opener.join(10) if opener.ident is not None else None
    assert finished
    assert (busy.read_bytes(), other.read_bytes()) == (b'{"b":1}\n', b'{"o":1}\n')


def test_a_log_swapped_for_a_symlink_to_itself_is_refused_though_its_descriptor_is_open(tmp_path: Path) -> None:
    """_open_for_append 8, 9 (the `lstat` of the name followed the link: the link's target is the
    very file the cached descriptor holds, so the identity matched and the record went through)."""
    log, real = tmp_path / "log.jsonl", tmp_path / "real.jsonl"
    ff_append_jsonl(log, {"i": 0}, durability="never")
    log.rename(real)
    log.symlink_to(real)
    with pytest.raises(FFValidationError) as caught:
        ff_append_jsonl(log, {"i": 1}, durability="never")
    assert (caught.value.message, caught.value.value) == (
        "unsafe path: symlink 'log.jsonl' below the data root",
        str(log),
    )
    assert real.read_bytes() == b'{"i":0}\n'


def test_a_failing_fsync_of_a_new_logs_folder_is_a_storage_error_and_closes_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """_open_for_append 43 (`os.close(None)` on that path: a raw TypeError, the log left open)."""
    log = tmp_path / "log.jsonl"
    real_fsync = os.fsync

    def failing_on_folders(fd: int) -> None:
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise OSError(errno.EIO, "Input/output error")
        real_fsync(fd)

    fake = types.SimpleNamespace(**vars(os))
    fake.fsync = failing_on_folders
    monkeypatch.setattr(j, "os", fake)
    with pytest.raises(FFStorageError) as caught:
        ff_append_jsonl(log, {"i": 0}, durability="always")
    assert (caught.value.message, caught.value.path) == ("cannot append JSONL: Input/output error [EIO]", log)
    assert _open_on([log]) == []
    assert log.read_bytes() == b""
