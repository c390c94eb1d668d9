"""The process watchdog of a sandboxed run: count the supervisor's descendants, kill a tree.

Why a watchdog at all: we run as root here, where the kernel ignores RLIMIT_NPROC, so a fork
bomb is contained by counting the run's processes every few milliseconds and stopping the run
(see :mod:`ff_managers._tools.sandbox`) once it has more than allowed. The count must be cheap,
because it runs on the event loop for every run in flight: :func:`ff_count_descendants_proc`
explains why it walks ``/proc`` itself instead of asking psutil. :func:`ff_hard_kill` is the last
resort when the supervisor (:mod:`ff_managers._core.sandbox_launcher`) does not answer SIGTERM.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable

import psutil

__all__ = [
    "ff_count_descendants_proc",
    "ff_count_descendants_psutil",
    "ff_hard_kill",
    "ff_proc_children",
    "ff_watch_processes",
]

_INLINE_WALK_MAX_PROCESSES = 64
"""Up to this process limit the watchdog walks /proc on the event loop (well under a millisecond)."""


def ff_proc_children(pid: int) -> list[int] | None:
    """Direct children of ``pid`` from ``/proc/<pid>/task/*/children``; None if the kernel lacks it.

    A process that is gone (or a thread that ended mid-walk) has no children: ``[]``.
    """
    task_dir = f"/proc/{pid}/task"
    try:
        tids = os.listdir(task_dir)
    except FileNotFoundError:
        return []
    children: list[int] = []
    for tid in tids:
        try:
            with open(f"{task_dir}/{tid}/children", "rb") as handle:  # procfs, not project data
                children.extend(int(p) for p in handle.read().split())
        except FileNotFoundError:
            if not os.path.exists(f"{task_dir}/{tid}"):
                continue  # the thread ended while we walked
            return None  # the process is there but has no children file: CONFIG_PROC_CHILDREN is off
        except ProcessLookupError:
            continue
    return children


def ff_count_descendants_proc(pid: int, stop_above: int) -> int | None:
    """Count ``pid``'s descendants by walking the /proc children files, stopping past ``stop_above``.

    Why not psutil: ``children(recursive=True)`` reads /proc/<n>/stat of EVERY process on the
    machine, in Python, on each check. At 50 checks a second per run in flight, that Python work
    (and the GIL it holds between its hundreds of syscalls) was what inflated every other
    operation's p95 under load. This walk reads one file per descendant and stops as soon as the
    limit is exceeded, so even a fork bomb costs at most ``stop_above + 1`` reads, and a normal
    run (supervisor -> tool) a few tens of microseconds: cheap enough to run on the event loop.
    Returns None when the kernel has no children files (the caller falls back to psutil).
    """
    count = 0
    pending = [pid]
    while pending:
        children = ff_proc_children(pending.pop())
        if children is None:
            return None
        count += len(children)
        if count > stop_above:
            return count
        pending.extend(children)
    return count


def ff_count_descendants_psutil(pid: int) -> int:
    try:
        return len(psutil.Process(pid).children(recursive=True))
    except psutil.NoSuchProcess:
        return 0


async def ff_watch_processes(pid: int, limit: int, interval: float, trip: Callable[[str], None], peak: list[int]) -> None:
    """Stop the run once the supervisor has more than ``limit`` descendants."""
    use_proc = True
    while True:
        await asyncio.sleep(interval)
        if not use_proc:
            count = None
        elif limit <= _INLINE_WALK_MAX_PROCESSES:
            count = ff_count_descendants_proc(pid, limit)
        else:  # a walk of thousands of files would stall the event loop: a thread then
            count = await asyncio.to_thread(ff_count_descendants_proc, pid, limit)
        if count is None:
            use_proc = False  # no /proc children files: scan every process, off the event loop
            count = await asyncio.to_thread(ff_count_descendants_psutil, pid)
        peak[0] = max(peak[0], count)
        if count > limit:
            trip("processes")
            return


def ff_hard_kill(pid: int) -> None:
    """Last resort when the supervisor does not answer: SIGKILL every group below it, then it."""
    own_group = os.getpgrp()
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    groups = set()
    for child in children:
        try:
            groups.add(os.getpgid(child.pid))
        except ProcessLookupError:
            continue
    for group in groups - {own_group}:
        try:
            os.killpg(group, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    for target in [*(c.pid for c in children), pid]:
        try:
            os.kill(target, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
