"""Survivors of the census of ``_jsonl_read`` (issue 20), killed: what a caller of
``ff_tail_jsonl`` sees of a file whose length leaves one byte before the last full block."""

from __future__ import annotations

from pathlib import Path

from ff_utils._jsonl_read import _TAIL_BLOCK, ff_tail_jsonl


def test_tail_reads_the_first_byte_of_a_file_one_byte_longer_than_a_block(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    last = b'{"n":2}\n'
    padding = _TAIL_BLOCK + 1 - len(last) - len(b'{"p":""}\n')
    path.write_bytes(b'{"p":"' + b"x" * padding + b'"}\n' + last)
    assert path.stat().st_size == _TAIL_BLOCK + 1
    bad: list[object] = []
    assert ff_tail_jsonl(path, 5, on_bad_line=bad.append) == [{"p": "x" * padding}, {"n": 2}]
    assert bad == []
