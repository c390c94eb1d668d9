"""Run a Python program of ours in a sandboxed child with limits, from blocking code.

Why: work on untrusted input whose cost can explode (a PDF whose few kilobytes expand to tens of
megabytes of text, a flate bomb) must not grow the manager's own process. The knowledge base's
extraction (and any other manager's) hands the input to :func:`ff_run_python_child`: the child
is the shared supervisor (:mod:`ff_managers._core.sandbox_launcher`) under bubblewrap when it can
sandbox here (:mod:`ff_managers._core.bwrap`), with RLIMIT_CPU / RLIMIT_AS / RLIMIT_FSIZE /
RLIMIT_NPROC and a wall-time kill either way. Without bubblewrap the same child runs on the host
with the limits only, unless the caller requires the sandbox. The function is blocking (it is
called from the managers' I/O threads) and returns the child's stdout, cut at ``max_output``.

It lives in ``_core`` because tools and knowledge both use the same walls and neither may
import the other.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ff_managers._core.bwrap import (
    FFBwrapSpec,
    ff_bwrap_argv,
    ff_bwrap_problem,
    ff_launcher_argv,
    ff_launcher_code_fd,
    ff_resolve_bwrap,
)
from ff_utils.ff_errors import FFSandboxViolationError

__all__ = ["FFChildLimits", "FFChildResult", "ff_run_python_child"]

_UID = 65534
_OUTPUT_CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class FFChildLimits:
    """What one child may use."""

    cpu_seconds: int
    memory_mb: int
    wall_seconds: float
    max_output: int
    work_mb: int = 8


@dataclass(frozen=True, slots=True)
class FFChildResult:
    """How the child ended: stdout (cut at the cap), exit code or signal, the limit it hit, if known."""

    stdout: bytes
    exit_code: int | None
    signal: int | None
    limit: str | None
    sandboxed: bool
    stderr_tail: bytes
    duration_s: float


def _rlimits(limits: FFChildLimits) -> dict[str, int]:
    return {
        "RLIMIT_CPU": int(limits.cpu_seconds),
        "RLIMIT_AS": int(limits.memory_mb) * 1024 * 1024,
        "RLIMIT_FSIZE": 1024 * 1024,
        "RLIMIT_NPROC": 64,
        "RLIMIT_CORE": 0,
    }


def _command(argv: Sequence[str], limits: FFChildLimits, status_fd: int, bwrap: str | None, read_only: Sequence[str]) -> list[str]:
    settings: dict[str, object] = {"status_fd": status_fd, "limits": _rlimits(limits)}
    if bwrap is None:
        settings["network"] = "host"
        return ff_launcher_argv(settings, argv)
    settings.update(uid=_UID, gid=_UID, network="none")
    launcher = ff_launcher_argv(settings, argv)
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "HOME": "/ffwork", "PYTHONDONTWRITEBYTECODE": "1"}
    spec = FFBwrapSpec(
        bwrap=bwrap, work_bytes=limits.work_mb * 1024 * 1024, env=env, read_only=tuple(read_only), init=True
    )
    return ff_bwrap_argv(spec, launcher)


def _limit_of(signal_number: int | None, exit_code: int | None, stderr: bytes, timed_out: bool) -> str | None:
    if timed_out:
        return "wall_time"
    if signal_number in (signal.SIGXCPU, signal.SIGKILL) and not timed_out:
        return "cpu_time" if signal_number == signal.SIGXCPU else None
    if b"MemoryError" in stderr or b"Cannot allocate memory" in stderr:
        return "memory"
    return None


def ff_run_python_child(
    script: Path,
    stdin: bytes,
    *,
    args: Sequence[str] = (),
    limits: FFChildLimits,
    bwrap_path: str = "/usr/bin/bwrap",
    require_sandbox: bool = False,
    read_only: Sequence[str] = (),
) -> FFChildResult:
    """Run ``python -I -B script ARGS`` with ``stdin``; blocking. See the module docstring.

    Raises FFSandboxViolationError only when ``require_sandbox`` and bubblewrap cannot sandbox.
    """
    bwrap = ff_resolve_bwrap(bwrap_path)
    problem = ff_bwrap_problem(bwrap)
    if problem is not None:
        if require_sandbox:
            raise FFSandboxViolationError(f"cannot run the sandboxed child: {problem}")
        bwrap = None
    argv = [sys.executable, "-I", "-B", str(script), *args]
    status_read, status_write = os.pipe()
    command = _command(argv, limits, status_write, bwrap, [str(script), *read_only])
    started = time.monotonic()
    try:
        process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            pass_fds=(status_write, ff_launcher_code_fd()), env={} if bwrap else {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
            cwd="/" if bwrap else None, start_new_session=True,
        )  # fmt: skip
    except OSError as exc:
        os.close(status_read)
        raise FFSandboxViolationError(f"cannot start the sandboxed child: {exc}") from exc
    finally:
        os.close(status_write)
    timed_out = False
    try:
        stdout, stderr = process.communicate(stdin, timeout=limits.wall_seconds)
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    with os.fdopen(status_read, "rb") as status:
        raw = status.read(64 * 1024)
    try:
        report = json.loads(raw.decode("utf-8", errors="replace").splitlines()[0]) if raw.strip() else {}
    except (json.JSONDecodeError, IndexError):
        report = {}
    exit_code = report.get("exit_code") if report else process.returncode
    signal_number = report.get("signal") if report else None
    tail = stderr[-4096:]
    return FFChildResult(
        stdout=stdout[: limits.max_output],
        exit_code=exit_code if isinstance(exit_code, int) else None,
        signal=signal_number if isinstance(signal_number, int) else None,
        limit=_limit_of(signal_number if isinstance(signal_number, int) else None, exit_code, tail, timed_out),
        sandboxed=bwrap is not None,
        stderr_tail=tail,
        duration_s=time.monotonic() - started,
    )
