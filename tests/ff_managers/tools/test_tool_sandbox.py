"""Attacks on the tool sandbox: each must be refused or contained, and reported as such.

The hostile programs are test-only tool definitions whose fixed argv is ``python -c <code>``.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import psutil
import pytest

import ff_managers._tools.watchdog as watchdog_module
from ff_class_configs import load_config
from ff_class_configs.ff_tool_dtos import FFToolLimitsDTO, FFToolRunStatus
from ff_managers._tools.builtin_defs import TOOLS_PACKAGE_PARENT
from ff_managers._tools.sandbox import FFSandboxRequest, ff_build_environment, ff_rlimits, ff_run_sandboxed
from ff_managers.ff_event_bus import FFEvent
from ff_managers.ff_tool_execution_manager import FFToolExecutionManager
from ff_utils.ff_errors import FFSandboxViolationError
from tests._tool_helpers import code_tool


@pytest.fixture
def tools(tmp_path: Path) -> FFToolExecutionManager:
    return FFToolExecutionManager(load_config(base_path=tmp_path / "root", environ={}))


def _live_processes_of_run(run_id: str) -> list[psutil.Process]:
    """Every non-zombie process whose environment carries this run's id."""
    found = []
    for process in psutil.process_iter(["status"]):
        try:
            if process.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            if process.environ().get("FF_TOOL_RUN_ID") == run_id:
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


async def test_live_process_probe_sees_a_running_tool(tools: FFToolExecutionManager) -> None:
    """The containment checks below rely on this probe; prove it finds a tool while it runs."""
    tools.register_tool(code_tool("napper", "import time; time.sleep(0.8); print('{}')"))
    run = asyncio.create_task(tools.execute_tool("alice", "napper", {}))
    seen: set[str | None] = set()
    while not run.done() and not seen - {None}:
        await asyncio.sleep(0.05)
        seen = {_run_id_of(p) for p in psutil.process_iter()}
    result = await run
    assert result.run_id in seen


def _run_id_of(process: psutil.Process) -> str | None:
    try:
        return process.environ().get("FF_TOOL_RUN_ID")
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return None


# --------------------------------------------------------------------------- no shell, literal arguments


@pytest.mark.parametrize("payload", ["; touch {m}", "$(touch {m})", "`touch {m}`", "| touch {m} &", "&& touch {m}\n"])
async def test_shell_metacharacters_are_passed_literally(tools: FFToolExecutionManager, tmp_path: Path, payload: str) -> None:
    marker = tmp_path / "pwned"
    text = payload.format(m=marker)
    result = await tools.execute_tool("alice", "word_count", {"text": text})
    assert result.status == FFToolRunStatus.SUCCESS
    assert result.output["characters"] == len(text)  # the tool saw the exact string
    assert not marker.exists()


async def test_arguments_never_enter_argv(tools: FFToolExecutionManager, tmp_path: Path) -> None:
    tools.register_tool(code_tool("argv_echo", "import sys, json; json.dump({'argv': sys.argv[1:], 'stdin': sys.stdin.read()}, sys.stdout)"))
    result = await tools.execute_tool("alice", "argv_echo", {"x": "$(id)"})
    assert result.output["argv"] == []
    assert json.loads(result.output["stdin"]) == {"x": "$(id)"}


async def test_staged_module_cannot_shadow_the_standard_library(tools: FFToolExecutionManager, tmp_path: Path) -> None:
    marker = tmp_path / "shadowed"
    evil = f"open({str(marker)!r}, 'w').write('x')\nfrom json import *\n".encode()
    result = await tools.execute_tool("alice", "word_count", {"path": "notes.txt"}, files={"json.py": evil, "notes.txt": b"a b"})
    assert result.status == FFToolRunStatus.SUCCESS and result.output["words"] == 2
    assert not marker.exists()


# --------------------------------------------------------------------------- paths


@pytest.mark.parametrize("path", ["../../etc/passwd", "/etc/passwd", "a/../../b", "..", "sub/../../../x"])
async def test_path_outside_the_work_dir_is_refused_before_running(tools: FFToolExecutionManager, tmp_path: Path, path: str) -> None:
    events: list[FFEvent] = []
    tools.bus.subscribe("tool.*", events.append)
    with pytest.raises(FFSandboxViolationError):
        await tools.execute_tool("alice", "extract_text", {"path": path})
    user_tools = tmp_path / "root" / "users" / "alice" / "tools"
    assert not (user_tools / "work").exists()  # no run directory, so no process ran
    assert not (user_tools / "runs.jsonl").exists()
    assert [(e.type, e.payload["reason"]) for e in events] == [("tool.refused", "sandbox_violation")]


async def test_symlinked_workspace_is_refused(tools: FFToolExecutionManager, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    user_tools = tmp_path / "root" / "users" / "alice" / "tools"
    user_tools.mkdir(parents=True)
    (user_tools / "work").symlink_to(outside)
    with pytest.raises(FFSandboxViolationError):
        await tools.execute_tool("alice", "word_count", {"text": "x"})
    assert list(outside.iterdir()) == []


async def test_tool_planting_a_symlink_cannot_read_through_it(tools: FFToolExecutionManager, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    code = f"""
        import os, sys
        sys.path.insert(0, {str(TOOLS_PACKAGE_PARENT)!r})
        from tools_builtin._protocol import workspace_path, run_tool
        os.symlink({str(secret)!r}, 'leak.txt')
        run_tool(lambda args: workspace_path('leak.txt').read_text())
    """
    tools.register_tool(code_tool("symlink_reader", code))
    result = await tools.execute_tool("alice", "symlink_reader", {})
    # Refused by the path check (77), or, in the sandbox where the target does not even exist, not found (65).
    assert result.status == FFToolRunStatus.ERROR and result.exit_code in (65, 77)
    assert result.output["error"]["type"] in ("sandbox_violation", "invalid_input")
    assert "top secret" not in json.dumps(result.model_dump(mode="json"))


# --------------------------------------------------------------------------- environment


async def test_parent_secrets_do_not_reach_the_tool(tools: FFToolExecutionManager, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FF_TEST_SECRET", "hunter2-do-not-leak")
    tools.register_tool(code_tool("env_dump", "import os, json, sys; json.dump(dict(os.environ), sys.stdout)"))
    result = await tools.execute_tool("alice", "env_dump", {})
    assert result.status == FFToolRunStatus.SUCCESS
    assert "FF_TEST_SECRET" not in result.output
    assert "hunter2-do-not-leak" not in json.dumps(result.output)
    assert set(result.output) <= {
        "PATH", "LANG", "LC_ALL", "HOME", "TMPDIR", "PYTHONPATH", "PYTHONDONTWRITEBYTECODE",
        "PYTHONIOENCODING", "PYTHONNOUSERSITE", "FF_TOOL_RUN_ID", "FF_TOOL_NAME", "LC_CTYPE",
    }  # fmt: skip
    assert result.output["HOME"] == result.output["TMPDIR"] == "/ffwork"  # the sandbox's own work dir


# --------------------------------------------------------------------------- time, memory, processes, output


async def test_sleep_past_the_wall_time_is_killed_within_a_second(tools: FFToolExecutionManager) -> None:
    limit = 1.0
    tools.register_tool(code_tool("sleeper", "import time; time.sleep(60)", limits=FFToolLimitsDTO(wall_time_seconds=limit)))
    started = time.monotonic()
    result = await tools.execute_tool("alice", "sleeper", {})
    assert time.monotonic() - started < limit + 1.0
    assert result.status == FFToolRunStatus.TIMEOUT and result.limit_exceeded == "wall_time"
    assert limit * 1000 <= result.duration_ms < (limit + 1.0) * 1000
    assert result.attempts == 1  # timeouts are not retried
    assert _live_processes_of_run(result.run_id) == []


async def test_memory_bomb_is_refused_by_rlimit_as(tools: FFToolExecutionManager) -> None:
    code = "chunks = []\nwhile True: chunks.append(bytearray(64 * 1024 * 1024))"
    tools.register_tool(code_tool("memory_bomb", code, limits=FFToolLimitsDTO(memory_mb=256)))
    result = await tools.execute_tool("alice", "memory_bomb", {})
    assert result.status == FFToolRunStatus.ERROR
    assert result.limit_exceeded == "memory" and "MemoryError" in result.stderr_tail


@pytest.mark.slow  # seconds of CPU spin per call; test_tools_focused.py judges the same path for mutation runs
async def test_cpu_spin_is_stopped_by_rlimit_cpu(tools: FFToolExecutionManager) -> None:
    tools.register_tool(code_tool("spinner", "while True: pass", limits=FFToolLimitsDTO(cpu_time_seconds=1, wall_time_seconds=10)))
    result = await tools.execute_tool("alice", "spinner", {})
    assert result.status == FFToolRunStatus.KILLED and result.limit_exceeded == "cpu_time"
    assert result.duration_ms < 10_000


async def test_fork_bomb_is_contained_and_leaves_no_process(tools: FFToolExecutionManager) -> None:
    code = """
        import os
        while True:
            try:
                os.fork()
            except OSError:
                pass
    """
    # The wall time is far away so that only the watchdog can stop the bomb; "processes" below says it
    # did. How long the kill then takes depends on how hard the bomb loads the machine, so it is not
    # asserted (a 5 s bound failed in about a third of runs on 2 cores, old code and new alike).
    tools.register_tool(code_tool("fork_bomb", code, limits=FFToolLimitsDTO(max_processes=8, wall_time_seconds=30)))
    load_before = psutil.virtual_memory().available
    result = await tools.execute_tool("alice", "fork_bomb", {})
    assert result.status == FFToolRunStatus.KILLED and result.limit_exceeded == "processes"
    assert _live_processes_of_run(result.run_id) == []
    assert psutil.virtual_memory().available > load_before * 0.5  # the machine is fine


async def test_setsid_escapee_is_killed_when_the_tool_ends(tools: FFToolExecutionManager) -> None:
    code = """
        import os, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                time.sleep(60)
            os._exit(0)
        time.sleep(0.2)
        print('{}')
    """
    tools.register_tool(code_tool("escapee", code))
    result = await tools.execute_tool("alice", "escapee", {})
    assert result.status == FFToolRunStatus.SUCCESS
    assert _live_processes_of_run(result.run_id) == []


async def test_megabytes_of_output_are_truncated_and_memory_stays_bounded(tools: FFToolExecutionManager) -> None:
    cap = 64 * 1024
    code = "import sys\nfor _ in range(400): sys.stdout.write('x' * 65536)"  # 25 MiB
    tools.register_tool(code_tool("flood", code, limits=FFToolLimitsDTO(max_output_bytes=cap)))
    tracemalloc.start()
    try:
        result = await tools.execute_tool("alice", "flood", {})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.status == FFToolRunStatus.KILLED and result.limit_exceeded == "output"
    assert result.stdout_truncated is True and result.output is None
    assert peak < 8 * 1024 * 1024  # a few chunks, never the 25 MiB
    assert _live_processes_of_run(result.run_id) == []


async def test_file_size_limit_stops_a_disk_filler(tools: FFToolExecutionManager) -> None:
    code = "f = open('big', 'wb')\nwhile True: f.write(b'x' * 65536); f.flush()"
    tools.register_tool(code_tool("filler", code, limits=FFToolLimitsDTO(max_file_bytes=1024 * 1024)))
    result = await tools.execute_tool("alice", "filler", {})
    assert result.status == FFToolRunStatus.ERROR and result.limit_exceeded == "file_size"
    assert result.error == "wrote a file larger than allowed"


# --------------------------------------------------------------------------- the sandbox runner itself


def _request(tmp_path: Path, argv: tuple[str, ...], **limits: object) -> FFSandboxRequest:
    base = {"wall_time_seconds": 5.0, "cpu_time_seconds": 5, "memory_mb": 512, "max_output_bytes": 65536,
            "max_processes": 4, "max_open_files": 64, "max_file_bytes": 1 << 20}  # fmt: skip
    base.update(limits)
    return FFSandboxRequest(argv, b"{}", tmp_path, ff_build_environment(tmp_path, pythonpath=TOOLS_PACKAGE_PARENT), FFToolLimitsDTO(**base))


async def test_runner_reports_exit_code_and_signal_from_the_supervisor(tmp_path: Path) -> None:
    exited = await ff_run_sandboxed(_request(tmp_path, (sys.executable, "-c", "import sys; sys.exit(3)")))
    assert (exited.exit_code, exited.signal, exited.limit_exceeded) == (3, None, None)
    killed = await ff_run_sandboxed(_request(tmp_path, (sys.executable, "-c", "import os; os.kill(os.getpid(), 9)")))
    assert (killed.exit_code, killed.signal) == (None, 9)


async def test_runner_applies_rlimits_in_the_child(tmp_path: Path) -> None:
    code = "import resource, json, sys; json.dump({n: resource.getrlimit(getattr(resource, n))[0] for n in %r}, sys.stdout)"
    names = list(ff_rlimits(FFToolLimitsDTO(cpu_time_seconds=1, memory_mb=64, max_processes=1, max_file_bytes=1024, max_open_files=16)))
    outcome = await ff_run_sandboxed(
        _request(tmp_path, (sys.executable, "-c", code % names), cpu_time_seconds=7, memory_mb=300, max_file_bytes=4096, max_open_files=32)
    )
    seen = json.loads(outcome.stdout)
    assert seen == {"RLIMIT_CPU": 7, "RLIMIT_AS": 300 * 1024 * 1024, "RLIMIT_NPROC": 5, "RLIMIT_FSIZE": 4096, "RLIMIT_NOFILE": 32, "RLIMIT_CORE": 0}


async def test_runner_reports_a_missing_executable(tmp_path: Path) -> None:
    outcome = await ff_run_sandboxed(_request(tmp_path, ("/nonexistent/tool",)))
    assert outcome.exit_code == 127 and outcome.launch_error and "FileNotFoundError" in outcome.launch_error


def test_environment_is_an_allow_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    env = ff_build_environment(tmp_path, pythonpath="/p", extra={"TOOL_MODE": "fast"})
    assert "AWS_SECRET_ACCESS_KEY" not in env and env["TOOL_MODE"] == "fast" and env["HOME"] == str(tmp_path)
    assert env["PATH"] == "/usr/local/bin:/usr/bin:/bin"  # fixed, not the parent's PATH


def _spawn_tree() -> tuple[subprocess.Popen[bytes], int]:
    """A root with four descendants (a nested shell with two sleeps, and a sleep); waits until all exist."""
    root = subprocess.Popen(["/bin/sh", "-c", "/bin/sh -c 'sleep 30 & sleep 30 & wait' & sleep 30 & wait"])
    deadline = time.monotonic() + 5
    while len(psutil.Process(root.pid).children(recursive=True)) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    return root, 4


def _kill_tree(root: subprocess.Popen[bytes]) -> None:
    for child in psutil.Process(root.pid).children(recursive=True):
        child.kill()
    root.kill()
    root.wait()


def test_watchdog_count_matches_a_full_process_scan_and_stops_past_the_limit() -> None:
    root, expected = _spawn_tree()
    try:
        assert watchdog_module.ff_count_descendants_psutil(root.pid) == expected
        assert watchdog_module.ff_count_descendants_proc(root.pid, 100) == expected
        early = watchdog_module.ff_count_descendants_proc(root.pid, 1)
        assert early is not None and 1 < early <= expected  # tripped without walking the rest
    finally:
        _kill_tree(root)
    assert watchdog_module.ff_count_descendants_proc(root.pid, 100) == 0  # gone: nothing to count


def test_watchdog_check_costs_far_less_cpu_than_a_process_table_scan() -> None:
    """The check runs every 20 ms per run in flight, on the event loop: it must stay cheap.

    psutil's recursive children() reads /proc/<n>/stat of every process on the machine in Python;
    under load that work and the GIL it held inflated every other operation's p95 ~10x. Compared
    as CPU time (not wall time) on the same tree, so a busy machine does not decide the outcome.
    """
    root, _ = _spawn_tree()
    try:
        started = time.process_time()
        for _ in range(200):
            watchdog_module.ff_count_descendants_proc(root.pid, 16)
        walk = time.process_time() - started
        started = time.process_time()
        for _ in range(200):
            watchdog_module.ff_count_descendants_psutil(root.pid)
        scan = time.process_time() - started
    finally:
        _kill_tree(root)
    assert walk * 3 < scan, f"/proc walk {walk * 5:.2f} ms per check vs full scan {scan * 5:.2f} ms"


async def test_fork_bomb_is_contained_by_the_psutil_fallback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a kernel without /proc/<pid>/task/<tid>/children the watchdog must still trip."""
    scans: list[int] = []
    real_scan = watchdog_module.ff_count_descendants_psutil

    def counting_scan(pid: int) -> int:
        scans.append(pid)
        return real_scan(pid)

    monkeypatch.setattr(watchdog_module, "ff_proc_children", lambda pid: None)
    monkeypatch.setattr(watchdog_module, "ff_count_descendants_psutil", counting_scan)
    code = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    outcome = await ff_run_sandboxed(_request(tmp_path, (sys.executable, "-c", code), max_processes=4, wall_time_seconds=30))
    assert outcome.limit_exceeded == "processes"  # the watchdog, not the (distant) wall time, stopped it
    assert scans and outcome.peak_processes > 4


@pytest.mark.slow  # a 100-process fork bomb; test_tools_focused.py judges the thread path for mutation runs
async def test_fork_bomb_under_a_high_process_limit_is_contained_off_the_loop(tmp_path: Path) -> None:
    """Past 64 allowed processes the /proc walk runs in a thread; it must trip all the same."""
    code = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    outcome = await ff_run_sandboxed(_request(tmp_path, (sys.executable, "-c", code), max_processes=100, wall_time_seconds=30))
    assert outcome.limit_exceeded == "processes"  # the watchdog, not the (distant) wall time, stopped it
    assert outcome.peak_processes > 100
