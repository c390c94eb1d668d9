"""Where a distributed run's suites go: a LocalCluster we start, or a scheduler that exists.

``--distributed local`` starts a :class:`distributed.LocalCluster` of worker *processes* (one
thread each) bound to 127.0.0.1, secured with a throwaway TLS certificate
(``Security.temporary()``): loopback is reachable by every local user, and a plain ``tcp://``
scheduler runs whatever any of them sends it. The scheduler's HTTP routes (health, metrics; no
dashboard without bokeh) take a random port on 127.0.0.1 too, never dask's default 8787, which
another cluster may hold. ``--distributed tls://HOST:PORT`` connects to a
scheduler started elsewhere, with the CA, certificate and key given on the command line or in
dask's own configuration (``distributed.comm.tls.*``). ``tcp://`` is refused with
:class:`FFInsecureTransportError` unless ``allow_insecure_tcp`` says the network is trusted.

Whatever happens in between, :func:`open_cluster` closes the client and the cluster within
``close_timeout`` seconds, then kills any worker process of *our* LocalCluster still alive (their
pids are read when the cluster comes up), so nothing outlives the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ff_utils.ff_errors import FFValidationError
from testing.distributed._errors import FFClusterError, FFInsecureTransportError

__all__ = ["FFClusterHandle", "FFClusterTarget", "open_cluster"]

LOCAL = "local"


@dataclass(frozen=True, slots=True)
class FFClusterTarget:
    """The user's ``--distributed`` choice and what goes with it."""

    address: str = LOCAL
    workers: int = 2
    tls_ca: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    allow_insecure_tcp: bool = False
    connect_timeout: float = 60.0
    close_timeout: float = 30.0

    def __post_init__(self) -> None:
        """Refuse a target that cannot work before anything starts (bad input writes nothing)."""
        if self.workers < 1:
            raise FFValidationError(f"--workers must be at least 1, got {self.workers}", field="workers", value=self.workers)
        if self.is_local:
            return
        scheme = self.address.split("://", 1)[0] if "://" in self.address else ""
        if scheme == "tcp":
            if not self.allow_insecure_tcp:
                raise FFInsecureTransportError(
                    f"refusing unauthenticated scheduler {self.address}: use tls://, or pass --allow-insecure-tcp "
                    "on a network you trust", field="distributed", value=self.address)
        elif scheme != "tls":
            raise FFValidationError(f"--distributed takes 'local', tls://HOST:PORT or tcp://HOST:PORT, got {self.address!r}",
                                    field="distributed", value=self.address)
        for name in ("tls_ca", "tls_cert", "tls_key"):
            path = getattr(self, name)
            if path is not None and not Path(path).is_file():
                raise FFValidationError(f"--{name.replace('_', '-')}: no such file", field=name, path=path)

    @property
    def is_local(self) -> bool:
        return self.address == LOCAL

    def security(self) -> Any:
        """The ``distributed.Security`` of a remote scheduler (None for tcp://)."""
        from distributed import Security

        if self.address.startswith("tcp://"):
            return None
        given = {"tls_ca_file": self.tls_ca, "tls_client_cert": self.tls_cert, "tls_client_key": self.tls_key}
        return Security(require_encryption=True, **{k: str(v) for k, v in given.items() if v is not None})


@dataclass(slots=True)
class FFClusterHandle:
    """A connected asynchronous client, and what the run reports about the cluster."""

    client: Any
    target: FFClusterTarget
    scheduler: str
    worker_pids: dict[str, int] = field(default_factory=dict)
    """Worker address -> pid, for a LocalCluster only (the processes this run owns)."""

    async def workers(self) -> dict[str, dict[str, Any]]:
        """Address -> ``{"host": host name, "nthreads": n}`` of every worker now connected.

        The host is the worker machine's own name (what each test result records), not the IP
        the scheduler sees (the address already holds that).
        """
        info = (await self.client.scheduler.identity()).get("workers", {})
        names = await self.client.run(socket.gethostname)
        return {address: {"host": names.get(address, ""), "nthreads": int(seen.get("nthreads", 0))}
                for address, seen in info.items()}


@contextlib.asynccontextmanager
async def open_cluster(target: FFClusterTarget) -> AsyncIterator[FFClusterHandle]:
    """Connect (starting a LocalCluster for ``local``); always close within the bound."""
    try:
        from distributed import Client, LocalCluster, Security
    except ImportError as exc:
        raise FFClusterError("distributed runs need Dask: pip install 'ff-platform[scale]'") from exc

    cluster = client = None
    handle: FFClusterHandle | None = None
    try:
        try:
            # Each object is kept before it is awaited, so the finally below closes a half-started one.
            if target.is_local:
                cluster = LocalCluster(
                    n_workers=target.workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                    protocol="tls://", security=Security.temporary(), dashboard_address="127.0.0.1:0",
                    worker_dashboard_address=None, silence_logs=logging.ERROR, asynchronous=True,
                )
                await asyncio.wait_for(cluster, target.connect_timeout)
                client = Client(cluster, asynchronous=True, set_as_default=False)
            else:
                client = Client(target.address, security=target.security(), asynchronous=True, set_as_default=False,
                                timeout=target.connect_timeout)
            await asyncio.wait_for(client, target.connect_timeout + 5)
            await asyncio.wait_for(client.wait_for_workers(target.workers if target.is_local else 1),
                                   target.connect_timeout)
            handle = FFClusterHandle(client=client, target=target, scheduler=client.scheduler.address)
            if target.is_local:
                handle.worker_pids = dict(await client.run(os.getpid))
        except (TimeoutError, OSError) as exc:
            raise FFClusterError(f"cluster {target.address}: {type(exc).__name__}: {exc or 'no answer in time'}") from exc
        yield handle
    finally:
        await _close(client, cluster, target.close_timeout)
        if handle is not None:
            _kill_leftovers(handle.worker_pids)


async def _close(client: Any, cluster: Any, timeout: float) -> None:
    """Close the client, then the cluster, each bounded; a hang here must not hang the run."""
    for part in (client, cluster):
        if part is None:
            continue
        with contextlib.suppress(Exception):
            await asyncio.wait_for(part.close(), timeout)


def _kill_leftovers(pids: dict[str, int]) -> None:
    """SIGKILL any of our LocalCluster's worker processes that outlived the close."""
    for pid in pids.values():
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, 0)
            os.kill(pid, signal.SIGKILL)
