"""Samples and analytics events go around a bucket file another process holds locked.

Every instance of a data root appends to the same bucket files (``metrics/<name>/<day>/<HH>.jsonl``,
a user's day of analytics events), and ``add_message`` waits for the samples its event produces.
An instance frozen (SIGSTOP) while appending holds that file's lock for as long as it is
stopped; the others must not wait for it. They append to their own overflow file of the bucket
(``<HH>.w<pid>.jsonl``), and every reader reads both.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from ff_class_configs import FFConfigurationManagerConfigDTO
from ff_managers import FFEventBus, FFMetricsCollectionManager
from ff_managers._metrics.buckets import file_span, file_stem, overflow_name
from tests._fakes import FakeClock
from tests._lock_holder import held_by_another_process

T0 = datetime(2026, 3, 4, 10, 15, tzinfo=UTC)
_BOUND_S = 10.0  # the lock's own timeout is 30 s: a call that waited for the holder would miss this


@pytest.fixture
async def metrics(config: FFConfigurationManagerConfigDTO) -> AsyncIterator[FFMetricsCollectionManager]:
    manager = FFMetricsCollectionManager(config, bus=FFEventBus(), clock=FakeClock(T0))
    await manager.initialize()
    yield manager
    await manager.shutdown()


def _lines(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_overflow_names_read_as_their_bucket() -> None:
    assert overflow_name("10.jsonl", 4242) == "10.w4242.jsonl"
    assert overflow_name("day.jsonl", 7) == "day.w7.jsonl"
    assert overflow_name("2026-03-04.jsonl", 7) == "2026-03-04.w7.jsonl"
    assert file_stem("10.w4242.jsonl") == "10" and file_stem("10.jsonl") == "10"
    assert file_stem("2026-03-04.w7.jsonl") == "2026-03-04"
    assert file_span("2026-03-04", "10.w4242.jsonl") == file_span("2026-03-04", "10.jsonl")
    assert file_span("2026-03-04", "day.w1.jsonl") == file_span("2026-03-04", "day.jsonl")
    # Not bucket files: a writer tag that is not w<digits>, lock files, temp files.
    for stray in ("10.wx.jsonl", "10.w.jsonl", ".10.jsonl.lock", "10.jsonl.tmp", "10.w12.jsonl.lock"):
        assert file_span("2026-03-04", stray) is None, stray


async def test_a_locked_bucket_file_sends_samples_to_this_process_own_file(metrics: FFMetricsCollectionManager, config: FFConfigurationManagerConfigDTO) -> None:
    await metrics.record_metric("lat", 1.0)
    bucket = config.storage.base_path / "metrics" / "lat" / "2026-03-04"
    shared, own = bucket / "10.jsonl", bucket / f"10.w{os.getpid()}.jsonl"
    with held_by_another_process(shared):
        for value in (2.0, 3.0, 4.0):
            await asyncio.wait_for(metrics.record_metric("lat", value), _BOUND_S)
    await metrics.record_metric("lat", 5.0)  # the lock is free again: back to the shared file
    assert [s["value"] for s in _lines(shared)] == [1.0, 5.0]
    assert [s["value"] for s in _lines(own)] == [2.0, 3.0, 4.0]
    summary = await metrics.get_summary("lat")
    assert (summary.count, summary.min, summary.max, summary.mean) == (5, 1.0, 5.0, 3.0)


async def test_a_locked_analytics_day_sends_events_to_this_process_own_file(metrics: FFMetricsCollectionManager, config: FFConfigurationManagerConfigDTO) -> None:
    await metrics.record_event("alice", "chat", {"session_id": "s1"})
    events = config.storage.base_path / "users" / "alice" / "analytics" / "events"
    with held_by_another_process(events / "2026-03-04.jsonl"):
        await asyncio.wait_for(metrics.record_event("alice", "chat", {"session_id": "s2"}), _BOUND_S)
    assert (events / f"2026-03-04.w{os.getpid()}.jsonl").is_file()
    analytics = await metrics.get_user_analytics("alice", timedelta(days=1))
    assert (analytics.total_events, analytics.chat_sessions) == (2, 2)
