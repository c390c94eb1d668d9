"""ff_flush_jsonl after the file was deleted or renamed away (a temp tree, a swapped staging copy)."""

from __future__ import annotations

from pathlib import Path

from ff_utils.ff_json_utils import ff_append_jsonl, ff_flush_jsonl, ff_read_jsonl


def test_flush_of_a_renamed_file_is_a_no_op_and_later_appends_still_work(tmp_path: Path) -> None:
    log = tmp_path / "staging" / "messages.jsonl"
    ff_append_jsonl(log, {"n": 1}, durability="never")
    (tmp_path / "staging").rename(tmp_path / "live")
    ff_flush_jsonl(log)  # must not raise: nothing is left at that path to make durable
    ff_flush_jsonl()  # the at-exit flush path, over every appender
    ff_append_jsonl(log, {"n": 2}, durability="never")
    ff_flush_jsonl(log)
    assert list(ff_read_jsonl(log)) == [{"n": 2}]
    assert list(ff_read_jsonl(tmp_path / "live" / "messages.jsonl")) == [{"n": 1}]
