"""What every manager shares: lifecycle, health counters, the data root, the clock and the bus.

Storage goes through ``self.store`` (an :class:`~ff_utils.ff_store.FFStore` built from the config
unless one is injected), so a manager never passes durability or size settings per call, and a
test injects faults by handing in an ``FFStore`` subclass.

A manager starts lazily on first use (``await mem.create_session(...)`` works without an explicit
``initialize()``), and is usable as ``async with Manager(config) as m:``. Every public operation
runs inside :meth:`FFComponentBase._operation`, which counts requests, errors and response times,
so the validation platform reads every manager's health the same way.

Work a manager batches per key (message appends sharing a trip to disk) goes to the store's I/O
thread (``self.store.io``): ``shutdown()`` waits for everything queued there before it returns
and ends the thread, so no background write outlives the manager.
"""

from __future__ import annotations

import asyncio
import math
import statistics
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Any, Self, TypeVar

from pydantic import BaseModel

from ff_class_configs.ff_configuration_manager_config import FFConfigurationManagerConfigDTO
from ff_managers.ff_data_root import ff_ensure_data_root
from ff_managers.ff_event_bus import FFEvent, FFEventBus
from ff_utils.ff_errors import FFConflictError
from ff_utils.ff_store import FFStore

__all__ = ["FFComponentBase", "FFComponentState", "FFComponentHealthDTO", "Clock", "utc_now"]

T = TypeVar("T")
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class FFComponentState(StrEnum):
    INITIALIZING = "initializing"
    RUNNING = "running"
    DEGRADED = "degraded"
    STOPPED = "stopped"
    ERROR = "error"


class FFComponentHealthDTO(BaseModel):
    """A manager's state and its own counters."""

    component: str
    state: FFComponentState
    requests: int
    errors: int
    mean_response_ms: float
    p95_response_ms: float
    details: dict[str, Any] = {}


class FFComponentBase:
    """Base class of the five managers."""

    component_name = "component"
    _RECENT = 1_000  # response times kept for the health percentiles

    def __init__(
        self,
        config: FFConfigurationManagerConfigDTO,
        *,
        bus: FFEventBus | None = None,
        clock: Clock | None = None,
        store: FFStore | None = None,
    ) -> None:
        self.config = config
        self.store = store if store is not None else FFStore.from_config(config)
        self.bus = bus if bus is not None else FFEventBus()
        self.clock: Clock = clock or utc_now
        self.state = FFComponentState.STOPPED
        self._start_lock = asyncio.Lock()
        self._requests = 0
        self._errors = 0
        self._durations_ms: deque[float] = deque(maxlen=self._RECENT)

    # ------------------------------------------------------------------ lifecycle

    @property
    def root(self) -> Path:
        """The data root (the store's, resolved once when the store was built: every path of
        every call is built from it on the event loop, and resolving it each time was a seventh
        of ``add_message``'s CPU time under py-spy)."""
        return self.store.root

    async def initialize(self) -> None:
        """Create the data root (with ``ff_meta.json``) and the manager's own folders."""
        async with self._start_lock:
            if self.state == FFComponentState.RUNNING:
                return
            self.state = FFComponentState.INITIALIZING
            try:
                await asyncio.to_thread(ff_ensure_data_root, self.root, key_id=self.store.middleware.key_id)
                await self._on_initialize()
            except BaseException:
                self.state = FFComponentState.ERROR
                raise
            self.state = FFComponentState.RUNNING

    async def shutdown(self) -> None:
        """Drain the store's I/O thread, flush and release resources; the manager can be initialised again.

        Everything submitted before ``_on_shutdown`` runs is written first, including work that
        arrives while the drain is under way: a manager restarted under load (a library user's
        ``async with`` ending while other tasks still call it) must not turn those calls into
        errors. A call after shutdown starts the manager again lazily, as any first call does.
        """
        if self.state == FFComponentState.STOPPED:
            return
        await self.store.io.close()  # what it queued is written first; another user restarts it
        await self._on_shutdown()
        self.state = FFComponentState.STOPPED

    async def __aenter__(self) -> Self:
        await self.initialize()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.shutdown()

    async def _on_initialize(self) -> None:
        """Subclasses create folders, load indexes, subscribe to events."""

    async def _on_shutdown(self) -> None:
        """Subclasses flush buffers and unsubscribe."""

    def health(self) -> FFComponentHealthDTO:
        durations = sorted(self._durations_ms)
        # Nearest rank: the smallest value at or above 95% of the samples (the 95th of 100).
        p95 = durations[math.ceil(len(durations) * 0.95) - 1] if durations else 0.0
        return FFComponentHealthDTO(
            component=self.component_name,
            state=self.state,
            requests=self._requests,
            errors=self._errors,
            mean_response_ms=statistics.fmean(durations) if durations else 0.0,
            p95_response_ms=p95,
            details=self._health_details(),
        )

    def _health_details(self) -> dict[str, Any]:
        return {}

    # ------------------------------------------------------------------ helpers for subclasses

    def _operation(self) -> _Operation:
        """Wrap one public call: start lazily, count it, time it, count its errors.

        ``async with self._operation():``. A small class rather than an
        ``@asynccontextmanager`` generator: it wraps every call, ``add_message`` included, and
        the generator's two extra coroutines were a measurable share of its event-loop time.
        """
        return _Operation(self)

    def _path(self, *parts: str) -> Path:
        """A path under the data root built from validated parts (see FFStore.path)."""
        return self.store.path(*parts)

    async def _io(self, function: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run blocking storage work in a worker thread so the event loop never waits on disk."""
        return await asyncio.to_thread(partial(function, *args, **kwargs))

    async def _publish(self, event_type: str, payload: dict[str, Any], *, user_id: str | None = None) -> None:
        await self.bus.publish(FFEvent(event_type, self.component_name, payload, user_id, timestamp=self.clock()))


class _Operation:
    """One public call of a component (see :meth:`FFComponentBase._operation`)."""

    __slots__ = ("_component", "_started")

    def __init__(self, component: FFComponentBase) -> None:
        self._component = component
        self._started = 0.0

    async def __aenter__(self) -> None:
        component = self._component
        if component.state != FFComponentState.RUNNING:
            if component.state == FFComponentState.ERROR:
                raise FFConflictError(f"{component.component_name} failed to initialise; create a new one")
            await component.initialize()
        component._requests += 1
        self._started = time.perf_counter()

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        component = self._component
        if exc_type is not None and issubclass(exc_type, Exception):
            component._errors += 1
        component._durations_ms.append((time.perf_counter() - self._started) * 1000)
