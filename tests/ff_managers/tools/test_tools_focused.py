"""Fast, focused stand-ins for the slow sandbox attacks, so that mutation runs can judge the same code.

Each mutant of the run pipeline (``_supervise``, ``ff_run_sandboxed``, ``ff_run_result``...) runs
every test that reaches it, and the resource attacks of ``test_tool_sandbox.py`` and
``test_tool_isolation.py`` take seconds each (a CPU spin until RLIMIT_CPU, a fork bomb past 100
processes, three PDF bombs). Those stay in the full suite, marked slow; these tests pin down the
same paths in well under a second: the CPU-time kill end to end (the signal the kernel sends,
raised by the tool itself), and the watchdog's choice between the inline /proc walk and the
thread that a high process limit needs. The pieces every sandboxed run goes through (the rlimits,
the environment, the launcher and bwrap command line, the supervisor's report, the capped
readers) are read here directly, so that their mutants need no sandbox run to be judged.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
from pathlib import Path

import pytest

import ff_managers._tools.watchdog as watchdog_module
from ff_class_configs import load_config
from ff_class_configs.ff_tool_dtos import FFToolLimitsDTO, FFToolRunStatus
from ff_managers._core.bwrap import FFBwrapSpec, ff_bwrap_argv, ff_launcher_argv
from ff_managers._tools.sandbox import FFSandboxRequest, _command, _read_capped, _read_report, _read_tail, ff_build_environment, ff_rlimits
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


def test_rlimits_take_each_limit_and_fall_back_when_unset() -> None:
    set_ = FFToolLimitsDTO(cpu_time_seconds=7, memory_mb=300, max_processes=3, max_file_bytes=4096, max_open_files=32)
    assert ff_rlimits(set_) == {"RLIMIT_CPU": 7, "RLIMIT_AS": 300 << 20, "RLIMIT_NPROC": 4, "RLIMIT_FSIZE": 4096,
                                "RLIMIT_NOFILE": 32, "RLIMIT_CORE": 0}  # fmt: skip
    assert ff_rlimits(FFToolLimitsDTO()) == {"RLIMIT_CPU": 1, "RLIMIT_AS": 512 << 20, "RLIMIT_NPROC": 2, "RLIMIT_FSIZE": 1 << 20,
                                             "RLIMIT_NOFILE": 64, "RLIMIT_CORE": 0}  # fmt: skip


def test_the_environment_is_exactly_the_allow_list_plus_the_extras(tmp_path: Path) -> None:
    base = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "HOME": str(tmp_path),
            "TMPDIR": str(tmp_path), "PYTHONPATH": "/p", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONIOENCODING": "utf-8",
            "PYTHONNOUSERSITE": "1"}  # fmt: skip
    assert ff_build_environment(tmp_path, pythonpath=Path("/p")) == base
    assert ff_build_environment(tmp_path, pythonpath="/p", extra={"MODE": "x", "LANG": "de"}) == {**base, "MODE": "x", "LANG": "de"}


def _request(tmp_path: Path, isolation: str) -> FFSandboxRequest:
    limits = FFToolLimitsDTO(cpu_time_seconds=3, memory_mb=128, max_processes=2, max_file_bytes=2048, max_open_files=20)
    return FFSandboxRequest(("/usr/bin/true", "a b"), b"", tmp_path, {"HOME": "/ffwork", "X": "1"}, limits, isolation=isolation,
                            bwrap="/opt/bw/bwrap", network="loopback", work_bytes=5 << 20, read_only=("/usr/share",),
                            out_cap=12345, uid=70001, extra=("--bind", "/srv", "/srv"))  # fmt: skip


def test_the_command_line_hands_the_launcher_its_settings_and_bwrap_its_sandbox(tmp_path: Path) -> None:
    request = _request(tmp_path, "bwrap")
    limits = ff_rlimits(request.limits)
    settings = {"status_fd": 7, "limits": limits, "uid": 70001, "gid": 70001, "in_fd": 8, "out_fd": 9, "out_cap": 12345, "network": "loopback"}
    spec = FFBwrapSpec(bwrap="/opt/bw/bwrap", work_bytes=5 << 20, env={"HOME": "/ffwork", "X": "1"}, read_only=("/usr/share",),
                       network="loopback", extra=("--bind", "/srv", "/srv"), init=True)  # fmt: skip
    assert _command(request, 7, 8, 9) == ff_bwrap_argv(spec, ff_launcher_argv(settings, ("/usr/bin/true", "a b")))
    # no staged files, no copy-back: the launcher is told nothing about them
    no_fds = {**settings, "in_fd": None, "out_fd": None}
    assert _command(request, 7, None, None) == ff_bwrap_argv(spec, ff_launcher_argv(no_fds, ("/usr/bin/true", "a b")))
    # explicitly unsandboxed: the launcher alone, on the host's network
    plain = _command(_request(tmp_path, "none"), 7, None, None)
    assert plain == ff_launcher_argv({"status_fd": 7, "limits": limits, "network": "host"}, ("/usr/bin/true", "a b"))
    assert plain[0] == sys.executable


def _pipe_with(data: bytes) -> int:
    read, write = os.pipe()
    os.write(write, data)
    os.close(write)
    return read


@pytest.mark.parametrize(
    "raw, report",
    [
        (b"", {}),
        (b" \n", {}),
        (b'{"exit_code": 3, "signal": null}\n{"ignored": 1}\n', {"exit_code": 3, "signal": None}),
        (b'{"error": "caf\xe9"}', {"error": "caf\ufffd"}),
        (b"[1, 2]\n", {}),
        (b"not json\n", {}),
        (b"\n{}", {}),
    ],
)  # fmt: skip
def test_the_supervisor_report_is_its_first_line_when_that_is_an_object(raw: bytes, report: dict[str, object]) -> None:
    fd = _pipe_with(raw)
    assert _read_report(fd) == report
    with pytest.raises(OSError):
        os.fstat(fd)  # closed, whatever it held


def _stream(data: bytes) -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    for at in range(0, len(data), 50_000):
        reader.feed_data(data[at : at + 50_000])
    reader.feed_eof()
    return reader


async def test_the_capped_reader_keeps_the_first_bytes_and_reports_the_overflow_once() -> None:
    data = bytes(range(256)) * 1024  # 256 KiB, several reads
    for cap, truncated in ((len(data) + 1, False), (len(data), False), (len(data) - 1, True), (70_000, True), (0, True)):
        calls: list[int] = []
        kept = await _read_capped(_stream(data), cap, lambda: calls.append(1))
        assert kept == (data[:cap], truncated) and calls == ([1] if truncated else []), cap
    assert await _read_capped(None, 10, lambda: None) == (b"", False)


async def test_the_tail_reader_keeps_the_last_bytes() -> None:
    data = bytes(range(256)) * 1024
    for keep in (len(data) + 1, len(data), 70_000, 1):
        assert await _read_tail(_stream(data), keep) == data[-keep:], keep
    assert await _read_tail(_stream(b"short"), 4096) == b"short"
    assert await _read_tail(None, 10) == b""
