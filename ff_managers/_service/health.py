"""Liveness and readiness: is the process serving, and can it do its job right now?

``/health/live`` answers 200 while the process serves. ``/health/ready`` runs every check and
answers 200 only when all pass (503 otherwise), with each check's result:

* ``schema_version``: the data root's ``ff_meta.json`` names the version this code writes;
* ``writable``: a probe document can be written atomically (and fsynced) and removed;
* ``lock``: the data root's cross-process lock can be obtained within the store's timeout;
* ``audit_head``: the audit head (``audit/audit_head.json``) is absent or parses;
* ``event_loop_lag``: the loop's worst lag over the last second, measured by a ticker every
  0.1 s, is under ``service.max_loop_lag_ms``;
* ``accepting``: the server is not shutting down.

Disk checks run in a worker thread, so a stuck disk makes readiness slow and false, never the
event loop stuck.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections import deque
from typing import Any

from ff_class_configs.ff_storage_config import FF_SCHEMA_VERSION
from ff_managers.ff_data_root import ff_read_meta
from ff_utils.ff_errors import FFError
from ff_utils.ff_locks import FFLockBusy, ff_locks_fail_fast
from ff_utils.ff_store import FFStore

__all__ = ["FFHealth"]

_TICK_S = 0.1
_WINDOW_TICKS = 10  # the lag reported is the worst of the last second


class FFHealth:
    def __init__(self, store: FFStore, max_loop_lag_ms: float) -> None:
        self._store = store
        self._max_lag_ms = max_loop_lag_ms
        self._recent_lag_ms: deque[float] = deque([0.0], maxlen=_WINDOW_TICKS)
        self.accepting = True
        self._ticker: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._ticker is None:
            self._ticker = asyncio.get_running_loop().create_task(self._tick(), name="ff-service-loop-lag")

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            await asyncio.gather(self._ticker, return_exceptions=True)
            self._ticker = None

    async def _tick(self) -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(_TICK_S)
            self._recent_lag_ms.append(max(0.0, (time.perf_counter() - started - _TICK_S) * 1000))

    @property
    def loop_lag_ms(self) -> float:
        """The worst lag of the last second (one stall must not hide behind the next quick tick)."""
        return max(self._recent_lag_ms)

    async def ready(self) -> tuple[bool, dict[str, Any]]:
        checks = await asyncio.to_thread(self._disk_checks)
        checks["event_loop_lag"] = self.lag_check()
        checks["accepting"] = {"ok": self.accepting}
        return all(check["ok"] for check in checks.values()), checks

    def lag_check(self) -> dict[str, Any]:
        return {"ok": self.loop_lag_ms < self._max_lag_ms, "lag_ms": round(self.loop_lag_ms, 3), "max_ms": self._max_lag_ms}

    def _disk_checks(self) -> dict[str, Any]:
        return {
            "schema_version": _check(self._schema_version),
            "writable": _check(self._writable),
            "lock": _check(self._lock),
            "audit_head": _check(self._audit_head),
        }

    def _schema_version(self) -> dict[str, Any]:
        meta = ff_read_meta(self._store.root)
        found = meta.schema_version if meta is not None else None
        return {"ok": found == FF_SCHEMA_VERSION, "found": found, "expected": FF_SCHEMA_VERSION}

    def _writable(self) -> dict[str, Any]:
        # one file per probe: concurrent probes (several clients' health checkers) must not unlink each other's
        probe = self._store.path("system", "service", f"ready-probe-{os.getpid()}-{uuid.uuid4().hex[:12]}.json")
        self._store.ensure_dir(probe.parent)
        self._store.write_json(probe, {"probe": time.time()})
        probe.unlink()
        return {"ok": True}

    def _lock(self) -> dict[str, Any]:
        # Tried once: a lock another instance holds proves locking works as well as one we take,
        # and waiting for it would let an instance frozen inside its own probe (SIGSTOP) make
        # every other instance of the data root look not ready.
        try:
            with ff_locks_fail_fast(), self._store.lock(self._store.path("system", "service", "ready-probe.lock")):
                return {"ok": True}
        except FFLockBusy:
            return {"ok": True, "held_elsewhere": True}

    def _audit_head(self) -> dict[str, Any]:
        head = self._store.read_json(self._store.path("audit", "audit_head.json"), None)
        return {"ok": head is None or isinstance(head, dict), "present": head is not None}


def _check(function: Any) -> dict[str, Any]:
    try:
        return function()
    except (FFError, OSError) as exc:
        return {"ok": False, "error": type(exc).__name__, "detail": str(exc)[:300]}
