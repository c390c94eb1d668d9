"""FFFaultProxy against a real echo server on 127.0.0.1: each toxic has its effect, and only while installed.

Time is measured only as lower bounds (a toxic that sleeps guarantees them; no upper bound that a
loaded machine could break), always against the bare path in the same test.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from ff_utils.ff_errors import FFConflictError, FFNotFoundError, FFValidationError
from testing.faults import FFFaultRecorder
from testing.faults.tcp_proxy import FFFaultProxy
from testing.faults.toxics import FFBandwidth, FFLatency, FFResetPeer, FFSlicer, FFTimeout

pytestmark = pytest.mark.timeout(60)


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


@pytest.fixture
async def echo_port() -> AsyncIterator[int]:
    server = await asyncio.start_server(_echo, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


@pytest.fixture
async def proxy(echo_port: int) -> AsyncIterator[FFFaultProxy]:
    async with FFFaultProxy("127.0.0.1", echo_port, seed=42) as running:
        yield running


async def _round_trip(port: int, payload: bytes = b"x" * 64, times: int = 3) -> float:
    """The fastest of ``times`` echo round trips on one connection, in seconds."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    best = float("inf")
    try:
        for _ in range(times):
            started = time.perf_counter()
            writer.write(payload)
            await writer.drain()
            await reader.readexactly(len(payload))
            best = min(best, time.perf_counter() - started)
    finally:
        writer.close()
    return best


async def test_clean_proxy_passes_bytes_both_ways_unchanged(proxy: FFFaultProxy) -> None:
    payload = bytes(range(256)) * 1000
    reader, writer = await asyncio.open_connection(proxy.host, proxy.port)
    writer.write(payload)
    await writer.drain()
    assert await reader.readexactly(len(payload)) == payload
    writer.write_eof()  # a half-close reaches the server, whose close comes back
    assert await asyncio.wait_for(reader.read(), 10) == b""
    writer.close()
    assert proxy.accepted == 1 and proxy.recorder.events == []


async def test_latency_adds_its_delay_over_the_bare_path(proxy: FFFaultProxy, echo_port: int) -> None:
    bare = await _round_trip(echo_port)
    name = proxy.add_toxic(FFLatency(80), direction="downstream")
    slowed = await _round_trip(proxy.port)
    assert slowed - bare >= 0.075
    proxy.add_toxic(FFLatency(40), direction="upstream")  # both directions add up
    assert await _round_trip(proxy.port) - bare >= 0.115
    events = proxy.recorder.of("latency")
    assert events and {e.direction for e in events} == {"upstream", "downstream"}
    assert all(e.source == "tcp-proxy" and e.connection_id is not None for e in events)
    proxy.clear_toxics()
    with pytest.raises(FFNotFoundError):
        proxy.remove_toxic(name)
    assert proxy.toxics == {}


async def test_jitter_is_bounded_and_the_same_for_the_same_seed(echo_port: int) -> None:
    delays = []
    for _ in range(2):
        async with FFFaultProxy("127.0.0.1", echo_port, seed=7) as proxy:
            proxy.add_toxic(FFLatency(20, jitter_ms=15))
            await _round_trip(proxy.port, times=5)
            delays.append([e.detail["delay_ms"] for e in proxy.recorder.of("latency")])
    assert delays[0] == delays[1] and len(delays[0]) == 5
    assert all(5 <= d <= 35 for d in delays[0]) and len(set(delays[0])) > 1
    async with FFFaultProxy("127.0.0.1", echo_port, seed=8) as other:
        other.add_toxic(FFLatency(20, jitter_ms=15))
        await _round_trip(other.port, times=5)
        assert [e.detail["delay_ms"] for e in other.recorder.of("latency")] != delays[0]


async def test_toxic_added_to_an_open_connection_and_removed_again(proxy: FFFaultProxy, echo_port: int) -> None:
    reader, writer = await asyncio.open_connection(proxy.host, proxy.port)
    try:
        with proxy.toxic(FFLatency(60)):
            started = time.perf_counter()
            writer.write(b"ping")
            await writer.drain()
            await reader.readexactly(4)
            assert time.perf_counter() - started >= 0.055
        assert proxy.toxics == {}
        writer.write(b"pong")
        await writer.drain()
        assert await reader.readexactly(4) == b"pong"
        assert len(proxy.recorder.of("latency")) == 1  # the second chunk met no toxic
    finally:
        writer.close()


async def test_bandwidth_limits_the_rate(proxy: FFFaultProxy, echo_port: int) -> None:
    payload = b"b" * 40_000
    bare = await _round_trip(echo_port, payload, times=1)
    proxy.add_toxic(FFBandwidth(100_000), direction="downstream")
    limited = await _round_trip(proxy.port, payload, times=1)
    assert limited - bare >= 0.3  # 40 kB at 100 kB/s: at least 0.4 s minus the first piece's tenth
    assert sum(e.detail["bytes"] for e in proxy.recorder.of("bandwidth")) == len(payload)


async def test_timeout_holds_bytes_until_removed_and_the_stream_has_no_hole(proxy: FFFaultProxy) -> None:
    reader, writer = await asyncio.open_connection(proxy.host, proxy.port)
    try:
        name = proxy.add_toxic(FFTimeout(0), direction="upstream")  # hang until removed
        writer.write(b"held")
        await writer.drain()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(reader.readexactly(4), 0.3)
        proxy.remove_toxic(name)
        writer.write(b"next")
        await writer.drain()
        assert await asyncio.wait_for(reader.readexactly(8), 10) == b"heldnext"  # in order, nothing lost
    finally:
        writer.close()
    events = [e.detail["event"] for e in proxy.recorder.of("timeout")]
    assert events == ["hang", "held", "released"]


async def test_timeout_with_a_bound_closes_the_connection_after_it(proxy: FFFaultProxy) -> None:
    reader, writer = await asyncio.open_connection(proxy.host, proxy.port)
    proxy.add_toxic(FFTimeout(150), direction="downstream")
    writer.write(b"hello")
    await writer.drain()
    started = time.perf_counter()
    assert await asyncio.wait_for(reader.read(100), 10) == b""  # closed, nothing delivered
    assert time.perf_counter() - started >= 0.1
    writer.close()
    events = [e.detail["event"] for e in proxy.recorder.of("timeout")]
    assert events[0] == "hang" and "held" in events and events[-1] == "close" and "released" not in events


@pytest.mark.parametrize("direction", ["downstream", "upstream"])
async def test_reset_peer_is_seen_as_connection_reset(proxy: FFFaultProxy, direction: str) -> None:
    reader, writer = await asyncio.open_connection(proxy.host, proxy.port)
    try:
        writer.write(b"warm")
        await writer.drain()
        assert await reader.readexactly(4) == b"warm"
        proxy.add_toxic(FFResetPeer(timeout_ms=50), direction=direction)  # type: ignore[arg-type]
        with pytest.raises(ConnectionResetError) if direction == "downstream" else pytest.raises((ConnectionResetError, asyncio.IncompleteReadError)):
            await asyncio.wait_for(reader.readexactly(1), 10)
    finally:
        writer.close()
    assert len(proxy.recorder.of("reset_peer")) == 1


async def test_reset_peer_on_new_connections_and_none_after_removal(proxy: FFFaultProxy) -> None:
    with proxy.toxic(FFResetPeer()):
        reader, writer = await asyncio.open_connection(proxy.host, proxy.port)
        with pytest.raises(ConnectionResetError):
            writer.write(b"x" * 10)
            await writer.drain()
            await asyncio.wait_for(reader.readexactly(10), 10)
        writer.close()
    assert await _round_trip(proxy.port) > 0  # healthy again


async def test_slicer_delivers_identical_bytes_in_more_reads(proxy: FFFaultProxy, echo_port: int) -> None:
    payload = bytes(range(256)) * 40

    async def reads(port: int) -> tuple[bytes, int]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(payload)
        await writer.drain()
        got, count = b"", 0
        while len(got) < len(payload):
            got += await asyncio.wait_for(reader.read(65536), 10)
            count += 1
        writer.close()
        return got, count

    bare_bytes, bare_reads = await reads(echo_port)
    proxy.add_toxic(FFSlicer(average_size=64, size_variation=16, delay_us=500), direction="downstream")
    sliced_bytes, sliced_reads = await reads(proxy.port)
    assert bare_bytes == sliced_bytes == payload
    assert sliced_reads > bare_reads and sliced_reads >= 10
    assert sum(e.detail["pieces"] for e in proxy.recorder.of("slicer")) >= len(payload) // 80


async def test_toxicity_applies_to_a_seeded_share_of_connections(echo_port: int) -> None:
    chosen = []
    for _ in range(2):
        async with FFFaultProxy("127.0.0.1", echo_port, seed=3) as proxy:
            proxy.add_toxic(FFLatency(1), toxicity=0.5)
            for _ in range(20):
                await _round_trip(proxy.port, times=1)
            chosen.append(sorted({e.connection_id for e in proxy.recorder.of("latency")}))
    assert chosen[0] == chosen[1] and 3 <= len(chosen[0]) <= 17


async def test_disable_cuts_open_and_new_connections_until_enabled(proxy: FFFaultProxy) -> None:
    reader, writer = await asyncio.open_connection(proxy.host, proxy.port)
    proxy.disable()
    with pytest.raises((ConnectionResetError, asyncio.IncompleteReadError)):
        await asyncio.wait_for(reader.readexactly(1), 10)
    writer.close()
    with pytest.raises((ConnectionResetError, asyncio.IncompleteReadError)):
        await _round_trip(proxy.port, times=1)
    proxy.enable()
    assert await _round_trip(proxy.port) > 0
    assert [e.fault for e in proxy.recorder.events] == ["down", "up"]


async def test_a_dead_upstream_is_a_reset_and_recorded() -> None:
    recorder = FFFaultRecorder()
    server = await asyncio.start_server(_echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    async with FFFaultProxy("127.0.0.1", port, seed=1, recorder=recorder) as proxy:
        with pytest.raises((ConnectionResetError, asyncio.IncompleteReadError)):
            await _round_trip(proxy.port, times=1)
    assert [e.fault for e in recorder.events] == ["upstream_refused"]


async def test_bad_toxics_and_names_are_refused(proxy: FFFaultProxy) -> None:
    with pytest.raises(FFValidationError):
        FFLatency(-1)
    with pytest.raises(FFValidationError):
        FFSlicer(average_size=4, size_variation=4)
    with pytest.raises(FFValidationError):
        FFBandwidth(0)
    with pytest.raises(FFValidationError):
        proxy.add_toxic(FFLatency(1), direction="sideways")  # type: ignore[arg-type]
    with pytest.raises(FFValidationError):
        proxy.add_toxic(FFLatency(1), toxicity=1.5)
    proxy.add_toxic(FFLatency(1), name="slow")
    with pytest.raises(FFConflictError):
        proxy.add_toxic(FFLatency(2), name="slow")


async def test_stop_ends_connections_stuck_in_a_toxic() -> None:
    server = await asyncio.start_server(_echo, "127.0.0.1", 0)
    proxy = FFFaultProxy("127.0.0.1", server.sockets[0].getsockname()[1], seed=1)
    await proxy.start()
    proxy.add_toxic(FFLatency(60_000))
    reader, writer = await asyncio.open_connection(proxy.host, proxy.port)
    writer.write(b"never")
    await writer.drain()
    await asyncio.sleep(0.05)
    started = time.perf_counter()
    await proxy.stop()
    assert time.perf_counter() - started < 30 and proxy.connections == 0
    assert await asyncio.wait_for(reader.read(), 10) == b""
    writer.close()
    server.close()
