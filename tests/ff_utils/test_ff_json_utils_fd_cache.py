"""The appender keeps its descriptor open between groups and skips re-reading the last byte
when it wrote that byte itself; these tests make sure neither shortcut ever misses a change."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

import ff_utils._jsonl_append as j
from ff_utils.ff_json_utils import ff_append_jsonl, ff_read_jsonl, ff_repair_jsonl, ff_write_json


class _CountingOs:
    """Stands in for ``os`` inside the JSONL appender and counts the calls that matter here."""

    def __init__(self) -> None:
        self.opens = 0
        self.preads = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)

    def open(self, *args: Any, **kwargs: Any) -> int:
        self.opens += 1
        return os.open(*args, **kwargs)

    def pread(self, *args: Any) -> bytes:
        self.preads += 1
        return os.pread(*args)


def test_descriptor_is_reused_and_last_byte_not_reread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "log.jsonl"
    ff_append_jsonl(log, {"i": 0})
    counting = _CountingOs()
    monkeypatch.setattr(j, "os", counting)
    for i in range(1, 6):
        ff_append_jsonl(log, {"i": i})
    assert counting.opens == 0
    assert counting.preads == 0
    monkeypatch.undo()
    assert [r["i"] for r in ff_read_jsonl(log)] == list(range(6))


def test_torn_tail_from_another_writer_is_detected_with_cached_descriptor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "log.jsonl"
    ff_append_jsonl(log, {"i": 0})
    with log.open("ab") as other:  # another process died mid-line
        other.write(b'{"torn":')
    counting = _CountingOs()
    monkeypatch.setattr(j, "os", counting)
    ff_append_jsonl(log, {"i": 1})
    assert counting.preads == 1
    monkeypatch.undo()
    assert log.read_bytes().endswith(b'{"torn":\n{"i":1}\n')
    assert [r["i"] for r in ff_read_jsonl(log, on_bad_line=lambda bad: None)] == [0, 1]


def test_append_after_repair_lands_on_a_fresh_line(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    ff_append_jsonl(log, {"i": 0})
    with log.open("ab") as other:
        other.write(b'{"torn":')
    assert ff_repair_jsonl(log) == len(b'{"torn":')
    ff_append_jsonl(log, {"i": 1})
    assert log.read_bytes() == b'{"i":0}\n{"i":1}\n'


@pytest.mark.parametrize("how", ["rename", "atomic_rewrite", "delete"])
def test_stale_descriptor_after_the_path_changes_file(tmp_path: Path, how: str) -> None:
    log = tmp_path / "log.jsonl"
    ff_append_jsonl(log, {"i": 0})
    if how == "rename":
        log.rename(tmp_path / "moved.jsonl")
    elif how == "atomic_rewrite":
        ff_write_json(log, {"replaced": True})  # a new inode at the same path
    else:
        log.unlink()
    ff_append_jsonl(log, {"i": 1})
    if how == "rename":
        assert log.read_bytes() == b'{"i":1}\n'
        assert (tmp_path / "moved.jsonl").read_bytes() == b'{"i":0}\n'  # the old file is untouched
    elif how == "atomic_rewrite":
        # The rewritten document ends with a newline, so the record starts a fresh line in it.
        assert log.read_bytes().endswith(b'}\n{"i":1}\n')
    else:
        assert log.read_bytes() == b'{"i":1}\n'


def test_same_size_after_truncate_and_foreign_append_still_checks_when_size_differs(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    ff_append_jsonl(log, {"i": 0})
    os.truncate(log, 3)  # someone else shrank it mid-line
    ff_append_jsonl(log, {"i": 1})
    assert log.read_bytes() == b'{"i\n{"i":1}\n'


def test_open_descriptors_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(j, "_MAX_OPEN_LOGS", 4)
    logs = [tmp_path / f"log{i}.jsonl" for i in range(12)]
    for log in logs:
        ff_append_jsonl(log, {"x": 1})
    held = [j._appender_for(log)._fd for log in logs]
    assert sum(fd is not None for fd in held) <= 4
    for log in logs:  # closed ones reopen transparently
        ff_append_jsonl(log, {"x": 2})
        assert log.read_bytes() == b'{"x":1}\n{"x":2}\n'


def test_failed_group_drops_the_descriptor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "log.jsonl"
    ff_append_jsonl(log, {"i": 0})

    class _FailingOs:
        def __getattr__(self, name: str) -> Any:
            return getattr(os, name)

        def fsync(self, fd: int) -> None:
            raise OSError(5, "Input/output error")

    monkeypatch.setattr(j, "os", _FailingOs())
    with pytest.raises(j.FFStorageError):
        ff_append_jsonl(log, {"i": 1})
    assert j._appender_for(log)._fd is None
    monkeypatch.undo()
    ff_append_jsonl(log, {"i": 2})
    assert log.read_bytes() == b'{"i":0}\n{"i":2}\n'
