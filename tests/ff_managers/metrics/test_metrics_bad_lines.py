"""Metric and analytics reads skip a line of valid JSON with the wrong shape, like an unparsable one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from ff_class_configs import FFConfigurationManagerConfigDTO
from ff_managers import FFEventBus, FFMetricsCollectionManager
from tests._fakes import FakeClock

T0 = datetime(2026, 3, 4, 10, 15, tzinfo=UTC)
WRONG_SAMPLES = [
    [1, 2],
    "text",
    {"t": "2026-03-04T10:16:00+00:00"},  # no value
    {"t": "2026-03-04T10:16:00+00:00", "value": "12"},  # text for a number
    {"t": "2026-03-04T10:16:00+00:00", "value": 1, "tags": ["a"]},  # a list for the tags
    {"t": 5, "value": 1},
]


@pytest.fixture
async def metrics(config: FFConfigurationManagerConfigDTO) -> AsyncIterator[FFMetricsCollectionManager]:
    manager = FFMetricsCollectionManager(config, bus=FFEventBus(), clock=FakeClock(T0))
    await manager.initialize()
    yield manager
    await manager.shutdown()


async def test_summaries_skip_and_count_wrong_shape_samples(metrics: FFMetricsCollectionManager, config: FFConfigurationManagerConfigDTO) -> None:
    await metrics.record_metric("lat", 5)
    bucket = config.storage.base_path / "metrics" / "lat" / "2026-03-04" / "10.jsonl"
    with bucket.open("ab") as handle:
        handle.write(b"".join(orjson.dumps(line) + b"\n" for line in WRONG_SAMPLES))
        # A naive time (an injected clock's) is read as UTC, as it was written: no naive/aware TypeError.
        handle.write(orjson.dumps({"t": "2026-03-04T10:16:00", "value": 1}) + b"\n")
    await metrics.record_metric("lat", 7)
    summary = await metrics.get_summary("lat")
    assert (summary.count, summary.sum, summary.skipped_lines) == (3, 13, len(WRONG_SAMPLES))
    recent = await metrics.get_summary("lat", window=timedelta(hours=1))
    assert (recent.count, recent.skipped_lines) == (2, len(WRONG_SAMPLES))  # the 10:16 sample is after "now"
    tagged = await metrics.get_summary("lat", tags={"k": "v"})
    assert (tagged.count, tagged.skipped_lines) == (0, len(WRONG_SAMPLES))


async def test_analytics_skip_wrong_shape_events(metrics: FFMetricsCollectionManager, config: FFConfigurationManagerConfigDTO) -> None:
    await metrics.record_event("alice", "login", {"session_id": "s1"})
    folder = config.storage.base_path / "users" / "alice" / "analytics" / "events"
    day_file = folder / "2026-03-04.jsonl"  # by name: the folder also holds the file's ".<name>.lock"
    assert day_file.is_file()
    with day_file.open("ab") as handle:
        for line in ([1], {"t": "2026-03-04T10:16:00"}, {"t": "2026-03-04T10:16:00+00:00", "type": 5}, {"type": "x"}):
            handle.write(orjson.dumps(line) + b"\n")
    await metrics.record_event("alice", "logout")
    for window in (None, timedelta(days=1)):  # with a window, a naive time once raised a raw TypeError
        analytics = await metrics.get_user_analytics("alice", window)
        assert analytics.event_counts == {"login": 1, "logout": 1} and analytics.chat_sessions == 1
