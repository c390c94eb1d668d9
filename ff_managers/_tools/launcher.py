"""The supervisor that stands between the tool manager and a tool process (stdlib only).

Run as ``python -I -S -B launcher.py STATUS_FD LIMITS_JSON -- ARGV...``; it is the session
leader the manager spawned (``start_new_session=True``). Why a supervisor instead of ``exec``:

* Resource limits are set in the forked child right before ``execv``, so no ``preexec_fn`` runs
  Python code in a child forked from a multi-threaded manager (that can deadlock).
* It makes itself a *child subreaper* (``PR_SET_CHILD_SUBREAPER``): every process the tool
  spawns stays a descendant of the supervisor even after its parent dies or it calls
  ``setsid()``. When the tool exits, or the manager asks (SIGTERM), the supervisor kills the
  tool's process group in one ``killpg`` (atomic against a fork bomb), kills any re-parented
  escapee, and reaps every one of them, so no orphan or zombie outlives a run. We run as root
  here, where ``RLIMIT_NPROC`` is ignored, so this sweep (with the manager's process watchdog)
  is what contains a fork bomb.
* It reports how the tool ended (exit code or signal, processes reaped) as one JSON line on a
  private pipe the tool never sees, so a tool cannot forge its own exit status.

Exit codes of the supervisor itself: 0 after a report; 126 when limits could not be applied;
127 when the tool could not be executed (both also reported on the status pipe).
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import signal
import sys
import time

__all__ = ["main"]

_PR_SET_CHILD_SUBREAPER = 36
_SWEEP_SECONDS = 2.0


class _Terminate(Exception):
    """Raised from the SIGTERM handler to leave the wait loop and sweep."""


def _on_term(signum: int, frame: object) -> None:
    raise _Terminate()


def _set_subreaper() -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except OSError:
        return False


def _apply_limits(limits: dict[str, int]) -> None:
    for name, value in limits.items():
        which = getattr(resource, name)
        soft = int(value)
        hard = soft + 1 if name == "RLIMIT_CPU" else soft  # SIGXCPU at soft, SIGKILL at hard
        resource.setrlimit(which, (soft, hard))


def _direct_children() -> list[int]:
    pids: list[int] = []
    task_dir = f"/proc/{os.getpid()}/task"
    try:
        for tid in os.listdir(task_dir):
            with open(f"{task_dir}/{tid}/children") as handle:
                pids.extend(int(p) for p in handle.read().split())
    except OSError:
        pass
    return pids


def _reap_nohang() -> tuple[bool, list[tuple[int, int]]]:
    """Reap what has exited; returns (no children left, [(pid, status)])."""
    reaped: list[tuple[int, int]] = []
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return True, reaped
        if pid == 0:
            return False, reaped
        reaped.append((pid, status))


def _sweep(tool_pgid: int) -> int:
    """Kill the tool's group and every re-parented descendant; reap them all. Returns the count."""
    count = 0
    deadline = time.monotonic() + _SWEEP_SECONDS
    while time.monotonic() < deadline:
        try:
            os.killpg(tool_pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        for pid in _direct_children():
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        empty, reaped = _reap_nohang()
        count += len(reaped)
        if empty:
            break
        time.sleep(0.005)
    return count


def _report(status_fd: int, report: dict[str, object]) -> None:
    try:
        os.write(status_fd, json.dumps(report).encode() + b"\n")
    finally:
        os.close(status_fd)


def _decode(status: int) -> dict[str, object]:
    if os.WIFSIGNALED(status):
        return {"exit_code": None, "signal": os.WTERMSIG(status)}
    return {"exit_code": os.WEXITSTATUS(status), "signal": None}


def main(argv: list[str]) -> int:
    status_fd = int(argv[1])
    limits = json.loads(argv[2])
    if argv[3] != "--" or len(argv) < 5:
        _report(status_fd, {"error": "launcher usage: STATUS_FD LIMITS -- ARGV..."})
        return 126
    target = argv[4:]
    signal.signal(signal.SIGTERM, _on_term)
    subreaper = _set_subreaper()
    error_read, error_write = os.pipe()  # the child reports a failed setrlimit/exec here
    pid = os.fork()
    if pid == 0:  # the tool
        try:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.close(status_fd)
            os.close(error_read)
            os.set_inheritable(error_write, False)
            os.setpgid(0, 0)
            os.umask(0o077)
            _apply_limits(limits)
            os.execv(target[0], target)
        except BaseException as exc:  # the child must never return into the supervisor's code
            try:
                os.write(error_write, f"{type(exc).__name__}: {exc}".encode()[:1000])
            finally:
                os._exit(127)
    os.close(error_write)
    try:
        os.setpgid(pid, pid)  # also here, so killpg works even if the child has not run yet
    except (PermissionError, ProcessLookupError):
        pass
    # The supervisor keeps no copy of the tool's stdio: EOF on stdout means the tool is done.
    os.close(0)
    os.close(1)
    report: dict[str, object] = {"tool_pid": pid, "subreaper": subreaper}
    terminated = False
    status: int | None = None
    try:
        while status is None:
            try:
                waited, code = os.waitpid(-1, 0)
            except ChildProcessError:
                break
            if waited == pid:
                status = code
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    except _Terminate:
        terminated = True
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    report["reaped"] = _sweep(pid)
    if status is None:
        # Terminated before the tool ended: the sweep killed and reaped it.
        report.update({"exit_code": None, "signal": int(signal.SIGKILL)})
    else:
        report.update(_decode(status))
    exec_error = os.read(error_read, 1000).decode(errors="replace")
    os.close(error_read)
    if exec_error:
        report["error"] = exec_error
    report["terminated"] = terminated
    _report(status_fd, report)
    return 127 if exec_error else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
