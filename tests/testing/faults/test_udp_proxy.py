"""FFUdpFaultProxy against a real UDP echo on 127.0.0.1: drop rate near the configured one, the
same fate for the same seed, duplicates and reordering visible to the receiver, replies routed back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from ff_utils.ff_errors import FFConflictError, FFNotFoundError, FFValidationError
from testing.faults import FFDrop, FFDuplicate, FFFaultRecorder, FFReorder, FFUdpFaultProxy

pytestmark = pytest.mark.timeout(60)
COUNT = 1000


class _Sink(asyncio.DatagramProtocol):
    """Records what arrives and answers ``ack:<datagram>`` to the sender."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.received.append(data)
        assert self.transport is not None
        self.transport.sendto(b"ack:" + data, addr)


class _Client(_Sink):
    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.received.append(data)


@pytest.fixture
async def sink() -> AsyncIterator[tuple[_Sink, int]]:
    transport, protocol = await asyncio.get_running_loop().create_datagram_endpoint(_Sink, local_addr=("127.0.0.1", 0))
    try:
        yield protocol, transport.get_extra_info("sockname")[1]
    finally:
        transport.close()


async def _send(port: int, count: int = COUNT) -> _Client:
    """Send ``m0..m<count-1>`` from one client socket, paced so no socket buffer overflows."""
    transport, client = await asyncio.get_running_loop().create_datagram_endpoint(_Client, remote_addr=("127.0.0.1", port))
    for n in range(count):
        transport.sendto(f"m{n}".encode())
        if n % 20 == 19:
            await asyncio.sleep(0.002)
    await asyncio.sleep(0.3)  # the last replies and any held datagram (hold_ms 50)
    transport.close()
    return client


async def _run(port: int, seed: int, *faults: tuple[object, str]) -> tuple[list[bytes], FFUdpFaultProxy]:
    """Send COUNT datagrams through a proxy with ``faults``; (the replies the client got, the proxy)."""
    async with FFUdpFaultProxy("127.0.0.1", port, seed=seed) as proxy:
        for fault, direction in faults:
            proxy.add_fault(fault, direction=direction)  # type: ignore[arg-type]
        client = await _send(proxy.port)
    return client.received, proxy


async def test_clean_relay_delivers_everything_and_routes_replies(sink: tuple[_Sink, int]) -> None:
    protocol, port = sink
    replies, proxy = await _run(port, 1)
    assert len(protocol.received) == COUNT and len(replies) == COUNT
    assert replies == [b"ack:m%d" % n for n in range(COUNT)]
    assert proxy.stats["upstream_sent"] == proxy.stats["downstream_sent"] == COUNT


async def test_drop_rate_is_near_the_configured_one_and_the_same_for_the_same_seed(sink: tuple[_Sink, int]) -> None:
    protocol, port = sink
    arrived = []
    for seed in (11, 11, 12):
        protocol.received.clear()
        _, proxy = await _run(port, seed, (FFDrop(0.2), "upstream"))
        arrived.append(list(protocol.received))
        assert proxy.stats["drop"] == COUNT - len(protocol.received)
        assert len(proxy.recorder.of("drop")) == proxy.stats["drop"]
    rate = 1 - len(arrived[0]) / COUNT
    assert 0.15 <= rate <= 0.25  # binomial(1000, 0.2): sd 1.3 %, so this holds for any seed but a 3.8-sigma one
    assert arrived[0] == arrived[1]  # deterministic for the seed
    assert arrived[0] != arrived[2]


async def test_downstream_drop_loses_replies_only(sink: tuple[_Sink, int]) -> None:
    protocol, port = sink
    replies, proxy = await _run(port, 5, (FFDrop(0.5), "downstream"))
    assert len(protocol.received) == COUNT
    assert len(replies) == COUNT - proxy.stats["drop"] and 0.4 * COUNT <= len(replies) <= 0.6 * COUNT


async def test_duplicate_sends_some_twice(sink: tuple[_Sink, int]) -> None:
    protocol, port = sink
    _, proxy = await _run(port, 9, (FFDuplicate(0.1), "upstream"))
    extra = len(protocol.received) - COUNT
    assert extra == proxy.stats["duplicate"] and 50 <= extra <= 150
    assert set(protocol.received) == {b"m%d" % n for n in range(COUNT)}


async def test_reorder_swaps_without_losing_any(sink: tuple[_Sink, int]) -> None:
    protocol, port = sink
    _, proxy = await _run(port, 4, (FFReorder(0.1, hold_ms=50), "upstream"))
    order = [int(d[1:]) for d in protocol.received]
    assert sorted(order) == list(range(COUNT))  # nothing lost or doubled
    inversions = sum(1 for a, b in zip(order, order[1:], strict=False) if a > b)
    assert inversions >= proxy.stats["reorder"] * 0.8 and proxy.stats["reorder"] >= 50


async def test_faults_are_recorded_on_a_shared_recorder_and_names_checked(sink: tuple[_Sink, int]) -> None:
    _protocol, port = sink
    recorder = FFFaultRecorder()
    async with FFUdpFaultProxy("127.0.0.1", port, seed=1, recorder=recorder, name="statsd") as proxy:
        name = proxy.add_fault(FFDrop(1.0), name="all")
        with pytest.raises(FFConflictError):
            proxy.add_fault(FFDrop(0.5), name="all")
        with pytest.raises(FFValidationError):
            proxy.add_fault(FFDrop(0.5), direction="sideways")  # type: ignore[arg-type]
        await _send(proxy.port, 10)
        proxy.remove_fault(name)
        with pytest.raises(FFNotFoundError):
            proxy.remove_fault(name)
        with proxy.fault(FFDuplicate(1.0)):
            client = await _send(proxy.port, 10)
    assert len(client.received) == 20
    assert [e.fault for e in recorder.events] == ["drop"] * 10 + ["duplicate"] * 10
    assert {e.source for e in recorder.events} == {"statsd"}
    with pytest.raises(FFValidationError):
        FFDrop(1.5)
