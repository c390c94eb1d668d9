"""The bubblewrap command line every sandboxed child of a manager is started with, and its probe.

Shared by the tool runs (:mod:`ff_managers._tools.sandbox`) and the bounded document extraction
(:mod:`ff_managers._core.sandboxed_call`), so both get the same walls. Why this lives in
``_core`` and not in ``ff_utils``: it is policy (which namespaces, which uid, which parts of the
host are visible, what "loopback" means), not an I/O primitive, and only managers start children.

What a sandbox made here is (see :func:`ff_bwrap_argv`):

* new PID, network, IPC and UTS namespaces; its own ``/proc``; a fresh session; it dies with the
  manager (``--die-with-parent``) and everything in it dies with its init. With ``init=True``
  (``--as-pid-1``) the command itself is that init (the supervisor: orphans come back to it,
  and bwrap forks no reaper of its own); otherwise bwrap's reaper is;
* every capability dropped except the few the supervisor
  (:mod:`ff_managers._core.sandbox_launcher`) needs to set the program up; the program itself
  runs under an unprivileged uid/gid of its own with no capability and ``no_new_privs``;
* read-only: ``/usr`` (with the usual ``/bin``, ``/lib*`` links), the Python installation(s) the
  program needs and the given code folders; from ``/etc`` only ``ld.so.cache`` and
  ``localtime``. Nothing of the data root, ``/root``, ``/home`` or ``/etc/shadow`` is there;
* writable: only ``/ffwork``, a tmpfs of a fixed size (``/tmp`` points there), which is gone when
  the sandbox ends: the supervisor copies its files out first;
* network: ``none`` (a new network namespace whose ``lo`` is never brought up: no interface is
  up) or ``loopback`` (bwrap's new network namespace, ``lo`` up: 127.0.0.1 reaches only
  listeners inside the same sandbox, never the host's or another run's). For ``none`` the
  namespace is made by util-linux ``unshare --net``, which then execs bwrap (without
  ``--unshare-net``): a fresh namespace starts with ``lo`` down, whereas bwrap always brings it
  up, and taking it down again cost a run 0.4 to 20 ms of waiting (the kernel's
  ``synchronize_net`` on ``dev_close``). Without ``unshare`` bwrap makes the namespace and the
  supervisor takes ``lo`` down (it keeps CAP_NET_ADMIN only then); either way it checks, before
  the program starts, that no interface is up;
* a clean environment: only the variables given.
"""

from __future__ import annotations

import fcntl
import functools
import marshal
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ff_managers._core.sandbox_launcher import encode_settings

__all__ = [
    "FF_LAUNCHER_PATH",
    "FF_SANDBOX_WORK_DIR",
    "FFBwrapSpec",
    "FFNetwork",
    "ff_bwrap_argv",
    "ff_launcher_argv",
    "ff_launcher_code_fd",
    "ff_bwrap_problem",
    "ff_python_roots",
    "ff_resolve_bwrap",
]

FFNetwork = Literal["none", "loopback"]
FF_LAUNCHER_PATH = Path(__file__).resolve().with_name("sandbox_launcher.py")
# The supervisor's sources, in the order they run in one namespace (the frames define what the launcher calls).
_SUPERVISOR_SOURCES = (Path(__file__).resolve().with_name("sandbox_frames.py"), FF_LAUNCHER_PATH)
_BOOTSTRAP = (
    "import marshal, posix, sys\n"
    "codes = marshal.loads(posix.pread({fd}, {size}, 0))\n"
    "posix.close({fd})\n"
    "space = {{'__name__': 'ff_sandbox_launcher'}}\n"
    "for code in codes:\n"
    "    exec(code, space)\n"
    "sys.exit(space['main'](sys.argv))"
)
_code_lock = threading.Lock()
_code: tuple[int, int] | None = None
FF_SANDBOX_WORK_DIR = "/ffwork"
_LAUNCHER_CAPS = ("CAP_SETUID", "CAP_SETGID", "CAP_KILL", "CAP_DAC_READ_SEARCH")
_ETC_FILES = ("/etc/ld.so.cache", "/etc/localtime")
_PROBE_TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class FFBwrapSpec:
    """One sandbox: which bwrap, what is visible read-only, how big ``/work`` is, the network, the env."""

    bwrap: str
    work_bytes: int
    env: Mapping[str, str]
    read_only: tuple[str, ...] = ()
    network: FFNetwork = "none"
    extra: tuple[str, ...] = field(default=())
    init: bool = False


def ff_launcher_code_fd() -> int:
    """A sealed memfd holding the supervisor's compiled code; pass it to every launcher (``pass_fds``).

    The code is one blob: a tuple of the code objects of :mod:`ff_managers._core.sandbox_frames`
    and :mod:`ff_managers._core.sandbox_launcher`, which the bootstrap runs in order in one
    namespace (nothing of ``ff_managers`` can be imported in the sandbox).

    Why: the supervisor's start-up is most of what a tool run costs over a bare sandboxed program,
    and compiling its source is a large part of that (about 4 ms of CPU in a fresh interpreter,
    every run, since nothing may write bytecode in the sandbox and this installation writes
    none). The manager compiles it once, and every supervisor unmarshals it (about 0.05 ms) from
    this descriptor with ``pread`` (so concurrent runs share no file offset), then closes it
    before the program starts. The memfd is sealed against writes and resizing, so not even the
    supervisor (root in its sandbox) can change the code the next run gets, and the sandbox no
    longer needs to see the launcher's source at all. One per process, created on first use.
    """
    return _launcher_code()[0]


def _launcher_code() -> tuple[int, int]:
    """(the sealed memfd, its size), made on first use."""
    global _code
    with _code_lock:
        if _code is None:
            data = marshal.dumps(tuple(compile(path.read_bytes(), str(path), "exec") for path in _SUPERVISOR_SOURCES))
            fd = os.memfd_create("ff-sandbox-launcher", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_WRITE | fcntl.F_SEAL_SEAL)
            except BaseException:
                os.close(fd)
                raise
            _code = (fd, len(data))
        return _code


def ff_launcher_argv(settings: dict[str, object], argv: Sequence[str]) -> list[str]:
    """The supervisor's command line (:mod:`ff_managers._core.sandbox_launcher`) running ``argv``.

    ``-I -S -B``: no site, no user paths, no bytecode written: the cheapest start-up there is. The
    code comes from :func:`ff_launcher_code_fd`, which the caller must pass to the child.
    """
    fd, size = _launcher_code()
    bootstrap = _BOOTSTRAP.format(fd=fd, size=size)
    return [sys.executable, "-I", "-S", "-B", "-c", bootstrap, encode_settings(settings), "--", *argv]


def ff_resolve_bwrap(configured: str) -> str | None:
    """The absolute path of bwrap (configured path or ``PATH`` lookup), None when missing."""
    if configured and os.path.isabs(configured):
        return configured if os.access(configured, os.X_OK) else None
    return shutil.which(configured or "bwrap")


def ff_python_roots() -> tuple[str, ...]:
    """Folders the running interpreter needs: the venv, the base installation, site-packages."""
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    executable = os.path.realpath(sys.executable)
    roots.add(str(Path(executable).parent.parent))
    return tuple(sorted(r for r in roots if r and not r.startswith("/usr")))


def _mount_points(paths: Iterable[str]) -> list[str]:
    """Minimal set: drop a path covered by another one in the list."""
    unique = sorted({os.path.realpath(p) for p in paths if p and os.path.exists(p)})
    kept: list[str] = []
    for path in unique:
        if not any(path == k or path.startswith(k.rstrip("/") + "/") for k in kept):
            kept.append(path)
    return kept


@functools.cache
def _unshare() -> str | None:
    """util-linux ``unshare`` from the system folders; None when missing or not root (it needs CAP_SYS_ADMIN)."""
    return shutil.which("unshare", path="/usr/bin:/bin") if os.geteuid() == 0 else None


def ff_bwrap_argv(spec: FFBwrapSpec, command: Sequence[str]) -> list[str]:
    """The bwrap command line that runs ``command`` in the sandbox ``spec`` describes.

    For ``network="none"`` it starts with ``unshare --net --`` when util-linux has it (see the
    module docstring); the process the caller spawns is still bwrap (``unshare`` execs it).
    """
    unshare = _unshare() if spec.network == "none" else None
    argv = [
        *([unshare, "--net", "--"] if unshare else []),
        spec.bwrap,
        "--unshare-pid", *([] if unshare else ["--unshare-net"]), "--unshare-ipc", "--unshare-uts",
        "--die-with-parent", "--new-session", "--hostname", "ff-sandbox",
        "--cap-drop", "ALL",
    ]  # fmt: skip
    if spec.init:
        argv.append("--as-pid-1")
    caps = (*_LAUNCHER_CAPS, "CAP_NET_ADMIN") if spec.network == "none" and not unshare else _LAUNCHER_CAPS
    for cap in caps:
        argv += ["--cap-add", cap]
    argv += ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib64", "lib32"):
        if os.path.islink(f"/{name}"):
            argv += ["--symlink", os.readlink(f"/{name}"), f"/{name}"]
        elif os.path.isdir(f"/{name}"):
            argv += ["--ro-bind", f"/{name}", f"/{name}"]
    for path in _ETC_FILES:
        if os.path.exists(path):
            argv += ["--ro-bind", path, path]
    mounts = _mount_points([*ff_python_roots(), *spec.read_only])
    argv += ["--proc", "/proc", "--dev", "/dev", "--perms", "0777", "--size", str(int(spec.work_bytes))]
    argv += ["--tmpfs", FF_SANDBOX_WORK_DIR]
    if not any(path == "/tmp" or path.startswith("/tmp/") for path in mounts):
        argv += ["--symlink", FF_SANDBOX_WORK_DIR, "/tmp"]
    made: set[str] = set()
    for path in mounts:
        for parent in reversed(Path(path).parents[:-1]):  # bwrap would make them 0700: unreadable to the program
            if str(parent) not in made and str(parent) not in ("/usr", "/tmp", "/proc", "/dev"):
                made.add(str(parent))
                argv += ["--perms", "0755", "--dir", str(parent)]
        argv += ["--ro-bind", path, path]
    argv += ["--chdir", FF_SANDBOX_WORK_DIR, "--clearenv"]
    for key, value in sorted(spec.env.items()):
        argv += ["--setenv", key, value]
    argv += [*spec.extra, "--", *command]
    return argv


@functools.lru_cache(maxsize=8)
def ff_bwrap_problem(bwrap: str | None) -> str | None:
    """Why bwrap cannot sandbox here (missing, or no namespaces), or None when it works. Cached."""
    if not bwrap:
        return "bubblewrap (bwrap) is not installed: install the 'bubblewrap' package (scripts/setup.sh does)"
    spec = FFBwrapSpec(bwrap=bwrap, work_bytes=1024 * 1024, env={"PATH": "/usr/bin:/bin"})
    try:
        probe = subprocess.run(
            ff_bwrap_argv(spec, [sys.executable, "-I", "-S", "-c", "pass"]),
            capture_output=True, timeout=_PROBE_TIMEOUT_S, check=False, env={},
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap at {bwrap} could not be started: {exc}"
    if probe.returncode != 0:
        detail = probe.stderr.decode("utf-8", errors="replace").strip()[:300]
        return f"bubblewrap at {bwrap} cannot create the sandbox's namespaces: {detail or f'exit {probe.returncode}'}"
    return None
