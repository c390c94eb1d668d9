"""The keyed batcher: one drain per key, batches of what queued meanwhile, outcomes per caller,
and a lifecycle owned by the component (drained by shutdown, work arriving meanwhile included)."""

from __future__ import annotations

import asyncio

import pytest

from ff_managers._core.batcher import FFKeyedBatcher
from ff_managers.ff_component_base import FFComponentBase
from ff_utils.ff_errors import FFValidationError


class Recorder:
    """A drain function that records its batches and can be held, failed or refuse items."""

    def __init__(self) -> None:
        self.batches: list[tuple[str, list[int]]] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.running: dict[str, int] = {}
        self.max_running: dict[str, int] = {}
        self.fail_with: Exception | None = None

    async def __call__(self, key: str, items: list[int]) -> list[int | BaseException]:
        self.running[key] = self.running.get(key, 0) + 1
        self.max_running[key] = max(self.max_running.get(key, 0), self.running[key])
        try:
            await self.gate.wait()
            await asyncio.sleep(0)
            self.batches.append((key, list(items)))
            if self.fail_with is not None:
                raise self.fail_with
            return [FFValidationError(f"odd {i}", field="item") if i % 2 else i * 10 for i in items]
        finally:
            self.running[key] -= 1


async def test_concurrent_callers_share_batches_and_get_their_own_outcomes():
    drain = Recorder()
    batcher: FFKeyedBatcher[str, int, int] = FFKeyedBatcher(drain, name="test")
    drain.gate.clear()
    first = batcher.submit("a", 0)
    await asyncio.sleep(0)  # the drain took [0] and waits at the gate
    rest = [batcher.submit("a", i) for i in range(1, 6)]
    drain.gate.set()
    results = await asyncio.gather(first, *rest, return_exceptions=True)
    assert results[0] == 0 and results[2] == 20 and results[4] == 40
    assert [type(r) for r in results[1::2]] == [FFValidationError] * 3
    assert drain.batches == [("a", [0]), ("a", [1, 2, 3, 4, 5])]
    assert drain.max_running == {"a": 1}


async def test_keys_drain_independently_and_concurrently():
    drain = Recorder()
    batcher: FFKeyedBatcher[str, int, int] = FFKeyedBatcher(drain)
    drain.gate.clear()
    futures = [batcher.submit(key, 2) for key in ("a", "b", "c")]
    await asyncio.sleep(0)
    assert drain.running == {"a": 1, "b": 1, "c": 1}
    drain.gate.set()
    assert await asyncio.gather(*futures) == [20, 20, 20]


async def test_a_failing_drain_fails_only_its_own_batch():
    drain = Recorder()
    batcher: FFKeyedBatcher[str, int, int] = FFKeyedBatcher(drain)
    drain.fail_with = OSError("disk full")
    with pytest.raises(OSError, match="disk full"):
        await batcher.submit("a", 2)
    drain.fail_with = None
    assert await batcher.submit("a", 4) == 40


async def test_a_caller_cancelled_before_its_batch_is_never_written():
    drain = Recorder()
    batcher: FFKeyedBatcher[str, int, int] = FFKeyedBatcher(drain)
    drain.gate.clear()
    first = batcher.submit("a", 0)
    await asyncio.sleep(0)
    dropped = batcher.submit("a", 2)
    kept = batcher.submit("a", 4)
    dropped.cancel()
    drain.gate.set()
    assert await first == 0 and await kept == 40
    assert drain.batches == [("a", [0]), ("a", [4])]


async def test_cancelling_the_drain_cancels_every_waiting_caller():
    drain = Recorder()
    batcher: FFKeyedBatcher[str, int, int] = FFKeyedBatcher(drain)
    drain.gate.clear()
    first = batcher.submit("a", 0)
    await asyncio.sleep(0)
    second = batcher.submit("a", 2)
    for task in asyncio.all_tasks():
        if task.get_name().startswith("batcher:"):
            task.cancel()
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert first.cancelled() and second.cancelled()
    assert batcher.pending == 0


async def test_a_wrong_number_of_outcomes_fails_the_batch_loudly():
    async def short(key: str, items: list[int]) -> list[int]:
        return []

    batcher: FFKeyedBatcher[str, int, int] = FFKeyedBatcher(short, name="short")
    with pytest.raises(RuntimeError, match="returned 0 outcomes for 1 items"):
        await batcher.submit("a", 1)


async def test_drain_waits_for_items_submitted_while_draining():
    drain = Recorder()
    batcher: FFKeyedBatcher[str, int, int] = FFKeyedBatcher(drain)
    drain.gate.clear()
    first = batcher.submit("a", 0)
    draining = asyncio.create_task(batcher.drain())
    await asyncio.sleep(0)
    late = batcher.submit("b", 2)
    drain.gate.set()
    await draining
    assert first.done() and late.done()


def test_a_batcher_survives_its_event_loop_closing():
    drain = Recorder()
    batcher: FFKeyedBatcher[str, int, int] = FFKeyedBatcher(drain)

    async def leave_one_pending() -> None:
        drain.gate.clear()
        batcher.submit("a", 0)
        await asyncio.sleep(0)

    asyncio.run(leave_one_pending())  # asyncio.run cancels the drain as the loop closes

    async def use_again() -> int:
        drain.gate.set()
        result = await batcher.submit("a", 2)
        await batcher.drain()
        return result

    assert asyncio.run(use_again()) == 20


class Component(FFComponentBase):
    component_name = "test"

    def __init__(self, config) -> None:
        super().__init__(config)
        self.drain = Recorder()
        self.appends = self._batcher(self.drain, name="appends")
        self.flushed_after: list[tuple[str, list[int]]] | None = None

    async def _on_shutdown(self) -> None:
        self.flushed_after = list(self.drain.batches)


async def test_component_shutdown_drains_its_batchers_before_on_shutdown(config):
    component = Component(config)
    await component.initialize()
    component.drain.gate.clear()
    pending = [component.appends.submit("s1", 2), component.appends.submit("s2", 4)]
    shutting = asyncio.create_task(component.shutdown())
    await asyncio.sleep(0)
    assert not shutting.done()
    late = component.appends.submit("s1", 6)  # arrives mid-drain: written too, not refused
    component.drain.gate.set()
    await shutting
    assert [await f for f in pending] == [20, 40] and await late == 60
    assert sorted(component.flushed_after or []) == [("s1", [2]), ("s1", [6]), ("s2", [4])]
    await component.initialize()
    assert await component.appends.submit("s1", 8) == 80
    await component.shutdown()
