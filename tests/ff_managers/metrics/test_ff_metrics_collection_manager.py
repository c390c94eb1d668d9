"""FFMetricsCollectionManager: metrics, analytics, audit log, system metrics, event bus."""

from __future__ import annotations

import asyncio
import errno
import hashlib
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from ff_class_configs import FFConfigurationManagerConfigDTO, load_config
from ff_managers import FFEvent, FFEventBus, FFMetricsCollectionManager
from ff_utils.ff_errors import FFConflictError, FFCorruptionError, FFStorageError, FFValidationError
from ff_utils.ff_store import FFStore
from tests._fakes import FakeClock, tree_snapshot

T0 = datetime(2026, 3, 4, 10, 15, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def bus() -> FFEventBus:
    return FFEventBus()


@pytest.fixture
async def metrics(config: FFConfigurationManagerConfigDTO, bus: FFEventBus, clock: FakeClock) -> AsyncIterator[FFMetricsCollectionManager]:
    manager = FFMetricsCollectionManager(config, bus=bus, clock=clock)
    await manager.initialize()
    yield manager
    await manager.shutdown()


def files_under(root: Path) -> dict[str, tuple[str, int, str]]:
    """Every entry under root (lock files and folders included) with its kind, size and hash: what a call wrote."""
    return tree_snapshot(root)


def audit_log(root: Path) -> Path:
    return root / "audit" / "audit.jsonl"


# --------------------------------------------------------------------------- metrics


async def test_timing_summary_has_exact_percentiles(metrics: FFMetricsCollectionManager) -> None:
    values = [12.5, 3.0, 7.25, 100.0, 0.5, 42.0, 8.0, 8.0, 15.5, 1.0, 64.0]
    for value in values:
        await metrics.record_metric("search.latency_ms", value, tags={"op": "search"})
    summary = await metrics.get_summary("search.latency_ms")
    ordered = sorted(values)
    cuts = statistics.quantiles(ordered, n=100, method="inclusive")
    assert summary.kind == "timing"
    assert (summary.count, summary.min, summary.max) == (11, 0.5, 100.0)
    assert summary.sum == math.fsum(values) and summary.mean == pytest.approx(statistics.fmean(values))
    # hand-computed: h = 10 * q / 100 over the sorted list
    assert summary.p50 == 8.0  # x[5]
    assert summary.p95 == pytest.approx(64.0 + 0.5 * (100.0 - 64.0))  # x[9.5] = 82.0
    assert summary.p99 == pytest.approx(64.0 + 0.9 * (100.0 - 64.0))  # x[9.9] = 96.4
    assert [summary.p50, summary.p95, summary.p99] == pytest.approx([cuts[49], cuts[94], cuts[98]])
    assert summary.last == 64.0 and summary.percentile_method == "linear"


async def test_tag_filter_is_a_subset_match(metrics: FFMetricsCollectionManager) -> None:
    await metrics.record_metric("op_ms", 1, tags={"op": "read", "shard": "a"})
    await metrics.record_metric("op_ms", 2, tags={"op": "read", "shard": "b"})
    await metrics.record_metric("op_ms", 30, tags={"op": "write", "shard": "a"})
    assert (await metrics.get_summary("op_ms", tags={"op": "read"})).sum == 3
    assert (await metrics.get_summary("op_ms", tags={"shard": "a"})).sum == 31
    assert (await metrics.get_summary("op_ms", tags={"op": "read", "shard": "b"})).count == 1
    assert (await metrics.get_summary("op_ms", tags={"op": "delete"})).count == 0


async def test_counters_and_gauges(metrics: FFMetricsCollectionManager) -> None:
    await metrics.increment("logins")
    await metrics.increment("logins", by=4)
    await metrics.increment("logins", by=0.5, tags={"region": "eu"})
    logins = await metrics.get_summary("logins")
    assert (logins.kind, logins.count, logins.sum) == ("counter", 3, 5.5)
    for value in (5, -2, 7):
        await metrics.record_metric("queue.depth", value, kind="gauge")
    depth = await metrics.get_summary("queue.depth")
    assert (depth.kind, depth.last, depth.min) == ("gauge", 7, -2)


async def test_never_recorded_metric_summarises_to_zero(metrics: FFMetricsCollectionManager) -> None:
    summary = await metrics.get_summary("nothing.here")
    assert (summary.kind, summary.count, summary.p50, summary.sum, summary.buckets_read) == (None, 0, None, None, 0)


async def test_a_name_keeps_its_kind(metrics: FFMetricsCollectionManager, config: FFConfigurationManagerConfigDTO) -> None:
    await metrics.record_metric("jobs", 1, kind="counter")
    before = files_under(config.storage.base_path)
    with pytest.raises(FFConflictError):
        await metrics.record_metric("jobs", 1.5, kind="timing")
    assert files_under(config.storage.base_path) == before
    fresh = FFMetricsCollectionManager(config, bus=FFEventBus())  # the kind is on disk, not only in memory
    with pytest.raises(FFConflictError):
        await fresh.record_metric("jobs", 2, kind="gauge")
    await fresh.shutdown()


async def test_samples_land_in_hourly_buckets_per_metric(metrics: FFMetricsCollectionManager, clock: FakeClock, config: FFConfigurationManagerConfigDTO) -> None:
    await metrics.record_metric("lat", 1)
    clock.advance(hours=1)
    await metrics.record_metric("lat", 2)
    base = config.storage.base_path / "metrics" / "lat"
    assert sorted(p.name for p in (base / "2026-03-04").glob("*.jsonl")) == ["10.jsonl", "11.jsonl"]
    meta = orjson.loads((base / "metric.json").read_bytes())
    assert (meta["kind"], meta["schema_version"]) == ("timing", 1)
    sample = orjson.loads((base / "2026-03-04" / "10.jsonl").read_bytes().splitlines()[0])
    assert sample == {"t": "2026-03-04T10:15:00+00:00", "value": 1, "tags": {}}


async def test_day_buckets_and_mixed_layouts_are_both_read(tmp_path: Path, clock: FakeClock) -> None:
    hourly = load_config(base_path=tmp_path, environ={})
    first = FFMetricsCollectionManager(hourly, clock=clock)
    await first.record_metric("lat", 1)
    await first.shutdown()
    daily = load_config(base_path=tmp_path, environ={}, overrides={"metrics": {"bucket": "day"}})
    second = FFMetricsCollectionManager(daily, clock=clock)
    await second.record_metric("lat", 3)
    assert (tmp_path / "metrics" / "lat" / "2026-03-04" / "day.jsonl").is_file()
    summary = await second.get_summary("lat")
    assert (summary.count, summary.sum, summary.buckets_read) == (2, 4, 2)
    await second.shutdown()


async def test_window_filtering_with_an_injected_clock(metrics: FFMetricsCollectionManager, clock: FakeClock) -> None:
    # one sample per hour for two days: 10:15 on day 1 ... 09:15 on day 3
    for value in range(48):
        await metrics.record_metric("lat", value)
        clock.advance(hours=1)
    clock.now = T0 + timedelta(hours=47)  # "now" is the last sample's time
    last_three = await metrics.get_summary("lat", window=timedelta(hours=2))  # [now-2h, now], inclusive
    assert (last_three.count, last_three.min, last_three.max) == (3, 45, 47)
    assert last_three.buckets_read == 3  # only the three hour files in the window were opened
    start = T0 + timedelta(hours=10)
    half_open = await metrics.get_summary("lat", window=(start, start + timedelta(hours=4)))
    assert (half_open.count, half_open.min, half_open.max) == (4, 10, 13)
    assert half_open.buckets_read == 5  # [20:15, 00:15): hours 20-23 and 00 of the next day
    whole = await metrics.get_summary("lat")
    assert (whole.count, whole.buckets_read) == (48, 48)
    since = await metrics.get_summary("lat", window=(T0 + timedelta(hours=40), None))
    assert since.count == 8
    assert (await metrics.get_summary("lat", window=(T0 - timedelta(days=9), T0 - timedelta(days=8)))).count == 0


async def test_summary_window_boundaries_within_one_bucket(metrics: FFMetricsCollectionManager, clock: FakeClock) -> None:
    for _ in range(6):
        await metrics.record_metric("lat", clock.now.minute)
        clock.advance(minutes=10)  # 10:15, 10:25, ... 11:05
    clock.now = T0 + timedelta(minutes=30)
    summary = await metrics.get_summary("lat", window=timedelta(minutes=15))  # [10:30, 10:45]
    assert (summary.count, summary.min, summary.max) == (2, 35, 45)


async def test_metrics_survive_a_restart(config: FFConfigurationManagerConfigDTO, clock: FakeClock) -> None:
    first = FFMetricsCollectionManager(config, clock=clock)
    for value in (1, 2, 3, 4):
        await first.record_metric("lat", value, tags={"op": "x"})
    await first.increment("hits", by=3)
    await first.shutdown()
    second = FFMetricsCollectionManager(config, clock=clock)
    summary = await second.get_summary("lat", tags={"op": "x"})
    assert (summary.count, summary.p50, summary.kind) == (4, 2.5, "timing")
    assert (await second.get_summary("hits")).sum == 3
    assert [m.name for m in await second.list_metrics()] == ["hits", "lat"]
    await second.shutdown()


async def test_concurrent_record_metric_loses_nothing(metrics: FFMetricsCollectionManager) -> None:
    await asyncio.gather(*(metrics.record_metric("load_ms", i, tags={"w": i % 4}) for i in range(400)))
    summary = await metrics.get_summary("load_ms")
    assert (summary.count, summary.sum, summary.min, summary.max) == (400, sum(range(400)), 0, 399)
    assert (await metrics.get_summary("load_ms", tags={"w": 3})).count == 100


async def test_corrupt_lines_are_skipped_and_counted(metrics: FFMetricsCollectionManager, config: FFConfigurationManagerConfigDTO) -> None:
    await metrics.record_metric("lat", 5)
    bucket = config.storage.base_path / "metrics" / "lat" / "2026-03-04" / "10.jsonl"
    with bucket.open("ab") as handle:
        handle.write(b"{not json}\n" + orjson.dumps({"t": "garbage", "value": 1}) + b"\n")
    await metrics.record_metric("lat", 7)
    summary = await metrics.get_summary("lat")
    assert (summary.count, summary.sum, summary.skipped_lines) == (2, 12, 2)


BAD_METRIC_CALLS: list[tuple[str, dict[str, Any]]] = [
    ("record_metric", {"name": "../escape", "value": 1}),
    ("record_metric", {"name": "a..b", "value": 1}),
    ("record_metric", {"name": "", "value": 1}),
    ("record_metric", {"name": "x" * 201, "value": 1}),
    ("record_metric", {"name": "ok", "value": math.nan}),
    ("record_metric", {"name": "ok", "value": math.inf}),
    ("record_metric", {"name": "ok", "value": -math.inf, "kind": "gauge"}),
    ("record_metric", {"name": "ok", "value": "12"}),
    ("record_metric", {"name": "ok", "value": True}),
    ("record_metric", {"name": "ok", "value": -1}),
    ("record_metric", {"name": "ok", "value": 1, "kind": "histogram"}),
    ("record_metric", {"name": "ok", "value": 1, "tags": {"bad key": "v"}}),
    ("record_metric", {"name": "ok", "value": 1, "tags": {"k": 1.5}}),
    ("record_metric", {"name": "ok", "value": 1, "tags": {f"k{i}": "v" for i in range(17)}}),
    ("increment", {"name": "ok", "by": -1}),
    ("increment", {"name": "ok", "by": math.nan}),
    ("increment", {"name": "o/k"}),
    ("record_event", {"user_id": "../bob", "event_type": "login"}),
    ("record_event", {"user_id": "", "event_type": "login"}),
    ("record_event", {"user_id": "alice", "event_type": "bad type"}),
    ("record_event", {"user_id": "alice", "event_type": "login", "data": {"x": math.nan}}),
    ("record_event", {"user_id": "alice", "event_type": "login", "data": {"x": "y" * 20_000}}),
    ("record_event", {"user_id": "alice", "event_type": "login", "data": ["not", "a", "dict"]}),
    ("audit", {"actor": "", "action": "a", "target": "t"}),
    ("audit", {"actor": "alice", "action": "no spaces allowed", "target": "t"}),
    ("audit", {"actor": "alice", "action": "a", "target": "line\nbreak"}),
    ("audit", {"actor": "alice", "action": "a", "target": "t", "outcome": "not ok"}),
    ("audit", {"actor": "alice", "action": "a", "target": "t", "details": {"x": math.inf}}),
    # the shared rules of _core.checks: blank text, TAB in single-line text, non-plain JSON, NaN deep down
    ("audit", {"actor": "   ", "action": "a", "target": "t"}),
    ("audit", {"actor": "alice", "action": "a", "target": "tab\there"}),
    ("record_metric", {"name": "ok", "value": 1, "tags": {"k": "esc\x1b[2J"}}),
    ("record_event", {"user_id": "alice", "event_type": "login", "data": {"when": T0}}),
    ("record_event", {"user_id": "alice", "event_type": "login", "data": {"x": [{"y": math.nan}]}}),
    ("get_audit_records", {"limit": 10_001}),
]


@pytest.mark.parametrize(("method", "kwargs"), BAD_METRIC_CALLS)
async def test_bad_input_raises_validation_error_and_writes_nothing(
    metrics: FFMetricsCollectionManager, config: FFConfigurationManagerConfigDTO, method: str, kwargs: dict[str, Any]
) -> None:
    before = files_under(config.storage.base_path)
    with pytest.raises(FFValidationError):
        await getattr(metrics, method)(**kwargs)
    assert files_under(config.storage.base_path) == before


@pytest.mark.parametrize(
    ("method", "kwargs"),
    [
        ("get_summary", {"name": "../x"}),
        ("get_summary", {"name": "ok", "window": timedelta(0)}),
        ("get_summary", {"name": "ok", "window": (datetime(2026, 1, 1), None)}),
        ("get_summary", {"name": "ok", "tags": {"a b": "c"}}),
        ("get_user_analytics", {"user_id": "../alice"}),
        ("get_user_analytics", {"user_id": "alice", "window": "today"}),
        ("get_audit_records", {"limit": 0}),
    ],
)
async def test_bad_queries_raise_validation_error(metrics: FFMetricsCollectionManager, method: str, kwargs: dict[str, Any]) -> None:
    with pytest.raises(FFValidationError):
        await getattr(metrics, method)(**kwargs)


# --------------------------------------------------------------------------- user analytics


async def test_user_analytics(metrics: FFMetricsCollectionManager, clock: FakeClock, config: FFConfigurationManagerConfigDTO) -> None:
    await metrics.record_event("alice", "login", {"device": "phone"})
    clock.advance(minutes=10)
    await metrics.record_event("alice", "memory.message_added", {"session_id": "s1"})
    clock.advance(minutes=45)  # a gap longer than 30 min: new session
    await metrics.record_event("alice", "memory.message_added", {"session_id": "s2"})
    clock.advance(days=2)
    await metrics.record_event("alice", "login")
    result = await metrics.get_user_analytics("alice")
    assert result.user_id == "alice"
    assert result.event_counts == {"login": 2, "memory.message_added": 2}
    assert (result.total_events, result.sessions, result.chat_sessions, result.active_days) == (4, 3, 2, 2)
    assert result.first_seen == T0 and result.last_seen == clock.now
    assert sorted(p.name for p in (config.storage.base_path / "users" / "alice" / "analytics" / "events").iterdir() if not p.name.startswith(".")) == [
        "2026-03-04.jsonl",
        "2026-03-06.jsonl",
    ]
    recent = await metrics.get_user_analytics("alice", window=timedelta(days=1))
    assert (recent.total_events, recent.event_counts) == (1, {"login": 1})


async def test_one_user_never_sees_another_users_analytics(metrics: FFMetricsCollectionManager) -> None:
    await metrics.record_event("alice", "login")
    await metrics.record_event("alice", "secret.thing", {"note": "alice only"})
    await metrics.record_event("bob", "login")
    bob = await metrics.get_user_analytics("bob")
    assert bob.event_counts == {"login": 1} and bob.total_events == 1
    carol = await metrics.get_user_analytics("carol")  # never seen: zeros, not someone else's data
    assert (carol.total_events, carol.sessions, carol.first_seen) == (0, 0, None)


async def test_analytics_survive_a_restart(config: FFConfigurationManagerConfigDTO, clock: FakeClock) -> None:
    first = FFMetricsCollectionManager(config, clock=clock)
    await first.record_event("alice", "login")
    await first.shutdown()
    second = FFMetricsCollectionManager(config, clock=clock)
    assert (await second.get_user_analytics("alice")).event_counts == {"login": 1}
    await second.shutdown()


# --------------------------------------------------------------------------- audit log


async def fill_audit(metrics: FFMetricsCollectionManager, n: int) -> None:
    for i in range(n):
        await metrics.audit("alice", "tool.executed", f"tool{i}", "success", {"i": i})


async def test_audit_records_are_chained(metrics: FFMetricsCollectionManager, config: FFConfigurationManagerConfigDTO) -> None:
    first = await metrics.audit("alice", "tool.refused", "rm", "refused", {"reason": "not granted"})
    second = await metrics.audit("ops", "config.changed", "storage.durability")
    assert (first.seq, second.seq) == (0, 1)
    assert first.prev_hash == "0" * 64 and second.prev_hash == first.hash
    assert second.outcome == "success" and first.details == {"reason": "not granted"}
    head = orjson.loads((config.storage.base_path / "audit" / "audit_head.json").read_bytes())
    assert (head["count"], head["last_hash"]) == (2, second.hash)
    assert [r.seq for r in await metrics.get_audit_records(limit=10)] == [0, 1]
    verdict = await metrics.verify_audit_log()
    assert (verdict.ok, verdict.records_checked, verdict.head_count) == (True, 2, 2)


async def test_empty_audit_log_verifies(metrics: FFMetricsCollectionManager) -> None:
    verdict = await metrics.verify_audit_log()
    assert (verdict.ok, verdict.records_checked) == (True, 0)


def edit_byte(lines: list[bytes]) -> list[bytes]:
    line = bytearray(lines[2])
    position = line.index(b"tool2") + 4
    line[position] = ord("7")  # tool2 -> tool7: one byte, still valid JSON
    return lines[:2] + [bytes(line)] + lines[3:]


TAMPERINGS = {
    "edit_one_byte": (edit_byte, 2),
    "delete_a_line": (lambda lines: lines[:1] + lines[2:], 1),
    "swap_two_lines": (lambda lines: [lines[0], lines[2], lines[1], *lines[3:]], 1),
    "insert_a_copy": (lambda lines: lines[:3] + [lines[1]] + lines[3:], 3),
    "truncate_last_line": (lambda lines: lines[:-1], 4),
}


@pytest.mark.parametrize("kind", sorted(TAMPERINGS))
async def test_audit_tampering_is_detected(metrics: FFMetricsCollectionManager, config: FFConfigurationManagerConfigDTO, kind: str) -> None:
    await fill_audit(metrics, 5)
    path = audit_log(config.storage.base_path)
    tamper, expected_index = TAMPERINGS[kind]
    path.write_bytes(b"".join(line + b"\n" for line in tamper(path.read_bytes().splitlines())))
    verdict = await metrics.verify_audit_log()
    assert not verdict.ok
    assert verdict.first_bad_index == expected_index
    assert verdict.reason
    # Appending afterwards must not paper over the damage.
    await metrics.audit("alice", "after.tamper", "x")
    assert not (await metrics.verify_audit_log()).ok


async def test_audit_truncated_mid_record_is_detected(metrics: FFMetricsCollectionManager, config: FFConfigurationManagerConfigDTO) -> None:
    await fill_audit(metrics, 3)
    path = audit_log(config.storage.base_path)
    data = path.read_bytes()
    path.write_bytes(data[:-20])  # cut inside the last record
    verdict = await metrics.verify_audit_log()
    assert (verdict.ok, verdict.first_bad_index) == (False, 2)
    assert "truncated" in (verdict.reason or "")
    await metrics.audit("alice", "after.tamper", "x")  # the torn fragment is dropped, the gap stays
    assert not (await metrics.verify_audit_log()).ok


async def test_deleted_audit_head_is_reported(metrics: FFMetricsCollectionManager, config: FFConfigurationManagerConfigDTO) -> None:
    await fill_audit(metrics, 2)
    (config.storage.base_path / "audit" / "audit_head.json").unlink()
    verdict = await metrics.verify_audit_log()
    assert not verdict.ok and verdict.head_count is None and "head" in (verdict.reason or "")


class _CrashBeforeHeadUpdate(FFStore):
    """An audit store that dies (raises) right after the record is appended, before the head moves to it."""

    armed = False

    def write_json(self, path: Path, data: Any) -> None:
        if self.armed and path.name == "audit_head.json" and data.get("pending") is None:
            raise FFStorageError("simulated crash before the head update", path=path)
        super().write_json(path, data)


async def test_audit_recovers_from_a_crash_between_append_and_head_update(config: FFConfigurationManagerConfigDTO) -> None:
    store = _CrashBeforeHeadUpdate.from_config(config)
    metrics = FFMetricsCollectionManager(config, bus=FFEventBus(), store=store)
    await fill_audit(metrics, 2)
    _CrashBeforeHeadUpdate.armed = True
    try:
        with pytest.raises(FFStorageError, match="simulated crash"):
            await metrics.audit("alice", "third", "x")
    finally:
        _CrashBeforeHeadUpdate.armed = False
    lagging = await metrics.verify_audit_log()
    assert lagging.ok and lagging.head_lagging and lagging.records_checked == 3 and lagging.head_count == 2
    fourth = await metrics.audit("alice", "fourth", "x")
    assert fourth.seq == 3
    verdict = await metrics.verify_audit_log()
    assert (verdict.ok, verdict.head_lagging, verdict.head_count) == (True, False, 4)
    await metrics.shutdown()


def _forged_next(lines: list[bytes]) -> bytes:
    """A record sealed exactly as the chain does, linked to the last one: only the head can tell."""
    last = orjson.loads(lines[-1])
    body = {**{k: v for k, v in last.items() if k != "hash"}, "seq": last["seq"] + 1, "prev_hash": last["hash"], "target": "forged"}
    return orjson.dumps({**body, "hash": hashlib.sha256(orjson.dumps(body)).hexdigest()})


async def test_a_record_appended_with_a_valid_hash_behind_the_head_is_found(
    metrics: FFMetricsCollectionManager, config: FFConfigurationManagerConfigDTO
) -> None:
    await fill_audit(metrics, 3)
    path = audit_log(config.storage.base_path)
    head = config.storage.base_path / "audit" / "audit_head.json"
    head_before = head.read_bytes()
    with path.open("ab") as handle:
        handle.write(_forged_next(path.read_bytes().splitlines()) + b"\n")
    verdict = await metrics.verify_audit_log()
    assert head.read_bytes() == head_before
    assert (verdict.ok, verdict.first_bad_index, verdict.head_count) == (False, 3, 3)
    assert "appended outside the audit API" in (verdict.reason or "")


async def test_a_failed_append_leaves_a_head_that_claims_no_new_record(config: FFConfigurationManagerConfigDTO) -> None:
    metrics = FFMetricsCollectionManager(config, bus=FFEventBus(), store=_FullDisk.from_config(config))
    with pytest.raises(FFStorageError):
        await metrics.audit("alice", "tool.run", "rm", "refused")
    verdict = await metrics.verify_audit_log()
    assert (verdict.ok, verdict.records_checked, verdict.head_lagging) == (True, 0, False)
    await metrics.shutdown()


async def test_audit_recovers_from_a_torn_append(metrics: FFMetricsCollectionManager, config: FFConfigurationManagerConfigDTO) -> None:
    await fill_audit(metrics, 2)
    with audit_log(config.storage.base_path).open("ab") as handle:
        handle.write(b'{"v":1,"seq":2,"ts":"2026')  # a crash mid-write; the head never moved
    record = await metrics.audit("alice", "next", "x")
    assert record.seq == 2
    assert (await metrics.verify_audit_log()).ok


async def test_audit_disabled(tmp_path: Path) -> None:
    config = load_config(base_path=tmp_path, environ={}, overrides={"metrics": {"audit_enabled": False}})
    bus = FFEventBus()
    manager = FFMetricsCollectionManager(config, bus=bus)
    with pytest.raises(FFConflictError):
        await manager.audit("alice", "a", "t")
    await bus.publish(FFEvent("tool.refused", "tools", {"tool": "rm"}, "alice"))
    assert not audit_log(tmp_path).exists()
    assert (await manager.get_summary("events.tool.refused")).count == 1  # still counted
    await manager.shutdown()


async def test_concurrent_audit_appends_from_threads_keep_the_chain(config: FFConfigurationManagerConfigDTO) -> None:
    # Two managers in one process (two sets of worker threads) appending at once.
    first, second = FFMetricsCollectionManager(config), FFMetricsCollectionManager(config)
    await asyncio.gather(
        *(first.audit("a", "load.test", f"t{i}") for i in range(40)),
        *(second.audit("b", "load.test", f"t{i}") for i in range(40)),
    )
    verdict = await first.verify_audit_log()
    assert (verdict.ok, verdict.records_checked, verdict.head_count) == (True, 80, 80)
    records = await first.get_audit_records(limit=100)
    assert sorted(r.seq for r in records) == list(range(80))
    await first.shutdown()
    await second.shutdown()


_CHILD = """
import asyncio, os, sys, time
from pathlib import Path
from ff_class_configs import load_config
from ff_managers.ff_metrics_collection_manager import FFMetricsCollectionManager

async def main(root, worker, n, gate):
    manager = FFMetricsCollectionManager(load_config(base_path=root, environ={}))
    await manager.initialize()
    Path(gate, f"ready{worker}").touch()
    while not Path(gate, "go").exists():  # start together, after the slow imports
        time.sleep(0.005)
    for i in range(n):
        await manager.audit(f"worker{worker}", "load.test", f"item{i}", "success", {"i": i})
    await manager.shutdown()

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]))
"""


@pytest.mark.slow  # about 6 s, mostly three interpreters importing the project
async def test_concurrent_audit_appends_from_processes_keep_the_chain(config: FFConfigurationManagerConfigDTO, tmp_path_factory: pytest.TempPathFactory) -> None:
    root = config.storage.base_path
    gate = tmp_path_factory.mktemp("gate")
    per_worker = 15
    children = [
        subprocess.Popen([sys.executable, "-c", _CHILD, str(root), str(w), str(per_worker), str(gate)], cwd=Path(__file__).parent.parent)
        for w in range(3)
    ]
    local = FFMetricsCollectionManager(config)
    await local.initialize()
    deadline = asyncio.get_running_loop().time() + 60
    while not all((gate / f"ready{w}").exists() for w in range(3)):
        assert asyncio.get_running_loop().time() < deadline, "workers did not start"
        assert all(child.poll() is None for child in children), "a worker died while starting"
        await asyncio.sleep(0.01)
    (gate / "go").touch()
    for i in range(per_worker):  # this process appends at the same time as the three workers
        await local.audit("parent", "load.test", f"item{i}", "success", {"i": i})
    codes = [await asyncio.to_thread(child.wait, 60) for child in children]
    assert codes == [0, 0, 0]
    verdict = await local.verify_audit_log()
    assert (verdict.ok, verdict.records_checked, verdict.head_count) == (True, 4 * per_worker, 4 * per_worker)
    records = [orjson.loads(line) for line in audit_log(root).read_bytes().splitlines()]
    by_actor: dict[str, list[int]] = {}
    for record in records:
        by_actor.setdefault(record["actor"], []).append(record["details"]["i"])
    assert by_actor == {actor: list(range(per_worker)) for actor in ["parent", "worker0", "worker1", "worker2"]}
    print("actor order:", "".join(r["actor"][-1] for r in records))  # interleaving, for -s runs
    await local.shutdown()


# --------------------------------------------------------------------------- system metrics


async def test_system_metrics(metrics: FFMetricsCollectionManager, config: FFConfigurationManagerConfigDTO) -> None:
    await metrics.record_metric("lat", 1)
    # Busy for 0.2 s of this process's own CPU time, so both CPU figures must show it. Not a wall-clock
    # loop with a percentage floor: on a loaded machine (CI, a niced run) this process gets a small
    # share of each second, and "> 20 %" then failed by luck.
    end = time.process_time() + 0.2
    while time.process_time() < end:
        pass
    sample = await metrics.get_system_metrics()
    assert sample.process_cpu_percent > 0 and sample.system_cpu_percent > 0
    root = config.storage.base_path
    expected = [p for p in root.rglob("*") if p.is_file() and not p.is_symlink()]
    assert sample.data_root_files == len(expected)
    assert sample.data_root_bytes == sum(p.stat().st_size for p in expected)
    assert sample.process_id == os.getpid()
    assert sample.process_rss_bytes > 1_000_000 and sample.process_threads >= 1
    assert 0 < sample.disk_used_bytes <= sample.disk_total_bytes
    assert sample.disk_free_bytes <= sample.disk_total_bytes
    assert sample.sampled_at == T0


# --------------------------------------------------------------------------- event bus


async def test_bus_events_are_counted_timed_analysed_and_audited(metrics: FFMetricsCollectionManager, bus: FFEventBus) -> None:
    await bus.publish(FFEvent("memory.session_created", "memory", {"session_id": "s1"}, "alice"))
    await bus.publish(FFEvent("memory.message_added", "memory", {"session_id": "s1", "chars": 12}, "alice"))
    await bus.publish(FFEvent("memory.message_added", "memory", {"session_id": "s1", "chars": 30}, "alice"))
    await bus.publish(FFEvent("tool.executed", "tools", {"tool": "word_count", "status": "success", "duration_ms": 12.5, "exit_code": 0}, "bob"))
    await bus.publish(FFEvent("tool.executed", "tools", {"tool": "word_count", "status": "success", "duration_ms": 7.5, "exit_code": 0}, "bob"))
    await bus.publish(FFEvent("tool.refused", "tools", {"tool": "rm", "reason": "not granted"}, "bob"))
    await bus.publish(FFEvent("knowledge.access.denied", "knowledge", {"kb_id": "kb1"}, "mallory"))
    await bus.publish(FFEvent("panel.created", "panel", {"panel_id": "p1"}))  # no user
    assert bus.dead_letters == []

    added = await metrics.get_summary("events.memory.message_added")
    assert (added.kind, added.count, added.sum) == ("counter", 2, 2)
    assert (await metrics.get_summary("events.memory.message_added", tags={"source": "memory"})).count == 2
    assert (await metrics.get_summary("events.panel.created")).count == 1
    durations = await metrics.get_summary("tool.duration_ms", tags={"tool": "word_count"})
    assert (durations.count, durations.p50, durations.max) == (2, 10.0, 12.5)

    alice = await metrics.get_user_analytics("alice")
    assert alice.event_counts == {"memory.message_added": 2, "memory.session_created": 1}
    assert alice.chat_sessions == 1
    bob = await metrics.get_user_analytics("bob")
    assert bob.event_counts == {"tool.executed": 2, "tool.refused": 1}

    records = await metrics.get_audit_records()
    assert [(r.actor, r.action, r.target, r.outcome) for r in records] == [
        ("bob", "tool.refused", "rm", "refused"),
        ("mallory", "knowledge.access.denied", "knowledge", "denied"),
    ]
    assert records[0].details["payload"] == {"tool": "rm", "reason": "not granted"}
    assert (await metrics.verify_audit_log()).ok


async def test_bus_counting_starts_at_construction_and_stops_at_shutdown(config: FFConfigurationManagerConfigDTO) -> None:
    bus = FFEventBus()
    manager = FFMetricsCollectionManager(config, bus=bus)  # never explicitly initialised
    await bus.publish(FFEvent("memory.stored", "memory", {}, "alice"))
    assert (await manager.get_summary("events.memory.stored")).count == 1
    await manager.shutdown()
    await bus.publish(FFEvent("memory.stored", "memory", {}, "alice"))
    reader = FFMetricsCollectionManager(config, bus=FFEventBus())
    assert (await reader.get_summary("events.memory.stored")).count == 1  # the second was not counted
    await reader.shutdown()


async def test_bus_subscription_can_be_turned_off(tmp_path: Path) -> None:
    config = load_config(base_path=tmp_path, environ={}, overrides={"metrics": {"subscribe_to_events": False}})
    bus = FFEventBus()
    manager = FFMetricsCollectionManager(config, bus=bus)
    await manager.initialize()
    await bus.publish(FFEvent("memory.stored", "memory", {}, "alice"))
    assert (await manager.get_summary("events.memory.stored")).count == 0
    await manager.shutdown()


async def test_a_bad_event_is_dead_lettered_and_writes_nothing(metrics: FFMetricsCollectionManager, bus: FFEventBus, config: FFConfigurationManagerConfigDTO) -> None:
    before = files_under(config.storage.base_path)
    await bus.publish(FFEvent("memory.stored", "memory", {}, "../etc"))  # bad user id from a buggy publisher
    assert len(bus.dead_letters) == 1 and "user_id" in bus.dead_letters[0].error
    assert files_under(config.storage.base_path) == before


async def test_event_bus_timestamps_place_samples(metrics: FFMetricsCollectionManager, bus: FFEventBus) -> None:
    old = T0 - timedelta(days=3)
    await bus.publish(FFEvent("memory.stored", "memory", {}, None, timestamp=old))
    assert (await metrics.get_summary("events.memory.stored", window=(old, old + timedelta(seconds=1)))).count == 1
    assert (await metrics.get_summary("events.memory.stored", window=timedelta(days=1))).count == 0


async def test_health_counts_the_work(metrics: FFMetricsCollectionManager, bus: FFEventBus) -> None:
    await metrics.record_metric("lat", 1)
    await bus.publish(FFEvent("tool.refused", "tools", {"tool": "rm"}, "alice"))
    details = metrics.health().details
    assert details["samples"] == 2 and details["bus_events"] == 1 and details["audit_records"] == 1
    assert details["events"] == 1 and details["subscribed"] is True


class _FlushRecordingStore(FFStore):
    """The seam: a store that notes every fsync of appended files asked of it (its copies share the list)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.flushed: list[Path | None] = []

    def flush(self, path: Path | None = None) -> None:
        self.flushed.append(path)
        super().flush(path)


async def test_flush_and_shutdown(config: FFConfigurationManagerConfigDTO, clock: FakeClock) -> None:
    store = _FlushRecordingStore.from_config(config)
    metrics = FFMetricsCollectionManager(config, bus=FFEventBus(), clock=clock, store=store)
    await metrics.record_metric("lat", 1)
    await metrics.record_event("alice", "login")
    await metrics.flush()
    sample_file = store.root / "metrics" / "lat" / "2026-03-04" / "10.jsonl"
    event_file = store.root / "users" / "alice" / "analytics" / "events" / "2026-03-04.jsonl"
    assert sorted(map(str, store.flushed)) == sorted([str(sample_file), str(event_file)])  # its own files, not the process's
    store.flushed.clear()
    await metrics.flush()  # nothing appended since the last flush: nothing left to fsync
    await metrics.record_metric("lat", 2)
    await metrics.shutdown()  # shutdown flushes what is left
    assert store.flushed == [sample_file]


async def test_corrupt_metric_meta_is_a_corruption_error(metrics: FFMetricsCollectionManager, config: FFConfigurationManagerConfigDTO) -> None:
    await metrics.record_metric("lat", 1)
    (config.storage.base_path / "metrics" / "lat" / "metric.json").write_bytes(b'{"kind": "nonsense"}')
    with pytest.raises(FFCorruptionError):
        await metrics.list_metrics()
    fresh = FFMetricsCollectionManager(config, bus=FFEventBus())
    with pytest.raises(FFCorruptionError):
        await fresh.record_metric("lat", 2)
    assert (await fresh.get_summary("lat")).kind is None
    await fresh.shutdown()


async def test_get_audit_records_skips_lines_that_are_not_records(metrics: FFMetricsCollectionManager, config: FFConfigurationManagerConfigDTO) -> None:
    await fill_audit(metrics, 2)
    with audit_log(config.storage.base_path).open("ab") as handle:
        handle.write(b'{"hash": "nope"}\n')
    assert [r.target for r in await metrics.get_audit_records(limit=3)] == ["tool0", "tool1"]
    assert [r.target for r in await metrics.get_audit_records(limit=1)] == []
    assert not (await metrics.verify_audit_log()).ok


async def test_symlinked_user_directory_is_refused(metrics: FFMetricsCollectionManager, config: FFConfigurationManagerConfigDTO, tmp_path_factory: pytest.TempPathFactory) -> None:
    outside = tmp_path_factory.mktemp("outside")
    (config.storage.base_path / "users").mkdir(exist_ok=True)
    os.symlink(outside, config.storage.base_path / "users" / "eve")
    with pytest.raises(FFValidationError):
        await metrics.record_event("eve", "login")
    with pytest.raises(FFValidationError):
        await metrics.get_user_analytics("eve")
    assert list(outside.iterdir()) == []


class _FullDisk(FFStore):
    """The seam: a store whose appends fail as a full disk would."""

    def append_many(self, path: Path, records: Any) -> None:
        raise FFStorageError("cannot append: No space left on device [ENOSPC]", path=path, errno=errno.ENOSPC)


async def test_an_injected_store_reaches_samples_analytics_and_the_audit_log(config: FFConfigurationManagerConfigDTO) -> None:
    metrics = FFMetricsCollectionManager(config, bus=FFEventBus(), store=_FullDisk.from_config(config))
    calls = (
        lambda: metrics.record_metric("lat", 1),
        lambda: metrics.record_event("alice", "login"),
        lambda: metrics.audit("alice", "tool.run", "rm", "refused"),
    )
    for call in calls:
        with pytest.raises(FFStorageError) as caught:
            await call()
        assert "No space left on device" in caught.value.message
    head = config.storage.base_path / "audit" / "audit_head.json"
    assert orjson.loads(head.read_bytes())["count"] == 0  # the head claims no record that was never written
    await metrics.shutdown()


async def test_audited_outcomes_chooses_what_the_bus_audits(config: FFConfigurationManagerConfigDTO, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(FFMetricsCollectionManager, "audited_outcomes", ("denied",))
    bus = FFEventBus()
    metrics = FFMetricsCollectionManager(config, bus=bus)
    await bus.publish(FFEvent("tool.refused", "tools", {"tool": "rm"}, "alice"))
    await bus.publish(FFEvent("auth.denied", "auth", {"target": "admin"}, "alice"))
    assert [(r.action, r.outcome, r.target) for r in await metrics.get_audit_records()] == [("auth.denied", "denied", "admin")]
    assert (await metrics.get_summary("events.tool.refused")).count == 1  # still counted, only not audited
    await metrics.shutdown()
