"""FFFaultProxy: an asyncio TCP proxy with faults added and removed at run time (a Toxiproxy in-process).

Toxiproxy's server and ``tc netem`` are not available on the machines the suites run on, so this
is the network between a client and one server in the tests: a client connects to the proxy's
port, the proxy opens a connection to the upstream server and copies bytes both ways, passing
each chunk through the toxics of its direction (see :mod:`testing.faults.toxics`). It works below
any protocol, so HTTP keep-alive, WebSocket and the TCP JSON-RPC port go through it unchanged.

Each direction of a connection is a *link* with a reader task (which stamps every chunk with the
time it was read) and a writer task (which runs the toxics and writes), joined by a short queue:
a slow toxic holds the reader back (backpressure) instead of buffering without bound. End of
stream is passed on as a half-close; an error on either side aborts both.

Faults are seeded (``seed``) and every application is recorded in ``recorder`` (an
:class:`FFFaultRecorder`, shared with the other fault sources of a run if given).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import socket
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal

from ff_utils.ff_errors import FFConflictError, FFNotFoundError, FFValidationError
from testing.faults._record import FFFaultRecorder
from testing.faults.toxics import FFToxic

__all__ = ["DIRECTIONS", "Direction", "FFFaultProxy", "FFLink", "FFProxyConnection"]

Direction = Literal["upstream", "downstream"]
DIRECTIONS: tuple[Direction, ...] = ("upstream", "downstream")
_READ_SIZE = 65536
_QUEUE_CHUNKS = 16


@dataclass(frozen=True, slots=True)
class _Installed:
    name: str
    toxic: FFToxic
    direction: Direction
    toxicity: float


class FFLink:
    """One direction of one proxied connection: its toxics, their random generators and timers."""

    def __init__(self, connection: FFProxyConnection, direction: Direction, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connection = connection
        self.direction = direction
        self.reader = reader
        self.writer = writer
        self.state: dict[str, Any] = {}
        """Per-toxic state that lasts across chunks (a bandwidth budget)."""
        self._toxics: dict[str, FFToxic] = {}
        self._rngs: dict[str, random.Random] = {}
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._detached: dict[str, asyncio.Event] = {}

    def rng(self, name: str) -> random.Random:
        if name not in self._rngs:  # a str seed is hashed with SHA-512: the same across runs and PYTHONHASHSEED
            self._rngs[name] = random.Random(f"{self.connection.proxy.seed}:{self.connection.id}:{self.direction}:{name}")
        return self._rngs[name]

    def record(self, fault: str, name: str, **detail: Any) -> None:
        self.connection.proxy.recorder.record(self.connection.proxy.name, fault, connection_id=self.connection.id,
                                              direction=self.direction, toxic=name, **detail)  # fmt: skip

    def schedule(self, name: str, delay_s: float, action: Callable[[], object]) -> None:
        """Run ``action`` after ``delay_s`` unless the toxic ``name`` is removed first."""
        self._timers[name] = asyncio.get_running_loop().call_later(delay_s, action)

    def attach(self, installed: _Installed) -> None:
        """Start applying the toxic to this link if its toxicity (a seeded draw per link) says so."""
        if installed.toxicity < 1.0 and self.rng(f"{installed.name}/toxicity").random() >= installed.toxicity:
            return
        self._toxics[installed.name] = installed.toxic
        self._detached[installed.name] = asyncio.Event()
        installed.toxic.attach(self, installed.name)

    async def until_detached(self, name: str) -> None:
        """Wait until the toxic ``name`` no longer applies to this link (at once if it does not)."""
        if (event := self._detached.get(name)) is not None:
            await event.wait()

    def detach(self, name: str) -> None:
        self._toxics.pop(name, None)
        self.state.pop(name, None)
        if (event := self._detached.pop(name, None)) is not None:
            event.set()
        if (timer := self._timers.pop(name, None)) is not None:
            timer.cancel()

    def detach_all(self) -> None:
        for name in list(self._toxics) + list(self._timers):
            self.detach(name)

    async def _write(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def _send(self, data: bytes, received_at: float) -> None:
        chain = list(self._toxics.items())  # a snapshot: toxics added or removed meanwhile apply to the next chunk

        async def step(index: int, piece: bytes) -> None:
            if index == len(chain):
                await self._write(piece)
            else:
                name, toxic = chain[index]
                await toxic.transmit(piece, received_at, self, name, lambda p: step(index + 1, p))

        await step(0, data)

    async def pump(self) -> None:
        """Copy this direction until end of stream (passed on as a half-close) or an error."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue(_QUEUE_CHUNKS)

        async def read() -> None:
            try:
                while data := await self.reader.read(_READ_SIZE):
                    await queue.put((loop.time(), data))
            finally:
                await queue.put(None)

        reader = asyncio.create_task(read())
        try:
            while (item := await queue.get()) is not None:
                await self._send(item[1], item[0])
            if self.writer.can_write_eof() and not self.writer.is_closing():
                self.writer.write_eof()
            await reader
        finally:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)


class FFProxyConnection:
    """One client connection and its connection to the upstream server."""

    def __init__(self, proxy: FFFaultProxy, connection_id: int, client: tuple[asyncio.StreamReader, asyncio.StreamWriter],
                 upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter]) -> None:  # fmt: skip
        self.proxy = proxy
        self.id = connection_id
        self.client_writer, self.upstream_writer = client[1], upstream[1]
        self.links: dict[Direction, FFLink] = {
            "upstream": FFLink(self, "upstream", client[0], upstream[1]),
            "downstream": FFLink(self, "downstream", upstream[0], client[1]),
        }
        self._pumps: list[asyncio.Task[None]] = []

    async def run(self) -> None:
        self._pumps = [asyncio.create_task(link.pump()) for link in self.links.values()]
        try:
            done, pending = await asyncio.wait(self._pumps, return_when=asyncio.FIRST_EXCEPTION)
            if any(not t.cancelled() and t.exception() is not None for t in done):
                self.abort()  # an error on one side ends both
            if pending:
                await asyncio.wait(pending)
        finally:
            for task in self._pumps:
                task.cancel()
            await asyncio.gather(*self._pumps, return_exceptions=True)
            for link in self.links.values():
                link.detach_all()
            self.close()

    def close(self) -> None:
        """Close both sides (FIN) and stop copying (a toxic may be holding bytes)."""
        for writer in (self.client_writer, self.upstream_writer):
            writer.close()
        for task in self._pumps:
            task.cancel()

    def abort(self) -> None:
        """Drop both sides at once, without flushing, and stop copying (a toxic may be sleeping)."""
        for writer in (self.client_writer, self.upstream_writer):
            writer.transport.abort()
        for task in self._pumps:
            task.cancel()

    def reset(self, direction: Direction) -> None:
        """Send a TCP RST to the peer of ``direction`` (downstream: the client; upstream: the
        server) by closing its socket with SO_LINGER 0; drop the other side too."""
        writer = self.client_writer if direction == "downstream" else self.upstream_writer
        sock = writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.abort()


class FFFaultProxy:
    """``async with FFFaultProxy("127.0.0.1", server_port, seed=7) as proxy:`` then connect to
    ``proxy.port``; ``proxy.add_toxic(FFLatency(50), direction="downstream")`` or, for a block,
    ``with proxy.toxic(FFResetPeer()):``. Raises FFValidationError for a bad direction or
    toxicity, FFConflictError for a toxic name in use, FFNotFoundError for an unknown one."""

    def __init__(
        self,
        upstream_host: str,
        upstream_port: int,
        *,
        seed: int,
        listen_host: str = "127.0.0.1",
        listen_port: int = 0,
        name: str = "tcp-proxy",
        recorder: FFFaultRecorder | None = None,
        connect_timeout_s: float = 5.0,
    ) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.seed = seed
        self.name = name
        self.recorder = recorder if recorder is not None else FFFaultRecorder()
        self._listen = (listen_host, listen_port)
        self._connect_timeout_s = connect_timeout_s
        self._server: asyncio.base_events.Server | None = None
        self._installed: dict[str, _Installed] = {}
        self._connections: dict[int, FFProxyConnection] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._ids = itertools.count(1)
        self._names = itertools.count(1)
        self.enabled = True
        self.accepted = 0
        """Connections accepted so far."""

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> tuple[str, int]:
        self._server = await asyncio.start_server(self._handle, *self._listen, reuse_address=True)
        return self.address

    @property
    def address(self) -> tuple[str, int]:
        if self._server is None:
            raise FFConflictError("the proxy is not started")
        host, port = self._server.sockets[0].getsockname()[:2]
        return host, port

    @property
    def host(self) -> str:
        return self.address[0]

    @property
    def port(self) -> int:
        return self.address[1]

    @property
    def connections(self) -> int:
        """Connections open now."""
        return len(self._connections)

    async def stop(self) -> None:
        """Stop listening, abort every open connection, wait for their tasks (bounded)."""
        if self._server is not None:
            self._server.close()
        for connection in list(self._connections.values()):
            connection.abort()  # their pumps end on their own
        if tasks := list(self._tasks):
            _done, pending = await asyncio.wait(tasks, timeout=5.0)
            for task in pending:  # only one stuck in a toxic's sleep would still be here
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=5.0)
        if self._server is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 5.0)
            self._server = None

    async def __aenter__(self) -> FFFaultProxy:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.stop()

    def disable(self) -> None:
        """Cut the route: abort every open connection and refuse new ones until :meth:`enable`."""
        self.enabled = False
        self.recorder.record(self.name, "down", open_connections=len(self._connections))
        for connection in list(self._connections.values()):
            connection.abort()

    def enable(self) -> None:
        self.enabled = True
        self.recorder.record(self.name, "up")

    # ------------------------------------------------------------------ toxics

    def add_toxic(self, toxic: FFToxic, *, direction: Direction = "downstream", name: str | None = None, toxicity: float = 1.0) -> str:
        """Apply ``toxic`` to every open and future connection (each with probability ``toxicity``,
        drawn per connection from the seed); returns its name, for :meth:`remove_toxic`."""
        if direction not in DIRECTIONS:
            raise FFValidationError(f"direction must be upstream or downstream, got {direction!r}", field="direction", value=direction)
        if not 0.0 <= toxicity <= 1.0:
            raise FFValidationError(f"toxicity must be 0..1, got {toxicity}", field="toxicity", value=toxicity)
        name = name or f"{toxic.kind}_{direction}_{next(self._names)}"
        if name in self._installed:
            raise FFConflictError(f"a toxic named {name!r} is already installed")
        installed = _Installed(name, toxic, direction, toxicity)
        self._installed[name] = installed
        for connection in list(self._connections.values()):
            connection.links[direction].attach(installed)
        return name

    def remove_toxic(self, name: str) -> None:
        """Stop applying the toxic (a pending reset or close is cancelled). FFNotFoundError if unknown."""
        installed = self._installed.pop(name, None)
        if installed is None:
            raise FFNotFoundError(f"no toxic named {name!r}", kind="toxic", key=name)
        for connection in list(self._connections.values()):
            connection.links[installed.direction].detach(name)

    def clear_toxics(self) -> None:
        for name in list(self._installed):
            self.remove_toxic(name)

    @property
    def toxics(self) -> dict[str, tuple[Direction, FFToxic]]:
        return {name: (i.direction, i.toxic) for name, i in self._installed.items()}

    @contextlib.contextmanager
    def toxic(self, toxic: FFToxic, *, direction: Direction = "downstream", toxicity: float = 1.0) -> Iterator[str]:
        """The toxic for the block only (removed even when the block raises)."""
        name = self.add_toxic(toxic, direction=direction, toxicity=toxicity)
        try:
            yield name
        finally:
            if name in self._installed:
                self.remove_toxic(name)

    # ------------------------------------------------------------------ connections

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        connection_id = next(self._ids)
        self.accepted += 1
        try:
            if not self.enabled:
                client_writer.transport.abort()
                return
            try:
                upstream = await asyncio.wait_for(asyncio.open_connection(*self.upstream), self._connect_timeout_s)
            except (OSError, TimeoutError) as exc:
                self.recorder.record(self.name, "upstream_refused", connection_id=connection_id, error=type(exc).__name__)
                client_writer.transport.abort()  # the client sees what a dead server gives: a reset
                return
            if not self.enabled:  # cut while this one was connecting
                upstream[1].transport.abort()
                client_writer.transport.abort()
                return
            connection = FFProxyConnection(self, connection_id, (client_reader, client_writer), upstream)
            self._connections[connection_id] = connection
            for installed in list(self._installed.values()):
                connection.links[installed.direction].attach(installed)
            await connection.run()
        except asyncio.CancelledError:
            # Only stop() cancels a handler; asyncio's stream callback would log a cancelled one.
            return
        finally:
            self._connections.pop(connection_id, None)
            self._tasks.discard(task)
