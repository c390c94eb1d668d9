"""Process checks shared by the distributed-run tests (a module, not the conftest: importable by name)."""

from __future__ import annotations

import psutil

__all__ = ["assert_gone", "children"]


def assert_gone(pids: dict[str, int] | list[int] | set[int]) -> None:
    """Every pid exited (a zombie not yet reaped by its parent counts as gone)."""
    for pid in pids.values() if isinstance(pids, dict) else pids:
        if psutil.pid_exists(pid):
            assert psutil.Process(pid).status() == psutil.STATUS_ZOMBIE, f"worker process {pid} still runs"


def children() -> set[int]:
    """This process's children, recursively (another test's leftovers are not this test's).

    Leaves out multiprocessing's resource tracker: the first spawned process starts one per
    interpreter, and it lives (idle) until the interpreter exits, by design; it is no worker.
    """
    found = set()
    for child in psutil.Process().children(recursive=True):
        try:
            if "multiprocessing.resource_tracker" not in " ".join(child.cmdline()):
                found.add(child.pid)
        except psutil.NoSuchProcess:
            continue
    return found
