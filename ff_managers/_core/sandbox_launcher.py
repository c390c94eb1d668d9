"""The supervisor that stands between a manager and a sandboxed program (stdlib only, lean imports).

Started as ``python -I -S -B -c BOOTSTRAP SETTINGS -- ARGV...`` (``SETTINGS`` from
:func:`encode_settings`): the bootstrap unmarshals this module's code and that of its file
frames (:mod:`ff_managers._core.sandbox_frames`), compiled once by the manager, from a sealed
memfd (:func:`ff_managers._core.bwrap.ff_launcher_code_fd`), runs both in one namespace and calls
:func:`main`. Under bubblewrap it is started with ``--as-pid-1``: it *is* the init of the
sandbox's PID namespace, running as root inside the sandbox with only the capabilities bwrap was
told to keep (setuid/setgid, kill, read-search; net-admin only when it must take ``lo`` down);
outside a sandbox (explicitly allowed unsandboxed runs) it is the session leader the manager
spawned. Why a supervisor that forks, instead of one that execs the program:

* It makes sure the loopback interface is down when the program may have no network at all
  (a namespace from ``unshare --net`` starts so; bwrap's comes with ``lo`` up and it is taken
  down), so "no network" means no interface is up.
* The program is forked, moved to an unprivileged uid/gid of its own (all capabilities go with
  the uid change, and bwrap set ``no_new_privs``), given the staged input files, and limited by
  RLIMIT_* right before ``execv``: no ``preexec_fn`` runs Python code in a child forked from a
  multi-threaded manager. The program cannot signal the supervisor (another uid, no CAP_KILL;
  and as the namespace's init it gets no signal from inside it that it did not ask for).
* Every process the program spawns stays its descendant even after a double fork: as PID 1 of
  the namespace it is where orphans go (on the host it asks for ``PR_SET_CHILD_SUBREAPER``). When
  the program exits, or the manager asks (SIGTERM), it kills the program's process group and
  every re-parented escapee and reaps them. Under bwrap the PID namespace is the second wall:
  when its init (this process) goes, the kernel kills every process left in the namespace.
* After the program and its descendants are gone, it copies the regular files of the sandbox's
  size-capped work dir (a tmpfs) out through a descriptor the program never saw, up to a byte
  cap, never following a symlink; the manager writes them back. This is the work that rules out
  exec'ing the program in place: the tmpfs lives only as long as a process of the sandbox does,
  so someone must outlive the program in it.
* It reports how the program ended (exit code or signal, processes reaped) as one JSON line on a
  private descriptor, so a program cannot forge its own exit status (bwrap's own status would
  fold a signal into ``128 + signal``, which a program can fake with ``exit(152)``).

Why the imports are lean: this interpreter starts for every tool run, and its start-up is most of
what a run costs over a bare sandboxed program (the Performance issue's target is 50 ms at p95).
``json``, ``signal``, ``socket`` and ``ctypes`` cost about 10 ms together (``re``, ``enum``), and even
``os`` about 2 ms of CPU; the C modules under them (``posix``, ``_signal``, ``_socket``, ``fcntl``,
``resource``) cost a fraction of that, so the settings arrive as ``key=value`` words, the report is
written by :func:`_dumps`, the file frames have plain-text headers and folders are listed with
``posix.scandir``. ``ctypes`` is imported only on the host, for the subreaper.

Exit codes of the supervisor itself: 0 after a report; 126 when the setup failed; 127 when the
program could not be executed (both also reported on the status descriptor).
"""

import _signal
import fcntl
import posix
import resource
import sys
import time

__all__ = ["decode_settings", "encode_settings", "main", "pack_files", "unpack_files"]

# In a sandbox the supervisor is one code blob: sandbox_frames' code ran first, in this namespace
# (ff_managers is not importable there). Imported as a module on the host, it is imported.
if "unpack_files" not in globals():
    from ff_managers._core.sandbox_frames import pack_files, unpack_files

_PR_SET_CHILD_SUBREAPER = 36
_SIOCGIFFLAGS = 0x8913
_SIOCSIFFLAGS = 0x8914
_IFF_UP = 0x1
_SWEEP_SECONDS = 2.0
_NETWORKS = ("none", "loopback", "host")


class _Terminate(Exception):
    """Raised from the SIGTERM handler to leave the wait loop and sweep."""


def _on_term(signum: int, frame: object) -> None:
    raise _Terminate()


# ---------------------------------------------------------------------- settings and report


def encode_settings(settings: dict[str, object]) -> str:
    """The one argv word :func:`decode_settings` reads: ``key=value`` pairs joined by commas.

    Values are ints, None (left out) or one of the network words; ``limits`` is a dict of
    ``RLIMIT_*`` names to ints. Anything else is a bug of the caller: ValueError.
    """
    words = []
    flat: dict[str, object] = {k: v for k, v in settings.items() if k != "limits"}
    limits = settings.get("limits") or {}
    if not isinstance(limits, dict):
        raise TypeError(f"launcher limits must be a dict, not {type(limits).__name__}")
    flat.update(limits)
    for key, value in flat.items():
        if value is None:
            continue
        if isinstance(value, bool) or not (isinstance(value, int) or value in _NETWORKS):
            raise ValueError(f"launcher setting {key}={value!r} is not an int or a network word")
        words.append(f"{key}={value}")
    return ",".join(words)


def decode_settings(word: str) -> dict[str, object]:
    """The settings :func:`encode_settings` wrote; ``RLIMIT_*`` keys are gathered under ``limits``."""
    settings: dict[str, object] = {}
    limits: dict[str, int] = {}
    for pair in word.split(",") if word else ():
        key, _, value = pair.partition("=")
        if key.startswith("RLIMIT_"):
            limits[key] = int(value)
        else:
            settings[key] = value if value in _NETWORKS else int(value)
    settings["limits"] = limits
    return settings


def _quote(text: str) -> str:
    """A JSON string literal of ``text`` (ASCII only, so any decoder reads it)."""
    out = ['"']
    for char in text:
        code = ord(char)
        if char in '"\\':
            out.append("\\" + char)
        elif 0x20 <= code < 0x7F:
            out.append(char)
        elif code > 0xFFFF:
            code -= 0x10000
            out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
        else:
            out.append(f"\\u{code:04x}")
    out.append('"')
    return "".join(out)


def _dumps(report: dict[str, object]) -> str:
    """The report as one JSON object: values are None, bools, ints or strings."""
    parts = []
    for key, value in report.items():
        if value is None:
            text = "null"
        elif value is True or value is False:
            text = "true" if value else "false"
        elif isinstance(value, int):
            text = str(int(value))
        else:
            text = _quote(str(value))
        parts.append(f"{_quote(key)}: {text}")
    return "{" + ", ".join(parts) + "}"


# ---------------------------------------------------------------------- set-up


def _set_subreaper() -> bool:
    """Orphans of the program come back to us; free (and not needed) as the namespace's init."""
    if posix.getpid() == 1:
        return True
    try:
        import ctypes  # only on the host: about 2 ms of imports a sandboxed run does not pay

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except OSError:
        return False


def _loopback_down() -> None:
    """Make sure ``lo`` is down in the sandbox's own network namespace: no interface is left up.

    A namespace made by ``unshare --net`` starts with it down: only a flag is read then. One
    made by bwrap has it up: it is taken down (CAP_NET_ADMIN, which bwrap keeps only then).
    """
    import _socket

    sock = _socket.socket(_socket.AF_INET, _socket.SOCK_DGRAM)
    try:
        request = b"lo".ljust(16, b"\0") + b"\0" * 24  # struct ifreq: the name, then ifr_flags
        flags = int.from_bytes(fcntl.ioctl(sock.fileno(), _SIOCGIFFLAGS, request)[16:18], sys.byteorder)
        if flags & _IFF_UP:
            fcntl.ioctl(sock.fileno(), _SIOCSIFFLAGS, request)  # ifr_flags = 0: down
    finally:
        sock.close()


def _apply_limits(limits: dict[str, int]) -> None:
    for name, value in limits.items():
        which = getattr(resource, name)
        soft = int(value)
        hard = soft + 1 if name == "RLIMIT_CPU" else soft  # SIGXCPU at soft, SIGKILL at hard
        resource.setrlimit(which, (soft, hard))


def _drop_privileges(uid: int, gid: int) -> None:
    posix.setgroups([])
    posix.setresgid(gid, gid, gid)
    posix.setresuid(uid, uid, uid)  # from uid 0 to another uid: every capability is cleared
    if posix.getuid() != uid or posix.geteuid() != uid:
        raise PermissionError(f"could not become uid {uid}")


# ---------------------------------------------------------------------- the end of a run


def _direct_children() -> list[int]:
    pids: list[int] = []
    task_dir = f"/proc/{posix.getpid()}/task"
    try:
        for tid in posix.listdir(task_dir):
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
            pid, status = posix.waitpid(-1, posix.WNOHANG)
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
            posix.killpg(tool_pgid, _signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        for pid in _direct_children():
            try:
                posix.kill(pid, _signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        empty, reaped = _reap_nohang()
        count += len(reaped)
        if empty:
            break
        time.sleep(0.005)
    return count


def _work_dir_full() -> bool:
    try:
        info = posix.statvfs(posix.getcwd())
    except OSError:
        return False
    return info.f_bavail * info.f_frsize < 64 * 1024


def _report(status_fd: int, report: dict[str, object]) -> None:
    try:
        posix.write(status_fd, _dumps(report).encode() + b"\n")
    finally:
        posix.close(status_fd)


def _decode(status: int) -> dict[str, object]:
    if posix.WIFSIGNALED(status):
        return {"exit_code": None, "signal": posix.WTERMSIG(status)}
    return {"exit_code": posix.WEXITSTATUS(status), "signal": None}


def _child(settings: dict[str, object], target: list[str], error_write: int) -> None:
    """The forked program: own group, unprivileged, inputs staged, limited, then exec. Never returns."""
    try:
        _signal.signal(_signal.SIGTERM, _signal.SIG_DFL)
        for fd in (settings["status_fd"], settings.get("out_fd")):
            if isinstance(fd, int):
                posix.close(fd)
        posix.set_inheritable(error_write, False)
        posix.setpgid(0, 0)
        posix.umask(0o077)
        if settings.get("uid") is not None:
            posix.unsetenv("PWD")  # bwrap's --chdir sets it; the environment is the manager's allow-list only
            _drop_privileges(int(settings["uid"]), int(settings["gid"]))  # type: ignore[arg-type]
        in_fd = settings.get("in_fd")
        if isinstance(in_fd, int):
            unpack_files(in_fd, posix.getcwd())
            posix.close(in_fd)
        _apply_limits(settings["limits"])  # type: ignore[arg-type]
        posix.execv(target[0], target)
    except BaseException as exc:  # the child must never return into the supervisor's code
        try:
            posix.write(error_write, f"{type(exc).__name__}: {exc}".encode()[:1000])
        finally:
            posix._exit(127)


def _setup(settings: dict[str, object]) -> str | None:
    """Network set-up; the error text when the sandbox cannot be made as asked."""
    if settings.get("network") == "none":
        try:
            _loopback_down()
        except OSError as exc:
            return f"could not take the loopback interface down: {exc}"
    return None


def main(argv: list[str]) -> int:
    settings = decode_settings(argv[1])
    status_fd = int(settings["status_fd"])  # type: ignore[call-overload]
    if argv[2] != "--" or len(argv) < 4:
        _report(status_fd, {"error": "launcher usage: SETTINGS -- ARGV..."})
        return 126
    setup_error = _setup(settings)
    if setup_error:
        _report(status_fd, {"error": setup_error, "setup_failed": True})
        return 126
    target = argv[3:]
    _signal.signal(_signal.SIGTERM, _on_term)
    subreaper = _set_subreaper()
    error_read, error_write = posix.pipe()  # the child reports a failed set-up/exec here
    pid = posix.fork()
    if pid == 0:  # the program
        posix.close(error_read)
        _child(settings, target, error_write)
    posix.close(error_write)
    try:
        posix.setpgid(pid, pid)  # also here, so killpg works even if the child has not run yet
    except (PermissionError, ProcessLookupError):
        pass
    # The supervisor keeps no copy of the program's stdio: EOF on stdout means it is done.
    posix.close(0)
    posix.close(1)
    report: dict[str, object] = {"tool_pid": pid, "subreaper": subreaper, "uid": settings.get("uid")}
    terminated = False
    status: int | None = None
    try:
        while status is None:
            try:
                waited, code = posix.waitpid(-1, 0)
            except ChildProcessError:
                break
            if waited == pid:
                status = code
        _signal.signal(_signal.SIGTERM, _signal.SIG_IGN)
    except _Terminate:
        terminated = True
        _signal.signal(_signal.SIGTERM, _signal.SIG_IGN)
    report["reaped"] = _sweep(pid)
    if status is None:
        # Terminated before the program ended: the sweep killed and reaped it.
        report.update({"exit_code": None, "signal": int(_signal.SIGKILL)})
    else:
        report.update(_decode(status))
    exec_error = posix.read(error_read, 1000).decode(errors="replace")
    posix.close(error_read)
    if exec_error:
        report["error"] = exec_error
    out_fd = settings.get("out_fd")
    if isinstance(out_fd, int) and _work_dir_full():
        report["work_dir_full"] = True  # the program hit the size cap: nothing of it is copied back
    elif isinstance(out_fd, int) and not terminated and not exec_error:
        try:
            report.update(pack_files(posix.getcwd(), out_fd, int(settings.get("out_cap") or 0)))  # type: ignore[call-overload]
        except OSError as exc:
            report["copy_error"] = f"{type(exc).__name__}: {exc}"
    report["terminated"] = terminated
    _report(status_fd, report)
    return 127 if exec_error else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
