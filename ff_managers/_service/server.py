"""Start and stop the listeners of one service: HTTP/WebSocket (uvicorn), TCP, UDP, in one event loop.

Start: bind the HTTP socket (port 0 picks a free one), run uvicorn on it as a task and wait
until it has started, start TCP and UDP, register the instance lease, and only then write the
ready file atomically with the real ports. Stop (SIGTERM): mark not ready, stop accepting on
every listener, give the requests in flight ``shutdown_grace_seconds`` to finish (uvicorn's
graceful shutdown for HTTP and WebSocket, the same bound for TCP), and return; the caller then
drains the managers' batchers. uvicorn's own signal handling is switched off: the process owner
(``FFServiceManager.serve``) decides what a signal means.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import orjson
import uvicorn

from ff_class_configs.ff_service_dtos import FFReadyFileDTO
from ff_managers._service.fast_routes import FFOperationFront
from ff_managers._service.http_app import build_http_app
from ff_managers._service.runtime import FFServiceRuntime
from ff_managers._service.tcp import FFTcpListener
from ff_managers._service.udp import FFStatsdListener
from ff_utils.ff_errors import FFStorageError, FFValidationError
from ff_utils.ff_file_ops import ff_atomic_write

__all__ = ["FFListeners", "TlsFiles", "check_tls"]

TlsFiles = tuple[Path, Path] | None  # (keyfile, certfile)
_START_TIMEOUT_S = 30.0


class _EmbeddedUvicorn(uvicorn.Server):
    """uvicorn without its signal handlers: the process owner (``FFServiceManager.serve``) decides
    what a signal means. uvicorn's, installed with ``signal.signal``, would replace the owner's,
    shut HTTP down alone while TCP still serves, and raise the signal again when done."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say so, and without it
    # a response written as headers + body waits ~40 ms for the client's delayed ACK (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise FFStorageError(f"cannot bind {host}:{port}: {exc.strerror}") from exc
    sock.set_inheritable(True)
    return sock


class FFListeners:
    """The bound listeners of one runtime."""

    def __init__(self, runtime: FFServiceRuntime) -> None:
        self.runtime = runtime
        self._uvicorn: _EmbeddedUvicorn | None = None
        self._uvicorn_task: asyncio.Task[None] | None = None
        self._tcp: FFTcpListener | None = None
        self._ready_file: Path | None = None

    async def start(
        self, host: str, http_port: int, tcp_port: int | None, udp_port: int | None, *, tls: TlsFiles, ready_file: Path | None
    ) -> FFReadyFileDTO:
        runtime, settings = self.runtime, self.runtime.settings
        app = FFOperationFront(build_http_app(runtime, version=runtime.version), runtime.dispatcher.registry)
        config = uvicorn.Config(
            app, log_config=None, log_level="warning", access_log=False, lifespan="off", ws="websockets-sansio",
            ws_max_size=settings.max_line_bytes * 4 + 65536, timeout_graceful_shutdown=int(max(1, settings.shutdown_grace_seconds)),
            ssl_keyfile=str(tls[0]) if tls else None, ssl_certfile=str(tls[1]) if tls else None,
            h11_max_incomplete_event_size=64 * 1024,
        )  # fmt: skip
        config.load()
        sock = _bind(host, http_port)
        self._uvicorn = _EmbeddedUvicorn(config)
        self._uvicorn_task = asyncio.get_running_loop().create_task(self._uvicorn.serve(sockets=[sock]), name="ff-service-http")
        await self._wait_started()
        bound_http = sock.getsockname()[1]
        bound_tcp = bound_udp = None
        if tcp_port is not None:
            self._tcp = FFTcpListener(runtime)
            bound_tcp = await self._tcp.start(host, tcp_port, ssl_context=config.ssl if tls else None)
        if udp_port is not None:
            runtime.udp = FFStatsdListener(runtime.dispatcher.managers.metrics)
            bound_udp = await runtime.udp.start(settings.udp_host, udp_port)
        runtime.health.start()
        ready = FFReadyFileDTO(pid=os.getpid(), instance_id=runtime.instance_id, host=host, http_port=bound_http,
                               tcp_port=bound_tcp, udp_port=bound_udp, tls=tls is not None)  # fmt: skip
        await runtime.instances.register(runtime.instance(ready))
        runtime.ready = ready
        if ready_file is not None:
            self._ready_file = ready_file
            await asyncio.to_thread(ready_file.parent.mkdir, parents=True, exist_ok=True)
            await asyncio.to_thread(ff_atomic_write, ready_file, orjson.dumps(ready.model_dump(mode="json")) + b"\n")
        return ready

    async def _wait_started(self) -> None:
        assert self._uvicorn is not None and self._uvicorn_task is not None
        async with asyncio.timeout(_START_TIMEOUT_S):
            while not self._uvicorn.started:
                if self._uvicorn_task.done():
                    error = self._uvicorn_task.exception()
                    raise FFStorageError(f"the HTTP server did not start: {error or 'exited'}")
                await asyncio.sleep(0.01)

    async def stop(self) -> None:
        """Stop accepting everywhere, let in-flight requests finish within the bound, close."""
        runtime, grace = self.runtime, self.runtime.settings.shutdown_grace_seconds
        runtime.stopping = True
        runtime.health.accepting = False
        if self._tcp is not None:
            await self._tcp.stop_accepting()
        if self._uvicorn is not None and self._uvicorn_task is not None:
            self._uvicorn.should_exit = True
            try:
                await asyncio.wait_for(asyncio.shield(self._uvicorn_task), timeout=grace + 5)
            except TimeoutError:
                self._uvicorn.force_exit = True
                await asyncio.gather(self._uvicorn_task, return_exceptions=True)
        if self._tcp is not None:
            await self._tcp.close(grace)
        if runtime.udp is not None:
            await runtime.udp.close()
        await runtime.health.stop()
        await runtime.instances.unregister()
        if self._ready_file is not None:
            self._ready_file.unlink(missing_ok=True)


def check_tls(keyfile: Path | None, certfile: Path | None) -> TlsFiles:
    """Both files or neither; each must exist and load as a key pair (FFValidationError otherwise)."""
    if keyfile is None and certfile is None:
        return None
    if keyfile is None or certfile is None:
        raise FFValidationError("HTTPS needs both --ssl-keyfile and --ssl-certfile", field="ssl")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(str(certfile), str(keyfile))
    except (OSError, ssl.SSLError) as exc:
        raise FFValidationError(f"cannot load the TLS key pair: {exc}", field="ssl") from exc
    return Path(keyfile), Path(certfile)

