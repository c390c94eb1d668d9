"""Active health checks against a real tiny HTTP server on 127.0.0.1: flips, timeouts, clean cancel."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from ff_class_configs.ff_comm_dtos import FFEndpointDTO
from ff_managers._comm.endpoint_pool import FFEndpointPool
from ff_managers._comm.health_checker import FFHealthChecker
from tests.ff_managers.comm._balance_fakes import Events, endpoint, make_pool

BOUND = 10.0  # no test waits longer for anything


class ReadyServer:
    """``GET /health/ready`` answers 200 or 503 as told; ``freeze`` accepts but never answers."""

    def __init__(self) -> None:
        self.ready = True
        self.frozen = False
        self.server: asyncio.Server | None = None
        self.port = 0
        self.requests = 0
        self._writers: set[asyncio.StreamWriter] = set()
        self._stopping = asyncio.Event()  # wakes frozen handlers so none outlives the server

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            await reader.readuntil(b"\r\n\r\n")
            self.requests += 1
            if self.frozen:
                await self._stopping.wait()
                return
            status = b"200 OK" if self.ready else b"503 Service Unavailable"
            writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    async def stop(self) -> None:
        if self.server is not None:
            self._stopping.set()
            self.server.close()
            for writer in list(self._writers):
                writer.close()
            await self.server.wait_closed()
            self.server = None


async def http_ready_probe(target: FFEndpointDTO) -> bool:
    """What the façade's HTTP probe does: GET /health/ready, healthy on 200 only."""
    reader, writer = await asyncio.open_connection(target.host, target.port)
    try:
        writer.write(b"GET /health/ready HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        await writer.drain()
        status_line = await reader.readline()
        return status_line.split()[1:2] == [b"200"]
    finally:
        writer.close()


class Ticker:
    """An injected ``sleep`` per task name: a loop moves on only when the test ticks it."""

    def __init__(self) -> None:
        self._queues: dict[str, asyncio.Queue[None]] = {}

    def _queue(self, name: str) -> asyncio.Queue[None]:
        return self._queues.setdefault(name, asyncio.Queue())

    async def sleep(self, _: float) -> None:
        task = asyncio.current_task()
        assert task is not None
        await self._queue(task.get_name()).get()

    def tick(self, name: str) -> None:
        self._queue(name).put_nowait(None)


async def until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(BOUND):
        while not condition():
            await asyncio.sleep(0.005)


def health_tasks() -> list[asyncio.Task[object]]:
    return [t for t in asyncio.all_tasks() if t.get_name().startswith("ff-health-")]


async def always_healthy(target: FFEndpointDTO) -> bool:
    """Planted defect: a health check that always says healthy."""
    return True


@pytest.fixture
async def server() -> AsyncIterator[ReadyServer]:
    srv = ReadyServer()
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


def _pool(srv: ReadyServer, events: Events | None = None) -> FFEndpointPool:
    pool = make_pool("round_robin", [], events=events)
    pool.add(endpoint("srv", srv.port))
    return pool


async def outage_detected(srv: ReadyServer, probe: Callable[[FFEndpointDTO], Awaitable[bool]]) -> list[bool]:
    """Availability of the endpoint after each round: up, 503, frozen, back, stopped (the property)."""
    pool = _pool(srv)
    checker = FFHealthChecker(pool, probe, interval_s=60.0, timeout_s=0.5, unhealthy_threshold=1)
    seen = []
    for step in ("up", "503", "frozen", "back", "stopped"):
        srv.ready = step not in ("503",)
        srv.frozen = step == "frozen"
        if step == "stopped":
            await srv.stop()
        await asyncio.wait_for(checker.check_all(), BOUND)
        seen.append(pool.available("srv"))
    return seen


async def test_checks_flip_availability_against_a_real_server(server: ReadyServer) -> None:
    assert await outage_detected(server, http_ready_probe) == [True, False, False, True, False]


async def test_planted_always_healthy_check_shows_red(server: ReadyServer) -> None:
    assert await outage_detected(server, always_healthy) != [True, False, False, True, False]


async def test_background_loops_report_and_cancel_cleanly(server: ReadyServer) -> None:
    events, ticker = Events(), Ticker()
    pool = _pool(server, events)
    checker = FFHealthChecker(pool, http_ready_probe, interval_s=1.0, timeout_s=2.0, sleep=ticker.sleep)
    async with checker:
        await until(lambda: checker.checks >= 1)
        assert pool.available("srv") and events.seen == []
        server.ready = False
        ticker.tick("ff-health-g-srv")
        await until(lambda: checker.checks >= 2)
        assert pool.available("srv") and events.seen == []  # one failed check is not enough
        ticker.tick("ff-health-g-srv")
        await until(lambda: events.seen == [("unhealthy", "srv")])
        assert not pool.available("srv")
        pool.add(endpoint("late", server.port))  # joins while running: gets a loop at the next sync
        ticker.tick("ff-health-g")
        await until(lambda: checker.checks >= 4)
        ticker.tick("ff-health-g-late")
        await until(lambda: ("unhealthy", "late") in events.seen)
        server.ready = True
        ticker.tick("ff-health-g-srv")
        await until(lambda: events.seen[-1] == ("healthy", "srv"))
        tasks = health_tasks()
        assert sorted(t.get_name() for t in tasks) == ["ff-health-g", "ff-health-g-late", "ff-health-g-srv"]
    assert all(t.done() for t in tasks) and health_tasks() == []


async def test_a_hanging_probe_times_out_and_exit_does_not_wait_for_it() -> None:
    pool = make_pool("round_robin", ["stuck", "raises"])
    started = asyncio.Event()

    async def probe(target: FFEndpointDTO) -> bool:
        if target.system_id == "raises":
            raise OSError("connection refused")
        started.set()
        await asyncio.Event().wait()  # never answers
        return True

    short = FFHealthChecker(pool, probe, interval_s=60.0, timeout_s=0.05)
    assert await asyncio.wait_for(short.check_all(), BOUND) == {"stuck": False, "raises": False}

    long = FFHealthChecker(pool, probe, interval_s=60.0, timeout_s=3600.0)
    async with asyncio.timeout(BOUND):
        async with long:
            await started.wait()
    assert health_tasks() == []


async def test_a_removed_endpoint_loses_its_loop() -> None:
    pool, ticker = make_pool("round_robin", ["a", "b"]), Ticker()
    probed: list[str] = []

    async def probe(target: FFEndpointDTO) -> bool:
        probed.append(target.system_id)
        return True

    async with asyncio.timeout(BOUND):
        async with FFHealthChecker(pool, probe, interval_s=1.0, timeout_s=1.0, sleep=ticker.sleep):
            await until(lambda: sorted(probed) == ["a", "b"])
            (loop_b,) = [t for t in health_tasks() if t.get_name() == "ff-health-g-b"]
            pool.remove("b")
            ticker.tick("ff-health-g")
            await until(loop_b.done)
            assert loop_b.cancelled()
            ticker.tick("ff-health-g-a")
            await until(lambda: len(probed) == 3)
    assert probed == ["a", "b", "a"] or probed == ["b", "a", "a"]


def test_bad_intervals_and_thresholds_are_refused() -> None:
    pool = make_pool("round_robin", ["a"])
    for bad in ({"interval_s": 0}, {"timeout_s": -1}, {"unhealthy_threshold": 0}, {"healthy_threshold": 0}):
        with pytest.raises(ValueError):
            FFHealthChecker(pool, always_healthy, **{"interval_s": 1.0, "timeout_s": 1.0, **bad})  # type: ignore[arg-type]


async def test_verdicts_must_repeat_their_threshold_before_the_pool_hears() -> None:
    events = Events()
    pool = make_pool("round_robin", ["a"], events=events)
    verdicts = iter([False, True, False, False, True, True, False, False, False, True, True])

    async def scripted(target: FFEndpointDTO) -> bool:
        return next(verdicts)

    checker = FFHealthChecker(pool, scripted, interval_s=1.0, timeout_s=1.0, unhealthy_threshold=2, healthy_threshold=2)
    available = []
    for _ in range(11):
        await checker.check_all()
        available.append(pool.available("a"))
    assert available == [True, True, True, False, False, True, True, False, False, False, True]
    assert [kind for kind, _ in events.seen] == ["unhealthy", "healthy", "unhealthy", "healthy"]


async def test_an_error_in_the_body_reaches_the_caller_unwrapped_and_the_loops_end() -> None:
    pool = make_pool("round_robin", ["a"])
    probed = asyncio.Event()

    async def probe(target: FFEndpointDTO) -> bool:
        probed.set()
        return True

    with pytest.raises(RuntimeError, match="body"):
        async with asyncio.timeout(BOUND):
            async with FFHealthChecker(pool, probe, interval_s=3600.0, timeout_s=1.0):
                await probed.wait()
                raise RuntimeError("body")
    assert health_tasks() == []


async def test_cancelling_the_owner_ends_the_loops() -> None:
    pool = make_pool("round_robin", ["a"])
    inside = asyncio.Event()

    async def owner() -> None:
        async with FFHealthChecker(pool, always_healthy, interval_s=3600.0, timeout_s=1.0):
            inside.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(owner())
    async with asyncio.timeout(BOUND):
        await inside.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert health_tasks() == []
