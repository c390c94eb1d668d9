"""How each instance of a cluster is doing: its process, ``/health/ready``, and the instance registry.

Three views, because each can be wrong alone: a frozen (SIGSTOP) process still exists but answers
nothing; a killed one stays listed in the registry until its lease runs out; a live one can be not
ready (a full disk). ``GET /health/ready`` is bounded by ``timeout_s``: a frozen instance is
reported not ready after that time, never waited on.

The registry is read from ``GET /v1/info`` (the API's contract) of the first instance that
answers; when none does, from the lease files under the data root (the same documents, validated
with the public :class:`FFInstanceDTO`), so ``status`` still says which leases are live.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
from pydantic import ValidationError

from ff_class_configs.ff_service_dtos import FFInstanceDTO
from testing.cluster._state import FFClusterInstance

__all__ = ["FFInstanceStatus", "probe_http", "process_state", "read_registry_files", "registry_from_info"]


@dataclass(frozen=True, slots=True)
class FFInstanceStatus:
    """One row of ``cluster status``."""

    instance: FFClusterInstance
    process: str
    """``running``, ``frozen`` (stopped by a signal) or ``gone`` (exited, killed, or a zombie)."""
    ready: bool
    """``/health/ready`` answered 200."""
    http_status: int | None
    """What ``/health/ready`` answered (None: no answer within the timeout)."""
    error: str = ""
    """Why there was no answer, or which readiness checks failed."""
    in_registry: bool = False
    """The instance holds a live lease in the instance registry."""
    checks: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.process == "running" and self.ready


def process_state(instance: FFClusterInstance) -> str:
    """``running``, ``frozen`` or ``gone`` for the recorded pid (and start time)."""
    try:
        process = psutil.Process(instance.pid)
        if instance.create_time and abs(process.create_time() - instance.create_time) > 0.01:
            return "gone"  # the pid now names another program
        status = process.status()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return "gone"
    if status == psutil.STATUS_ZOMBIE:
        return "gone"
    return "frozen" if status in (psutil.STATUS_STOPPED, psutil.STATUS_TRACING_STOP) else "running"


def _get(url: str, timeout_s: float, token: str | None) -> tuple[int, Any]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as exc:  # 503 not ready still carries the checks
        body = exc.read()
        try:
            return exc.code, json.loads(body or b"null")
        except ValueError:
            return exc.code, None


async def probe_http(instance: FFClusterInstance, path: str, *, timeout_s: float, token: str | None = None) -> tuple[int | None, Any, str]:
    """(status, JSON body, error) of ``GET path`` on ``instance``; status None when it did not answer."""
    try:
        status, body = await asyncio.wait_for(asyncio.to_thread(_get, instance.base_url + path, timeout_s, token), timeout_s + 1)
    except (OSError, TimeoutError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        return None, None, f"{type(reason).__name__}: {reason}" if str(reason) else type(reason).__name__
    return status, body, ""


def registry_from_info(body: Any) -> set[str] | None:
    """The instance ids a ``/v1/info`` answer lists, or None if it is not such an answer."""
    if not isinstance(body, dict) or not isinstance(body.get("instances"), list):
        return None
    return {i["instance_id"] for i in body["instances"] if isinstance(i, dict) and "instance_id" in i}


def read_registry_files(data_dir: Path, *, now: datetime | None = None) -> set[str]:
    """The ids of the instances whose lease file under ``data_dir`` has not expired."""
    folder = Path(data_dir) / "system" / "service" / "instances"
    now = now or datetime.now(UTC)
    live: set[str] = set()
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            entry = FFInstanceDTO.model_validate_json(path.read_bytes())
        except (OSError, ValidationError):
            continue  # torn or foreign: not a live lease
        if entry.lease_expires_at > now:
            live.add(entry.instance_id)
    return live
