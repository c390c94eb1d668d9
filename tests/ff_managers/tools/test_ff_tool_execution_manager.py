"""FFToolExecutionManager: registry, runs, logs, events, permissions, retries, breaker, rate limit."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pydantic
import pytest

from ff_class_configs import load_config
from ff_class_configs.ff_tool_dtos import (
    FFToolDefinitionDTO,
    FFToolPermissionsDTO,
    FFToolRefusal,
    FFToolRunResultDTO,
    FFToolRunStatus,
)
from ff_managers import FFToolExecutionManager
from ff_managers._tools import runs as runs_module
from ff_managers._tools.resilience import FFBreakerState
from ff_managers.ff_event_bus import FFEvent, FFEventBus
from ff_utils.ff_errors import FFConflictError, FFError, FFNotFoundError, FFPermissionError, FFTimeoutError, FFValidationError
from tests._fakes import FakeClock
from tests._tool_helpers import AnyArgs, code_tool

BUILTINS = {"word_count", "extract_text", "summarize", "calculator", "translate", "grammar_check", "create_task", "disk_usage", "restart_service"}

# Exit 75 (EX_TEMPFAIL) on the first two attempts of a run, then succeed: the work dir is shared by
# a run's attempts, so a counter file there sees every attempt.
FLAKY = """
    import pathlib, sys
    counter = pathlib.Path('attempts')
    n = int(counter.read_text()) + 1 if counter.exists() else 1
    counter.write_text(str(n))
    if n < 3:
        sys.exit(75)
    print('{"attempt": %d}' % n)
"""
FAIL_OR_PASS = "import json, sys; args = json.load(sys.stdin); print('{}'); sys.exit(3 if args.get('fail') else 0)"


def make(tmp_path: Path, *, clock: FakeClock | None = None, sleep: Any = None, **tool_settings: Any) -> FFToolExecutionManager:
    config = load_config(base_path=tmp_path / "root", environ={}, overrides={"tools": tool_settings} if tool_settings else None)
    return FFToolExecutionManager(config, bus=FFEventBus(), clock=clock, sleep=sleep)


@pytest.fixture
def tools(tmp_path: Path) -> FFToolExecutionManager:
    return make(tmp_path)


class SpawnCounter:
    """Stands in for the sandbox runner to prove that a refused call spawns nothing."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, request: Any) -> Any:
        self.calls += 1
        raise AssertionError("no process may be spawned")


# --------------------------------------------------------------------------- registry


def test_builtins_are_registered_with_schemas(tools: FFToolExecutionManager) -> None:
    listed = {info.name: info for info in tools.list_tools()}
    assert set(listed) == BUILTINS
    assert listed["calculator"].parameters_schema["required"] == ["expression"]
    assert listed["disk_usage"].dangerous and listed["restart_service"].allowed_roles == ["ops"]


def test_register_tool_is_sync_and_refuses_duplicates(tools: FFToolExecutionManager) -> None:
    definition = code_tool("echo", "print('{}')")
    assert tools.register_tool(definition) is None
    with pytest.raises(FFConflictError):
        tools.register_tool(definition)
    tools.register_tool(definition, replace=True)
    with pytest.raises(FFNotFoundError):
        tools.get_tool("nope")


def test_definitions_refuse_relative_commands() -> None:
    with pytest.raises(pydantic.ValidationError, match="absolute"):
        FFToolDefinitionDTO(name="shell", description="d", argv=("sh", "-c", "id"), parameters=AnyArgs)


# --------------------------------------------------------------------------- runs, logs, events


async def test_execute_returns_result_logs_and_publishes(tools: FFToolExecutionManager, tmp_path: Path) -> None:
    events: list[FFEvent] = []
    tools.bus.subscribe("tool.*", events.append)
    result = await tools.execute_tool("alice", "word_count", {"text": "The cat sat on the mat."})
    assert result.status == FFToolRunStatus.SUCCESS and result.ok
    assert result.output["words"] == 6 and result.exit_code == 0 and result.attempts == 1
    assert result.duration_ms > 0 and result.stdout_truncated is False
    assert (events[0].type, events[0].user_id) == ("tool.executed", "alice")
    assert {"tool", "status", "duration_ms", "exit_code"} <= set(events[0].payload)
    assert "The cat" not in str(events[0].payload)  # no content on the bus
    runs = await tools.list_runs("alice")
    assert [r.run_id for r in runs] == [result.run_id]
    assert runs[0].arguments == {"text": "The cat sat on the mat.", "top": 5}
    assert (tmp_path / "root" / "users" / "alice" / "tools" / "work" / result.run_id).is_dir()


async def test_run_log_survives_a_restart(tmp_path: Path) -> None:
    first = make(tmp_path)
    a = await first.execute_tool("alice", "calculator", {"expression": "6*7"})
    b = await first.execute_tool("alice", "calculator", {"expression": "1/0"})
    await first.shutdown()
    second = make(tmp_path)
    runs = await second.list_runs("alice")
    assert [(r.run_id, r.status) for r in runs] == [(a.run_id, FFToolRunStatus.SUCCESS), (b.run_id, FFToolRunStatus.ERROR)]
    assert (await second.get_run("alice", a.run_id)).output["result"] == 42


@pytest.mark.parametrize("limit", [-1, True, "5", 2.0, 100_001])
async def test_list_runs_refuses_a_bad_limit(tools: FFToolExecutionManager, limit: Any) -> None:
    with pytest.raises(FFValidationError):
        await tools.list_runs("alice", limit=limit)


async def test_list_runs_with_limit_zero_reads_none(tools: FFToolExecutionManager) -> None:
    await tools.execute_tool("alice", "calculator", {"expression": "1"})
    assert await tools.list_runs("alice", limit=0) == []
    assert len(await tools.list_runs("alice", limit=1)) == 1


async def test_run_logs_are_isolated_per_user(tools: FFToolExecutionManager) -> None:
    mine = await tools.execute_tool("alice", "calculator", {"expression": "1+1"})
    assert await tools.list_runs("bob") == []
    with pytest.raises(FFNotFoundError):
        await tools.get_run("bob", mine.run_id)


@pytest.mark.parametrize(
    "tool, arguments",
    [("calculator", {"expression": 5}), ("calculator", {}), ("translate", {"text": "hi", "target": "xx"}),
     ("word_count", {"text": "a", "path": "b"}), ("create_task", {"title": "t", "surprise": 1}), ("word_count", "not a dict")],
)  # fmt: skip
async def test_bad_arguments_are_refused_before_anything_runs(
    tools: FFToolExecutionManager, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tool: str, arguments: Any
) -> None:
    spawn = SpawnCounter()
    monkeypatch.setattr(runs_module, "ff_run_sandboxed", spawn)
    with pytest.raises(FFValidationError):
        await tools.execute_tool("alice", tool, arguments)
    assert spawn.calls == 0
    assert not (tmp_path / "root" / "users" / "alice").exists()


@pytest.mark.parametrize("value", [float("nan"), float("-inf"), b"bytes", {1: "non-text key"}, {"deep": [float("inf")]}])
async def test_arguments_must_be_plain_json_before_anything_runs(
    tools: FFToolExecutionManager, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: Any
) -> None:
    tools.register_tool(code_tool("anything", "print('{}')"))  # its parameter model accepts any object
    spawn = SpawnCounter()
    monkeypatch.setattr(runs_module, "ff_run_sandboxed", spawn)
    with pytest.raises(FFValidationError) as refused:
        await tools.execute_tool("alice", "anything", {"value": value})
    assert refused.value.field == "arguments"
    assert spawn.calls == 0
    assert not (tmp_path / "root" / "users" / "alice").exists()


async def test_a_bad_argument_is_named_with_its_tool(tools: FFToolExecutionManager) -> None:
    with pytest.raises(FFValidationError) as refused:
        await tools.execute_tool("alice", "calculator", {"expression": 5})
    assert refused.value.field == "arguments.expression" and "calculator" in str(refused.value)
    assert refused.value.context["tool"] == "calculator"


async def test_bad_user_ids_and_file_names_are_refused(tools: FFToolExecutionManager, tmp_path: Path) -> None:
    with pytest.raises(FFValidationError):
        await tools.execute_tool("../bob", "word_count", {"text": "x"})
    with pytest.raises(FFValidationError):
        await tools.execute_tool("alice", "extract_text", {"path": "a.txt"}, files={"../a.txt": b"x"})
    assert not (tmp_path / "root" / "users").exists()


async def test_unknown_tool_is_not_found(tools: FFToolExecutionManager) -> None:
    with pytest.raises(FFNotFoundError):
        await tools.execute_tool("alice", "rm_rf", {})


async def test_staged_files_feed_extract_text(tools: FFToolExecutionManager) -> None:
    result = await tools.execute_tool("alice", "extract_text", {"path": "notes.md"}, files={"notes.md": b"# Plan\n\n- **Ship** it"})
    assert result.output == {"text": "Plan\n\nShip it", "format": "markdown", "pages": None, "characters": 13, "truncated": False}


async def test_create_task_returns_the_task_and_writes_it_in_the_work_dir(tools: FFToolExecutionManager, tmp_path: Path) -> None:
    result = await tools.execute_tool("alice", "create_task", {"title": "Book flights", "priority": "high", "due": "2026-03-01"})
    task = result.output
    assert task["title"] == "Book flights" and task["status"] == "open" and task["created_by_run"] == result.run_id
    written = tmp_path / "root" / "users" / "alice" / "tools" / "work" / result.run_id / "task.json"
    assert json.loads(written.read_text()) == task


async def test_work_dirs_are_removed_when_configured(tmp_path: Path) -> None:
    tools = make(tmp_path, keep_work_dirs=False)
    result = await tools.execute_tool("alice", "calculator", {"expression": "2"})
    assert result.ok
    assert not (tmp_path / "root" / "users" / "alice" / "tools" / "work" / result.run_id).exists()


def test_raise_for_status_maps_statuses_to_errors() -> None:
    base = {"run_id": "r", "tool": "t", "user_id": "u", "started_at": datetime.now(UTC)}
    assert FFToolRunResultDTO(status="success", **base).raise_for_status().ok
    with pytest.raises(FFPermissionError):
        FFToolRunResultDTO(status="refused", **base).raise_for_status()
    with pytest.raises(FFTimeoutError):
        FFToolRunResultDTO(status="timeout", **base).raise_for_status()
    with pytest.raises(FFError):
        FFToolRunResultDTO(status="killed", **base).raise_for_status()


# --------------------------------------------------------------------------- permissions


async def test_dangerous_tool_needs_a_grant_and_the_refusal_is_audited(tools: FFToolExecutionManager, monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[FFEvent] = []
    tools.bus.subscribe("tool.refused", events.append)
    refused = await tools.execute_tool("alice", "disk_usage", {})
    assert refused.status == FFToolRunStatus.REFUSED and refused.refusal == FFToolRefusal.GRANT_REQUIRED
    assert refused.attempts == 0 and events[0].payload["reason"] == "grant_required"
    await tools.grant_tool("alice", "disk_usage")
    allowed = await tools.execute_tool("alice", "disk_usage", {})
    assert allowed.ok and allowed.output["runs"] == 1  # its own work dir; the refusal made none
    await tools.revoke_tool("alice", "disk_usage")
    again = await tools.execute_tool("alice", "disk_usage", {})
    assert again.refusal == FFToolRefusal.GRANT_REQUIRED
    logged = [r.status for r in await tools.list_runs("alice")]
    assert logged == [FFToolRunStatus.REFUSED, FFToolRunStatus.SUCCESS, FFToolRunStatus.REFUSED]


async def test_ops_tool_needs_both_the_role_and_the_grant(tools: FFToolExecutionManager, tmp_path: Path) -> None:
    args = {"service": "indexer", "reason": "stuck queue"}
    assert (await tools.execute_tool("carol", "restart_service", args)).refusal == FFToolRefusal.NOT_PERMITTED
    await tools.grant_tool("carol", "restart_service")
    assert (await tools.execute_tool("carol", "restart_service", args)).refusal == FFToolRefusal.NOT_PERMITTED
    await tools.assign_role("carol", "ops")
    ran = await tools.execute_tool("carol", "restart_service", args)
    assert ran.ok and ran.output["service"] == "indexer" and ran.output["state"] == "requested"
    assert (tmp_path / "root" / "users" / "carol" / "tools" / "work" / ran.run_id / "restart_request.json").is_file()
    access = await tools.get_access("carol")
    assert access.roles == ["ops"] and access.grants == ["restart_service"]


async def test_role_and_user_lists_admit_only_those_named(tools: FFToolExecutionManager) -> None:
    tools.register_tool(code_tool("team_tool", "print('{}')", permissions=FFToolPermissionsDTO(allowed_users=("dave",), allowed_roles=("analyst",))))
    assert (await tools.execute_tool("dave", "team_tool", {})).ok
    assert (await tools.execute_tool("erin", "team_tool", {})).refusal == FFToolRefusal.NOT_PERMITTED
    await tools.assign_role("erin", "analyst")
    assert (await tools.execute_tool("erin", "team_tool", {})).ok
    await tools.remove_role("erin", "analyst")
    assert (await tools.execute_tool("erin", "team_tool", {})).refusal == FFToolRefusal.NOT_PERMITTED


async def test_granting_an_unknown_tool_is_not_found(tools: FFToolExecutionManager) -> None:
    with pytest.raises(FFNotFoundError):
        await tools.grant_tool("alice", "nope")


# --------------------------------------------------------------------------- retries


async def test_flaky_tool_is_retried_with_backoff_until_it_succeeds(tmp_path: Path) -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    tools = make(tmp_path, sleep=sleep, max_retries=2, retry_backoff_seconds=0.05)
    tools.register_tool(code_tool("flaky", FLAKY))
    result = await tools.execute_tool("alice", "flaky", {})
    assert result.ok and result.attempts == 3 and result.output == {"attempt": 3}
    assert waits == [0.05, 0.1]  # exponential backoff


async def test_retries_stop_at_the_limit_and_report_the_last_attempt(tmp_path: Path) -> None:
    async def sleep(seconds: float) -> None:
        return None

    tools = make(tmp_path, sleep=sleep, max_retries=1)
    tools.register_tool(code_tool("flaky", FLAKY))
    result = await tools.execute_tool("alice", "flaky", {})
    assert result.status == FFToolRunStatus.ERROR and result.exit_code == 75 and result.attempts == 2


async def test_declared_retryable_error_is_retried_but_plain_errors_are_not(tmp_path: Path) -> None:
    async def sleep(seconds: float) -> None:
        return None

    tools = make(tmp_path, sleep=sleep, max_retries=2)
    declared = "import sys; print('{\"error\": {\"type\": \"busy\", \"message\": \"later\", \"retryable\": true}}'); sys.exit(1)"
    tools.register_tool(code_tool("busy", declared))
    tools.register_tool(code_tool("broken", "import sys; sys.exit(2)"))
    busy = await tools.execute_tool("alice", "busy", {})
    assert busy.attempts == 3 and busy.error == "busy: later"
    broken = await tools.execute_tool("alice", "broken", {})
    assert broken.attempts == 1 and broken.error == "tool exited with code 2"


# --------------------------------------------------------------------------- circuit breaker


async def test_breaker_opens_half_opens_and_closes_with_the_clock(tmp_path: Path) -> None:
    clock = FakeClock()
    tools = make(tmp_path, clock=clock, breaker_failure_threshold=2, breaker_cooldown_seconds=30, max_retries=0)
    tools.register_tool(code_tool("shaky", FAIL_OR_PASS))
    for _ in range(2):
        assert (await tools.execute_tool("alice", "shaky", {"fail": True})).status == FFToolRunStatus.ERROR
    assert tools.breaker_state("shaky") == FFBreakerState.OPEN
    refused = await tools.execute_tool("alice", "shaky", {"fail": False})
    assert refused.refusal == FFToolRefusal.CIRCUIT_OPEN and refused.attempts == 0
    clock.advance(31)
    assert tools.breaker_state("shaky") == FFBreakerState.HALF_OPEN
    assert (await tools.execute_tool("alice", "shaky", {"fail": True})).status == FFToolRunStatus.ERROR  # failed trial
    assert tools.breaker_state("shaky") == FFBreakerState.OPEN
    clock.advance(31)
    assert (await tools.execute_tool("alice", "shaky", {"fail": False})).ok  # good trial
    assert tools.breaker_state("shaky") == FFBreakerState.CLOSED
    assert tools.health().details["open_breakers"] == []


async def test_input_errors_do_not_trip_the_breaker(tmp_path: Path) -> None:
    tools = make(tmp_path, breaker_failure_threshold=2)
    for _ in range(3):
        result = await tools.execute_tool("alice", "calculator", {"expression": "1/0"})
        assert result.exit_code == 65
    assert tools.breaker_state("calculator") == FFBreakerState.CLOSED


# --------------------------------------------------------------------------- rate limit


async def test_rate_limit_refuses_then_refills_with_the_clock(tmp_path: Path) -> None:
    clock = FakeClock()
    tools = make(tmp_path, clock=clock, rate_limit_per_minute=2)
    events: list[FFEvent] = []
    tools.bus.subscribe("tool.refused", events.append)
    assert (await tools.execute_tool("alice", "calculator", {"expression": "1"})).ok
    assert (await tools.execute_tool("alice", "calculator", {"expression": "2"})).ok
    third = await tools.execute_tool("alice", "calculator", {"expression": "3"})
    assert third.refusal == FFToolRefusal.RATE_LIMITED and events[-1].payload["reason"] == "rate_limited"
    assert (await tools.execute_tool("bob", "calculator", {"expression": "4"})).ok  # per user
    clock.advance(30)  # half a minute refills one token
    assert (await tools.execute_tool("alice", "calculator", {"expression": "5"})).ok
    assert (await tools.execute_tool("alice", "calculator", {"expression": "6"})).refusal == FFToolRefusal.RATE_LIMITED
