"""Start Locust master and workers as subprocesses in ONE process group, bounded, always reaped.

Locust is never imported here (it monkey-patches the standard library through gevent): this
module builds ``python -m locust ...`` command lines from Locust's documented flags (``--headless
--master --master-bind-host --master-bind-port --expect-workers --expect-workers-max-wait -u -r -t
--csv --host``; ``--worker --master-host --master-port``) and runs them.

Process handling: the master starts in a new process group (``process_group=0``, same session,
so it stays in the background of a terminal and Ctrl+C reaches only our CLI), the local workers
join that group, so one ``killpg`` reaches all of them and anything they started. The master is
given ``expect-workers wait + run time + stop timeout + grace``; past that the group is ended
(SIGTERM, then SIGKILL) and FFTimeoutError raised. Leaving by any exception (a failed start,
Ctrl+C, cancellation) ends the group too, so no Locust process outlives the command.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from ff_utils.ff_errors import FFNotFoundError, FFTimeoutError
from testing.faults.process import end_group

__all__ = ["LOCUSTFILE", "FFLocustSpec", "free_port", "locust_version", "master_command", "run_local", "run_master", "run_worker", "worker_command"]

LOCUSTFILE = Path(__file__).resolve().parent / "locust_users" / "locustfile.py"
"""In a folder without ``__init__.py`` on purpose: package walkers (pkgutil, tests/test_exported_members.py)
then never import it, and so never import Locust into their process."""
GRACE_S = 30.0
"""Beyond the planned time: Locust's start-up (a second or two per process on a busy machine) and shutdown."""


def locust_version() -> str:
    """The installed Locust's version, read from its metadata (importing it would patch this process).
    Raises FFNotFoundError when it is not installed (it is in the ``scale`` extra)."""
    try:
        return metadata.version("locust")
    except metadata.PackageNotFoundError:
        raise FFNotFoundError("Locust is not installed: pip install 'ff-platform[scale]' (or 'locust>=2.47,<3')",
                              kind="package", key="locust") from None  # fmt: skip


def free_port(host: str = "127.0.0.1") -> int:
    """A port free on ``host`` now (the master binds it a moment later; a clash fails its start loudly)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True, slots=True)
class FFLocustSpec:
    """One distributed Locust run."""

    targets: tuple[str, ...]
    """Base URLs of the serve instances; users are spread over them round robin."""
    users: int
    rate: float
    """Requests per second over all users (each user is paced to rate / users)."""
    duration: int
    """Run time in whole seconds (Locust's ``-t``)."""
    workers: int
    csv_prefix: Path
    master_host: str = "127.0.0.1"
    master_port: int = 5557
    expect_workers_wait: int = 60
    stop_timeout: int = 5

    @property
    def budget_s(self) -> float:
        """How long the master may take from start to exit before it is ended."""
        return self.expect_workers_wait + self.duration + self.stop_timeout + GRACE_S


def _locust() -> list[str]:
    return [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE)]


def master_command(spec: FFLocustSpec) -> list[str]:
    return [
        *_locust(), "--headless", "--master", "--master-bind-host", spec.master_host, "--master-bind-port", str(spec.master_port),
        "--expect-workers", str(spec.workers), "--expect-workers-max-wait", str(spec.expect_workers_wait),
        "-u", str(spec.users), "-r", str(spec.users), "-t", f"{spec.duration}s", "--stop-timeout", str(spec.stop_timeout),
        "--csv", str(spec.csv_prefix), "--host", spec.targets[0], "--ff-targets", ",".join(spec.targets), "--only-summary",
        "--ff-rate-per-user", repr(spec.rate / spec.users),
    ]  # fmt: skip


def worker_command(master_host: str, master_port: int) -> list[str]:
    return [*_locust(), "--worker", "--master-host", master_host, "--master-port", str(master_port)]


def _spawn(command: list[str], log: Path, env: Mapping[str, str], group: int) -> subprocess.Popen[bytes]:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        return subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=dict(env),
                                process_group=group, close_fds=True)  # fmt: skip


_POLL_S = 0.05


async def _wait(process: subprocess.Popen[bytes], timeout_s: float, what: str) -> int:
    """The process's exit code, polled on the loop: no thread is left blocked in ``wait`` when the
    caller is cancelled (Ctrl-C), so leaving never waits for one (it could have for the whole
    budget, minutes, if ending the group failed)."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while (code := process.poll()) is None:
        if asyncio.get_running_loop().time() >= deadline:
            raise FFTimeoutError(f"{what} still ran {timeout_s:.0f} s after it started (bound: wait for workers + run time + grace)")
        await asyncio.sleep(_POLL_S)
    return code


async def _supervise(master: subprocess.Popen[bytes], workers: list[subprocess.Popen[bytes]], budget_s: float) -> int:
    """Wait for the master (bounded), then its workers (which quit when it does); end the group whatever happens."""
    try:
        code = await _wait(master, budget_s, "the Locust master")
        for worker in workers:
            await _wait(worker, GRACE_S, "a Locust worker")
        return code
    finally:
        await end_group(master.pid, grace_s=5.0, leader=master.pid)
        for process in (master, *workers):
            if process.poll() is None:  # a member that left the group (it never does): end it alone
                process.kill()
            await _wait(process, 10, "a killed Locust process")


def _environment(extra: Mapping[str, str]) -> dict[str, str]:
    return {**os.environ, **extra}


async def run_local(spec: FFLocustSpec, log_dir: Path, env: Mapping[str, str]) -> int:
    """A master and ``spec.workers`` workers on this machine (loopback); the master's exit code."""
    environment = _environment(env)
    master = _spawn(master_command(spec), log_dir / "locust-master.log", environment, 0)
    workers: list[subprocess.Popen[bytes]] = []
    try:
        for i in range(spec.workers):
            workers.append(_spawn(worker_command(spec.master_host, spec.master_port), log_dir / f"locust-worker-{i}.log",
                                  environment, master.pid))  # fmt: skip
    except BaseException:
        await _supervise_failed_start(master, workers)
        raise
    return await _supervise(master, workers, spec.budget_s)


async def _supervise_failed_start(master: subprocess.Popen[bytes], workers: list[subprocess.Popen[bytes]]) -> None:
    await end_group(master.pid, grace_s=2.0, leader=master.pid)
    for process in (master, *workers):
        await _wait(process, 10, "a killed Locust process")


async def run_master(spec: FFLocustSpec, log_dir: Path, env: Mapping[str, str]) -> int:
    """Only the master, waiting for ``spec.workers`` workers from other machines; its exit code."""
    master = _spawn(master_command(spec), log_dir / "locust-master.log", _environment(env), 0)
    return await _supervise(master, [], spec.budget_s)


async def run_worker(master_host: str, master_port: int, log_dir: Path, timeout_s: float) -> int:
    """One worker for a master elsewhere; it quits when the master does (bounded by ``timeout_s``)."""
    worker = _spawn(worker_command(master_host, master_port), log_dir / "locust-worker.log", _environment({}), 0)
    return await _supervise(worker, [], timeout_s)


