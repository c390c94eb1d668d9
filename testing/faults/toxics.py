"""The faults of the TCP proxy ("toxics", as Toxiproxy calls them): each a small class with one job.

A toxic works on one direction of one connection (a *link*): ``upstream`` is client to server,
``downstream`` server to client. The proxy passes each chunk it reads through the link's toxics
in the order they were added; a toxic either forwards the bytes (maybe later, maybe in pieces) by
awaiting ``forward``, or withholds them. :meth:`FFToxic.attach` runs when a toxic starts to apply
to a link (when it is added, for the connections already open, or when a connection opens) and
may schedule what happens without any data (a reset, a close after a timeout).

Random choices (jitter, slice sizes, toxicity) come from ``link.rng(name)``, a generator seeded
with the proxy's seed, the connection number, the direction and the toxic's name, so a run is
repeatable connection by connection whatever the interleaving. Every application is recorded
through ``link.record``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from ff_utils.ff_errors import FFValidationError

if TYPE_CHECKING:
    from testing.faults.tcp_proxy import FFLink

__all__ = ["FFBandwidth", "FFLatency", "FFResetPeer", "FFSlicer", "FFTimeout", "FFToxic", "Forward"]

Forward = Callable[[bytes], Awaitable[None]]
"""Hands bytes to the next toxic (the last one writes them to the other side)."""


class FFToxic:
    """Base: forwards everything unchanged. Subclasses override :meth:`transmit` and/or :meth:`attach`."""

    kind: ClassVar[str] = "toxic"

    def attach(self, link: FFLink, name: str) -> None:
        """Called when this toxic starts to apply to ``link``."""

    async def transmit(self, data: bytes, received_at: float, link: FFLink, name: str, forward: Forward) -> None:
        await forward(data)


def _positive(value: float, field: str, *, zero: bool = True) -> None:
    if value < 0 or (not zero and value == 0):
        raise FFValidationError(f"{field} must be {'at least 0' if zero else 'more than 0'}, got {value}", field=field, value=value)


@dataclass(frozen=True)
class FFLatency(FFToxic):
    """Delay every chunk by ``latency_ms`` +/- ``jitter_ms`` (uniform), counted from when the proxy
    read it, so chunks queued behind a delayed one are not delayed twice (Toxiproxy's semantics)."""

    latency_ms: float
    jitter_ms: float = 0.0
    kind: ClassVar[str] = "latency"

    def __post_init__(self) -> None:
        _positive(self.latency_ms, "latency_ms")
        _positive(self.jitter_ms, "jitter_ms")

    async def transmit(self, data: bytes, received_at: float, link: FFLink, name: str, forward: Forward) -> None:
        jitter = link.rng(name).uniform(-self.jitter_ms, self.jitter_ms) if self.jitter_ms else 0.0
        delay_ms = max(0.0, self.latency_ms + jitter)
        link.record(self.kind, name, delay_ms=round(delay_ms, 3), bytes=len(data))
        wait = received_at + delay_ms / 1000 - asyncio.get_running_loop().time()
        if wait > 0:
            await asyncio.sleep(wait)
        await forward(data)


@dataclass(frozen=True)
class FFBandwidth(FFToxic):
    """Limit the link to ``rate_bytes_per_s``: bytes go out in pieces of a tenth of a second's worth,
    each when the budget allows."""

    rate_bytes_per_s: int
    kind: ClassVar[str] = "bandwidth"

    def __post_init__(self) -> None:
        _positive(self.rate_bytes_per_s, "rate_bytes_per_s", zero=False)

    async def transmit(self, data: bytes, received_at: float, link: FFLink, name: str, forward: Forward) -> None:
        loop = asyncio.get_running_loop()
        piece = max(1, self.rate_bytes_per_s // 10)
        waited = 0.0
        for start in range(0, len(data), piece):
            chunk = data[start : start + piece]
            ready_at = link.state.get(name, 0.0)
            if (wait := ready_at - loop.time()) > 0:
                waited += wait
                await asyncio.sleep(wait)
            link.state[name] = max(loop.time(), ready_at) + len(chunk) / self.rate_bytes_per_s
            await forward(chunk)
        link.record(self.kind, name, bytes=len(data), waited_ms=round(waited * 1000, 3))


@dataclass(frozen=True)
class FFTimeout(FFToxic):
    """A hang: no byte gets through while the toxic applies. The bytes are held, not dropped (the
    proxy then stops reading, so the sender's buffers fill as on a black-holed route), and go
    through in order once the toxic is removed, as TCP's retransmissions would deliver them: the
    stream never has a hole. With ``timeout_ms`` > 0 the connection is closed that long after the
    toxic started to apply to it, and what was held is lost with it (0: hang until removed)."""

    timeout_ms: float = 0.0
    kind: ClassVar[str] = "timeout"

    def __post_init__(self) -> None:
        _positive(self.timeout_ms, "timeout_ms")

    def attach(self, link: FFLink, name: str) -> None:
        link.record(self.kind, name, event="hang", timeout_ms=self.timeout_ms)
        if self.timeout_ms > 0:
            link.schedule(name, self.timeout_ms / 1000, lambda: (link.record(self.kind, name, event="close"), link.connection.close()))

    async def transmit(self, data: bytes, received_at: float, link: FFLink, name: str, forward: Forward) -> None:
        link.record(self.kind, name, event="held", bytes=len(data))
        await link.until_detached(name)
        link.record(self.kind, name, event="released", bytes=len(data))
        await forward(data)


@dataclass(frozen=True)
class FFResetPeer(FFToxic):
    """Reset the connection (TCP RST, by SO_LINGER 0 and close) ``timeout_ms`` after the toxic
    starts to apply to it; downstream resets the client's side, upstream the server's, and the
    other side is closed at once too."""

    timeout_ms: float = 0.0
    kind: ClassVar[str] = "reset_peer"

    def __post_init__(self) -> None:
        _positive(self.timeout_ms, "timeout_ms")

    def attach(self, link: FFLink, name: str) -> None:
        def reset() -> None:
            link.record(self.kind, name)
            link.connection.reset(link.direction)

        link.schedule(name, self.timeout_ms / 1000, reset)


@dataclass(frozen=True)
class FFSlicer(FFToxic):
    """Cut every chunk into pieces of ``average_size`` +/- ``size_variation`` bytes, sent
    ``delay_us`` apart: the reader on the other side sees the same bytes in more, smaller reads."""

    average_size: int
    size_variation: int = 0
    delay_us: int = 0
    kind: ClassVar[str] = "slicer"

    def __post_init__(self) -> None:
        _positive(self.average_size, "average_size", zero=False)
        _positive(self.size_variation, "size_variation")
        _positive(self.delay_us, "delay_us")
        if self.size_variation >= self.average_size:
            raise FFValidationError("size_variation must be less than average_size", field="size_variation", value=self.size_variation)

    async def transmit(self, data: bytes, received_at: float, link: FFLink, name: str, forward: Forward) -> None:
        rng = link.rng(name)
        pieces = 0
        start = 0
        while start < len(data):
            size = self.average_size + (rng.randint(-self.size_variation, self.size_variation) if self.size_variation else 0)
            await forward(data[start : start + size])
            start += size
            pieces += 1
            if self.delay_us and start < len(data):
                await asyncio.sleep(self.delay_us / 1_000_000)
        link.record(self.kind, name, bytes=len(data), pieces=pieces)
