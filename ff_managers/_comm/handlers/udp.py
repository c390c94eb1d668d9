"""UDP: StatsD/DogStatsD datagrams for ``metrics.record_metric``, fire and forget.

Only a ``notification`` or ``event`` message whose operation is ``metrics.record_metric`` goes
over UDP (a request expects an answer, which a datagram never brings: it gets an error reply).
Its payload ``{name, value, kind?, tags?}`` becomes one line
``name:value|ms|#tag:v,...,seq:N,sender:<source>``; ``seq`` counts this handler's datagrams
from 1, so the server can count the ones lost on the way. The reply is a local
``response`` with the ``seq`` sent (``delivery: fire-and-forget``): it says the datagram left,
not that it arrived.

The health check can only tell a closed port: a datagram to a port nobody listens on comes back
as ICMP "port unreachable", which the connected socket reports as ECONNREFUSED on the next
operation. An empty datagram (no StatsD line, nothing recorded) is sent and the socket is
read for 50 ms; a frozen process still looks healthy here (UDP has no answer to wait
for), which the doc of the comm manager says.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import socket
from typing import Any

from ff_class_configs.ff_comm_dtos import FFCrossSystemMessageDTO
from ff_managers._comm.errors import FFTransportError, FFUnsupportedOperationError
from ff_managers._comm.handlers.base import FFProtocolHandler
from ff_managers._comm.message import ff_error_reply, ff_problem_of, ff_response_reply

__all__ = ["FFUdpHandler", "ff_statsd_line"]

_KINDS = {"timing": "ms", "ms": "ms", "counter": "c", "c": "c", "gauge": "g", "g": "g"}
_SAFE = re.compile(r"[^A-Za-z0-9_.\-]")
_PROBE_S = 0.05
_MAX_DATAGRAM = 8192


def ff_statsd_line(payload: dict[str, Any], *, seq: int, sender: str) -> str:
    """The StatsD line for one metric sample (FFValidationError-like FFUnsupportedOperationError on bad input)."""
    name, value = payload.get("name"), payload.get("value")
    kind = _KINDS.get(str(payload.get("kind", "timing")))
    if not isinstance(name, str) or not name or _SAFE.search(name) or kind is None:
        raise FFUnsupportedOperationError("a StatsD sample needs a plain name and a kind of timing, counter or gauge", field="payload")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FFUnsupportedOperationError("a StatsD sample needs a numeric value", field="value")
    tags = [f"{_SAFE.sub('_', str(k))}:{_SAFE.sub('_', str(v))}" for k, v in (payload.get("tags") or {}).items()]
    tags += [f"seq:{seq}", f"sender:{_SAFE.sub('_', sender)}"]
    return f"{name}:{value}|{kind}|#{','.join(tags)}"


class FFUdpHandler(FFProtocolHandler):
    protocol = "udp"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._socket: socket.socket | None = None
        self._seq = itertools.count(1)
        self.sent = 0

    async def connect(self) -> None:
        if self._socket is None:
            sock = socket.socket(socket.AF_INET6 if ":" in self.endpoint.host else socket.AF_INET, socket.SOCK_DGRAM)
            sock.setblocking(False)
            try:
                sock.connect((self.endpoint.host, self.endpoint.port))
            except OSError as exc:
                sock.close()
                raise FFTransportError(f"{self.endpoint.system_id}: {exc!r}", sent=False) from exc
            self._socket = sock

    async def send(self, message: FFCrossSystemMessageDTO, *, timeout_s: float) -> FFCrossSystemMessageDTO:
        now = self.context.clock()
        if message.message_type not in ("notification", "event") or message.operation != "metrics.record_metric":
            error = FFUnsupportedOperationError("UDP carries metrics.record_metric notifications or events only (no replies come back)",
                                                field="message_type")  # fmt: skip
            return ff_error_reply(message, ff_problem_of(error, 422), now=now, endpoint=self.endpoint)
        seq = next(self._seq)
        try:
            line = ff_statsd_line(message.payload if isinstance(message.payload, dict) else {}, seq=seq, sender=message.source_system)
        except FFUnsupportedOperationError as exc:
            return ff_error_reply(message, ff_problem_of(exc, 422), now=now, endpoint=self.endpoint)
        data = line.encode("utf-8")
        if len(data) > _MAX_DATAGRAM:
            error = FFUnsupportedOperationError(f"the StatsD line is {len(data)} bytes (at most {_MAX_DATAGRAM})", field="payload")
            return ff_error_reply(message, ff_problem_of(error, 413), now=now, endpoint=self.endpoint)
        await self.connect()
        assert self._socket is not None
        try:
            self._socket.send(data)
        except OSError as exc:  # ECONNREFUSED from an earlier datagram's ICMP answer: nobody listens
            raise FFTransportError(f"{self.endpoint.system_id}: {exc!r}", sent=False) from exc
        self.sent += 1
        reply = ff_response_reply(message, {"sent": True, "seq": seq}, endpoint=self.endpoint, status=None, now=now)
        reply.headers["delivery"] = "fire-and-forget"
        return reply

    async def health(self) -> bool:
        await self.connect()
        assert self._socket is not None
        try:
            self._socket.send(b"")
            await asyncio.sleep(_PROBE_S)
            self._socket.recv(1)
        except BlockingIOError:
            return True  # nothing came back: the port was not refused
        except OSError:
            return False  # ECONNREFUSED: ICMP port unreachable
        return True

    async def close(self) -> None:
        sock, self._socket = self._socket, None
        if sock is not None:
            sock.close()

    def pool_use(self) -> dict[str, int]:
        return {"datagrams": self.sent}
