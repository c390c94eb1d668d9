"""UDP: StatsD/DogStatsD lines into the metrics manager (off unless enabled; loopback by default).

One datagram holds one or more lines ``name:value|kind[|@rate][|#tag:v,tag2:v2]``, kinds ``c``
(counter), ``g`` (gauge) and ``ms`` (timing). A ``seq:N`` tag numbers a sender's datagrams: the
server keeps the highest ``seq`` seen per sender (address and port, plus the ``sender`` tag when
given) and counts the numbers it never saw as lost, so loss on the wire is measured, not
guessed. ``seq`` and ``sender`` are not stored as metric tags. Malformed lines are counted and
dropped (UDP has no one to answer). A flood is bounded: while 1,000 datagrams are still being
recorded, new ones are dropped and counted (``dropped``) instead of queued without limit. The
counts are in ``GET /v1/info`` (``udp``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from ff_managers.ff_metrics_collection_manager import FFMetricsCollectionManager
from ff_utils.ff_errors import FFError
from ff_utils.ff_logging import get_logger

__all__ = ["FFStatsdListener", "FFStatsdStats", "parse_statsd_line"]

_log = get_logger("service.udp")
_KINDS = {"c": "counter", "g": "gauge", "ms": "timing"}
_MAX_SENDERS = 10_000
_MAX_PENDING = 1_000  # datagrams being recorded at once; past it a flood is dropped (and counted), not queued


@dataclass(slots=True)
class FFStatsdStats:
    received: int = 0
    recorded: int = 0
    bad: int = 0
    lost: int = 0
    dropped: int = 0
    highest_seq: dict[str, int] = field(default_factory=dict)

    def snapshot(self) -> dict[str, int]:
        return {"received": self.received, "recorded": self.recorded, "bad": self.bad, "lost": self.lost,
                "dropped": self.dropped, "senders": len(self.highest_seq)}  # fmt: skip

    def saw(self, sender: str, seq: int) -> None:
        """Count the gap before ``seq`` as lost; a late (reordered) datagram cannot be told from a
        duplicate here, so it is not subtracted back."""
        last = self.highest_seq.get(sender)
        if last is None:
            if len(self.highest_seq) >= _MAX_SENDERS:
                self.highest_seq.pop(next(iter(self.highest_seq)))
            self.lost += max(0, seq - 1)
        elif seq > last + 1:
            self.lost += seq - last - 1
        if last is None or seq > last:
            self.highest_seq[sender] = seq


def parse_statsd_line(line: str) -> tuple[str, float, str, dict[str, str]]:
    """``(name, value, kind, tags)``; ValueError for anything that is not a StatsD line."""
    name, _, rest = line.partition(":")
    parts = rest.split("|")
    if not name or len(parts) < 2:
        raise ValueError(f"not a StatsD line: {line[:80]!r}")
    kind = _KINDS.get(parts[1])
    if kind is None:
        raise ValueError(f"unsupported StatsD kind {parts[1]!r} (c, g, ms)")
    tags: dict[str, str] = {}
    for part in parts[2:]:
        if part.startswith("#"):
            for tag in filter(None, part[1:].split(",")):
                key, _, value = tag.partition(":")
                tags[key] = value
        elif not part.startswith("@"):
            raise ValueError(f"unknown StatsD field {part[:20]!r}")
    return name, float(parts[0]), kind, tags


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, listener: FFStatsdListener) -> None:
        self._listener = listener

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self._listener.received(data, addr)


class FFStatsdListener:
    def __init__(self, metrics: FFMetricsCollectionManager) -> None:
        self._metrics = metrics
        self.stats = FFStatsdStats()
        self._transport: asyncio.DatagramTransport | None = None
        self._pending: set[asyncio.Task[None]] = set()

    async def start(self, host: str, port: int) -> int:
        loop = asyncio.get_running_loop()
        transport, _protocol = await loop.create_datagram_endpoint(lambda: _Protocol(self), local_addr=(host, port))
        self._transport = transport
        return transport.get_extra_info("sockname")[1]

    def received(self, data: bytes, addr: Any) -> None:
        self.stats.received += 1
        if len(self._pending) >= _MAX_PENDING:
            self.stats.dropped += 1  # the disk is behind: memory must not grow with the flood
            return
        samples = []
        for line in data.decode("utf-8", errors="replace").splitlines():
            if not line.strip():
                continue
            try:
                name, value, kind, tags = parse_statsd_line(line.strip())
            except ValueError:
                self.stats.bad += 1
                continue
            seq = tags.pop("seq", None)
            sender = f"{addr[0]}:{addr[1]}/{tags.pop('sender', '')}"
            if seq is not None and seq.isdigit():
                self.stats.saw(sender, int(seq))
            samples.append((name, value, kind, tags))
        if samples:
            task = asyncio.get_running_loop().create_task(self._record(samples))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    async def _record(self, samples: list[tuple[str, float, str, dict[str, str]]]) -> None:
        for name, value, kind, tags in samples:
            try:
                await self._metrics.record_metric(name, value, tags=tags or None, kind=kind)  # type: ignore[arg-type]
                self.stats.recorded += 1
            except FFError as exc:
                self.stats.bad += 1
                _log.debug("StatsD sample refused: %s", exc)

    async def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
