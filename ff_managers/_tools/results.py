"""How a sandboxed attempt becomes a run result: status, output, error text, and what is retried.

Pure functions over :class:`~ff_managers._tools.sandbox.FFSandboxOutcome`, kept apart from the
run pipeline so the mapping (which limit means ``timeout`` and which ``killed``, when a tool's
own error document is believed, which failures count against its circuit breaker) reads in one
place and is tested without spawning anything.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from ff_class_configs.ff_tool_dtos import FFToolDefinitionDTO, FFToolRunResultDTO, FFToolRunStatus
from ff_managers._tools.sandbox import FFSandboxOutcome

__all__ = ["ff_counts_against_breaker", "ff_is_transient", "ff_run_result"]

# Exit codes meaning "your input was refused": the tool is healthy, so the breaker counts a success.
_INPUT_REFUSED_EXIT_CODES = frozenset({64, 65, 77})
_FAILED = frozenset({FFToolRunStatus.ERROR, FFToolRunStatus.TIMEOUT, FFToolRunStatus.KILLED})
_LIMIT_NOTES = {
    "wall_time": "ran past its wall-time limit and was killed",
    "output": "wrote more output than allowed and was killed",
    "processes": "started more processes than allowed and was killed",
    "cpu_time": "used up its CPU-time limit",
    "file_size": "wrote a file larger than allowed",
    "memory": "ran out of its memory limit",
    "work_dir_size": "filled its work dir (the sandbox's size cap); nothing of it was kept",
}


def _parse_stdout(stdout: bytes) -> tuple[bool, Any]:
    """(parsed, value) of the tool's stdout; a tool's bad JSON is its failure, not corruption."""
    if not stdout.strip():
        return False, None
    try:
        return True, orjson.loads(stdout)
    except orjson.JSONDecodeError:
        return False, None


def _declared_error(document: Any) -> dict[str, Any] | None:
    if isinstance(document, dict) and isinstance(document.get("error"), dict):
        return document["error"]
    return None


def ff_is_transient(definition: FFToolDefinitionDTO, outcome: FFSandboxOutcome) -> bool:
    """Whether the attempt failed in a way worth retrying: a retryable exit code or a declared retryable error."""
    if outcome.limit_exceeded or outcome.launch_error or outcome.signal is not None:
        return False  # timeouts and kills are not retried
    if outcome.exit_code in definition.retryable_exit_codes:
        return True
    declared = _declared_error(_parse_stdout(outcome.stdout)[1]) if outcome.exit_code else None
    return bool(declared and declared.get("retryable") is True)


def ff_counts_against_breaker(result: FFToolRunResultDTO) -> bool:
    """A failed run counts against the tool's breaker, unless the tool only refused its input."""
    return result.status in _FAILED and result.exit_code not in _INPUT_REFUSED_EXIT_CODES


def ff_run_result(
    definition: FFToolDefinitionDTO,
    *,
    user_id: str,
    run_id: str,
    arguments: dict[str, Any],
    started_at: datetime,
    outcome: FFSandboxOutcome,
    attempts: int,
    elapsed: float,
) -> FFToolRunResultDTO:
    """The result of a run whose last attempt ended as ``outcome`` after ``attempts`` attempts."""
    parsed, document = _parse_stdout(outcome.stdout)
    status, output, error = FFToolRunStatus.ERROR, None, None
    limit = outcome.limit_exceeded
    if limit == "wall_time":
        status, error = FFToolRunStatus.TIMEOUT, _LIMIT_NOTES[limit]
    elif limit in ("output", "processes"):
        status, error = FFToolRunStatus.KILLED, _LIMIT_NOTES[limit]
    elif outcome.launch_error:
        error = f"tool could not be started: {outcome.launch_error}"
    elif outcome.signal is not None:
        note = _LIMIT_NOTES.get(limit or "", "killed")
        status, error = FFToolRunStatus.KILLED, f"{note} (signal {outcome.signal})"
    elif limit == "work_dir_size":  # whatever the tool says, its files were not kept
        error, output = _LIMIT_NOTES[limit], document if parsed else None
    elif outcome.exit_code == 0 and parsed:
        status, output = FFToolRunStatus.SUCCESS, document
    elif outcome.exit_code == 0:
        error = "tool exited 0 but did not write a JSON result"
    else:
        declared = _declared_error(document) if parsed else None
        output = document if parsed else None
        if limit in ("memory", "file_size"):  # refused by the kernel; the tool failed on it (work_dir_size: above)
            error = _LIMIT_NOTES[limit]
        elif declared and isinstance(declared.get("message"), str):
            error = f"{declared.get('type', 'error')}: {declared['message']}"
        else:
            error = f"tool exited with code {outcome.exit_code}"
    return FFToolRunResultDTO(
        run_id=run_id,
        tool=definition.name,
        user_id=user_id,
        status=status,
        started_at=started_at,
        arguments=arguments,
        output=output,
        error=error,
        exit_code=outcome.exit_code,
        signal=outcome.signal,
        duration_ms=round(elapsed * 1000, 3),
        attempts=attempts,
        stdout_truncated=outcome.stdout_truncated,
        limit_exceeded=limit,
        stderr_tail=outcome.stderr_tail.decode("utf-8", errors="replace"),
        sandbox="bwrap" if outcome.isolation == "bwrap" else "none",
    )
