"""Real services for the communication manager's tests: FFServiceManager on 127.0.0.1, free ports."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from ff_class_configs import FFConfigurationManagerConfigDTO
from ff_class_configs.ff_comm_dtos import FFEndpointDTO
from ff_managers import FFCrossSystemCommunicationManager
from tests._service_clients import running_service

__all__ = ["endpoint", "running_service", "fast_comm", "two_services"]


def fast_comm(config: FFConfigurationManagerConfigDTO, **overrides: Any) -> FFConfigurationManagerConfigDTO:
    """Comm settings small enough for a test to see failover quickly (no timed assertions)."""
    settings = {"request_timeout_s": 10.0, "connect_timeout_s": 2.0, "retry_backoff_base_s": 0.0, "health_interval_s": 0.2,
                "eject_base_s": 0.5} | overrides  # fmt: skip
    for key, value in settings.items():
        setattr(config.comm, key, value)
    return config


def endpoint(ready: Any, protocol: str, token: str | None, *, group: str | None = "ff", system_id: str | None = None, **extra: Any) -> FFEndpointDTO:
    port = {"http": ready.http_port, "https": ready.http_port, "websocket": ready.http_port, "tcp": ready.tcp_port,
            "udp": ready.udp_port}[protocol]  # fmt: skip
    return FFEndpointDTO(system_id=system_id or f"{ready.instance_id}-{protocol}", group=group, protocol=protocol,
                         host=ready.host, port=port, token=token, **extra)  # fmt: skip


@contextlib.asynccontextmanager
async def two_services(config: FFConfigurationManagerConfigDTO, **kwargs: Any) -> AsyncIterator[tuple[tuple[Any, Any], tuple[Any, Any]]]:
    """Two instances on one data root (what ``main.py cluster`` runs as processes)."""
    async with running_service(config, instance_id="ff-a", **kwargs) as a, running_service(config, instance_id="ff-b", **kwargs) as b:
        yield a, b


async def comm_for(config: FFConfigurationManagerConfigDTO, *endpoints: FFEndpointDTO, **kwargs: Any) -> FFCrossSystemCommunicationManager:
    comm = FFCrossSystemCommunicationManager(config, **kwargs)
    for item in endpoints:
        comm.add_endpoint(item)
    return comm


class ByteCountingProxy:
    """A loopback TCP proxy that counts the bytes a client sends through it (to see compression on the wire)."""

    def __init__(self, port: int) -> None:
        self.target_port = port
        self.upstream_bytes = 0
        self._server: Any = None
        self._tasks: set[Any] = set()

    async def __aenter__(self) -> ByteCountingProxy:
        import asyncio

        async def pipe(reader: Any, writer: Any, count: bool) -> None:
            try:
                while data := await reader.read(65536):
                    if count:
                        self.upstream_bytes += len(data)
                    writer.write(data)
                    await writer.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                writer.close()

        async def serve(reader: Any, writer: Any) -> None:
            self._tasks.add(writer)
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
            self._tasks.add(up_writer)
            await asyncio.gather(pipe(reader, up_writer, True), pipe(up_reader, writer, False))

        self._server = await asyncio.start_server(serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._server.close()
        for writer in self._tasks:  # Python 3.11 has no Server.close_clients
            writer.close()
        await self._server.wait_closed()
