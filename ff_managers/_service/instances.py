"""The instance registry: several servers on one data root find each other through leases.

Each instance keeps ``system/service/instances/<instance_id>.json`` (its pid, host, ports and
``lease_expires_at``), written atomically and renewed every ``heartbeat_seconds`` for
``lease_seconds``. A listing shows only unexpired leases, so a killed instance disappears from
it within one lease without anyone cleaning up; a clean shutdown removes its file at once.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta

from pydantic import ValidationError

from ff_class_configs.ff_service_dtos import FFInstanceDTO
from ff_utils.ff_errors import FFError
from ff_utils.ff_logging import get_logger
from ff_utils.ff_store import FFStore

__all__ = ["FFInstanceRegistry"]

_log = get_logger("service.instances")


class FFInstanceRegistry:
    def __init__(self, store: FFStore, lease_seconds: float, heartbeat_seconds: float) -> None:
        self._store = store
        self._folder = store.path("system", "service", "instances")
        self._lease = timedelta(seconds=lease_seconds)
        self._heartbeat = heartbeat_seconds
        self._task: asyncio.Task[None] | None = None
        self._me: FFInstanceDTO | None = None
        # A renewal cancelled mid-write keeps running in its worker thread; without this guard
        # it could write the lease file again after unregister() removed it, and a stopped
        # instance would be listed for one more lease.
        self._file_guard = threading.Lock()
        self._removed = False

    def _write(self, instance: FFInstanceDTO) -> FFInstanceDTO:
        with self._file_guard:
            if self._removed:
                return instance
            return self._write_lease(instance)

    def _remove(self, instance_id: str) -> None:
        with self._file_guard:
            self._removed = True
            self._store.path("system", "service", "instances", f"{instance_id}.json").unlink(missing_ok=True)

    def _write_lease(self, instance: FFInstanceDTO) -> FFInstanceDTO:
        renewed = instance.model_copy(update={"lease_expires_at": datetime.now(UTC) + self._lease})
        self._store.ensure_dir(self._folder)
        self._store.write_json(self._store.path("system", "service", "instances", f"{instance.instance_id}.json"),
                               renewed.model_dump(mode="json"))  # fmt: skip
        return renewed

    async def register(self, instance: FFInstanceDTO) -> None:
        self._removed = False
        self._me = await asyncio.to_thread(self._write, instance)
        self._task = asyncio.get_running_loop().create_task(self._renew(), name="ff-service-heartbeat")

    async def _renew(self) -> None:
        while self._me is not None:
            await asyncio.sleep(self._heartbeat)
            try:
                self._me = await asyncio.to_thread(self._write, self._me)
            except FFError as exc:  # a full disk must not stop the server; readiness reports it
                _log.warning("lease not renewed: %s", exc)

    async def unregister(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._me is not None:
            instance_id, self._me = self._me.instance_id, None
            await asyncio.to_thread(self._remove, instance_id)

    def list_live(self) -> list[FFInstanceDTO]:
        """Every instance whose lease has not expired, oldest start first."""
        now = datetime.now(UTC)
        live: list[FFInstanceDTO] = []
        if not self._folder.is_dir():
            return live
        for path in sorted(self._folder.glob("*.json")):
            try:
                instance = FFInstanceDTO.model_validate(self._store.read_json(path, None))
            except (FFError, ValidationError):
                continue  # torn or foreign file: not a live instance
            if instance.lease_expires_at > now:
                live.append(instance)
        return sorted(live, key=lambda i: i.started_at)
