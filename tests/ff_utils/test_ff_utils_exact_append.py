"""Exact behaviour of ff_append_jsonl (mutation review, issue #20): the record-size limit at its
edge, the refusal of a symlinked log or directory (also when the same file was appended to
before without a root), the mode of a new log, which fsyncs each durability makes, and the
translated disk error that leaves no part of the failed group behind."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from ff_utils.ff_errors import FFStorageError, FFValidationError
from ff_utils.ff_json_utils import ff_append_jsonl, ff_dumps, ff_flush_jsonl


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


def test_a_record_of_exactly_the_limit_is_appended(tmp_path: Path) -> None:
    record = {"k": "v" * 10}
    size = len(ff_dumps(record))
    ff_append_jsonl(tmp_path / "log.jsonl", record, max_record_bytes=size)
    assert (tmp_path / "log.jsonl").read_bytes() == ff_dumps(record) + b"\n"


def test_a_record_one_byte_over_the_limit_is_refused_exactly_and_nothing_is_written(tmp_path: Path) -> None:
    record = {"k": "v" * 10}
    size = len(ff_dumps(record))
    with pytest.raises(FFValidationError) as caught:
        ff_append_jsonl(tmp_path / "log.jsonl", record, max_record_bytes=size - 1)
    assert (caught.value.message, caught.value.field) == (
        f"record of {size:,} bytes exceeds the limit of {size - 1:,}",
        "record",
    )
    assert not (tmp_path / "log.jsonl").exists()


def test_a_symlink_at_the_log_name_is_refused_naming_it(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").write_bytes(b"")
    (tmp_path / "log.jsonl").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(FFValidationError) as caught:
        ff_append_jsonl(tmp_path / "log.jsonl", {"a": 1})
    assert (caught.value.message, caught.value.field, caught.value.value) == (
        "unsafe path: symlink 'log.jsonl' below the data root",
        "path",
        str(tmp_path / "log.jsonl"),
    )
    assert (tmp_path / "elsewhere").read_bytes() == b""


def test_a_root_given_later_is_honoured_for_a_file_appended_to_before_without_one(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    log = tmp_path / "link" / "log.jsonl"
    ff_append_jsonl(log, {"a": 1})  # no root: only the final name is checked
    with pytest.raises(FFValidationError) as caught:
        ff_append_jsonl(log, {"b": 2}, root=tmp_path)
    assert caught.value.field == "path"
    assert (tmp_path / "real" / "log.jsonl").read_bytes() == b'{"a":1}\n'


def test_the_outermost_root_known_is_the_one_walked(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    log = tmp_path / "link" / "log.jsonl"
    ff_append_jsonl(log, {"a": 1}, root=tmp_path / "link")  # the walk starts at the link: allowed
    with pytest.raises(FFValidationError):
        ff_append_jsonl(log, {"b": 2}, root=tmp_path)
    with pytest.raises(FFValidationError):  # the outer root stays, even asked with the inner one
        ff_append_jsonl(log, {"c": 3}, root=tmp_path / "link")
    assert (tmp_path / "real" / "log.jsonl").read_bytes() == b'{"a":1}\n'


def test_a_new_log_is_created_0644_whatever_the_umask(tmp_path: Path) -> None:
    old_umask = os.umask(0)
    try:
        ff_append_jsonl(tmp_path / "log.jsonl", {"a": 1})
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE((tmp_path / "log.jsonl").stat().st_mode) == 0o644


def test_always_fsyncs_the_new_name_then_every_group(tmp_path: Path, fsyncs: list[str]) -> None:
    ff_append_jsonl(tmp_path / "log.jsonl", {"a": 1}, durability="always")
    assert fsyncs == ["dir", "file"]
    ff_append_jsonl(tmp_path / "log.jsonl", {"b": 2}, durability="always")
    assert fsyncs == ["dir", "file", "file"]


def test_never_fsyncs_nothing_not_even_the_new_name(tmp_path: Path, fsyncs: list[str]) -> None:
    ff_append_jsonl(tmp_path / "log.jsonl", {"a": 1}, durability="never")
    ff_append_jsonl(tmp_path / "log.jsonl", {"b": 2}, durability="never")
    assert fsyncs == []
    assert (tmp_path / "log.jsonl").read_bytes() == b'{"a":1}\n{"b":2}\n'


def test_a_failed_fsync_is_a_storage_error_and_leaves_no_part_of_the_group(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "log.jsonl"
    ff_append_jsonl(log, {"a": 1})

    def failing_fsync(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(FFStorageError) as caught:
        ff_append_jsonl(log, [{"b": 2}, {"c": 3}], many=True, durability="always")
    assert (caught.value.message, caught.value.path) == ("cannot append JSONL: Input/output error [EIO]", log)
    assert log.read_bytes() == b'{"a":1}\n'


def test_flush_fsyncs_what_never_left_once_and_nothing_after_always(tmp_path: Path, fsyncs: list[str]) -> None:
    ff_append_jsonl(tmp_path / "never.jsonl", {"a": 1}, durability="never")
    ff_flush_jsonl(tmp_path / "never.jsonl")
    ff_flush_jsonl(tmp_path / "never.jsonl")  # clean now: nothing more to fsync
    assert fsyncs == ["file"]
    ff_append_jsonl(tmp_path / "always.jsonl", {"a": 1}, durability="always")
    ff_flush_jsonl(tmp_path / "always.jsonl")
    assert fsyncs == ["file", "dir", "file"]


def test_flush_of_a_file_never_appended_to_does_nothing(tmp_path: Path, fsyncs: list[str]) -> None:
    ff_flush_jsonl(tmp_path / "unknown.jsonl")
    assert fsyncs == []
