"""FFComponentBase: lazy start, lifecycle, health counters, paths, the clock and the bus."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ff_class_configs import FFConfigurationManagerConfigDTO
from ff_managers.ff_component_base import FFComponentBase, FFComponentState
from ff_managers.ff_event_bus import FFEvent, FFEventBus
from ff_utils.ff_errors import FFConflictError, FFStorageError, FFValidationError

FIXED = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)


class _Demo(FFComponentBase):
    component_name = "demo"

    def __init__(self, *args: object, fail_start: bool = False, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.starts = 0
        self.stops = 0
        self.fail_start = fail_start

    async def _on_initialize(self) -> None:
        self.starts += 1
        await asyncio.sleep(0.01)  # lets concurrent first calls overlap
        if self.fail_start:
            raise FFStorageError("disk gone")

    async def _on_shutdown(self) -> None:
        self.stops += 1

    async def thread_name(self) -> str:
        async with self._operation():
            return await self._io(lambda: threading.current_thread().name)

    async def fail(self, error: Exception) -> None:
        async with self._operation():
            raise error

    async def announce(self) -> None:
        async with self._operation():
            await self._publish("demo.done", {"n": 1}, user_id="alice")


async def test_starts_lazily_once_even_under_concurrency(config: FFConfigurationManagerConfigDTO) -> None:
    demo = _Demo(config)
    assert demo.state == FFComponentState.STOPPED
    assert not (Path(config.storage.base_path) / "ff_meta.json").exists()
    names = await asyncio.gather(*(demo.thread_name() for _ in range(10)))
    assert demo.starts == 1 and demo.state == FFComponentState.RUNNING
    assert (Path(config.storage.base_path) / "ff_meta.json").exists()
    assert threading.current_thread().name not in names  # blocking work ran off the event loop


async def test_async_with_starts_and_stops_and_can_restart(config: FFConfigurationManagerConfigDTO) -> None:
    async with _Demo(config) as demo:
        assert demo.state == FFComponentState.RUNNING
    assert demo.state == FFComponentState.STOPPED and demo.stops == 1
    await demo.shutdown()  # stopping a stopped component is a no-op
    assert demo.stops == 1
    await demo.thread_name()  # usable again: starts lazily
    assert demo.starts == 2 and demo.state == FFComponentState.RUNNING


async def test_failed_start_is_error_state_and_refuses_operations(config: FFConfigurationManagerConfigDTO) -> None:
    demo = _Demo(config, fail_start=True)
    with pytest.raises(FFStorageError):
        await demo.thread_name()
    assert demo.state == FFComponentState.ERROR
    with pytest.raises(FFConflictError):
        await demo.thread_name()
    assert demo.health().state == FFComponentState.ERROR


async def test_health_counts_requests_errors_and_times(config: FFConfigurationManagerConfigDTO) -> None:
    demo = _Demo(config)
    health = demo.health()
    assert (health.requests, health.errors, health.mean_response_ms, health.p95_response_ms) == (0, 0, 0.0, 0.0)
    await demo.thread_name()
    await demo.thread_name()
    with pytest.raises(FFValidationError):
        await demo.fail(FFValidationError("bad"))
    with pytest.raises(ZeroDivisionError):
        await demo.fail(ZeroDivisionError())
    health = demo.health()
    assert (health.component, health.state, health.requests, health.errors) == ("demo", "running", 4, 2)
    assert 0 < health.mean_response_ms and 0 < health.p95_response_ms
    assert health.model_dump(mode="json")["state"] == "running"


def test_p95_is_nearest_rank(config: FFConfigurationManagerConfigDTO) -> None:
    demo = _Demo(config)
    demo._durations_ms.extend(float(v) for v in range(100, 0, -1))
    health = demo.health()
    assert health.p95_response_ms == 95.0  # the 95th of 100 (it was the 96th)
    assert health.mean_response_ms == 50.5
    demo._durations_ms.clear()
    demo._durations_ms.append(7.0)
    assert demo.health().p95_response_ms == 7.0


async def test_paths_are_safe(config: FFConfigurationManagerConfigDTO, tmp_path: Path) -> None:
    demo = _Demo(config)
    assert demo.root == tmp_path.resolve()
    assert demo._path("users", "alice", "profile.json") == tmp_path.resolve() / "users" / "alice" / "profile.json"
    for bad in ("../x", "/etc", "a/../../b", ""):
        with pytest.raises(FFValidationError):
            demo._path("users", bad)


async def test_publish_uses_injected_clock_and_shared_bus(config: FFConfigurationManagerConfigDTO) -> None:
    bus = FFEventBus()
    seen: list[FFEvent] = []
    bus.subscribe("demo.*", seen.append)
    demo = _Demo(config, bus=bus, clock=lambda: FIXED)
    await demo.announce()
    assert len(seen) == 1
    event = seen[0]
    assert (event.type, event.source, event.payload, event.user_id, event.timestamp) == ("demo.done", "demo", {"n": 1}, "alice", FIXED)
    assert demo.clock() == FIXED


def test_default_bus_and_clock(config: FFConfigurationManagerConfigDTO) -> None:
    demo = _Demo(config)
    assert isinstance(demo.bus, FFEventBus)
    assert demo.clock().tzinfo is not None
    assert _Demo(config).bus is not demo.bus


def test_root_is_resolved_once(config: FFConfigurationManagerConfigDTO, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every path is built from the root on the event loop: it is resolved once, not per call."""
    demo = _Demo(config)
    expected = tmp_path.resolve() / "users" / "alice"
    assert demo.root == tmp_path.resolve()
    calls = []
    real_resolve = Path.resolve

    def counting(self: Path, strict: bool = False) -> Path:
        calls.append(self)
        return real_resolve(self, strict=strict)

    monkeypatch.setattr(Path, "resolve", counting)
    for _ in range(3):
        assert demo._path("users", "alice") == expected
    assert calls == []
