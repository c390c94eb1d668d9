"""Fast, focused stand-ins for the slow sandbox attacks, so that mutation runs can judge the same code.

Each mutant of the run pipeline (``_supervise``, ``ff_run_sandboxed``, ``ff_run_result``...) runs
every test that reaches it, and the resource attacks of ``test_tool_sandbox.py`` and
``test_tool_isolation.py`` take seconds each (a CPU spin until RLIMIT_CPU, a fork bomb past 100
processes, three PDF bombs). Those stay in the full suite, marked slow; these tests pin down the
same paths in well under a second: the CPU-time kill end to end (the signal the kernel sends,
raised by the tool itself), and the watchdog's choice between the inline /proc walk and the
thread that a high process limit needs.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from pathlib import Path

import pytest

import ff_managers._tools.watchdog as watchdog_module
from ff_class_configs import load_config
from ff_class_configs.ff_tool_dtos import FFToolRunStatus
from ff_managers.ff_tool_execution_manager import FFToolExecutionManager
from tests._tool_helpers import code_tool


async def test_a_tool_ended_by_sigxcpu_is_killed_for_its_cpu_time(tmp_path: Path) -> None:
    """What RLIMIT_CPU does to a spinning tool (SIGXCPU), without spinning: reported as the cpu_time kill."""
    tools = FFToolExecutionManager(load_config(base_path=tmp_path / "root", environ={}))
    tools.register_tool(code_tool("spinner", "import os, signal; os.kill(os.getpid(), signal.SIGXCPU)"))
    result = await tools.execute_tool("alice", "spinner", {})
    assert (result.status, result.limit_exceeded, result.signal) == (FFToolRunStatus.KILLED, "cpu_time", int(signal.SIGXCPU))
    assert result.error == f"used up its CPU-time limit (signal {int(signal.SIGXCPU)})"
    assert result.attempts == 1 and result.sandbox == "bwrap"  # a kill is not retried


@pytest.mark.parametrize("limit, off_the_loop", [(1, False), (64, False), (65, True), (100, True)])
async def test_the_watchdog_walks_inline_up_to_64_processes_and_in_a_thread_above(
    monkeypatch: pytest.MonkeyPatch, limit: int, off_the_loop: bool
) -> None:
    """Past 64 allowed processes the /proc walk runs in a thread; either way one more than allowed trips it."""
    calls: list[tuple[int, int, bool]] = []

    def count(pid: int, stop_above: int) -> int:
        calls.append((pid, stop_above, threading.current_thread() is not threading.main_thread()))
        return stop_above + 1 if len(calls) == 2 else stop_above

    monkeypatch.setattr(watchdog_module, "ff_count_descendants_proc", count)
    tripped: list[str] = []
    peak = [0]
    await asyncio.wait_for(watchdog_module.ff_watch_processes(4242, limit, 0.001, tripped.append, peak), 5)
    assert calls == [(4242, limit, off_the_loop)] * 2
    assert tripped == ["processes"] and peak == [limit + 1]
