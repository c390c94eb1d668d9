"""FFUdpFaultProxy: a UDP relay that drops, duplicates and reorders datagrams, seeded and recorded.

Each client address gets a *flow*: a socket of its own towards the upstream server, so replies
find their way back to the right client (as through a NAT). Datagrams going ``upstream`` (client
to server) and ``downstream`` (server to client) pass through the faults of their direction in
the order they were added:

* :class:`FFDrop` loses a datagram with a probability;
* :class:`FFDuplicate` sends it twice with a probability;
* :class:`FFReorder` holds it back with a probability, and sends it after the next datagram of
  the same flow and direction (or after ``hold_ms`` if none comes, so reordering never loses one).

Each fault draws from its own generator, seeded with the proxy's seed, the direction and the
fault's name, once per datagram it sees: the same datagrams in the same order meet the same fate
in every run. Every application is recorded in ``recorder``; :attr:`FFUdpFaultProxy.stats`
counts what came in and went out.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import ClassVar, Literal

from ff_utils.ff_errors import FFConflictError, FFNotFoundError, FFValidationError
from testing.faults._record import FFFaultRecorder

__all__ = ["FFDrop", "FFDuplicate", "FFReorder", "FFUdpFault", "FFUdpFaultProxy"]

Direction = Literal["upstream", "downstream"]
Address = tuple[str, int]


@dataclass(frozen=True)
class FFUdpFault:
    """Base of the datagram faults: ``probability`` that it applies to a given datagram."""

    probability: float
    kind: ClassVar[str] = "udp_fault"

    def __post_init__(self) -> None:
        if not 0.0 <= self.probability <= 1.0:
            raise FFValidationError(f"probability must be 0..1, got {self.probability}", field="probability", value=self.probability)


@dataclass(frozen=True)
class FFDrop(FFUdpFault):
    kind: ClassVar[str] = "drop"


@dataclass(frozen=True)
class FFDuplicate(FFUdpFault):
    kind: ClassVar[str] = "duplicate"


@dataclass(frozen=True)
class FFReorder(FFUdpFault):
    hold_ms: float = 50.0
    """Longest a held datagram waits for a successor before it is sent anyway."""
    kind: ClassVar[str] = "reorder"


@dataclass(frozen=True, slots=True)
class _Installed:
    name: str
    fault: FFUdpFault
    direction: Direction
    rng: random.Random


class _Relay(asyncio.DatagramProtocol):
    """A datagram endpoint that hands what it receives to a callback."""

    def __init__(self, received) -> None:  # noqa: ANN001 - (data, address) -> None
        self.received = received
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: Address) -> None:
        self.received(data, addr)

    def error_received(self, exc: Exception) -> None:  # ICMP port unreachable from a dead server: the datagram is lost, as UDP goes
        pass


class _Flow:
    """One client address and its own socket towards the upstream server."""

    def __init__(self, flow_id: int, client: Address) -> None:
        self.id = flow_id
        self.client = client
        self.upstream: _Relay | None = None
        self.held: dict[Direction, tuple[bytes, asyncio.TimerHandle] | None] = {"upstream": None, "downstream": None}
        self.pending: list[bytes] = []
        """Datagrams that arrived while its upstream socket was being opened."""


class FFUdpFaultProxy:
    """``async with FFUdpFaultProxy("127.0.0.1", statsd_port, seed=7) as proxy:`` then send to
    ``proxy.port``; ``proxy.add_fault(FFDrop(0.1))``. Raises FFValidationError for a bad direction,
    FFConflictError for a name in use, FFNotFoundError for an unknown one."""

    def __init__(
        self,
        upstream_host: str,
        upstream_port: int,
        *,
        seed: int,
        listen_host: str = "127.0.0.1",
        listen_port: int = 0,
        name: str = "udp-proxy",
        recorder: FFFaultRecorder | None = None,
    ) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.seed = seed
        self.name = name
        self.recorder = recorder if recorder is not None else FFFaultRecorder()
        self._listen = (listen_host, listen_port)
        self._front: _Relay | None = None
        self._flows: dict[Address, _Flow] = {}
        self._ids = itertools.count(1)
        self._names = itertools.count(1)
        self._installed: dict[str, _Installed] = {}
        self.stats: Counter[str] = Counter()
        """``<direction>_received``, ``<direction>_sent``, and one count per fault kind applied."""

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> Address:
        loop = asyncio.get_running_loop()
        _transport, self._front = await loop.create_datagram_endpoint(lambda: _Relay(self._from_client), local_addr=self._listen)
        return self.address

    @property
    def address(self) -> Address:
        if self._front is None or self._front.transport is None:
            raise FFConflictError("the proxy is not started")
        host, port = self._front.transport.get_extra_info("sockname")[:2]
        return host, port

    @property
    def port(self) -> int:
        return self.address[1]

    async def stop(self) -> None:
        """Send nothing more: held datagrams are discarded, every socket closed."""
        for flow in self._flows.values():
            for held in flow.held.values():
                if held is not None:
                    held[1].cancel()
            if flow.upstream is not None and flow.upstream.transport is not None:
                flow.upstream.transport.close()
        self._flows.clear()
        if self._front is not None and self._front.transport is not None:
            self._front.transport.close()
        self._front = None

    async def __aenter__(self) -> FFUdpFaultProxy:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.stop()

    # ------------------------------------------------------------------ faults

    def add_fault(self, fault: FFUdpFault, *, direction: Direction = "upstream", name: str | None = None) -> str:
        if direction not in ("upstream", "downstream"):
            raise FFValidationError(f"direction must be upstream or downstream, got {direction!r}", field="direction", value=direction)
        name = name or f"{fault.kind}_{direction}_{next(self._names)}"
        if name in self._installed:
            raise FFConflictError(f"a fault named {name!r} is already installed")
        self._installed[name] = _Installed(name, fault, direction, random.Random(f"{self.seed}:{direction}:{name}"))
        return name

    def remove_fault(self, name: str) -> None:
        if self._installed.pop(name, None) is None:
            raise FFNotFoundError(f"no fault named {name!r}", kind="fault", key=name)

    def clear_faults(self) -> None:
        self._installed.clear()

    @contextlib.contextmanager
    def fault(self, fault: FFUdpFault, *, direction: Direction = "upstream") -> Iterator[str]:
        """The fault for the block only."""
        name = self.add_fault(fault, direction=direction)
        try:
            yield name
        finally:
            self._installed.pop(name, None)

    # ------------------------------------------------------------------ datagrams

    def _from_client(self, data: bytes, client: Address) -> None:
        flow = self._flows.get(client)
        if flow is None:
            flow = self._flows[client] = _Flow(next(self._ids), client)
            asyncio.get_running_loop().create_task(self._open_upstream(flow, data))
            return
        if flow.upstream is None:  # still opening: it sends what arrives meanwhile once open
            flow.pending.append(data)
            return
        self._process(flow, "upstream", data)

    async def _open_upstream(self, flow: _Flow, first: bytes) -> None:
        flow.pending.insert(0, first)
        loop = asyncio.get_running_loop()
        _transport, flow.upstream = await loop.create_datagram_endpoint(lambda: _Relay(lambda d, _a: self._process(flow, "downstream", d)),
                                                                       remote_addr=self.upstream)  # fmt: skip
        pending, flow.pending = flow.pending, []
        for data in pending:
            self._process(flow, "upstream", data)

    def _process(self, flow: _Flow, direction: Direction, data: bytes) -> None:
        self.stats[f"{direction}_received"] += 1
        copies = [data]
        for installed in [i for i in self._installed.values() if i.direction == direction]:
            if installed.rng.random() >= installed.fault.probability:
                continue
            kind = installed.fault.kind
            self.stats[kind] += 1
            self.recorder.record(self.name, kind, connection_id=flow.id, direction=direction, fault_name=installed.name, bytes=len(data))
            if kind == "drop":
                return
            if kind == "duplicate":
                copies = copies + copies
            elif kind == "reorder":
                assert isinstance(installed.fault, FFReorder)
                self._hold(flow, direction, copies, installed.fault)
                return
        for copy in copies:
            self._send(flow, direction, copy)

    def _hold(self, flow: _Flow, direction: Direction, copies: list[bytes], fault: FFReorder) -> None:
        self._release(flow, direction)  # one held at a time: an earlier one goes now
        data = copies[0]
        timer = asyncio.get_running_loop().call_later(fault.hold_ms / 1000, self._release, flow, direction)
        flow.held[direction] = (data, timer)
        for extra in copies[1:]:
            self._send(flow, direction, extra, release=False)

    def _release(self, flow: _Flow, direction: Direction) -> None:
        held = flow.held[direction]
        if held is not None:
            flow.held[direction] = None
            held[1].cancel()
            self._transmit(flow, direction, held[0])

    def _send(self, flow: _Flow, direction: Direction, data: bytes, *, release: bool = True) -> None:
        self._transmit(flow, direction, data)
        if release:
            self._release(flow, direction)  # the held one goes after its successor: reordered

    def _transmit(self, flow: _Flow, direction: Direction, data: bytes) -> None:
        self.stats[f"{direction}_sent"] += 1
        if direction == "upstream":
            if flow.upstream is not None and flow.upstream.transport is not None:
                flow.upstream.transport.sendto(data)
        elif self._front is not None and self._front.transport is not None:
            self._front.transport.sendto(data, flow.client)
