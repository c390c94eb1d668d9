"""Start one ``serve`` process in a process group of its own and wait for its ready file.

The process is started detached (``start_new_session=True``: its own session and process group,
no controlling terminal), with stdin from /dev/null and stdout and stderr appended to its log
file, so it keeps running after the launching command exits and a signal to its group reaches
nothing else. Readiness is the ready file ``serve`` writes atomically once every listener is
bound; a process that exits first is a failed start, and its log's tail is in the error.

A restart asks for the ports the instance had. A port that is still held (a connection in
TIME_WAIT is not, the listeners set SO_REUSEADDR, but a port another program took is) makes
``serve`` exit at once; the launch is retried briefly before giving up.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import orjson
import psutil

from ff_utils.ff_errors import FFStorageError, FFTimeoutError
from ff_utils.ff_file_ops import ff_atomic_write
from testing.cluster._state import FFClusterInstance, instance_paths
from testing.faults.process import end_group, reap

__all__ = ["FFLaunchSpec", "launch_instance", "serve_command"]

_POLL_S = 0.02
_LOG_TAIL_BYTES = 2000
_REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True, slots=True)
class FFLaunchSpec:
    """How to start one instance."""

    instance_id: str
    data_dir: Path
    run_dir: Path
    host: str = "127.0.0.1"
    http_port: int = 0
    tcp_port: int | None = 0
    """None: TCP off."""
    udp_port: int | None = 0
    """None: UDP off."""
    env: Mapping[str, str] | None = None
    config_file: Path | None = None
    environment: str | None = None


def serve_command(spec: FFLaunchSpec, ready_file: Path) -> list[str]:
    """The argv of ``main.py serve`` for ``spec`` (``main.py`` of this checkout; an installed package
    without it runs the same CLI through ``testing.cli.main``)."""
    main_py = _REPO_ROOT / "main.py"
    program = [sys.executable, str(main_py)] if main_py.is_file() else [sys.executable, "-c", "import sys; from testing.cli import main; sys.exit(main())"]
    options: list[str] = []
    if spec.config_file is not None:
        options += ["--config", str(spec.config_file)]
    if spec.environment is not None:
        options += ["--environment", spec.environment]
    port_or_off = lambda port: "off" if port is None else str(port)
    return [
        *program, *options, "serve", "--host", spec.host, "--port", str(spec.http_port),
        "--tcp-port", port_or_off(spec.tcp_port), "--udp-port", port_or_off(spec.udp_port),
        "--data-dir", str(spec.data_dir), "--ready-file", str(ready_file), "--instance-id", spec.instance_id,
    ]  # fmt: skip


def _environment(extra: Mapping[str, str] | None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    env.update(extra or {})
    return env


def _tail(log_file: Path) -> str:
    try:
        with log_file.open("rb") as handle:
            handle.seek(max(0, log_file.stat().st_size - _LOG_TAIL_BYTES))
            return handle.read().decode("utf-8", "replace").strip()
    except OSError:
        return ""


def _spawn(spec: FFLaunchSpec, ready_file: Path, log_file: Path) -> subprocess.Popen[bytes]:
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        log.write(f"--- launch {time.strftime('%Y-%m-%dT%H:%M:%S')} {spec.instance_id}\n".encode())
        log.flush()
        return subprocess.Popen(
            serve_command(spec, ready_file), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            env=_environment(spec.env), start_new_session=True, close_fds=True,
        )  # fmt: skip


async def _wait_ready(process: subprocess.Popen[bytes], ready_file: Path, deadline: float) -> dict | None:
    """The ready file's content once it names ``process``; None if the process exited first.
    Raises FFTimeoutError at ``deadline``."""
    while time.monotonic() < deadline:
        if ready_file.is_file():
            ready = orjson.loads(ready_file.read_bytes())  # written atomically: never torn
            if ready.get("pid") == process.pid:
                return ready
        if process.poll() is not None:
            return None
        await asyncio.sleep(_POLL_S)
    raise FFTimeoutError(f"no ready file {ready_file} within the start timeout")


async def launch_instance(
    spec: FFLaunchSpec, *, timeout_s: float, retry_bind_s: float = 0.0, processes: dict[str, subprocess.Popen[bytes]] | None = None
) -> FFClusterInstance:
    """Start ``spec``'s instance and wait (at most ``timeout_s``) until it is ready.

    ``retry_bind_s``: for how long a process that exits before it is ready is started again (a
    restart on ports another socket still holds). ``processes`` receives the Popen object (so the
    owner can reap it). Raises FFStorageError when the process exits without getting ready (with
    its log's tail), FFTimeoutError when it is not ready in time; either way no process of this
    launch is left running.
    """
    ready_file, log_file, pid_file = instance_paths(spec.run_dir, spec.instance_id)
    deadline = time.monotonic() + timeout_s
    retry_until = time.monotonic() + retry_bind_s
    while True:
        ready_file.unlink(missing_ok=True)  # a stale one from an earlier process must not count
        process = _spawn(spec, ready_file, log_file)
        if processes is not None:
            processes[spec.instance_id] = process
        try:
            ready = await _wait_ready(process, ready_file, deadline)
        except BaseException:
            await end_group(process.pid, grace_s=2.0, leader=process.pid)
            raise
        if ready is not None:
            break
        reap(process.pid)
        if time.monotonic() >= min(retry_until, deadline):
            raise FFStorageError(f"instance {spec.instance_id} exited with {process.returncode} before it was ready: "
                                 f"{_tail(log_file)[-400:] or 'no output'} (log: {log_file})", path=log_file)  # fmt: skip
        await asyncio.sleep(0.1)
    ff_atomic_write(pid_file, f"{process.pid}\n".encode(), fsync=False)
    try:
        create_time = psutil.Process(process.pid).create_time()
    except psutil.NoSuchProcess:
        create_time = 0.0
    return FFClusterInstance(
        instance_id=spec.instance_id, pid=process.pid, pgid=os.getpgid(process.pid) if create_time else process.pid,
        create_time=create_time, host=ready["host"], http_port=ready["http_port"], tcp_port=ready["tcp_port"],
        udp_port=ready["udp_port"], tls=bool(ready["tls"]), ready_file=ready_file, log_file=log_file, pid_file=pid_file,
    )  # fmt: skip
