"""Run one tool process in a sandbox: bubblewrap, no shell, clean environment, limits, kill, caps.

The manager calls :func:`ff_run_sandboxed` once per attempt. What it guarantees:

* The command is an argv list given to ``create_subprocess_exec`` (never a shell); arguments
  travel as JSON on stdin.
* With ``isolation="bwrap"`` (the default; see :mod:`ff_managers._core.bwrap` for the walls) the
  tool runs in new PID, network, IPC and UTS namespaces under an unprivileged uid of its own,
  sees the system read-only and can write only ``/work``, a tmpfs of ``work_bytes``. The staged
  files are copied in through a memfd and the work dir's files copied out through another, within
  ``out_cap`` bytes, after every process of the run is gone. With ``isolation="none"`` (only
  when the configuration explicitly allows unsandboxed runs) the tool runs on the host in the
  real work dir, as before: the result says so.
* The child starts through :mod:`ff_managers._core.sandbox_launcher`, a supervisor that sets
  RLIMIT_CPU, RLIMIT_AS, RLIMIT_NPROC, RLIMIT_FSIZE, RLIMIT_NOFILE and RLIMIT_CORE=0 in the
  tool right before ``exec`` and, as PID 1 of the sandbox (a child subreaper on the host),
  kills and reaps every descendant of the tool when it ends (or when asked with SIGTERM). These
  limits, the output cap and the watchdog are the second layer under bubblewrap. The supervisor
  is kept lean (its start-up is most of a trivial run's cost over a bare sandboxed program): its
  code arrives compiled through a sealed memfd and it imports only C modules.
* The environment is built from an allow-list only (PATH, LANG, HOME/TMPDIR = the work dir,
  PYTHONPATH of the tools package); nothing of the parent's environment passes through.
* Wall time: past the limit the run is stopped (SIGTERM to the supervisor, which SIGKILLs the
  tool's group; SIGKILL everything if it does not answer within a second) and reported as
  ``wall_time``. Output: stdout is read in chunks and, past the cap, the run is stopped and the
  output marked truncated; memory stays bounded by the cap. Processes: a watchdog
  (:mod:`ff_managers._tools.watchdog`) counts the supervisor's descendants every few
  milliseconds and stops a run that has more than allowed, because as root RLIMIT_NPROC is
  ignored by the kernel.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ff_class_configs.ff_tool_dtos import FFToolLimitsDTO
from ff_managers._core.bwrap import FF_LAUNCHER_PATH, FFBwrapSpec, FFNetwork, ff_bwrap_argv, ff_launcher_argv, ff_launcher_code_fd
from ff_managers._tools.sandbox_files import ff_read_packed, ff_write_packed
from ff_managers._tools.watchdog import ff_hard_kill, ff_watch_processes
from ff_utils.ff_errors import FFSandboxViolationError
from ff_utils.ff_logging import get_logger

__all__ = [
    "FF_LAUNCHER_PATH",
    "FFSandboxOutcome",
    "FFSandboxRequest",
    "ff_build_environment",
    "ff_rlimits",
    "ff_run_sandboxed",
]

_log = get_logger("tools.sandbox")

_READ_CHUNK = 64 * 1024
_TERM_GRACE_S = 1.0
_READER_GRACE_S = 1.0
_SAFE_PATH = "/usr/local/bin:/usr/bin:/bin"


@dataclass(frozen=True, slots=True)
class FFSandboxRequest:
    """Everything one attempt needs. ``limits`` must have every field set (see ff_effective_limits)."""

    argv: tuple[str, ...]
    stdin: bytes
    cwd: Path
    env: dict[str, str]
    limits: FFToolLimitsDTO
    stderr_tail_bytes: int = 4096
    watchdog_interval: float = 0.02
    isolation: str = "bwrap"
    bwrap: str = "/usr/bin/bwrap"
    network: FFNetwork = "none"
    work_bytes: int = 64 * 1024 * 1024
    read_only: tuple[str, ...] = ()
    files: tuple[tuple[str, bytes], ...] = ()
    out_cap: int = 64 * 1024 * 1024
    uid: int = 65534
    extra: tuple[str, ...] = ()


@dataclass(slots=True)
class FFSandboxOutcome:
    """How one attempt ended, as seen by the manager and reported by the supervisor."""

    exit_code: int | None
    signal: int | None
    stdout: bytes
    stdout_truncated: bool
    stderr_tail: bytes
    duration_s: float
    limit_exceeded: str | None = None
    launch_error: str | None = None
    peak_processes: int = 0
    reaped: int = 0
    supervisor_report: dict[str, object] = field(default_factory=dict)
    isolation: str = "bwrap"
    files: list[tuple[str, bytes]] = field(default_factory=list)


class _ExitAwareProtocol(asyncio.subprocess.SubprocessStreamProtocol):
    """Resolves ``exited`` when the supervisor exits.

    ``Process.wait()`` (Python 3.11) also waits for every pipe to close, which a killed tool's
    escaped descendant could hold open; the run must end on the supervisor's exit alone.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(limit=_READ_CHUNK, loop=loop)
        self.exited: asyncio.Future[None] = loop.create_future()

    def process_exited(self) -> None:
        super().process_exited()
        if not self.exited.done():
            self.exited.set_result(None)


def ff_build_environment(work_dir: Path, *, pythonpath: Path | str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The tool's whole environment: an allow-list, never a filtered copy of ``os.environ``."""
    env = {
        "PATH": _SAFE_PATH,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "HOME": str(work_dir),
        "TMPDIR": str(work_dir),
        "PYTHONPATH": str(pythonpath),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONIOENCODING": "utf-8",
        "PYTHONNOUSERSITE": "1",
    }
    env.update(extra or {})
    return env


def ff_rlimits(limits: FFToolLimitsDTO) -> dict[str, int]:
    """resource.setrlimit values the launcher applies in the tool before exec."""
    return {
        "RLIMIT_CPU": int(limits.cpu_time_seconds or 1),
        "RLIMIT_AS": int(limits.memory_mb or 512) * 1024 * 1024,
        "RLIMIT_NPROC": int(limits.max_processes or 1) + 1,
        "RLIMIT_FSIZE": int(limits.max_file_bytes or 1024 * 1024),
        "RLIMIT_NOFILE": int(limits.max_open_files or 64),
        "RLIMIT_CORE": 0,
    }


def _overhead(request: FFSandboxRequest) -> int:
    """Processes of the sandbox itself below the spawned one: the supervisor, bwrap's sandbox init."""
    return 1 if request.isolation == "bwrap" else 0


async def _feed(stream: asyncio.StreamWriter | None, data: bytes) -> None:
    if stream is None:
        return
    try:
        stream.write(data)
        await stream.drain()
    except (BrokenPipeError, ConnectionResetError):
        pass  # the tool did not read its arguments; its exit status tells the rest
    finally:
        stream.close()


async def _read_capped(stream: asyncio.StreamReader | None, cap: int, on_overflow: Callable[[], None]) -> tuple[bytes, bool]:
    """Keep the first ``cap`` bytes; past that call ``on_overflow`` once and discard the rest.

    Reading goes on (and throws away) until EOF so the pipe closes; memory stays at ``cap``.
    """
    if stream is None:
        return b"", False
    kept = bytearray()
    truncated = False
    while True:
        chunk = await stream.read(_READ_CHUNK)
        if not chunk:
            return bytes(kept), truncated
        if truncated:
            continue
        room = cap - len(kept)
        kept += chunk[:room]
        if len(chunk) > room:
            truncated = True
            on_overflow()


async def _read_tail(stream: asyncio.StreamReader | None, keep: int) -> bytes:
    """Drain ``stream`` and keep only its last ``keep`` bytes."""
    if stream is None:
        return b""
    tail = bytearray()
    while True:
        chunk = await stream.read(_READ_CHUNK)
        if not chunk:
            return bytes(tail)
        tail += chunk
        if len(tail) > keep:
            del tail[: len(tail) - keep]


async def _stop(process: asyncio.subprocess.Process, protocol: _ExitAwareProtocol) -> None:
    """Ask the supervisor to kill and reap the tool; force it if it does not within the grace."""
    try:
        os.kill(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        await asyncio.wait_for(asyncio.shield(protocol.exited), timeout=_TERM_GRACE_S)
    except TimeoutError:
        _log.warning("supervisor %d ignored SIGTERM; killing its process tree", process.pid)
        await asyncio.to_thread(ff_hard_kill, process.pid)
        await protocol.exited


def _read_report(fd: int) -> dict[str, object]:
    try:
        raw = os.read(fd, 64 * 1024)
    finally:
        os.close(fd)
    if not raw.strip():
        return {}
    try:
        report = json.loads(raw.decode("utf-8", errors="replace").splitlines()[0])
    except (json.JSONDecodeError, IndexError):
        return {}
    return report if isinstance(report, dict) else {}


def _limit_from_exit(signal_number: int | None, stderr_tail: bytes) -> str | None:
    if signal_number == signal.SIGXCPU:
        return "cpu_time"
    if signal_number == signal.SIGXFSZ:
        return "file_size"
    if b"MemoryError" in stderr_tail or b"Cannot allocate memory" in stderr_tail:
        return "memory"
    if b"File too large" in stderr_tail:  # Python ignores SIGXFSZ: the write fails with EFBIG
        return "file_size"
    return None


def _command(request: FFSandboxRequest, status_fd: int, in_fd: int | None, out_fd: int | None) -> list[str]:
    """The launcher command line, inside bwrap unless the run is explicitly unsandboxed."""
    settings: dict[str, object] = {"status_fd": status_fd, "limits": ff_rlimits(request.limits)}
    if request.isolation != "bwrap":
        settings["network"] = "host"
        return ff_launcher_argv(settings, request.argv)
    settings.update(
        uid=request.uid, gid=request.uid, in_fd=in_fd, out_fd=out_fd, out_cap=request.out_cap, network=request.network
    )
    launcher = ff_launcher_argv(settings, request.argv)
    spec = FFBwrapSpec(
        bwrap=request.bwrap,
        work_bytes=request.work_bytes,
        env=request.env,
        read_only=request.read_only,
        network=request.network,
        extra=request.extra,
        init=True,
    )
    return ff_bwrap_argv(spec, launcher)


async def ff_run_sandboxed(request: FFSandboxRequest) -> FFSandboxOutcome:
    """Run one attempt and return how it ended. Never raises for anything the tool does.

    Raises FFSandboxViolationError only when the supervisor (or bwrap) itself cannot be started.
    """
    status_read, status_write = os.pipe()
    sandboxed = request.isolation == "bwrap"
    in_fd = ff_write_packed(request.files) if sandboxed and request.files else None
    out_fd = os.memfd_create("ff-tool-out", os.MFD_CLOEXEC) if sandboxed else None
    passed = tuple(fd for fd in (status_write, in_fd, out_fd, ff_launcher_code_fd()) if fd is not None)
    command = _command(request, status_write, in_fd, out_fd)
    loop = asyncio.get_running_loop()
    started = time.monotonic()
    try:
        try:
            transport, protocol = await loop.subprocess_exec(
                lambda: _ExitAwareProtocol(loop),
                *command,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                cwd=request.cwd if not sandboxed else "/",
                env=request.env if not sandboxed else {},
                start_new_session=True,
                pass_fds=passed,
            )
        except OSError as exc:
            os.close(status_read)
            raise FFSandboxViolationError(f"cannot start the tool supervisor: {exc}") from exc
        finally:
            for fd in (status_write, in_fd):
                if fd is not None:
                    os.close(fd)
        process = asyncio.subprocess.Process(transport, protocol, loop)
        try:
            outcome = await _supervise(process, protocol, request, started, status_read)
        finally:
            transport.close()
        outcome.isolation = request.isolation
        if out_fd is not None and outcome.supervisor_report.get("files_out"):
            outcome.files = await asyncio.to_thread(ff_read_packed, out_fd, request.out_cap)
        return outcome
    finally:
        if out_fd is not None:
            os.close(out_fd)


async def _supervise(
    process: asyncio.subprocess.Process,
    protocol: _ExitAwareProtocol,
    request: FFSandboxRequest,
    started: float,
    status_read: int,
) -> FFSandboxOutcome:
    limits = request.limits
    reasons: list[str] = []
    stop_event = asyncio.Event()

    def trip(reason: str) -> None:
        if not reasons:
            reasons.append(reason)
        stop_event.set()

    peak = [0]
    feeder = asyncio.create_task(_feed(process.stdin, request.stdin))
    out_task = asyncio.create_task(_read_capped(process.stdout, int(limits.max_output_bytes or 0), lambda: trip("output")))
    err_task = asyncio.create_task(_read_tail(process.stderr, request.stderr_tail_bytes))
    watcher = asyncio.create_task(
        ff_watch_processes(process.pid, int(limits.max_processes or 1) + _overhead(request), request.watchdog_interval, trip, peak)
    )
    waiter = asyncio.ensure_future(protocol.exited)
    stopper = asyncio.create_task(stop_event.wait())
    try:
        done, _ = await asyncio.wait({waiter, stopper}, timeout=limits.wall_time_seconds, return_when=asyncio.FIRST_COMPLETED)
        if waiter not in done:
            if not reasons:
                trip("wall_time")
            await _stop(process, protocol)
        await waiter
        duration = time.monotonic() - started
    finally:
        for task in (watcher, stopper):
            task.cancel()
        if not waiter.done():  # cancelled from outside: never leave a tool running
            await asyncio.shield(_stop(process, protocol))
    try:
        (stdout, truncated), stderr_tail = await asyncio.wait_for(asyncio.gather(out_task, err_task), _READER_GRACE_S)
    except TimeoutError:
        # A descendant that escaped the sweep still holds a pipe: keep what was read.
        out_task.cancel()
        err_task.cancel()
        stdout, truncated, stderr_tail = b"", reasons[:1] == ["output"], b""
    feeder.cancel()
    report = _read_report(status_read)
    returncode = process.returncode
    exit_code = report.get("exit_code") if report else returncode
    signal_number = report.get("signal") if report else (-returncode if (returncode or 0) < 0 else None)
    limit = reasons[0] if reasons else _limit_from_exit(signal_number if isinstance(signal_number, int) else None, stderr_tail)
    if limit is None and report.get("work_dir_full"):
        limit = "work_dir_size"
    launch_error = report.get("error") if isinstance(report.get("error"), str) else None
    if not report and not reasons:
        launch_error = f"supervisor ended without a report (exit status {returncode})"
    reaped = report.get("reaped", 0)
    return FFSandboxOutcome(
        exit_code=exit_code if isinstance(exit_code, int) else None,
        signal=signal_number if isinstance(signal_number, int) else None,
        stdout=stdout,
        stdout_truncated=truncated,
        stderr_tail=stderr_tail,
        duration_s=duration,
        limit_exceeded=limit,
        launch_error=launch_error,
        peak_processes=max(0, peak[0] - _overhead(request)),
        reaped=reaped if isinstance(reaped, int) else 0,
        supervisor_report=report,
    )
