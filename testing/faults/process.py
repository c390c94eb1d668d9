"""Process faults by signal, on a whole process group: crash, graceful stop, freeze and thaw.

Every server a test starts runs in a process group of its own (``start_new_session=True``), so a
signal reaches it and anything it started. A frozen group (SIGSTOP) ignores SIGTERM until it is
continued, and a test that fails while a group is frozen must still leave nothing behind, so:

* :func:`end_group` always sends SIGCONT before SIGTERM, waits (bounded), then SIGKILLs what is
  left and waits again (bounded), reaping the members that are children of this process;
* :class:`FFProcessFaults` records each fault it applies and, on exit, thaws every group it froze.

Liveness is read from the process table (psutil): a zombie counts as gone (it runs no code and
holds no port), and is reaped when it is a child of this process.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Iterator
from types import TracebackType

import psutil

from testing.faults._record import FFFaultRecorder

__all__ = [
    "FFProcessFaults",
    "end_group",
    "group_members",
    "is_alive",
    "reap",
    "signal_group",
    "wait_group_gone",
]

_POLL_S = 0.02


def reap(pid: int) -> bool:
    """Collect ``pid``'s exit status if it is a finished child of this process; True if it was."""
    try:
        done, _status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:  # not our child (or already reaped): nothing to collect
        return False
    return done == pid


def is_alive(pid: int, create_time: float | None = None) -> bool:
    """True while ``pid`` runs (a zombie does not). With ``create_time``, only if it is still the same
    process: a pid recorded earlier may since have been given to another program."""
    try:
        process = psutil.Process(pid)
        if create_time is not None and abs(process.create_time() - create_time) > 0.01:
            return False
        return process.status() != psutil.STATUS_ZOMBIE
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def group_members(pgid: int) -> list[int]:
    """The pids of the running (non-zombie) processes of group ``pgid``; zombies that are our
    children are reaped on the way."""
    members = []
    for process in psutil.process_iter(["status"]):
        try:
            if os.getpgid(process.pid) != pgid:
                continue
        except (ProcessLookupError, PermissionError):
            continue
        if process.info["status"] == psutil.STATUS_ZOMBIE:
            reap(process.pid)
            continue
        members.append(process.pid)
    return members


def signal_group(pgid: int, sig: int) -> bool:
    """Send ``sig`` to every process of group ``pgid``; False when the group no longer exists."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    return True


def _leader_done(leader: int) -> bool:
    """The leader has exited and, if it is our child, been reaped (a zombie of another parent
    is that parent's to collect)."""
    reap(leader)
    try:
        process = psutil.Process(leader)
        return process.status() == psutil.STATUS_ZOMBIE and process.ppid() != os.getpid()
    except psutil.NoSuchProcess:
        return True


async def wait_group_gone(pgid: int, timeout_s: float, *, leader: int | None = None) -> bool:
    """Wait (at most ``timeout_s``) until no process of group ``pgid`` runs and the ``leader`` (if
    given) has exited and, when it is our child, been reaped. True if so."""
    deadline = time.monotonic() + timeout_s
    while True:
        if (leader is None or _leader_done(leader)) and not await asyncio.to_thread(group_members, pgid):
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(_POLL_S)


async def end_group(pgid: int, *, grace_s: float = 5.0, kill_wait_s: float = 5.0, leader: int | None = None) -> bool:
    """Stop group ``pgid`` for good: SIGCONT (a frozen group cannot act on SIGTERM), SIGTERM, wait up
    to ``grace_s``, then SIGKILL and wait up to ``kill_wait_s``. True if it ended gracefully,
    False if it had to be killed. Raises TimeoutError if even SIGKILL left a process running
    (uninterruptible sleep), so a caller never silently leaks one."""
    signal_group(pgid, signal.SIGCONT)
    if signal_group(pgid, signal.SIGTERM) and not await wait_group_gone(pgid, grace_s, leader=leader):
        signal_group(pgid, signal.SIGKILL)
        if not await wait_group_gone(pgid, kill_wait_s, leader=leader):
            raise TimeoutError(f"process group {pgid} still runs {kill_wait_s} s after SIGKILL")
        return False
    await wait_group_gone(pgid, kill_wait_s, leader=leader)
    return True


class FFProcessFaults:
    """Apply process faults to groups and record them; thaw whatever is still frozen on exit.

    ``with FFProcessFaults(recorder) as faults: faults.freeze(pgid); ...`` -- leaving the block
    (normally or by an exception) sends SIGCONT to every group frozen and not yet thawed, so a
    failed test never leaves a stopped server that ignores the SIGTERM of the cleanup after it.
    """

    def __init__(self, recorder: FFFaultRecorder | None = None, *, source: str = "process") -> None:
        self.recorder = recorder if recorder is not None else FFFaultRecorder()
        self._source = source
        self._frozen: set[int] = set()

    def _apply(self, fault: str, pgid: int, sig: int) -> bool:
        sent = signal_group(pgid, sig)
        self.recorder.record(self._source, fault, pgid=pgid, signal=signal.Signals(sig).name, delivered=sent)
        return sent

    def crash(self, pgid: int) -> bool:
        """SIGKILL the group: no cleanup runs, leases and sockets are left as a crash leaves them."""
        self._frozen.discard(pgid)
        return self._apply("crash", pgid, signal.SIGKILL)

    def terminate(self, pgid: int) -> bool:
        """SIGTERM the group (SIGCONT first if this object froze it): a graceful stop."""
        if pgid in self._frozen:
            self.thaw(pgid)
        return self._apply("terminate", pgid, signal.SIGTERM)

    def freeze(self, pgid: int) -> bool:
        """SIGSTOP the group: its sockets stay open but nothing answers."""
        sent = self._apply("freeze", pgid, signal.SIGSTOP)
        if sent:
            self._frozen.add(pgid)
        return sent

    def thaw(self, pgid: int) -> bool:
        """SIGCONT the group."""
        self._frozen.discard(pgid)
        return self._apply("thaw", pgid, signal.SIGCONT)

    @property
    def frozen(self) -> frozenset[int]:
        return frozenset(self._frozen)

    def thaw_all(self) -> None:
        for pgid in sorted(self._frozen):
            self.thaw(pgid)

    @contextlib.contextmanager
    def frozen_for(self, pgid: int) -> Iterator[None]:
        """Freeze ``pgid`` for the block, thaw it after (also when the block raises)."""
        self.freeze(pgid)
        try:
            yield
        finally:
            self.thaw(pgid)

    def __enter__(self) -> FFProcessFaults:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.thaw_all()
