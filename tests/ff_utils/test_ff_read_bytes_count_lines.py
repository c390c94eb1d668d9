"""Tests of the two ff_utils primitives the memory manager added: ff_read_bytes, ff_count_jsonl_lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from ff_utils.ff_errors import FFNotFoundError, FFValidationError
from ff_utils.ff_file_ops import ff_read_bytes
from ff_utils.ff_json_utils import ff_append_jsonl, ff_count_jsonl_lines, ff_read_jsonl


def test_read_bytes_returns_content_and_enforces_the_cap(tmp_path: Path) -> None:
    target = tmp_path / "blob"
    target.write_bytes(b"\x00\x01abc")
    assert ff_read_bytes(target) == b"\x00\x01abc"
    assert ff_read_bytes(target, max_bytes=5) == b"\x00\x01abc"
    with pytest.raises(FFValidationError):
        ff_read_bytes(target, max_bytes=4)
    with pytest.raises(FFNotFoundError):
        ff_read_bytes(tmp_path / "missing")


def test_count_lines_counts_complete_records_only(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    assert ff_count_jsonl_lines(log) == 0
    ff_append_jsonl(log, [{"i": i, "text": "a\nb"} for i in range(2500)], many=True, durability="never")
    assert ff_count_jsonl_lines(log) == 2500 == sum(1 for _ in ff_read_jsonl(log))
    with log.open("ab") as handle:  # a writer that died mid-line
        handle.write(b'{"torn": ')
    assert ff_count_jsonl_lines(log) == 2500


def test_count_lines_spans_block_boundaries(tmp_path: Path) -> None:
    log = tmp_path / "big.jsonl"
    ff_append_jsonl(log, [{"pad": "x" * 1000} for _ in range(3000)], many=True, durability="never")  # ~3 MB
    assert ff_count_jsonl_lines(log) == 3000
