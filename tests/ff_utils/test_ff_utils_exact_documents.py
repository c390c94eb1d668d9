"""Exact behaviour of the document helpers and the JSONL counters (mutation review, issue #20):
the fsyncs ``durability`` makes for ff_write_json / ff_update_json, their refusal of a symlinked
folder below ``root`` (nothing written, the updater not run), the translated error
of a reader pointed at a folder (no descriptor leaked), and every field of the bad lines ff_tail_jsonl reports."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ff_utils._jsonl_read import FFBadLine
from ff_utils.ff_errors import FFStorageError, FFValidationError
from ff_utils.ff_json_utils import ff_count_jsonl_lines, ff_read_jsonl, ff_tail_jsonl, ff_update_json, ff_write_json


@pytest.fixture
def fsyncs(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    seen: list[str] = []
    real = os.fsync

    def recording(fd: int) -> None:
        seen.append("dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real(fd)

    monkeypatch.setattr(os, "fsync", recording)
    yield seen


def test_write_json_fsyncs_file_and_folder_by_default_and_nothing_with_never(tmp_path: Path, fsyncs: list[str]) -> None:
    ff_write_json(tmp_path / "a.json", {"a": 1})
    assert fsyncs == ["file", "dir"]
    ff_write_json(tmp_path / "b.json", {"b": 1}, durability="never")
    assert fsyncs == ["file", "dir"]
    assert (tmp_path / "b.json").read_bytes() == b'{\n  "b": 1\n}\n'


def test_update_json_fsyncs_by_default_and_nothing_with_never(tmp_path: Path, fsyncs: list[str]) -> None:
    assert ff_update_json(tmp_path / "a.json", lambda d: {**d, "n": 1}, default={}) == {"n": 1}
    assert fsyncs == ["file", "dir"]
    assert ff_update_json(tmp_path / "a.json", lambda d: {**d, "n": 2}, durability="never") == {"n": 2}
    assert fsyncs == ["file", "dir"]


def _linked(tmp_path: Path) -> Path:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "doc.json").write_bytes(b'{"n": 0}')
    (tmp_path / "link").symlink_to(tmp_path / "real")
    return tmp_path / "link" / "doc.json"


def test_write_json_refuses_a_symlinked_folder_below_root(tmp_path: Path) -> None:
    with pytest.raises(FFValidationError):
        ff_write_json(_linked(tmp_path), {"n": 1}, root=tmp_path)
    assert (tmp_path / "real" / "doc.json").read_bytes() == b'{"n": 0}'


def test_update_json_refuses_a_symlinked_folder_below_root_without_running_the_updater(tmp_path: Path) -> None:
    seen: list[Any] = []
    with pytest.raises(FFValidationError):
        ff_update_json(_linked(tmp_path), lambda d: seen.append(d) or {"n": 1}, root=tmp_path)
    assert seen == []
    assert (tmp_path / "real" / "doc.json").read_bytes() == b'{"n": 0}'


@pytest.mark.parametrize(
    "reader",
    [ff_count_jsonl_lines, lambda p: list(ff_read_jsonl(p)), lambda p: ff_tail_jsonl(p, 3)],
    ids=["count", "read", "tail"],
)
def test_a_reader_pointed_at_a_directory_gets_a_storage_error_and_leaks_no_descriptor(
    tmp_path: Path, reader: Callable[[Path], Any]
) -> None:
    (tmp_path / "d").mkdir()
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(3):
        with pytest.raises(FFStorageError) as caught:
            reader(tmp_path / "d")
        assert (caught.value.message, caught.value.path) == ("cannot open file: Is a directory [EISDIR]", tmp_path / "d")
    assert len(os.listdir("/proc/self/fd")) == before


def test_tail_reports_each_bad_line_with_the_file_offset_and_reason(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    log.write_bytes(b'{"a":1}\nnot json\n{"b":2}\n{"c"')
    bad: list[FFBadLine] = []
    assert ff_tail_jsonl(log, 5, on_bad_line=bad.append) == [{"a": 1}, {"b": 2}]
    assert [(b.path, b.offset, b.torn) for b in bad] == [(log, 25, True), (log, 8, False)]
    assert bad[0].reason == "torn last line (no newline)"
    assert bad[1].reason != ""
