"""Gates before a run, read exactly and without a sandbox run: isolation, refusals, path arguments, retries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ff_class_configs import load_config
from ff_class_configs.ff_tool_dtos import FFToolRefusal, FFToolRunStatus
from ff_managers._tools.registry import ff_check_path_arguments
from ff_managers._tools.resilience import ff_retry
from ff_managers.ff_tool_execution_manager import FFToolExecutionManager
from ff_utils.ff_errors import FFSandboxViolationError
from tests._tool_helpers import code_tool


def make(tmp_path: Path, **settings: Any) -> FFToolExecutionManager:
    return FFToolExecutionManager(load_config(base_path=tmp_path / "root", environ={}, overrides={"tools": settings}))


async def test_without_bwrap_the_isolation_is_none_if_allowed_and_a_no_sandbox_refusal_if_not_every_time(tmp_path: Path) -> None:
    allowed = make(tmp_path / "a", bwrap_path="/nonexistent/bwrap", allow_unsandboxed=True)
    assert [await allowed._runs.isolation() for _ in range(2)] == ["none", "none"]  # the cached probe too
    refused = make(tmp_path / "r", bwrap_path="/nonexistent/bwrap")
    for _ in range(2):
        with pytest.raises(FFSandboxViolationError, match="tools do not run without the sandbox") as caught:
            await refused._runs.isolation()
        assert caught.value.context == {"reason": "no_sandbox"}


async def test_a_refused_run_names_its_refusal_in_words_and_keeps_its_arguments(tmp_path: Path) -> None:
    tools = make(tmp_path)
    refused = await tools.execute_tool("alice", "disk_usage", {})
    assert (refused.status, refused.refusal, refused.error) == (FFToolRunStatus.REFUSED, FFToolRefusal.GRANT_REQUIRED, "refused: grant required")
    limited = make(tmp_path / "l", rate_limit_per_minute=1)
    limited._runs.rate_limiter.try_acquire("bob")  # the one token of the minute is spent
    result = await limited.execute_tool("bob", "calculator", {"expression": "1+2"})
    assert (result.refusal, result.error, result.arguments) == (FFToolRefusal.RATE_LIMITED, "refused: rate limited", {"expression": "1+2"})


def test_every_path_argument_is_checked_even_after_one_that_is_not_given(tmp_path: Path) -> None:
    definition = code_tool("paths", "print('{}')", path_arguments=("first", "second"))
    ff_check_path_arguments(definition, {"first": None, "second": "in/side.txt"}, tmp_path)
    with pytest.raises(FFSandboxViolationError) as caught:
        ff_check_path_arguments(definition, {"first": None, "second": "../out.txt"}, tmp_path)
    assert caught.value.context == {"tool": "paths", "field": "second"}


async def test_retry_lets_an_attempts_exception_through_unchanged() -> None:
    calls: list[int] = []

    async def attempt() -> int:
        calls.append(1)
        raise KeyError("boom")

    async def no_sleep(_: float) -> None:
        return None

    with pytest.raises(KeyError, match="boom"):
        await ff_retry(attempt, is_transient=lambda _: True, max_attempts=3, backoff=0.01, backoff_max=0.02, sleep=no_sleep)
    assert calls == [1]  # an exception is not a transient result: no retry
