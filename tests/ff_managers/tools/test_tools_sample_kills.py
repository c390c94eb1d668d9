"""Survivors of the 2026-12-06 sample of ``_tools`` (seed 20261206), read exactly and without a bwrap sandbox.

The refusals of ``register_tool``, of a staged file and of a path argument are read to the
message and ``field``; the supervisor's exit as the outcome reports it (exit code, signal,
report fields, a cancelled run, the reader timeout after an output kill) is judged with a plain
host program standing in for the launcher, so no sandbox starts; the run's duration over retries
with a stand-in attempt; and the watchdog's ``/proc`` walk past a thread that ended mid-walk.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

import ff_managers._tools.runs as runs_module
import ff_managers._tools.sandbox as sandbox_module
import ff_managers._tools.watchdog as watchdog_module
from ff_class_configs import load_config
from ff_class_configs.ff_tool_dtos import FFToolLimitsDTO, FFToolRunStatus
from ff_managers._tools.registry import FFToolRegistry, ff_check_path_arguments
from ff_managers._tools.sandbox import FFSandboxOutcome, FFSandboxRequest, ff_run_sandboxed
from ff_managers.ff_tool_execution_manager import FFToolExecutionManager
from ff_utils.ff_errors import FFSandboxViolationError, FFValidationError
from tests._tool_helpers import code_tool

# ---------------------------------------------------------------------------- refusals before a run


def make(tmp_path: Path, **settings: Any) -> FFToolExecutionManager:
    return FFToolExecutionManager(load_config(base_path=tmp_path / "root", environ={}, overrides={"tools": settings}))


def test_register_refuses_what_is_not_a_definition_naming_the_field() -> None:
    with pytest.raises(FFValidationError) as caught:
        FFToolRegistry().register({"name": "calc"})  # type: ignore[arg-type]
    assert (caught.value.message, caught.value.field) == ("register_tool takes an FFToolDefinitionDTO", "definition")


def test_register_refuses_path_arguments_that_are_not_parameters() -> None:
    registry = FFToolRegistry()
    with pytest.raises(FFValidationError) as caught:
        registry.register(code_tool("paths", "print('{}')", path_arguments=("where",)))
    assert (caught.value.message, caught.value.field) == ("path_arguments not among the parameters: ['where']", "path_arguments")
    assert registry.names() == []


def test_a_path_argument_outside_the_work_dir_is_named_in_the_refusal(tmp_path: Path) -> None:
    definition = code_tool("paths", "print('{}')", path_arguments=("target",))
    with pytest.raises(FFSandboxViolationError) as caught:
        ff_check_path_arguments(definition, {"target": "../out.txt"}, tmp_path)
    assert caught.value.message.startswith("argument 'target' of paths is outside the tool's working directory: ")
    assert caught.value.message != "argument 'target' of paths is outside the tool's working directory: "  # the cause follows


async def test_a_staged_file_that_is_not_bytes_is_refused_with_the_files_field(tmp_path: Path) -> None:
    tools = make(tmp_path)
    with pytest.raises(FFValidationError) as caught:
        await tools.execute_tool("alice", "calculator", {"expression": "1+2"}, files={"in.txt": "text"})  # type: ignore[dict-item]
    assert (caught.value.message, caught.value.field) == ("file 'in.txt' must be bytes", "files")


async def test_a_staged_file_with_a_bad_name_is_refused_as_a_file_name(tmp_path: Path) -> None:
    tools = make(tmp_path)
    with pytest.raises(FFValidationError) as caught:
        await tools.execute_tool("alice", "calculator", {"expression": "1+2"}, files={"../x": b"1"})
    assert caught.value.field == "file name"
    assert caught.value.message.startswith("invalid file name '../x': ")


async def test_staged_files_over_the_limit_are_refused_with_their_total_and_the_files_field(tmp_path: Path) -> None:
    tools = make(tmp_path, max_input_file_bytes=2048)
    with pytest.raises(FFValidationError) as caught:
        await tools.execute_tool("alice", "calculator", {"expression": "1+2"}, files={"a": b"x" * 1500, "b": b"y" * 1000})
    assert (caught.value.message, caught.value.field) == ("staged files of 2,500 bytes exceed 2,048", "files")


# ---------------------------------------------------------------------------- the run's duration over retries


async def test_the_duration_of_a_retried_run_is_the_sum_of_its_attempts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    outcomes = [
        FFSandboxOutcome(exit_code=75, signal=None, stdout=b"", stdout_truncated=False, stderr_tail=b"", duration_s=0.25, isolation="none"),
        FFSandboxOutcome(exit_code=0, signal=None, stdout=b'{"ok": 1}', stdout_truncated=False, stderr_tail=b"", duration_s=0.5, isolation="none"),
    ]  # fmt: skip

    async def attempt(request: FFSandboxRequest) -> FFSandboxOutcome:
        return outcomes.pop(0)

    async def no_sleep(_: float) -> None:
        return None

    monkeypatch.setattr(runs_module, "ff_run_sandboxed", attempt)
    tools = FFToolExecutionManager(
        load_config(base_path=tmp_path / "root", environ={}, overrides={"tools": {"bwrap_path": "/nonexistent/bwrap", "allow_unsandboxed": True}}),
        sleep=no_sleep,
    )
    tools.register_tool(code_tool("flaky", "print('{}')"))
    result = await tools.execute_tool("alice", "flaky", {})
    assert (result.status, result.attempts, result.output) == (FFToolRunStatus.SUCCESS, 2, {"ok": 1})
    assert result.duration_ms == 750.0


# ---------------------------------------------------------------------------- the supervisor's exit, judged on the host

_LIMITS = FFToolLimitsDTO(
    wall_time_seconds=20, cpu_time_seconds=20, memory_mb=256, max_output_bytes=1024, max_processes=20, max_open_files=64, max_file_bytes=1 << 20
)


def _host_request(tmp_path: Path) -> FFSandboxRequest:
    return FFSandboxRequest(("/bin/true",), b"", tmp_path, {"PATH": "/usr/bin:/bin"}, _LIMITS, isolation="none")


def _stand_in(monkeypatch: pytest.MonkeyPatch, script: str) -> None:
    """Run ``bash -c script`` where the launcher would run; ``$FD`` is the status descriptor it reports on."""

    def command(request: FFSandboxRequest, status_fd: int, in_fd: int | None, out_fd: int | None) -> list[str]:
        return ["/bin/bash", "-c", script.replace("$FD", str(status_fd))]

    monkeypatch.setattr(sandbox_module, "_command", command)


async def test_a_supervisor_without_a_report_reads_its_own_exit_status(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _stand_in(monkeypatch, "exit 3")
    outcome = await ff_run_sandboxed(_host_request(tmp_path))
    assert (outcome.exit_code, outcome.signal, outcome.reaped) == (3, None, 0)
    assert outcome.launch_error == "supervisor ended without a report (exit status 3)"
    _stand_in(monkeypatch, "exit 0")
    outcome = await ff_run_sandboxed(_host_request(tmp_path))
    assert (outcome.exit_code, outcome.signal) == (0, None)  # exit 0 is no signal 0
    _stand_in(monkeypatch, "kill -KILL $$")
    outcome = await ff_run_sandboxed(_host_request(tmp_path))
    assert outcome.signal == signal.SIGKILL
    assert outcome.launch_error == f"supervisor ended without a report (exit status {-signal.SIGKILL})"


async def test_the_report_gives_the_reaped_count_and_only_a_text_launch_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _stand_in(monkeypatch, """echo '{"exit_code": 0, "signal": null, "reaped": 3}' >&$FD""")
    outcome = await ff_run_sandboxed(_host_request(tmp_path))
    assert (outcome.exit_code, outcome.signal, outcome.reaped, outcome.launch_error) == (0, None, 3, None)
    _stand_in(monkeypatch, """echo '{"exit_code": 1, "signal": null, "reaped": null, "error": 5}' >&$FD""")
    outcome = await ff_run_sandboxed(_host_request(tmp_path))
    assert (outcome.exit_code, outcome.reaped, outcome.launch_error) == (1, 0, None)
    _stand_in(monkeypatch, """echo '{"exit_code": null, "signal": null, "error": "exec failed"}' >&$FD""")
    outcome = await ff_run_sandboxed(_host_request(tmp_path))
    assert (outcome.exit_code, outcome.reaped, outcome.launch_error) == (None, 0, "exec failed")


async def test_a_cancelled_run_stops_its_supervisor_and_stays_cancelled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pid_file = tmp_path / "pid"
    _stand_in(monkeypatch, f"echo $$ > {pid_file}; exec sleep 30")
    task = asyncio.create_task(ff_run_sandboxed(_host_request(tmp_path)))
    for _ in range(200):
        if pid_file.exists() and pid_file.read_text().strip():
            break
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    pid = int(pid_file.read_text())
    with pytest.raises(ChildProcessError):  # already reaped: the run left nothing behind
        os.waitpid(pid, os.WNOHANG)


async def test_an_output_kill_stays_truncated_when_an_escaped_process_holds_the_pipe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid_file = tmp_path / "pid"
    monkeypatch.setattr(sandbox_module, "_READER_GRACE_S", 0.2)
    _stand_in(monkeypatch, f"echo $$ > {pid_file}; sleep 30 $FD>&- & head -c 200000 /dev/zero; wait")
    try:
        outcome = await ff_run_sandboxed(_host_request(tmp_path))
    finally:
        os.killpg(int(pid_file.read_text()), signal.SIGKILL)  # the escaped sleep, in the stand-in's own session
    assert (outcome.limit_exceeded, outcome.stdout_truncated, outcome.stdout) == ("output", True, b"")


async def test_a_bwrap_that_cannot_be_started_is_a_sandbox_violation(tmp_path: Path) -> None:
    request = FFSandboxRequest(("/bin/true",), b"", tmp_path, {}, _LIMITS, isolation="bwrap", bwrap="/nonexistent/bwrap",
                              network="loopback")  # fmt: skip  (no ``unshare`` in front: bwrap is what is spawned)
    with pytest.raises(FFSandboxViolationError, match="cannot start the tool supervisor: "):
        await ff_run_sandboxed(request)


# ---------------------------------------------------------------------------- the watchdog's /proc walk


def test_the_children_walk_goes_on_past_a_thread_that_ended(monkeypatch: pytest.MonkeyPatch) -> None:
    child = subprocess.Popen(["/bin/sleep", "30"])
    try:
        real_listdir = os.listdir
        task_dir = f"/proc/{os.getpid()}/task"

        def listdir(path: str) -> list[str]:
            found = real_listdir(path)
            return ["999999999", *found] if path == task_dir else found  # a thread gone before its turn

        monkeypatch.setattr(watchdog_module.os, "listdir", listdir)
        children = watchdog_module.ff_proc_children(os.getpid())
        monkeypatch.undo()
        assert children is not None and child.pid in children
    finally:
        child.kill()
        child.wait()
