"""FFLocalCluster: N ``serve`` processes on one data root, on one host, each in its own process group.

The library behind ``main.py cluster start|status|test|stop`` and the cross-system suite. One
object starts the cluster (and owns its processes: it reaps them); another process can
:meth:`FFLocalCluster.attach` to the run dir and signal, restart, probe or stop the same
instances, since everything needed is in ``<run dir>/cluster.json`` (see ``_state``).

Every wait is bounded, and :meth:`stop` (also run by ``async with`` on the way out, error or
not) continues frozen groups, asks them to stop, kills what did not, and reaps its children, so
no server outlives the cluster that started it.
"""

from __future__ import annotations

import asyncio
import os
import signal as signals
import subprocess
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from types import TracebackType

import psutil

from ff_class_configs import FFConfigurationManagerConfigDTO, load_config
from ff_managers import FFServiceManager
from ff_managers.ff_data_root import ff_ensure_data_root
from ff_utils.ff_errors import FFConflictError, FFError, FFNotFoundError, FFValidationError
from ff_utils.ff_ids import ff_validate_id
from ff_utils.ff_logging import get_logger
from testing.cluster._launch import FFLaunchSpec, launch_instance
from testing.cluster._state import (
    CLUSTER_FILE,
    FFClusterInstance,
    FFClusterState,
    default_run_dir,
    read_api_key,
    read_state,
    write_api_key,
    write_state,
)
from testing.cluster._status import FFInstanceStatus, probe_http, process_state, read_registry_files, registry_from_info
from testing.faults.process import end_group, group_members, is_alive, reap, wait_group_gone

__all__ = ["FFLocalCluster", "MAX_INSTANCES", "CLUSTER_USER"]

_log = get_logger("testing.cluster")
MAX_INSTANCES = 16
CLUSTER_USER = "cluster-admin"
"""The user of the admin key created at start (the key acts for any user: it carries ``admin``)."""


class FFLocalCluster:
    """N local ``serve`` instances on one data root (see the module docstring).

    ``env`` is added to each instance's environment (``FF_SERVICE__LEASE_SECONDS=3`` for a quick
    lease in a test); ``config_file`` and ``environment`` are handed to ``serve`` as ``--config``
    and ``--environment``. ``tcp``/``udp`` turn those listeners on (a free port each) or off.
    """

    def __init__(
        self,
        *,
        instances: int,
        data_dir: Path,
        run_dir: Path | None = None,
        tcp: bool = True,
        udp: bool = True,
        host: str = "127.0.0.1",
        env: Mapping[str, str] | None = None,
        config_file: Path | None = None,
        environment: str | None = None,
        name: str = "ff-node",
    ) -> None:
        if not 1 <= instances <= MAX_INSTANCES:
            raise FFValidationError(f"instances must be 1..{MAX_INSTANCES}, got {instances}", field="instances", value=instances)
        self.count = instances
        self.data_dir = Path(data_dir).resolve()
        self.run_dir = Path(run_dir).resolve() if run_dir is not None else default_run_dir(self.data_dir)
        self.ids = [ff_validate_id(f"{name}-{n}", "instance_id") for n in range(1, instances + 1)]
        self._state = FFClusterState(data_dir=self.data_dir, host=host, tcp=tcp, udp=udp, instances=(), env=dict(env or {}),
                                     config_file=Path(config_file).resolve() if config_file else None, environment=environment)  # fmt: skip
        self._processes: dict[str, subprocess.Popen[bytes]] = {}  # the ones this object started (it reaps them)
        self._lock = asyncio.Lock()

    # ------------------------------------------------------------------ reading

    @classmethod
    def attach(cls, run_dir: Path) -> FFLocalCluster:
        """The cluster started in ``run_dir`` by another object or process. Raises FFNotFoundError
        when there is none, FFCorruptionError when its cluster.json is not one this code wrote."""
        state = read_state(Path(run_dir))
        cluster = cls(instances=max(1, len(state.instances)), data_dir=state.data_dir, run_dir=Path(run_dir), tcp=state.tcp,
                      udp=state.udp, host=state.host, env=state.env, config_file=state.config_file, environment=state.environment)  # fmt: skip
        cluster._state = state
        cluster.ids = [i.instance_id for i in state.instances]
        return cluster

    @property
    def instances(self) -> list[FFClusterInstance]:
        return list(self._state.instances)

    def instance(self, instance_id: str) -> FFClusterInstance:
        """Raises FFNotFoundError for an id that is not in this cluster."""
        for instance in self._state.instances:
            if instance.instance_id == instance_id:
                return instance
        raise FFNotFoundError(f"no instance {instance_id!r} in the cluster of {self.run_dir}", kind="instance", key=instance_id)

    def token(self) -> str:
        """The admin API key created at start (``<run dir>/api_key``, mode 0600)."""
        return read_api_key(self.run_dir)

    def config(self) -> FFConfigurationManagerConfigDTO:
        """The configuration the instances run with (their config file, environment and ``env``)."""
        environ = {**os.environ, **self._state.env}
        return load_config(self._state.config_file, environment=self._state.environment, base_path=self.data_dir, environ=environ)

    # ------------------------------------------------------------------ lifecycle

    async def start(self, *, timeout_s: float = 30.0) -> list[FFClusterInstance]:
        """Start every instance (free ports) and wait (at most ``timeout_s``) until each is ready.

        Raises FFConflictError when a cluster already runs in the run dir; FFStorageError or
        FFTimeoutError when an instance does not get ready, after stopping the ones started.
        """
        if (self.run_dir / CLUSTER_FILE).is_file() and any(self._alive(i) for i in read_state(self.run_dir).instances):
            raise FFConflictError(f"a cluster already runs in {self.run_dir} (stop it with `cluster stop`)")
        await asyncio.to_thread(self._prepare)
        try:
            await asyncio.gather(*(self._launch(instance_id, 0, 0 if self._state.tcp else None, 0 if self._state.udp else None,
                                                timeout_s=timeout_s) for instance_id in self.ids))  # fmt: skip
        except BaseException:
            await self.stop(grace_s=2.0)
            raise
        return self.instances

    def _prepare(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        (self.run_dir / CLUSTER_FILE).unlink(missing_ok=True)
        ff_ensure_data_root(self.data_dir)
        created = FFServiceManager(self.config()).create_api_key(CLUSTER_USER, ["admin"])
        write_api_key(self.run_dir, created.key)
        self._state = replace(self._state, instances=())
        write_state(self.run_dir, self._state)

    async def _launch(self, instance_id: str, http: int, tcp: int | None, udp: int | None, *, timeout_s: float, retry_s: float = 0.0) -> FFClusterInstance:
        spec = FFLaunchSpec(instance_id=instance_id, data_dir=self.data_dir, run_dir=self.run_dir, host=self._state.host,
                            http_port=http, tcp_port=tcp, udp_port=udp, env=self._state.env,
                            config_file=self._state.config_file, environment=self._state.environment)  # fmt: skip
        instance = await launch_instance(spec, timeout_s=timeout_s, retry_bind_s=retry_s, processes=self._processes)
        async with self._lock:
            self._state = self._state.with_instance(instance, self.ids)
            await asyncio.to_thread(write_state, self.run_dir, self._state)
        return instance

    def _alive(self, instance: FFClusterInstance) -> bool:
        self._reap(instance)
        return is_alive(instance.pid, instance.create_time or None)

    def _reap(self, instance: FFClusterInstance) -> None:
        process = self._processes.get(instance.instance_id)
        if process is not None and process.pid == instance.pid:
            process.poll()  # collects the exit status of our own child
        else:
            reap(instance.pid)  # our child even if started by an earlier object of this process

    def signal(self, instance_id: str, sig: int, *, settle_s: float = 1.0) -> None:
        """Send ``sig`` to the instance's process group: SIGKILL a crash, SIGTERM a graceful stop,
        SIGSTOP/SIGCONT a freeze. Raises FFNotFoundError when its process no longer runs (a
        frozen one still does).

        SIGSTOP and SIGCONT return once the process table shows the new state (bounded by
        ``settle_s``), so a status read right after sees the freeze or the thaw."""
        instance = self.instance(instance_id)
        if not self._alive(instance):
            raise FFNotFoundError(f"instance {instance_id} (pid {instance.pid}) is not running", kind="process", key=instance_id)
        os.killpg(instance.pgid, sig)
        wanted = {signals.SIGSTOP: "frozen", signals.SIGCONT: "running"}.get(signals.Signals(sig))
        deadline = time.monotonic() + settle_s
        while wanted is not None and process_state(instance) not in (wanted, "gone") and time.monotonic() < deadline:
            time.sleep(0.002)

    async def wait_gone(self, instance_id: str, *, timeout_s: float = 10.0) -> bool:
        """Wait (bounded) until the instance's whole group has exited; reap it. True if it has."""
        instance = self.instance(instance_id)
        gone = await wait_group_gone(instance.pgid, timeout_s, leader=instance.pid)
        self._reap(instance)
        return gone

    async def restart(self, instance_id: str, *, timeout_s: float = 30.0, grace_s: float = 5.0, retry_bind_s: float = 5.0) -> FFClusterInstance:
        """Start the instance again with the same id and ports (stopping it first if it still
        runs, frozen or not); a port still held is retried for up to ``retry_bind_s``. Returns the
        new instance; raises FFStorageError (with the log's tail) if it cannot start."""
        old = self.instance(instance_id)
        await self._end(old, grace_s)
        return await self._launch(instance_id, old.http_port, old.tcp_port, old.udp_port, timeout_s=timeout_s,
                                  retry_s=min(retry_bind_s, timeout_s))  # fmt: skip

    async def _end(self, instance: FFClusterInstance, grace_s: float) -> None:
        """Stop the instance's group (bounded) and reap its leader; never touch a pid that now
        names another process (it may lead a group of the same number that is not ours)."""
        if not _reused(instance):
            if self._alive(instance) or await asyncio.to_thread(group_members, instance.pgid):
                await end_group(instance.pgid, grace_s=grace_s, leader=instance.pid)
            else:  # already exited (a crash): collect the exit status if it is our child
                await wait_group_gone(instance.pgid, 5.0, leader=instance.pid)
            self._reap(instance)
        for path in (instance.ready_file, instance.pid_file):
            path.unlink(missing_ok=True)

    async def stop(self, *, grace_s: float = 5.0) -> None:
        """SIGCONT + SIGTERM every instance's group, SIGKILL what still runs after ``grace_s``, reap,
        remove the pid and ready files and cluster.json, and revoke the cluster's API key.
        Raises TimeoutError only if a process survives SIGKILL (see ``end_group``).

        What cluster.json names now is stopped too: another object or process (``attach``, e.g.
        ``cluster test``) may have restarted an instance, and only the file knows its new pid."""
        known = {(i.pid, i.instance_id): i for i in self.instances}
        try:
            known.update({(i.pid, i.instance_id): i for i in read_state(self.run_dir).instances})
        except FFError:
            pass  # no file (never started, or already stopped): what this object knows is all there is
        results = await asyncio.gather(*(self._end(i, grace_s) for i in known.values()), return_exceptions=True)
        self._processes.clear()
        (self.run_dir / CLUSTER_FILE).unlink(missing_ok=True)
        await asyncio.to_thread(self._revoke_key)
        for result in results:
            if isinstance(result, BaseException):
                raise result

    def _revoke_key(self) -> None:
        key_file = self.run_dir / "api_key"
        if not key_file.is_file():
            return
        try:
            FFServiceManager(self.config()).revoke_api_key(read_api_key(self.run_dir).split("_")[1])
        except (FFError, IndexError) as exc:  # the processes are gone either way; say why the key stays
            _log.warning("cluster API key not revoked: %s", exc)
        key_file.unlink(missing_ok=True)

    # ------------------------------------------------------------------ health

    async def status(self, *, timeout_s: float = 2.0) -> list[FFInstanceStatus]:
        """Each instance's process state, ``/health/ready`` (bounded by ``timeout_s``) and whether it
        holds a live lease in the instance registry."""
        rows = await asyncio.gather(*(self._probe(i, timeout_s) for i in self.instances))
        registry: set[str] | None = None
        try:
            token = self.token()
        except FFError:
            token = None
        for row in rows:
            if row.ready and token is not None:
                _status, body, _error = await probe_http(row.instance, "/v1/info", timeout_s=timeout_s, token=token)
                if (registry := registry_from_info(body)) is not None:
                    break
        if registry is None:
            registry = await asyncio.to_thread(read_registry_files, self.data_dir)
        return [replace(row, in_registry=row.instance.instance_id in registry) for row in rows]

    async def _probe(self, instance: FFClusterInstance, timeout_s: float) -> FFInstanceStatus:
        self._reap(instance)
        state = process_state(instance)
        if state != "running":
            reason = "process exited" if state == "gone" else "process is stopped (SIGSTOP)"
            return FFInstanceStatus(instance, state, False, None, reason)
        status, body, error = await probe_http(instance, "/health/ready", timeout_s=timeout_s)
        checks = body.get("checks", {}) if isinstance(body, dict) else {}
        if status is not None and status != 200:
            error = "failed: " + ", ".join(sorted(k for k, v in checks.items() if isinstance(v, dict) and not v.get("ok"))) or f"HTTP {status}"
        return FFInstanceStatus(instance, state, status == 200, status, error, checks=checks)

    # ------------------------------------------------------------------ context manager

    async def __aenter__(self) -> FFLocalCluster:
        if not self._state.instances:
            await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.stop()


def _reused(instance: FFClusterInstance) -> bool:
    """Whether the instance's pid now belongs to a process started after it."""
    try:
        return bool(instance.create_time) and abs(psutil.Process(instance.pid).create_time() - instance.create_time) > 0.01
    except psutil.NoSuchProcess:
        return False
