"""What a running local cluster is, on disk: ``<run dir>/cluster.json`` and the per-instance files.

``cluster start`` and ``cluster status|test|stop`` are different processes, so everything the
later ones need is written to the run dir, atomically, each time it changes:

* ``cluster.json``: the data root, the launch options and, per instance, its pid, process group,
  the pid's start time (so a pid the system later gives to another program is never signalled),
  host and ports;
* ``api_key`` (mode 0600): an admin key created at start, for suites and ``status``;
* ``instances/<id>.ready.json``, ``<id>.pid`` and ``<id>.log``: the ready file ``serve`` writes,
  the pid, and the process's stdout and stderr.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from ff_utils.ff_errors import FFCorruptionError, FFNotFoundError, FFValidationError
from ff_utils.ff_file_ops import ff_atomic_write
from ff_utils.ff_json_utils import ff_dumps, ff_read_json

__all__ = [
    "API_KEY_FILE",
    "CLUSTER_FILE",
    "FORMAT_VERSION",
    "FFClusterInstance",
    "FFClusterState",
    "default_run_dir",
    "instance_paths",
    "read_api_key",
    "read_state",
    "write_api_key",
    "write_state",
]

CLUSTER_FILE = "cluster.json"
API_KEY_FILE = "api_key"
FORMAT_VERSION = 1


def default_run_dir(data_dir: Path) -> Path:
    """The run dir when none is given: ``<data dir>/.cluster`` (so ``cluster stop`` finds the cluster
    of a data root with the same ``--data-dir`` that started it)."""
    return Path(data_dir) / ".cluster"


def instance_paths(run_dir: Path, instance_id: str) -> tuple[Path, Path, Path]:
    """(ready file, log file, pid file) of one instance under ``run_dir``."""
    folder = Path(run_dir) / "instances"
    return folder / f"{instance_id}.ready.json", folder / f"{instance_id}.log", folder / f"{instance_id}.pid"


@dataclass(frozen=True, slots=True)
class FFClusterInstance:
    """One ``serve`` process of the cluster, as launched and as its ready file reported it."""

    instance_id: str
    pid: int
    pgid: int
    """Its own process group (pgid == pid): a signal to the group reaches anything it started."""
    create_time: float
    """The process's start time (psutil): with the pid, it names this process and no later one."""
    host: str
    http_port: int
    tcp_port: int | None
    udp_port: int | None
    tls: bool
    ready_file: Path
    log_file: Path
    pid_file: Path

    @property
    def base_url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.http_port}"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for name in ("ready_file", "log_file", "pid_file"):
            data[name] = str(data[name])
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FFClusterInstance:
        return cls(**{**data, **{n: Path(data[n]) for n in ("ready_file", "log_file", "pid_file")}})


@dataclass(frozen=True, slots=True)
class FFClusterState:
    """The whole of ``cluster.json``."""

    data_dir: Path
    host: str
    tcp: bool
    udp: bool
    instances: tuple[FFClusterInstance, ...]
    env: dict[str, str] = field(default_factory=dict)
    """Variables the launcher added to each instance's environment (e.g. ``FF_SERVICE__LEASE_SECONDS``)."""
    config_file: Path | None = None
    environment: str | None = None

    def with_instance(self, instance: FFClusterInstance, order: list[str]) -> FFClusterState:
        """A copy in which ``instance`` replaces the one with its id (or is added), instances kept
        in ``order`` (the cluster's ids), whatever order they got ready in."""
        merged = [i for i in self.instances if i.instance_id != instance.instance_id] + [instance]
        rank = {instance_id: n for n, instance_id in enumerate(order)}
        return replace(self, instances=tuple(sorted(merged, key=lambda i: rank.get(i.instance_id, len(rank)))))

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "data_dir": str(self.data_dir),
            "host": self.host,
            "tcp": self.tcp,
            "udp": self.udp,
            "env": dict(self.env),
            "config_file": str(self.config_file) if self.config_file else None,
            "environment": self.environment,
            "instances": [i.to_json() for i in self.instances],
        }

    @classmethod
    def from_json(cls, data: Any, path: Path) -> FFClusterState:
        if not isinstance(data, dict) or data.get("format") != FORMAT_VERSION:
            raise FFCorruptionError(f"{path} is not a cluster file of format {FORMAT_VERSION}", path=path)
        try:
            return cls(
                data_dir=Path(data["data_dir"]), host=data["host"], tcp=bool(data["tcp"]), udp=bool(data["udp"]),
                instances=tuple(FFClusterInstance.from_json(i) for i in data["instances"]), env=dict(data.get("env") or {}),
                config_file=Path(data["config_file"]) if data.get("config_file") else None, environment=data.get("environment"),
            )  # fmt: skip
        except (KeyError, TypeError) as exc:
            raise FFCorruptionError(f"{path} is not a valid cluster file: {exc!r}", path=path) from exc


def write_state(run_dir: Path, state: FFClusterState) -> None:
    """Replace ``<run_dir>/cluster.json`` atomically."""
    ff_atomic_write(Path(run_dir) / CLUSTER_FILE, ff_dumps(state.to_json(), indent=True) + b"\n")


def read_state(run_dir: Path) -> FFClusterState:
    """The cluster of ``run_dir``. Raises FFNotFoundError when no cluster was started there,
    FFCorruptionError when the file is not one this code wrote."""
    path = Path(run_dir) / CLUSTER_FILE
    if not path.is_file():
        raise FFNotFoundError(f"no cluster in {run_dir} (no {CLUSTER_FILE}; start one with `cluster start`)", kind="cluster", key=str(run_dir))
    return FFClusterState.from_json(ff_read_json(path), path)


def write_api_key(run_dir: Path, key: str) -> Path:
    path = Path(run_dir) / API_KEY_FILE
    ff_atomic_write(path, key.encode() + b"\n", mode=0o600)
    return path


def read_api_key(run_dir: Path) -> str:
    path = Path(run_dir) / API_KEY_FILE
    try:
        key = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise FFNotFoundError(f"no API key in {run_dir}", kind="api_key", key=str(path)) from None
    if os.stat(path).st_mode & 0o077:
        raise FFValidationError(f"{path} is readable by others (mode must be 0600)", field="api_key", path=path)
    return key
