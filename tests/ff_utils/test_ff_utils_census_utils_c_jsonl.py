"""Survivors of the census of ``_jsonl_read`` (issue 20), killed: what a caller of
``ff_tail_jsonl`` sees of a file whose length leaves one byte before the last full block, and the
error of ``ff_count_jsonl_lines`` when a read fails."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ff_utils._jsonl_read import _TAIL_BLOCK, ff_count_jsonl_lines, ff_tail_jsonl
from ff_utils.ff_errors import FFStorageError


def test_tail_reads_the_first_byte_of_a_file_one_byte_longer_than_a_block(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    last = b'{"n":2}\n'
    padding = _TAIL_BLOCK + 1 - len(last) - len(b'{"p":""}\n')
    path.write_bytes(b'{"p":"' + b"x" * padding + b'"}\n' + last)
    assert path.stat().st_size == _TAIL_BLOCK + 1
    bad: list[object] = []
    assert ff_tail_jsonl(path, 5, on_bad_line=bad.append) == [{"p": "x" * padding}, {"n": 2}]
    assert bad == []


def test_a_count_that_cannot_read_names_its_action_and_the_file() -> None:
    """``/proc/<pid>/mem`` opens but fails its first read (offset 0 is unmapped): EIO."""
    target = Path(f"/proc/{os.getpid()}/mem")
    with pytest.raises(FFStorageError) as caught:
        ff_count_jsonl_lines(target)
    assert caught.value.message == "cannot count JSONL lines: Input/output error [EIO]"
    assert Path(caught.value.path) == target
