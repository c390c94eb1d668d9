"""A retention pass's records and report pinned exactly (issue 20: survivors of
``layer_store.apply_retention`` and ``retention_pass.run`` in the run at 13dc191): the retention
log's record key for key, a duplicate copy in the permanent layer rewritten away, which users a
pass walks (one user only when named, users without memories skipped, a damaged user named with
its error and the users after it still done), summary ids' prefix, and the pass's duration."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import ff_managers._memory.retention_pass as retention_pass
from ff_class_configs import load_config
from ff_class_configs.ff_memory_dtos import MEMORY_SCHEMA_VERSION
from ff_managers import FFMemoryLayerManager
from ff_utils.ff_errors import FFCorruptionError
from tests._fakes import FakeClock

T0 = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


def make(root: Path, clock: FakeClock, **memory: Any) -> FFMemoryLayerManager:
    config = load_config(base_path=root, environ={})
    for key, value in memory.items():
        setattr(config.memory, key, value)
    return FFMemoryLayerManager(config, clock=clock)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
async def mem(root: Path) -> FFMemoryLayerManager:
    manager = make(root, FakeClock(T0))
    await manager.initialize()
    yield manager
    await manager.shutdown()


def memory_file(root: Path, user_id: str, name: str) -> Path:
    return root / "users" / user_id / "memory" / name


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_bytes().splitlines()]


async def test_the_retention_log_records_a_pass_key_for_key(mem: FFMemoryLayerManager, root: Path) -> None:
    keep = await mem.store_memory("alice", "meeting notes for the launch", layer="immediate", importance=0.5)
    drop = await mem.store_memory("alice", "the weather was nice", layer="immediate", importance=0.1)
    now = T0 + timedelta(hours=2)
    report = await mem.process_retention(now=now)
    [user] = report.users
    log = memory_file(root, "alice", "retention_log.jsonl")
    assert lines(log) == [
        {
            "schema_version": MEMORY_SCHEMA_VERSION,
            "now": now.isoformat(),
            "moved": [keep.memory_id],
            "archived": [drop.memory_id],
            "summaries": [],
            "duplicates_removed": 0,
            "counts_before": user.counts_before,
            "counts_after": user.counts_after,
        }
    ]
    assert user.counts_before["immediate"] == 2 and user.counts_after["immediate"] == 0
    assert user.counts_after["short_term"] == 1
    await mem.process_retention(now=now)  # nothing changes: no record
    assert len(lines(log)) == 1


async def test_a_duplicate_copy_in_the_permanent_layer_is_rewritten_away(mem: FFMemoryLayerManager, root: Path) -> None:
    kept = await mem.store_memory("alice", "Alice's birthday is 3 May", layer="permanent")
    permanent = memory_file(root, "alice", "permanent.jsonl")
    permanent.write_bytes(permanent.read_bytes() * 2)  # an interrupted earlier pass left two copies
    report = await mem.process_retention(now=T0)
    [user] = report.users
    assert user.duplicates_removed == 1
    assert [record["memory_id"] for record in lines(permanent)] == [kept.memory_id]
    assert lines(memory_file(root, "alice", "retention_log.jsonl"))[0]["duplicates_removed"] == 1
    assert (await mem.memory_stats("alice")).layers["permanent"] == 1


async def test_a_pass_walks_every_user_with_memories_and_isolates_a_damaged_one(mem: FFMemoryLayerManager, root: Path) -> None:
    for user_id in ("alice", "carol", "dave"):
        await mem.store_memory(user_id, f"{user_id} fact", layer="immediate", importance=0.1)
    await mem.create_session("bob", "no memories")  # a user folder without a memory folder
    carol_layer = memory_file(root, "carol", "immediate.jsonl")
    carol_layer.write_bytes(carol_layer.read_bytes() + b"{not json}\n")
    now = T0 + timedelta(hours=3)
    with pytest.raises(FFCorruptionError) as caught:
        await mem.process_retention(now=now, user_id="carol")
    report = await mem.process_retention(now=now)
    assert [u.user_id for u in report.users] == ["alice", "dave"]
    assert report.failed_users == {"carol": str(caught.value)}
    assert report.archived_count == 2 and not (root / "users" / "bob" / "memory").exists()


async def test_a_pass_for_one_user_touches_only_that_user(mem: FFMemoryLayerManager) -> None:
    for user_id in ("alice", "bob"):
        await mem.store_memory(user_id, f"{user_id} fact", layer="immediate", importance=0.1)
    report = await mem.process_retention(now=T0 + timedelta(hours=3), user_id="bob")
    assert [u.user_id for u in report.users] == ["bob"] and report.archived_count == 1
    assert (await mem.memory_stats("alice")).layers["immediate"] == 1


async def test_summaries_get_mem_ids(tmp_path: Path) -> None:
    clock = FakeClock(T0)
    mem = make(tmp_path / "data", clock, layer_max_entries={"short_term": 10}, compression_batch=5)
    for i in range(11):
        clock.advance(minutes=1)
        await mem.store_memory("alice", f"Reflection {i} about learning Portuguese verbs.")
    report = await mem.process_retention()
    [compressed] = report.users[0].compressed
    assert re.fullmatch(r"mem_[0-9a-f]{32}", compressed.summary_id), compressed.summary_id
    assert report.compressed_count == 1


async def test_the_duration_is_the_pass_in_milliseconds(mem: FFMemoryLayerManager, monkeypatch: pytest.MonkeyPatch) -> None:
    ticks = iter([100.0, 100.25])

    class Time:
        @staticmethod
        def perf_counter() -> float:
            return next(ticks)

    monkeypatch.setattr(retention_pass, "time", Time)
    report = await mem.process_retention(now=T0)
    assert report.duration_ms == 250.0
