"""The keyed batcher at its edges (issue 20: what mutation testing found unpinned): a loop closed
without cancelling its tasks, a drain cancelled under drain(), a caller cancelled mid-batch, a
drain cancelled with nothing queued behind it, the batcher's name in its errors, a drain task
that ends cleanly."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from ff_managers._core.batcher import FFKeyedBatcher


async def _times_ten(key: str, items: list[int]) -> list[int]:
    await asyncio.sleep(0)
    return [i * 10 for i in items]


def test_a_loop_closed_without_cancelling_its_drain_does_not_strand_the_next_loop():
    batcher: FFKeyedBatcher[str, int, int] = FFKeyedBatcher(_times_ten)
    old = asyncio.new_event_loop()

    async def submit_only() -> None:
        batcher.submit("a", 1)  # the drain task is created, never run: the loop closes first

    old.run_until_complete(submit_only())
    # Held, so garbage collection does not finalise the stranded task during the test: a pending
    # task of a dead loop, when collected, runs its clean-up (see docs/MUTATION.md, batcher).
    stranded = list(asyncio.all_tasks(old))
    old.close()

    async def again() -> int:
        result = await asyncio.wait_for(batcher.submit("a", 2), 5)
        await asyncio.wait_for(batcher.drain(), 5)
        return result

    assert asyncio.run(again()) == 20
    assert stranded and not stranded[0].done()
    with contextlib.suppress(RuntimeError):  # its clean-up cannot reach the closed loop
        stranded[0].get_coro().close()


async def test_drain_returns_when_a_drain_it_waits_for_is_cancelled():
    gate = asyncio.Event()

    async def held(key: str, items: list[int]) -> list[int]:
        await gate.wait()
        return items

    batcher: FFKeyedBatcher[str, int, int] = FFKeyedBatcher(held)
    caller = batcher.submit("a", 1)
    await asyncio.sleep(0)
    [task] = [t for t in asyncio.all_tasks() if t.get_name().startswith("batcher:")]
    waiting = asyncio.create_task(batcher.drain())
    await asyncio.sleep(0)
    task.cancel()
    await asyncio.wait_for(waiting, 5)  # drain() itself is not cancelled by its drain's cancellation
    assert caller.cancelled()


async def test_a_drain_cancelled_with_nothing_queued_behind_its_batch_cancels_that_batch():
    started = asyncio.Event()

    async def forever(key: str, items: list[int]) -> list[int]:
        started.set()
        await asyncio.Event().wait()
        return items

    batcher: FFKeyedBatcher[str, int, int] = FFKeyedBatcher(forever)
    callers = [batcher.submit("k", i) for i in range(2)]
    await started.wait()
    [task] = [t for t in asyncio.all_tasks() if t.get_name().startswith("batcher:")]
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert all(c.cancelled() for c in callers)


async def test_a_caller_cancelled_mid_batch_does_not_stop_the_others_getting_their_outcomes():
    gate = asyncio.Event()

    async def held(key: str, items: list[int]) -> list[int]:
        await gate.wait()
        return [i * 10 for i in items]

    batcher: FFKeyedBatcher[str, int, int] = FFKeyedBatcher(held)
    callers = [batcher.submit("k", i) for i in range(4)]
    await asyncio.sleep(0)
    callers[1].cancel()
    gate.set()
    await batcher.drain()
    assert [c.result() for i, c in enumerate(callers) if i != 1] == [0, 20, 30]


async def test_the_wrong_number_of_outcomes_error_names_the_batcher():
    async def none(key: str, items: list[int]) -> list[int]:
        return [1, 2, 3]

    batcher: FFKeyedBatcher[str, int, int] = FFKeyedBatcher(none, name="messages")
    with pytest.raises(RuntimeError) as caught:
        await batcher.submit("a", 1)
    assert str(caught.value) == "messages: the drain function returned 3 outcomes for 1 items"


async def test_a_drain_task_ends_cleanly_once_its_queue_is_empty():
    batcher: FFKeyedBatcher[str, int, int] = FFKeyedBatcher(_times_ten)
    first = batcher.submit("a", 1)
    [task] = [t for t in asyncio.all_tasks() if t.get_name().startswith("batcher:")]
    assert await first == 10
    assert await task is None  # no error escaped the drain loop
    assert batcher.pending == 0
