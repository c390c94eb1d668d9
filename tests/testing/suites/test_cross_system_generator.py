"""The open-loop generator: a seeded schedule kept whatever the replies do, every attempt recorded."""

from __future__ import annotations

import asyncio
import itertools

from testing.suites._cross_system._generator import FFArrival, FFOpenLoopGenerator, FFSendResult, arrival_schedule

MIX = [("write", 1.0), ("read", 1.0)]


def test_schedule_is_seeded_and_transports_take_turns():
    first = list(itertools.islice(arrival_schedule(100, 7, ["http", "tcp"], MIX), 200))
    again = list(itertools.islice(arrival_schedule(100, 7, ["http", "tcp"], MIX), 200))
    other = list(itertools.islice(arrival_schedule(100, 8, ["http", "tcp"], MIX), 200))
    assert first == again and first != other
    assert [a.transport for a in first[:4]] == ["http", "tcp", "http", "tcp"]
    assert all(b.at > a.at for a, b in itertools.pairwise(first))
    assert 1.4 < first[-1].at < 2.8  # 200 arrivals at 100/s: about 2 s
    fixed = list(itertools.islice(arrival_schedule(10, 1, ["http"], MIX, poisson=False), 3))
    assert [round(a.at, 6) for a in fixed] == [0.1, 0.2, 0.3]


async def test_arrivals_do_not_wait_for_slow_replies():
    """A stalled reply must not delay the next arrival: open loop, not closed."""
    release = asyncio.Event()
    started: list[int] = []

    async def send(arrival: FFArrival) -> FFSendResult:
        started.append(arrival.index)
        if arrival.index == 0:
            await release.wait()  # the first request hangs
        return FFSendResult("ok", endpoint="ff-a-http")

    loop = asyncio.get_running_loop()
    gen = FFOpenLoopGenerator(arrival_schedule(200, 1, ["http"], MIX, poisson=False), send, origin=loop.time(),
                              clock=loop.time, attempt_timeout=5, drain_seconds=1)
    gen.start()
    while len(started) < 10:
        await asyncio.sleep(0.01)
    release.set()
    await gen.stop()
    assert started[:10] == list(range(10))
    first = next(a for a in gen.attempts if a.endpoint and a.scheduled == min(x.scheduled for x in gen.attempts))
    assert first.latency_ms >= 40  # it waited while the others went on
    assert all(a.outcome == "ok" for a in gen.attempts)


async def test_every_attempt_is_recorded_with_its_outcome_and_in_flight_is_bounded():
    async def send(arrival: FFArrival) -> FFSendResult:
        if arrival.index % 3 == 0:
            raise RuntimeError("sender broke")
        if arrival.index % 3 == 1:
            await asyncio.sleep(10)  # past the attempt timeout
        return FFSendResult("error_reply", endpoint="x", error_kind="FFNotFoundError")

    loop = asyncio.get_running_loop()
    gen = FFOpenLoopGenerator(arrival_schedule(300, 1, ["http"], MIX, poisson=False), send, origin=loop.time(),
                              clock=loop.time, attempt_timeout=0.2, drain_seconds=0.5, max_in_flight=5)
    gen.start()
    await asyncio.sleep(0.4)
    await gen.stop()
    outcomes = {a.outcome for a in gen.attempts}
    assert {"exception", "timeout", "error_reply", "shed"} <= outcomes
    assert gen.shed == sum(1 for a in gen.attempts if a.outcome == "shed") > 0
    assert not gen.running
