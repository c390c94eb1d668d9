"""Panel reads and writes survive bad lines: a wrong-shape record is skipped and reported (logged,
counted in health) like a corrupt one; a torn last line of messages.jsonl is repaired under the
panel's lock and never blocks, nor glues itself to, the next write; stored-record errors of whole
documents are FFCorruptionError."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from ff_managers import FFPanelSessionManager
from ff_managers._panel.reading import FFPanelRecordReader
from ff_utils.ff_errors import FFCorruptionError
from ff_utils.ff_json_utils import ff_check_jsonl, ff_read_jsonl
from ff_utils.ff_store import FFStore

SEATS = [{"participant_id": "pro"}, {"participant_id": "con"}]

WRONG_SHAPES = {
    "an object of another kind": b'{"hello": "world"}',
    "a list": b"[1, 2, 3]",
    "a number": b"42",
    "a string": b'"text"',
    "a message without content": b'{"message_id": "mx", "panel_id": "PID", "sequence": 3, "participant_id": "pro", "role": "assistant", "timestamp": "2025-01-01T00:00:00Z"}',
    "a bad sequence": b'{"message_id": "mx", "panel_id": "PID", "sequence": "three", "participant_id": "pro", "role": "assistant", "content": "x", "timestamp": "2025-01-01T00:00:00Z"}',
    "another panel's message": b'{"message_id": "mx", "panel_id": "panel_other", "sequence": 3, "participant_id": "pro", "role": "assistant", "content": "x", "timestamp": "2025-01-01T00:00:00Z"}',
    "not JSON": b"{not json",
}


@pytest.fixture
async def panels(config):
    async with FFPanelSessionManager(config) as manager:
        yield manager


def folder(config, pid: str) -> Path:
    return Path(config.storage.base_path) / "users" / "alice" / "panels" / pid


async def two_messages(panels: FFPanelSessionManager) -> str:
    pid = (await panels.create_panel("alice", SEATS, turn_policy="round_robin")).panel_id
    await panels.add_message("alice", pid, "pro", "one")
    await panels.add_message("alice", pid, "con", "two")
    return pid


def append_raw(path: Path, data: bytes) -> None:
    with path.open("ab") as handle:
        handle.write(data)


@pytest.mark.parametrize("shape", list(WRONG_SHAPES))
async def test_a_bad_last_line_is_skipped_reported_and_does_not_block_writes(panels, config, shape):
    pid = await two_messages(panels)
    log = folder(config, pid) / "messages.jsonl"
    append_raw(log, WRONG_SHAPES[shape].replace(b"PID", pid.encode()) + b"\n")
    skipped = panels.health().details["skipped_records"]
    assert [m.content for m in await panels.get_messages("alice", pid)] == ["one", "two"]
    assert [m.content for m in await panels.get_messages("alice", pid, after_sequence=1)] == ["two"]
    assert (await panels.get_panel("alice", pid)).message_count == 2
    assert (await panels.get_turn_status("alice", pid)).next_speakers == ["pro"]
    assert panels.health().details["skipped_records"] > skipped
    third = await panels.add_message("alice", pid, "pro", "three")  # numbering continues from the last good one
    assert third.sequence == 3
    assert [m.sequence for m in await panels.get_messages("alice", pid)] == [1, 2, 3]
    figures = await panels.close_panel("alice", pid)
    assert figures.message_count == 3


async def test_bad_lines_in_the_middle_are_skipped_by_every_read(panels, config):
    pid = (await panels.create_panel("alice", SEATS)).panel_id
    await panels.add_message("alice", pid, "pro", "one", message_id="m1")
    decision = await panels.record_decision("alice", pid, "Tea?", ["yes", "no"])
    await panels.record_insight("alice", pid, "kept")
    base = folder(config, pid)
    for log in ("messages", "insights", "decisions", "votes"):
        append_raw(base / f"{log}.jsonl", b'{"wrong": "shape"}\n[]\n')
    await panels.add_message("alice", pid, "con", "two", reply_to="m1")
    await panels.cast_vote("alice", pid, decision.decision_id, "pro", "yes")
    assert [m.content for m in await panels.get_messages("alice", pid)] == ["one", "two"]
    assert [m.content for m in await panels.get_messages("alice", pid, after_sequence=0, limit=10)] == ["one", "two"]
    assert [i.content for i in await panels.get_insights("alice", pid)] == ["kept"]
    [tally] = await panels.get_decisions("alice", pid)
    assert tally.counts == {"yes": 1, "no": 0}
    analytics = await panels.get_analytics("alice", pid)
    assert (analytics.message_count, analytics.insight_count, analytics.vote_count) == (2, 1, 1)
    assert await panels.add_message("alice", pid, "pro", "one", message_id="m1")  # the id index skips them too


async def test_a_torn_last_line_is_repaired_before_the_next_write(panels, config):
    pid = await two_messages(panels)
    log = folder(config, pid) / "messages.jsonl"
    append_raw(log, b'{"message_id": "half", "sequ')
    assert [m.content for m in await panels.get_messages("alice", pid)] == ["one", "two"]  # reads skip it
    third = await panels.add_message("alice", pid, "pro", "three")
    assert third.sequence == 3
    health = ff_check_jsonl(log)
    assert health.healthy and health.records == 3  # the fragment was cut, not left as a bad line
    assert panels.health().details["skipped_records"] >= 1


async def test_a_whole_record_torn_from_its_newline_is_not_resurrected_with_a_duplicate_number(panels, config):
    pid = await two_messages(panels)
    log = folder(config, pid) / "messages.jsonl"
    stored = list(ff_read_jsonl(log))
    ghost = {**stored[-1], "message_id": "ghost", "sequence": 3, "content": "never acknowledged"}
    append_raw(log, orjson.dumps(ghost))  # a crash before the newline: the writer never answered
    third = await panels.add_message("alice", pid, "pro", "three")
    assert third.sequence == 3
    assert [(r["sequence"], r["content"]) for r in ff_read_jsonl(log)] == [(1, "one"), (2, "two"), (3, "three")]


async def test_a_log_of_only_bad_lines_reads_empty_and_starts_at_one(panels, config):
    pid = (await panels.create_panel("alice", SEATS)).panel_id
    append_raw(folder(config, pid) / "messages.jsonl", b'{"a": 1}\n{"b": 2}\n[]\n')
    assert await panels.get_messages("alice", pid) == []
    assert (await panels.add_message("alice", pid, "pro", "first")).sequence == 1


async def test_stored_documents_that_do_not_fit_are_corruption_errors(panels, config):
    pid = await two_messages(panels)
    base = folder(config, pid)
    (base / "state.json").write_bytes(b"[1, 2]")
    with pytest.raises(FFCorruptionError, match="state.json"):
        await panels.get_state("alice", pid)
    with pytest.raises(FFCorruptionError):
        await panels.update_state("alice", pid, {"k": 1})
    (base / "panel.json").write_bytes(b'{"panel_id": 5}')
    with pytest.raises(FFCorruptionError):
        await panels.get_panel("alice", pid)
    with pytest.raises(FFCorruptionError):
        await panels.add_message("alice", pid, "pro", "three")


def test_the_backward_search_reports_each_bad_line_once(tmp_path, caplog):
    reader = FFPanelRecordReader(FFStore(tmp_path))
    log = tmp_path / "messages.jsonl"
    good = {"message_id": "m1", "panel_id": "p", "sequence": 1, "participant_id": "a", "role": "user", "content": "x", "timestamp": "2025-01-01T00:00:00Z"}
    log.write_bytes(orjson.dumps(good) + b"\n" + b'{"bad": 1}\n' * 20 + b"{torn")
    last = reader.last_message(log, "p", repair=True)
    assert last is not None and last.message_id == "m1"
    assert reader.skipped == 21  # 20 wrong shapes, 1 torn tail (repaired)
    assert not log.read_bytes().endswith(b"{torn")
    assert reader.last_messages(log, "p", 5) == [last]
