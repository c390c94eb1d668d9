"""The metrics manager's stored forms, refusals and read-backs pinned exactly (issue 20: what
mutation testing of ``_metrics`` found unpinned: metric.json's fields, the kind conflict and
corruption errors, the bus recorder's timing and dropped payloads, failures of an injected store)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from ff_class_configs import FFConfigurationManagerConfigDTO
from ff_managers import FFEvent, FFEventBus, FFMetricsCollectionManager
from ff_utils.ff_errors import (
    FFConflictError,
    FFCorruptionError,
    FFPermissionError,
    FFValidationError,
)
from ff_utils.ff_store import FFStore
from tests._fakes import FakeClock

T0 = datetime(2026, 3, 4, 10, 15, tzinfo=UTC)


@pytest.fixture
async def metrics(config: FFConfigurationManagerConfigDTO) -> AsyncIterator[FFMetricsCollectionManager]:
    manager = FFMetricsCollectionManager(config, bus=FFEventBus(), clock=FakeClock(T0))
    await manager.initialize()
    yield manager
    await manager.shutdown()


async def test_metric_json_records_name_kind_and_first_time(metrics: FFMetricsCollectionManager, config: FFConfigurationManagerConfigDTO) -> None:
    await metrics.record_metric("lat", 2.5)
    meta = orjson.loads((config.storage.base_path / "metrics" / "lat" / "metric.json").read_bytes())
    assert {k: meta[k] for k in ("name", "kind", "created_at")} == {"name": "lat", "kind": "timing", "created_at": T0.isoformat()}
    assert [(m.name, m.kind, m.created_at) for m in await metrics.list_metrics()] == [("lat", "timing", T0)]


async def test_kind_conflict_and_unreadable_metric_json_are_exact(metrics: FFMetricsCollectionManager, config: FFConfigurationManagerConfigDTO) -> None:
    await metrics.record_metric("lat", 1)
    with pytest.raises(FFConflictError) as conflict:
        await metrics.increment("lat")
    assert (conflict.value.message, conflict.value.context) == ("metric 'lat' is a timing, not a counter", {"name": "lat", "kind": "timing"})
    meta_path = config.storage.base_path / "metrics" / "bad" / "metric.json"
    meta_path.parent.mkdir(parents=True)
    meta_path.write_bytes(b"[1]")
    with pytest.raises(FFCorruptionError) as listing:
        await metrics.list_metrics()
    assert (listing.value.message, listing.value.path) == ("metric 'bad' has an unreadable metric.json", meta_path)
    with pytest.raises(FFCorruptionError) as recording:
        await metrics.record_metric("bad", 1)
    assert (recording.value.message, recording.value.path) == ("metric 'bad' has an unreadable metric.json", meta_path)
    meta_path.write_bytes(b'{"kind": "gauge", "created_at": "not a time"}')
    with pytest.raises(FFCorruptionError) as schema:
        await metrics.list_metrics()
    assert schema.value.path == meta_path


async def test_folders_without_metric_json_are_not_metrics(config: FFConfigurationManagerConfigDTO) -> None:
    fresh = FFMetricsCollectionManager(config, bus=FFEventBus(), clock=FakeClock(T0))
    assert await fresh.list_metrics() == []  # no metrics folder at all
    (config.storage.base_path / "metrics" / "aaa").mkdir(parents=True)
    await fresh.record_metric("zzz", 1)
    (config.storage.base_path / "metrics" / "bbb").mkdir()
    assert [m.name for m in await fresh.list_metrics()] == ["zzz"]
    await fresh.shutdown()


async def test_a_tool_timing_keeps_its_tool_and_status_tags(config: FFConfigurationManagerConfigDTO) -> None:
    bus = FFEventBus()
    metrics = FFMetricsCollectionManager(config, bus=bus, clock=FakeClock(T0))
    await bus.publish(FFEvent("tool.executed", "tools", {"tool": "grep", "status": "ok", "duration_ms": 12.5}, None))
    await bus.publish(FFEvent("tool.executed", "tools", {"tool": "grep", "status": "failed", "duration_ms": 3}, None))
    await bus.publish(FFEvent("tool.executed", "tools", {"tool": "grep", "status": "ok", "duration_ms": True}, None))  # a bool is no duration
    ok = await metrics.get_summary("tool.duration_ms", tags={"tool": "grep", "status": "ok"})
    assert (ok.kind, ok.count, ok.sum) == ("timing", 1, 12.5)
    assert (await metrics.get_summary("tool.duration_ms", tags={"status": "failed"})).count == 1
    events = await metrics.get_summary("events.tool.executed", tags={"source": "tools"})
    assert (events.kind, events.count) == ("counter", 3)
    await metrics.shutdown()


async def test_a_bad_tool_duration_names_its_field(config: FFConfigurationManagerConfigDTO) -> None:
    metrics = FFMetricsCollectionManager(config, bus=FFEventBus(), clock=FakeClock(T0))
    with pytest.raises(FFValidationError) as caught:
        metrics._recorder.record(FFEvent("tool.executed", "tools", {"tool": "grep", "duration_ms": -1}, None))
    assert (str(caught.value), caught.value.field) == ("duration_ms of a timing must be >= 0, not -1", "duration_ms")
    with pytest.raises(FFValidationError) as bad_user:
        metrics._recorder.record(FFEvent("chat.sent", "memory", {}, "../etc"))
    assert bad_user.value.field == "user_id"
    await metrics.shutdown()


async def test_payloads_up_to_the_limit_are_kept_and_larger_ones_replaced_by_their_size(config: FFConfigurationManagerConfigDTO) -> None:
    bus = FFEventBus()
    metrics = FFMetricsCollectionManager(config, bus=bus, clock=FakeClock(T0))
    limit = config.metrics.max_event_data_bytes
    fits = {"x": "a" * (limit - len(b'{"x":""}'))}
    assert len(orjson.dumps(fits)) == limit
    big = {"x": "a" * (limit - len(b'{"x":""}') + 1)}
    await bus.publish(FFEvent("chat.sent", "memory", fits, "alice"))
    await bus.publish(FFEvent("chat.sent", "memory", big, "bob"))
    [alice] = (config.storage.base_path / "users" / "alice" / "analytics" / "events").glob("*.jsonl")  # the event's own day
    [bob] = (config.storage.base_path / "users" / "bob" / "analytics" / "events").glob("*.jsonl")
    assert orjson.loads(alice.read_bytes())["data"] == fits
    assert orjson.loads(bob.read_bytes())["data"] == {"payload_bytes": limit + 1, "payload_dropped": True}
    await metrics.shutdown()


async def test_an_audited_bus_event_keeps_its_id_source_and_payload(config: FFConfigurationManagerConfigDTO) -> None:
    bus = FFEventBus()
    metrics = FFMetricsCollectionManager(config, bus=bus, clock=FakeClock(T0))
    event = FFEvent("tools.sandbox.refused", "tools", {"tool": "rm"}, "alice")
    await bus.publish(event)
    [record] = await metrics.get_audit_records()
    assert (record.action, record.outcome, record.target) == ("tools.sandbox.refused", "refused", "rm")
    assert record.details == {"event_id": event.event_id, "source": "tools", "payload": {"tool": "rm"}}
    assert metrics._recorder.security_outcome("a.b.refused") == "refused"
    assert metrics._recorder.security_outcome("refused.a") is None
    assert metrics._recorder.security_outcome("refused") == "refused"  # a type without a dot is its own last part
    head = orjson.loads((config.storage.base_path / "audit" / "audit_head.json").read_bytes())
    assert head["updated_at"] is not None and head["count"] == 1
    await metrics.shutdown()


async def test_a_payload_that_is_no_json_object_is_refused_as_payload(config: FFConfigurationManagerConfigDTO) -> None:
    metrics = FFMetricsCollectionManager(config, bus=FFEventBus(), clock=FakeClock(T0))
    with pytest.raises(FFValidationError) as caught:
        metrics._recorder.record(FFEvent("chat.sent", "memory", {"x": float("nan")}, "alice"))
    assert caught.value.field is not None and caught.value.field.startswith("payload")
    metrics._recorder.record(FFEvent("tool.executed", "tools", ["not", "a", "mapping"], None))  # type: ignore[arg-type]
    assert (await metrics.get_summary("events.tool.executed")).count == 1
    await metrics.shutdown()


async def test_an_unreadable_audit_head_is_reported_with_its_reason(config: FFConfigurationManagerConfigDTO) -> None:
    metrics = FFMetricsCollectionManager(config, bus=FFEventBus(), clock=FakeClock(T0))
    await metrics.audit("alice", "tool.run", "rm", "refused")
    (config.storage.base_path / "audit" / "audit_head.json").write_bytes(b'{"count": -1, "last_hash": "x"}')
    verdict = await metrics.verify_audit_log()
    assert (verdict.ok, verdict.records_checked, verdict.mode) == (False, 0, "sha256")
    assert verdict.reason == "audit head unreadable: audit head count -1 is not a non-negative integer"
    await metrics.shutdown()


async def test_the_summary_reads_back_its_window(metrics: FFMetricsCollectionManager) -> None:
    await metrics.record_metric("lat", 1)
    start, end = T0 - timedelta(hours=1), T0 + timedelta(hours=1)
    summary = await metrics.get_summary("lat", window=(start, end))
    assert (summary.window_start, summary.window_end, summary.window_end_inclusive, summary.count) == (start, end, False, 1)


class _Denied(FFStore):
    """A store (the seam) whose directory listings fail with a raw OSError."""

    def list_dir(self, path: Path) -> Any:
        raise PermissionError(13, "Permission denied", str(path))


async def test_a_failing_listing_of_an_injected_store_is_a_typed_error_naming_what_was_listed(config: FFConfigurationManagerConfigDTO) -> None:
    plain = FFMetricsCollectionManager(config, bus=FFEventBus(), clock=FakeClock(T0))
    await plain.record_metric("lat", 1)
    await plain.record_event("alice", "login")
    await plain.shutdown()
    metrics = FFMetricsCollectionManager(config, bus=FFEventBus(), clock=FakeClock(T0), store=_Denied.from_config(config))
    root = config.storage.base_path
    calls = [
        (metrics.list_metrics(), "cannot list metrics: permission denied", root / "metrics"),
        (metrics.get_summary("lat"), "cannot list buckets: permission denied", root / "metrics" / "lat"),
        (metrics.get_user_analytics("alice"), "cannot list analytics: permission denied", root / "users" / "alice" / "analytics" / "events"),
    ]
    for call, message, path in calls:
        with pytest.raises(FFPermissionError) as caught:
            await call
        assert (caught.value.message, caught.value.path) == (message, path)
    await metrics.shutdown()


async def test_events_after_a_record_of_another_shape_still_count(metrics: FFMetricsCollectionManager, config: FFConfigurationManagerConfigDTO) -> None:
    await metrics.record_event("alice", "login")
    [day_file] = (config.storage.base_path / "users" / "alice" / "analytics" / "events").glob("*.jsonl")
    with day_file.open("ab") as handle:
        handle.write(b'{"t": 5, "type": "x"}\n')  # valid JSON, not an event
    await metrics.record_event("alice", "search")
    analytics = await metrics.get_user_analytics("alice")
    assert (analytics.total_events, analytics.event_counts) == (2, {"login": 1, "search": 1})


async def test_a_torn_last_audit_line_is_reported_by_verify(metrics: FFMetricsCollectionManager, config: FFConfigurationManagerConfigDTO) -> None:
    for i in range(2):
        await metrics.audit("alice", "tool.run", f"t{i}", "refused")
    with (config.storage.base_path / "audit" / "audit.jsonl").open("ab") as handle:
        handle.write(b'{"seq": 2, "ha')
    verdict = await metrics.verify_audit_log()
    assert (verdict.ok, verdict.records_checked, verdict.first_bad_index, verdict.reason) == (False, 2, 2, "truncated record (torn last line)")


async def test_system_metrics_name_their_data_root(metrics: FFMetricsCollectionManager, config: FFConfigurationManagerConfigDTO) -> None:
    sample = await metrics.get_system_metrics()
    assert sample.data_root == str(config.storage.base_path) and sample.data_root_files >= 0


class _DeniedDays(FFStore):
    """A store whose listings of a metric's day folders (not the metric folder) fail with a raw OSError."""

    def list_dir(self, path: Path) -> Any:
        if path.parent.parent.name == "metrics":
            raise PermissionError(13, "Permission denied", str(path))
        return super().list_dir(path)


async def test_a_failing_listing_of_a_day_folder_names_that_folder(config: FFConfigurationManagerConfigDTO) -> None:
    plain = FFMetricsCollectionManager(config, bus=FFEventBus(), clock=FakeClock(T0))
    await plain.record_metric("lat", 1)
    await plain.shutdown()
    metrics = FFMetricsCollectionManager(config, bus=FFEventBus(), clock=FakeClock(T0), store=_DeniedDays.from_config(config))
    with pytest.raises(FFPermissionError) as caught:
        await metrics.get_summary("lat")
    day = config.storage.base_path / "metrics" / "lat" / T0.date().isoformat()
    assert (caught.value.message, caught.value.path) == ("cannot list buckets: permission denied", day)
    await metrics.shutdown()


async def test_a_folder_that_is_not_a_day_beside_the_buckets_is_skipped(metrics: FFMetricsCollectionManager, config: FFConfigurationManagerConfigDTO) -> None:
    await metrics.record_metric("lat", 4)
    stray = config.storage.base_path / "metrics" / "lat" / "backup"
    stray.mkdir()
    (stray / "10.jsonl").write_bytes(b'{"v": 1}\n')
    summary = await metrics.get_summary("lat")
    assert (summary.count, summary.max) == (1, 4)
