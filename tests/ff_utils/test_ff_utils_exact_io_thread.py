"""FFIOThread's edges, exactly: a thread that dies of a bug fails every caller still queued and
lets close() return; drain() on the turn of the first submit, drain() when nothing else comes (one
barrier), drain() when a caller resolved with the barrier submits again; stop() from outside (it
waits, or gives up after ``timeout``) and from a job (it cannot join itself); a forked child's
view (the parent's thread and queue are gone: the next submit starts a fresh thread).

Written for mutation testing (docs/MUTATION.md, ``ff_utils``). The fork hook is called in this
process on a registry holding only the test's own thread (a real fork would run it in a child,
where mutmut cannot see which test reached it).
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from typing import Any

import pytest

from ff_utils import ff_io_thread
from ff_utils.ff_io_thread import FFIOThread

BOUND_S = 10.0  # no wait below is expected to take it; it only turns a hang into a failure


class Job:
    """Records each call; items of a gated key wait for ``gate`` (and say so through ``entered``)."""

    def __init__(self, gated: str = "") -> None:
        self.calls: list[tuple[Any, list[int]]] = []
        self.threads: list[int] = []
        self.gated = gated
        self.gate = threading.Event()
        self.entered = threading.Event()

    def __call__(self, key: str, items: list[int]) -> list[int]:
        if key == self.gated:
            self.entered.set()
            self.gate.wait(BOUND_S)
        self.calls.append((key, list(items)))
        self.threads.append(threading.get_ident())
        return [i * 10 for i in items]


class Buggy(FFIOThread):
    """Its wake-up handling has a bug: it raises once ``release`` is set."""

    def __init__(self) -> None:
        super().__init__("ff-io:buggy")
        self.release = threading.Event()
        self.handling = threading.Event()

    def _handle(self, entries: list[Any]) -> bool:
        self.handling.set()
        self.release.wait(BOUND_S)
        raise RuntimeError("bug in the I/O thread")


async def test_a_thread_killed_by_a_bug_fails_the_queued_callers_and_lets_close_return(monkeypatch: pytest.MonkeyPatch) -> None:
    died: list[BaseException | None] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: died.append(args.exc_value))
    io, job = Buggy(), Job()
    in_flight = io.submit(job, "a", 0)
    assert await asyncio.to_thread(io.handling.wait, BOUND_S)  # the thread holds the first wake-up
    queued = [io.submit(job, "a", 1), io.submit(job, "b", 2)]
    await asyncio.sleep(0)  # handed to the queue behind the stuck wake-up
    closing = asyncio.ensure_future(io.close())
    await asyncio.sleep(0)
    io.release.set()
    results = await asyncio.wait_for(asyncio.gather(*queued, return_exceptions=True), BOUND_S)
    assert [str(r) for r in results] == ["bug in the I/O thread"] * 2
    assert all(isinstance(r, RuntimeError) for r in results)
    await asyncio.wait_for(closing, BOUND_S)
    assert job.calls == [] and not io.alive and [str(e) for e in died] == ["bug in the I/O thread"]
    in_flight.cancel()  # the wake-up the bug was in is lost with it


async def test_drain_on_the_turn_of_the_first_submit_waits_for_it() -> None:
    io, job = FFIOThread("ff-io:first-drain"), Job()
    try:
        first = io.submit(job, "a", 1)
        await io.drain()  # awaited directly: it starts on this turn, before the submit's own flush
        assert first.done() and first.result() == 10 and job.calls == [("a", [1])]
    finally:
        await io.close()


async def test_drain_with_nothing_else_coming_sends_one_barrier() -> None:
    io, job = FFIOThread("ff-io:one-barrier"), Job()
    try:
        assert await io.submit(job, "a", 1) == 10
        await asyncio.wait_for(io.drain(), BOUND_S)
        assert io.submitted == 2  # the item and one barrier
    finally:
        await io.close()


async def test_drain_waits_for_what_a_caller_resolved_with_the_barrier_submits() -> None:
    io, job = FFIOThread("ff-io:chained"), Job(gated="gate")
    follow_ups: list[asyncio.Future[Any]] = []

    async def chain(first: asyncio.Future[Any]) -> None:
        await first
        follow_ups.append(io.submit(job, "c", 3))  # submitted before drain() looks again

    try:
        blocker = io.submit(job, "gate", 0)
        assert await asyncio.to_thread(job.entered.wait, BOUND_S)
        first = io.submit(job, "b", 1)
        chained = asyncio.ensure_future(chain(first))
        draining = asyncio.ensure_future(io.drain())
        await asyncio.sleep(0)  # drain() handed `first` and its barrier to the queue: one wake-up
        job.gate.set()
        await asyncio.wait_for(draining, BOUND_S)
        assert len(follow_ups) == 1 and follow_ups[0].done() and follow_ups[0].result() == 30
        await asyncio.wait_for(asyncio.gather(blocker, chained), BOUND_S)
    finally:
        job.gate.set()
        await io.close()


class StopSignalling(FFIOThread):
    """Sets ``stop_requested`` once stop() or close() has told the thread to end."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.stop_requested = threading.Event()

    def _request_stop(self, notify: Any) -> threading.Thread | None:
        thread = super()._request_stop(notify)
        self.stop_requested.set()
        return thread


async def test_stop_waits_until_the_thread_wrote_what_it_held_and_ended() -> None:
    io = StopSignalling("ff-io:stop")
    job = Job(gated="gate")
    job.gate = io.stop_requested  # the item is written only once stop() was called
    held = io.submit(job, "gate", 0)
    assert await asyncio.to_thread(job.entered.wait, BOUND_S)
    io.stop()
    assert job.calls == [("gate", [0])] and not io.alive
    assert await asyncio.wait_for(held, BOUND_S) == 0


async def test_stop_gives_up_waiting_after_its_timeout() -> None:
    io, job = FFIOThread("ff-io:stop-timeout"), Job(gated="gate")
    held = io.submit(job, "gate", 0)
    assert await asyncio.to_thread(job.entered.wait, BOUND_S)
    thread = io._thread
    stopper = threading.Thread(target=io.stop, kwargs={"timeout": 0.05})
    stopper.start()
    stopper.join(BOUND_S)
    assert not stopper.is_alive() and io.alive  # gave up waiting; the thread still holds the item
    job.gate.set()
    assert thread is not None
    thread.join(BOUND_S)
    assert job.calls == [("gate", [0])] and not io.alive
    assert await asyncio.wait_for(held, BOUND_S) == 0


async def test_stop_from_a_job_in_the_thread_does_not_join_itself() -> None:
    io = FFIOThread("ff-io:self-stop")

    def stop_from_inside(key: str, items: list[int]) -> list[int]:
        io.stop()
        return items

    assert await asyncio.wait_for(io.submit(stop_from_inside, "k", 7), BOUND_S) == 7
    await io.close()


async def test_after_fork_the_parents_thread_and_queue_are_gone_and_a_submit_starts_afresh(monkeypatch: pytest.MonkeyPatch) -> None:
    io, job = FFIOThread("ff-io:fork", idle_s=0.2), Job(gated="parent")
    monkeypatch.setattr(ff_io_thread, "_threads", weakref.WeakSet([io]))
    parents = io.submit(job, "parent", 0)
    assert await asyncio.to_thread(job.entered.wait, BOUND_S)
    parent_thread = io._thread
    ff_io_thread._after_fork_in_child()
    assert not io.alive
    assert await asyncio.wait_for(io.submit(job, "child", 2), BOUND_S) == 20
    assert job.calls == [("child", [2])]  # the parent's item is not the child's to write
    assert parent_thread is not None and job.threads[0] != parent_thread.ident
    await io.close()
    job.gate.set()  # the stand-in for the parent's thread finishes and retires (idle_s)
    parent_thread.join(BOUND_S)
    parents.cancel()
