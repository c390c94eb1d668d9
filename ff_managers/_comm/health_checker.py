"""Active health checks of every endpoint of a pool, as tasks of one task group.

Passive ejection only learns from real requests, so an idle or freshly added endpoint that is
down would be found out by a user's request. The checker probes each endpoint every
``interval_s`` (the façade's probe sends ``GET /health/ready``, or the protocol's ping) and
reports to :meth:`FFEndpointPool.on_health` once a verdict has held ``unhealthy_threshold`` (2)
or ``healthy_threshold`` (1) checks in a row: one probe lost to a scheduling hiccup on a loaded
machine does not take an instance out of rotation, while a dead one is out after two intervals
(real requests failing eject it sooner). A probe that raises, or takes longer than ``timeout_s``,
is a failed check: a frozen instance (SIGSTOP) accepts connections in the kernel but never
answers, and only the timeout catches it.

Structured concurrency: the probe loops are children of one ``asyncio.TaskGroup`` entered by
``__aenter__``; a supervisor task adds a loop when an endpoint joins the pool and cancels it when
the endpoint leaves. ``__aexit__`` cancels them all and awaits them, so nothing outlives the
``async with`` block. The loops never raise (a probe's exception is a verdict), so one endpoint's
trouble never cancels the group.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from types import TracebackType

from ff_class_configs.ff_comm_dtos import FFEndpointDTO
from ff_managers._comm.endpoint_pool import FFEndpointPool
from ff_utils.ff_logging import get_logger

__all__ = ["FFHealthChecker"]

_log = get_logger("comm.health")

Probe = Callable[[FFEndpointDTO], Awaitable[bool]]
Sleep = Callable[[float], Awaitable[None]]


class FFHealthChecker:
    """Probes every endpoint of ``pool`` every ``interval_s`` inside ``async with``."""

    def __init__(
        self,
        pool: FFEndpointPool,
        probe: Probe,
        *,
        interval_s: float,
        timeout_s: float,
        unhealthy_threshold: int = 2,
        healthy_threshold: int = 1,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        """``unhealthy_threshold`` failed checks in a row mark an endpoint unhealthy,
        ``healthy_threshold`` passes in a row mark it healthy again (Kubernetes' readiness
        failureThreshold / successThreshold)."""
        if interval_s <= 0 or timeout_s <= 0:
            raise ValueError("interval_s and timeout_s must be > 0")
        if unhealthy_threshold < 1 or healthy_threshold < 1:
            raise ValueError("thresholds must be >= 1")
        self.pool = pool
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self.unhealthy_threshold = unhealthy_threshold
        self.healthy_threshold = healthy_threshold
        self._probe = probe
        self._sleep = sleep
        self._streaks: dict[str, tuple[bool, int]] = {}  # system_id -> (last verdict, how many in a row)
        self._group: asyncio.TaskGroup | None = None
        self._loops: dict[str, asyncio.Task[None]] = {}
        self._supervisor: asyncio.Task[None] | None = None
        self.checks = 0
        """probes finished (a figure for tests and metrics)"""

    async def check(self, endpoint: FFEndpointDTO) -> bool:
        """Probe one endpoint once and return the verdict; the pool hears of it once the verdict
        has repeated its threshold's number of times."""
        try:
            async with asyncio.timeout(self.timeout_s):
                healthy = bool(await self._probe(endpoint))
        except TimeoutError:
            healthy = False
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # any failure of the probe is the verdict "unhealthy"
            _log.debug("health probe of %s failed: %r", endpoint.system_id, exc)
            healthy = False
        self.checks += 1
        last, count = self._streaks.get(endpoint.system_id, (healthy, 0))
        count = count + 1 if last == healthy else 1
        self._streaks[endpoint.system_id] = (healthy, count)
        if count >= (self.healthy_threshold if healthy else self.unhealthy_threshold):
            self.pool.on_health(endpoint.system_id, healthy)
        return healthy

    async def check_all(self) -> dict[str, bool]:
        """One round of probes of every endpoint, concurrently; ``{system_id: healthy}``."""
        endpoints = self.pool.endpoints()
        verdicts = await asyncio.gather(*(self.check(e) for e in endpoints))
        return {e.system_id: v for e, v in zip(endpoints, verdicts, strict=True)}

    async def _loop(self, system_id: str) -> None:
        while True:
            endpoint = next((e for e in self.pool.endpoints() if e.system_id == system_id), None)
            if endpoint is None:
                return
            await self.check(endpoint)
            await self._sleep(self.interval_s)

    def _sync(self) -> None:
        """Start a loop for each new endpoint, cancel those of endpoints that left."""
        assert self._group is not None
        current = {e.system_id for e in self.pool.endpoints()}
        for sid in self._streaks.keys() - current:
            del self._streaks[sid]
        for sid in list(self._loops):
            if sid not in current or self._loops[sid].done():
                self._loops.pop(sid).cancel()
        for sid in current - self._loops.keys():
            self._loops[sid] = self._group.create_task(self._loop(sid), name=f"ff-health-{self.pool.group}-{sid}")

    async def _supervise(self) -> None:
        while True:
            self._sync()
            await self._sleep(self.interval_s)

    async def __aenter__(self) -> FFHealthChecker:
        self._group = asyncio.TaskGroup()
        await self._group.__aenter__()
        self._supervisor = self._group.create_task(self._supervise(), name=f"ff-health-{self.pool.group}")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        group, self._group = self._group, None
        if group is None:
            return
        if self._supervisor is not None:
            self._supervisor.cancel()
        for task in self._loops.values():
            task.cancel()
        self._loops.clear()
        # The group is told nothing of the body's exception: its children are cancelled already,
        # so it only waits for them, and the body's exception reaches the caller as it was raised
        # (not wrapped in an ExceptionGroup).
        await group.__aexit__(None, None, None)
