"""Exact behaviour of ff_repair_jsonl and of the skipped-line warning (mutation review, issue #20).

The crash-safety tests show a torn tail is removed; these pin the edges a mutant moved: an
empty file, a one-byte file, a torn fragment of one byte, a newline at the very start of the
scanned block, a file longer than one scan block, the refusal of a symlinked directory below
``root``, the translated disk error, and the exact warning lines (none on a healthy file).
"""

from __future__ import annotations

import errno
import logging
import os
from pathlib import Path

import pytest

from ff_utils import _jsonl_read
from ff_utils.ff_errors import FFStorageError, FFValidationError
from ff_utils.ff_json_utils import ff_read_jsonl, ff_repair_jsonl

_LOGGER = "ff.json"


def _repair(tmp_path: Path, content: bytes) -> tuple[int, bytes]:
    log = tmp_path / "log.jsonl"
    log.write_bytes(content)
    removed = ff_repair_jsonl(log)
    return removed, log.read_bytes()


def test_an_empty_file_needs_no_repair(tmp_path: Path) -> None:
    assert _repair(tmp_path, b"") == (0, b"")


def test_a_single_torn_byte_is_removed(tmp_path: Path) -> None:
    assert _repair(tmp_path, b"{") == (1, b"")


def test_a_one_byte_fragment_after_a_complete_line_is_removed(tmp_path: Path) -> None:
    assert _repair(tmp_path, b'{"a":1}\n{') == (1, b'{"a":1}\n')


def test_a_newline_at_the_first_scanned_byte_is_kept(tmp_path: Path) -> None:
    assert _repair(tmp_path, b"\nabc") == (3, b"\n")


def test_a_fragment_longer_than_one_scan_block_is_removed_up_to_the_first_byte(tmp_path: Path) -> None:
    fragment = b"x" * _jsonl_read._TAIL_BLOCK
    assert _repair(tmp_path, b"\n" + fragment) == (len(fragment), b"\n")


def test_a_healthy_file_is_left_alone_without_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger=_LOGGER):
        assert _repair(tmp_path, b'{"a":1}\n{"b":2}\n') == (0, b'{"a":1}\n{"b":2}\n')
    assert [r for r in caplog.records if r.name == _LOGGER] == []


def test_a_repair_logs_the_file_and_the_bytes_removed(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger=_LOGGER):
        assert _repair(tmp_path, b'{"a":1}\n{"b"') == (4, b'{"a":1}\n')
    messages = [r.getMessage() for r in caplog.records if r.name == _LOGGER]
    assert messages == [f"repaired {tmp_path / 'log.jsonl'}: removed a torn tail of 4 bytes"]


def test_a_symlinked_directory_below_root_is_refused_and_nothing_is_cut(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (real / "log.jsonl").write_bytes(b'{"a":1}\n{"b"')
    (tmp_path / "link").symlink_to(real)
    with pytest.raises(FFValidationError) as caught:
        ff_repair_jsonl(tmp_path / "link" / "log.jsonl", root=tmp_path)
    assert caught.value.field == "path"
    assert (real / "log.jsonl").read_bytes() == b'{"a":1}\n{"b"'


def test_a_disk_error_while_repairing_names_the_action_and_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "log.jsonl"
    log.write_bytes(b'{"a":1}\n{"b"')

    def failing_fsync(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(FFStorageError) as caught:
        ff_repair_jsonl(log)
    assert caught.value.message == "cannot repair JSONL: Input/output error [EIO]"
    assert caught.value.path == log


@pytest.mark.parametrize(("content", "kind"), [(b'{"a":1}\nnot json\n', "corrupt"), (b'{"a":1}\n{"b"', "torn")])
def test_a_skipped_line_is_logged_with_its_kind_offset_file_and_reason(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, content: bytes, kind: str
) -> None:
    log = tmp_path / "log.jsonl"
    log.write_bytes(content)
    reported: list[_jsonl_read.FFBadLine] = []
    assert list(ff_read_jsonl(log, on_bad_line=reported.append)) == [{"a": 1}]
    assert [(bad.offset, bad.torn) for bad in reported] == [(8, kind == "torn")]
    with caplog.at_level(logging.WARNING, logger=_LOGGER):
        assert list(ff_read_jsonl(log)) == [{"a": 1}]
    messages = [r.getMessage() for r in caplog.records if r.name == _LOGGER]
    assert messages == [f"skipped {kind} line at byte 8 of {log}: {reported[0].reason}"]
