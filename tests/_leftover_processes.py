"""A pytest plugin that finds the child processes a test leaves running, names the test, and reaps them.

Tests start real ``serve`` instances, clusters and workers; each must reap what it started, even
when it fails. A leftover still slips through now and then (seen once in a random-order run and
never reproduced), and by the end of the session nobody knows which test started it. So after
every test the plugin notes the pytest process's living descendants it has not seen before, with
the test that was running; at the end of the session it kills the ones still alive (their whole
process group) and prints each with the test that left it, so the next occurrence names its source.
"""

from __future__ import annotations

import contextlib
import os
import signal
from typing import Any

import psutil
import pytest

_first_seen: dict[int, tuple[str, str, float]] = {}  # pid -> (test id, command line, create time)
# multiprocessing's helpers live, idle, until this interpreter exits, by design: not leftovers.
_HELPERS = ("multiprocessing.resource_tracker", "multiprocessing.forkserver")


def _descendants() -> list[psutil.Process]:
    with contextlib.suppress(psutil.Error):
        return psutil.Process().children(recursive=True)
    return []


@pytest.hookimpl(trylast=True)
def pytest_runtest_logfinish(nodeid: str, location: Any) -> None:
    for child in _descendants():
        if child.pid in _first_seen:
            continue
        with contextlib.suppress(psutil.Error):
            if child.status() == psutil.STATUS_ZOMBIE:
                continue
            command = " ".join(child.cmdline())
            if not any(helper in command for helper in _HELPERS):
                _first_seen[child.pid] = (nodeid, command[:160], child.create_time())


def _still_running(pid: int, created: float) -> psutil.Process | None:
    with contextlib.suppress(psutil.Error):
        process = psutil.Process(pid)
        if process.create_time() == created and process.status() != psutil.STATUS_ZOMBIE:
            return process
    return None


def pytest_terminal_summary(terminalreporter: Any) -> None:
    leftovers = [(pid, test, command) for pid, (test, command, created) in _first_seen.items()
                 if _still_running(pid, created) is not None]  # fmt: skip
    if not leftovers:
        return
    terminalreporter.section("leftover processes (reaped now)", yellow=True)
    for pid, test, command in leftovers:
        terminalreporter.line(f"pid {pid} still running after {test}: {command}")
        with contextlib.suppress(OSError):
            group = os.getpgid(pid)
            if group == os.getpgrp():  # in pytest's own group: that one process only
                os.kill(pid, signal.SIGKILL)
            else:
                os.killpg(group, signal.SIGKILL)
