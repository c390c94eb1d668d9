"""How a sandbox outcome becomes a run result, checked without spawning anything."""

from __future__ import annotations

import signal
from datetime import UTC, datetime
from typing import Any

import pytest

from ff_class_configs.ff_tool_dtos import FFToolRunStatus
from ff_managers._tools.results import ff_counts_against_breaker, ff_is_transient, ff_run_result
from ff_managers._tools.sandbox import FFSandboxOutcome
from tests._tool_helpers import code_tool

TOOL = code_tool("probe", "print('{}')")


def outcome(exit_code: int | None = 0, stdout: bytes = b"", **extra: Any) -> FFSandboxOutcome:
    return FFSandboxOutcome(exit_code=exit_code, signal=extra.pop("signal", None), stdout=stdout, stdout_truncated=False,
                            stderr_tail=extra.pop("stderr_tail", b""), duration_s=0.25, **extra)  # fmt: skip


def result(ended: FFSandboxOutcome, attempts: int = 1) -> Any:
    return ff_run_result(
        TOOL, user_id="alice", run_id="run-1", arguments={}, started_at=datetime(2026, 1, 1, tzinfo=UTC),
        outcome=ended, attempts=attempts, elapsed=0.5,
    )  # fmt: skip


@pytest.mark.parametrize(
    "ended, status, error",
    [
        (outcome(0, b'{"n": 1}'), FFToolRunStatus.SUCCESS, None),
        (outcome(0, b"not json"), FFToolRunStatus.ERROR, "tool exited 0 but did not write a JSON result"),
        (outcome(None, limit_exceeded="wall_time"), FFToolRunStatus.TIMEOUT, "ran past its wall-time limit and was killed"),
        (outcome(None, limit_exceeded="processes"), FFToolRunStatus.KILLED, "started more processes than allowed and was killed"),
        (outcome(None, signal=int(signal.SIGXCPU), limit_exceeded="cpu_time"), FFToolRunStatus.KILLED, "used up its CPU-time limit (signal 24)"),
        (outcome(127, launch_error="FileNotFoundError: x"), FFToolRunStatus.ERROR, "tool could not be started: FileNotFoundError: x"),
        (outcome(1, b'{"error": {"type": "busy", "message": "later"}}'), FFToolRunStatus.ERROR, "busy: later"),
        (outcome(1, limit_exceeded="memory"), FFToolRunStatus.ERROR, "ran out of its memory limit"),
        (outcome(2), FFToolRunStatus.ERROR, "tool exited with code 2"),
    ],
)  # fmt: skip
def test_outcomes_map_to_status_and_one_line_error(ended: FFSandboxOutcome, status: FFToolRunStatus, error: str | None) -> None:
    made = result(ended)
    assert (made.status, made.error) == (status, error)
    assert made.duration_ms == 500.0 and made.attempts == 1


def test_a_declared_error_document_is_kept_as_output() -> None:
    made = result(outcome(65, b'{"error": {"type": "invalid_input", "message": "no", "retryable": false}}'))
    assert made.output == {"error": {"type": "invalid_input", "message": "no", "retryable": False}}


def test_transient_means_a_retryable_exit_code_or_a_declared_retryable_error() -> None:
    assert ff_is_transient(TOOL, outcome(75))
    assert ff_is_transient(TOOL, outcome(1, b'{"error": {"retryable": true}}'))
    assert not ff_is_transient(TOOL, outcome(1, b'{"error": {"retryable": false}}'))
    assert not ff_is_transient(TOOL, outcome(75, limit_exceeded="wall_time"))  # timeouts are never retried
    assert not ff_is_transient(TOOL, outcome(None, signal=9))


def test_only_real_failures_count_against_the_breaker() -> None:
    assert ff_counts_against_breaker(result(outcome(2)))
    assert ff_counts_against_breaker(result(outcome(None, limit_exceeded="wall_time")))
    assert not ff_counts_against_breaker(result(outcome(65)))  # the input was refused; the tool is fine
    assert not ff_counts_against_breaker(result(outcome(0, b"{}")))


def test_a_launch_error_or_a_success_is_never_transient() -> None:
    """Only a failed attempt that ran is retried: not one that never started, nor one that exited 0."""
    retries_127 = code_tool("probe", "print('{}')", retryable_exit_codes=frozenset({75, 127}))
    assert ff_is_transient(retries_127, outcome(127))
    assert not ff_is_transient(retries_127, outcome(127, launch_error="FileNotFoundError: x"))
    assert not ff_is_transient(TOOL, outcome(75, launch_error="supervisor ended without a report (exit status 75)"))
    assert not ff_is_transient(TOOL, outcome(0, b'{"error": {"retryable": true}}'))  # exit 0 is a success


@pytest.mark.parametrize(
    "ended, status, error",
    [
        (outcome(None, signal=int(signal.SIGTERM), limit_exceeded="output"), FFToolRunStatus.KILLED, "wrote more output than allowed and was killed"),
        (outcome(None, signal=int(signal.SIGKILL), limit_exceeded="processes"), FFToolRunStatus.KILLED, "started more processes than allowed and was killed"),
        (outcome(None, limit_exceeded="output"), FFToolRunStatus.KILLED, "wrote more output than allowed and was killed"),
        (outcome(None, signal=int(signal.SIGKILL)), FFToolRunStatus.KILLED, "killed (signal 9)"),
        (outcome(None, signal=int(signal.SIGTERM), stderr_tail=b"boom"), FFToolRunStatus.KILLED, "killed (signal 15)"),
    ],
)  # fmt: skip
def test_a_limit_the_sandbox_tripped_names_no_signal_and_a_plain_signal_says_killed(
    ended: FFSandboxOutcome, status: FFToolRunStatus, error: str
) -> None:
    made = result(ended)
    assert (made.status, made.error, made.signal) == (status, error, ended.signal)


def test_a_full_work_dir_is_an_error_whatever_the_exit_code_and_keeps_the_parsed_output() -> None:
    for code in (0, 1):
        made = result(outcome(code, b'{"partial": true}', limit_exceeded="work_dir_size"))
        assert (made.status, made.error, made.output, made.limit_exceeded) == (
            FFToolRunStatus.ERROR, "filled its work dir (the sandbox's size cap); nothing of it was kept", {"partial": True}, "work_dir_size")
    assert result(outcome(0, b"not json", limit_exceeded="work_dir_size")).output is None


def test_a_kernel_refusal_names_its_limit_and_a_declared_error_without_type_reads_error() -> None:
    made = result(outcome(1, b'{"error": {"message": "disk"}}', limit_exceeded="file_size"))
    assert (made.status, made.error, made.limit_exceeded) == (FFToolRunStatus.ERROR, "wrote a file larger than allowed", "file_size")
    assert made.output == {"error": {"message": "disk"}}
    assert result(outcome(1, b'{"error": {"message": "later"}}')).error == "error: later"


def test_every_field_of_the_outcome_reaches_the_result() -> None:
    ended = FFSandboxOutcome(exit_code=None, signal=int(signal.SIGTERM), stdout=b'{"n": 1}', stdout_truncated=True,
                             stderr_tail=b"bad \xff byte", duration_s=0.25, limit_exceeded="output", isolation="bwrap")  # fmt: skip
    made = ff_run_result(
        TOOL, user_id="alice", run_id="run-9", arguments={"a": [1]}, started_at=datetime(2026, 1, 1, tzinfo=UTC),
        outcome=ended, attempts=2, elapsed=0.1234567,
    )  # fmt: skip
    assert (made.run_id, made.tool, made.user_id, made.arguments, made.attempts) == ("run-9", "probe", "alice", {"a": [1]}, 2)
    assert (made.exit_code, made.signal, made.limit_exceeded, made.stdout_truncated) == (None, int(signal.SIGTERM), "output", True)
    assert made.duration_ms == 123.457 and made.stderr_tail == "bad \ufffd byte" and made.sandbox == "bwrap"
    ended.isolation = "none"  # an explicitly unsandboxed run
    assert result(ended).sandbox == "none"


@pytest.mark.parametrize("stdout", [b"", b" \n", b"[1]", b'{"n": 1}', b'{"error": "busy"}'])
def test_only_an_error_object_is_a_declared_error_and_empty_stdout_is_no_result(stdout: bytes) -> None:
    assert result(outcome(1, stdout)).error == "tool exited with code 1"
    assert not ff_is_transient(TOOL, outcome(1, stdout))
    if not stdout.strip():
        made = result(outcome(0, stdout))
        assert (made.status, made.error, made.output) == (FFToolRunStatus.ERROR, "tool exited 0 but did not write a JSON result", None)
