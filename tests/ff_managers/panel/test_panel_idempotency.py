"""Idempotent panel writes: a retried add_message/import_messages (same message_id, same message)
returns what is stored and appends nothing; the same id with a different message is a conflict.
The check uses the in-memory id index, not a scan of the log per write."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ff_managers import FFEvent, FFEventBus, FFPanelSessionManager
from ff_utils.ff_errors import FFConflictError, FFCorruptionError
from ff_utils.ff_json_utils import ff_read_jsonl
from ff_utils.ff_store import FFStore

SEATS = [{"participant_id": "pro"}, {"participant_id": "con"}, {"participant_id": "ann", "kind": "human"}]


class ScanCountingStore(FFStore):
    """Counts full reads of JSONL logs (the index must make them rare)."""

    scans = 0

    def read_jsonl(self, path, **kwargs):  # type: ignore[override]
        type(self).scans += 1
        return super().read_jsonl(path, **kwargs)


@pytest.fixture
async def panels(config):
    async with FFPanelSessionManager(config) as manager:
        yield manager


def log_lines(config, user: str, pid: str) -> list[dict]:
    return list(ff_read_jsonl(Path(config.storage.base_path) / "users" / user / "panels" / pid / "messages.jsonl"))


async def test_a_retry_returns_the_stored_message_and_appends_nothing(config):
    bus = FFEventBus()
    seen: list[FFEvent] = []
    bus.subscribe("panel.message_added", seen.append)
    async with FFPanelSessionManager(config, bus=bus) as panels:
        pid = (await panels.create_panel("alice", SEATS)).panel_id
        first = await panels.add_message("alice", pid, "pro", "Tea", message_id="m1")
        await panels.add_message("alice", pid, "con", "Coffee")
        again = await panels.add_message("alice", pid, "pro", "Tea", message_id="m1")
        also = await panels.add_message("alice", pid, "pro", "Tea", role="assistant", message_id="m1")  # the default role, spelled out
    assert again == first and also == first and again.sequence == 1
    assert [r["message_id"] for r in log_lines(config, "alice", pid)][0] == "m1"
    assert len(log_lines(config, "alice", pid)) == 2
    assert [e.payload["sequence"] for e in seen] == [1, 2]  # a replay announces nothing new


@pytest.mark.parametrize(
    "change",
    [
        {"content": "Tea!"},
        {"participant_id": "con"},
        {"role": "user"},
    ],
)
async def test_the_same_id_with_a_different_message_is_a_conflict_and_writes_nothing(panels, config, change):
    pid = (await panels.create_panel("alice", SEATS)).panel_id
    await panels.add_message("alice", pid, "pro", "Tea", message_id="m1")
    before = log_lines(config, "alice", pid)
    fields = {"participant_id": "pro", "content": "Tea", **change}
    with pytest.raises(FFConflictError, match="m1"):
        await panels.add_message("alice", pid, fields["participant_id"], fields["content"], role=fields.get("role"), message_id="m1")
    assert log_lines(config, "alice", pid) == before


async def test_a_retried_import_returns_the_batch_and_a_partial_one_is_a_conflict(panels, config):
    pid = (await panels.create_panel("alice", SEATS)).panel_id
    batch = [{"participant_id": p, "content": f"{p} says", "message_id": f"i_{p}"} for p in ("pro", "con")]
    stored = await panels.import_messages("alice", pid, batch)
    assert await panels.import_messages("alice", pid, batch) == stored
    with pytest.raises(FFConflictError):  # one stored, one new: not a retry of anything
        await panels.import_messages("alice", pid, [batch[0], {"participant_id": "ann", "content": "new", "message_id": "i_new"}])
    with pytest.raises(FFConflictError):  # ids given, but no id for the second: not a retry either
        await panels.import_messages("alice", pid, [batch[0], {"participant_id": "ann", "content": "new"}])
    assert [r["message_id"] for r in log_lines(config, "alice", pid)] == ["i_pro", "i_con"]


async def test_concurrent_retries_in_one_group_get_one_message(panels, config):
    pid = (await panels.create_panel("alice", SEATS)).panel_id
    results = await asyncio.gather(*(panels.add_message("alice", pid, "ann", "hello", message_id="dup") for _ in range(10)))
    assert {(m.message_id, m.sequence) for m in results} == {("dup", 1)}
    assert len(log_lines(config, "alice", pid)) == 1


async def test_a_retry_is_recognised_after_a_restart_and_in_a_closed_panel(config):
    async with FFPanelSessionManager(config) as first:
        pid = (await first.create_panel("alice", SEATS)).panel_id
        for i in range(30):
            await first.add_message("alice", pid, "ann", f"line {i}", message_id=f"m{i}")
        await first.close_panel("alice", pid)
    async with FFPanelSessionManager(config) as second:  # the index is rebuilt from the log
        assert (await second.add_message("alice", pid, "ann", "line 3", message_id="m3")).sequence == 4
        with pytest.raises(FFConflictError, match="closed"):
            await second.add_message("alice", pid, "ann", "a new line", message_id="m_new")
        with pytest.raises(FFConflictError, match="m3"):
            await second.add_message("alice", pid, "ann", "line three", message_id="m3")
    assert len(log_lines(config, "alice", pid)) == 30


async def test_ids_are_checked_against_the_index_not_a_scan_per_write(config):
    ScanCountingStore.scans = 0
    store = ScanCountingStore.from_config(config)
    async with FFPanelSessionManager(config, store=store) as panels:
        pid = (await panels.create_panel("alice", SEATS)).panel_id
        for i in range(40):
            await panels.add_message("alice", pid, "ann", f"line {i}", message_id=f"m{i}")
        await panels.add_message("alice", pid, "ann", "line 7", message_id="m7")  # a retry
        with pytest.raises(FFConflictError):
            await panels.add_message("alice", pid, "ann", "other", message_id="m8")
    assert ScanCountingStore.scans <= 1, f"{ScanCountingStore.scans} full log reads for 42 writes"


async def test_another_process_appending_is_seen_by_the_index(config):
    async with FFPanelSessionManager(config) as a, FFPanelSessionManager(config) as b:
        pid = (await a.create_panel("alice", SEATS)).panel_id
        await a.add_message("alice", pid, "ann", "from a", message_id="ma")
        await b.add_message("alice", pid, "ann", "from b", message_id="mb")  # a's index does not know it
        assert (await a.add_message("alice", pid, "ann", "from b", message_id="mb")).sequence == 2
        with pytest.raises(FFConflictError):
            await a.add_message("alice", pid, "ann", "not from b", message_id="mb")
    assert len(log_lines(config, "alice", pid)) == 2


async def test_a_retry_of_a_message_whose_line_was_damaged_since_is_a_corruption_error(panels, config):
    pid = (await panels.create_panel("alice", SEATS)).panel_id
    await panels.add_message("alice", pid, "ann", "first", message_id="m1")
    await panels.add_message("alice", pid, "ann", "second", message_id="m2")
    log = Path(config.storage.base_path) / "users" / "alice" / "panels" / pid / "messages.jsonl"
    first, second = log.read_bytes().splitlines(keepends=True)
    log.write_bytes(b'{"damaged": true}\n' + second)  # the index still lists m1; the log lost it
    with pytest.raises(FFCorruptionError, match="m1"):
        await panels.add_message("alice", pid, "ann", "first", message_id="m1")
    assert log.read_bytes() == b'{"damaged": true}\n' + second
