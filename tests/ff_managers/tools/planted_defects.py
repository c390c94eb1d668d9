"""Planted defects inside ``ff_managers._tools`` (collected by ``tests/planted_defects``).

Each replaces one function of the private package for the length of a suite run. All are
surviving mutants of a ``_tools`` mutation run that a new test killed, kept as plausible bugs.
The first three (killed by ``test_tools_exact_units.py``, ``test_tools_exact_runs.py``) must turn
the component suite's ``tools_contracts`` red (its unknown-run and kept-outputs steps); the last
three (killed by ``test_tool_results.py``) its ``tools_outcome_contracts``, as must the last three
(survivors of the 2026-12-06 sample, killed by ``test_tools_sample_kills.py``), and the three of the
2026-12-07 sample killed by ``test_tools_fresh_review.py`` (a tool name that is not text, arguments as
Python objects, a mangled run id).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
from datetime import datetime
from typing import Any

import ff_managers._tools.runs as runs_module
import ff_managers._tools.sandbox as sandbox_module
from ff_class_configs.ff_tool_dtos import FFToolDefinitionDTO, FFToolRunResultDTO
from ff_managers._core.errors import validate_input
from ff_managers._tools.registry import FFToolRegistry
from ff_managers._tools.results import _LIMIT_NOTES, _declared_error, _parse_stdout, ff_run_result
from ff_managers._tools.runs import FFToolRunPlan, FFToolRuns
from ff_managers._tools.sandbox import FFSandboxOutcome
from ff_managers._tools.sandbox_files import _MAX_HEADER, _MAX_NAME, _safe_relative
from ff_utils.ff_errors import FFConflictError, FFNotFoundError, FFValidationError
from ff_utils.ff_ids import ff_validate_id
from tests._planted import PlantedDefect

__all__ = ["DEFECTS"]


def read_packed_stops_at_an_empty_file(fd: int, cap: int) -> list[tuple[str, bytes]]:
    """The copy-back reader takes a frame of size 0 for the end of the stream (``size <= 0``): an
    empty output file, and every file framed after it, is lost."""
    files: list[tuple[str, bytes]] = []
    offset = total = 0
    end = os.fstat(fd).st_size
    while offset < end:
        head = os.pread(fd, _MAX_HEADER, offset)
        newline = head.find(b"\n")
        if newline < 0:
            break
        try:
            name_length, size = (int(part) for part in head[:newline].split(b" "))
        except ValueError:
            break
        offset += newline + 1
        if not 0 < name_length <= _MAX_NAME or size <= 0 or total + size > cap or offset + name_length + size > end:
            break
        raw_name = os.pread(fd, name_length, offset)
        offset += name_length
        data = os.pread(fd, size, offset)
        offset += size
        total += size
        try:
            name = _safe_relative(raw_name.decode("utf-8"))
        except UnicodeDecodeError:
            name = None
        if name is not None:
            files.append((name, data))
    return files


def write_back_stops_at_a_refused_name(self: FFToolRuns, plan: FFToolRunPlan, files: list[tuple[str, bytes]]) -> None:
    """Keeping a run's outputs stops at the first name the store refuses (``break`` for
    ``continue``): every output after it is lost."""
    for name, data in files:
        try:
            target = self.store.path("users", plan.user_id, "tools", "work", plan.run_id, *name.split("/"))
            self.store.ensure_dir(target.parent)
            self.scratch.write_bytes(target, data)
        except FFValidationError:
            break


def run_not_found_without_kind(self: FFToolRuns, user_id: str, run_id: str) -> FFToolRunResultDTO:
    """get_run's not-found error names no kind (``kind=None``), so a caller cannot tell a missing
    run from a missing tool."""
    path = self._runs_path(user_id)
    for record in self.store.read_jsonl(path):
        if isinstance(record, dict) and record.get("run_id") == run_id:
            return self.store.load(FFToolRunResultDTO, record, path)
    raise FFNotFoundError(f"no run {run_id} for user {user_id}", kind=None, key=run_id)


def run_result_signal_kill_without_note(definition: FFToolDefinitionDTO, *, outcome: Any, **run: Any) -> FFToolRunResultDTO:
    """A run killed by a signal that no limit explains reads ``None (signal 9)``: the note is looked
    up without its default (``_LIMIT_NOTES.get(limit or "")``)."""
    result = ff_run_result(definition, outcome=outcome, **run)
    limit = outcome.limit_exceeded
    if limit not in ("wall_time", "output", "processes") and not outcome.launch_error and outcome.signal is not None:
        if (limit or "") not in _LIMIT_NOTES:
            result = result.model_copy(update={"error": f"None (signal {outcome.signal})"})
    return result


def run_result_output_limit_as_a_signal_kill(definition: FFToolDefinitionDTO, *, outcome: Any, **run: Any) -> FFToolRunResultDTO:
    """The output limit is missing from the limits that name their own kill (``limit in
    ("XXoutputXX", "processes")``): a flooding tool reads as a signal kill, ``... (signal 15)``, or
    by its exit code when no signal ended it."""
    if outcome.limit_exceeded != "output":
        return ff_run_result(definition, outcome=outcome, **run)
    if not outcome.launch_error and outcome.signal is not None:
        result = ff_run_result(definition, outcome=outcome, **run)
        return result.model_copy(update={"error": f"{_LIMIT_NOTES['output']} (signal {outcome.signal})"})
    result = ff_run_result(definition, outcome=dataclasses.replace(outcome, limit_exceeded=None), **run)
    return result.model_copy(update={"limit_exceeded": "output"})


def transient_success_with_a_retryable_document(definition: FFToolDefinitionDTO, outcome: Any) -> bool:
    """A run that exited 0 is retried when its output holds ``{"error": {"retryable": true}}``:
    the declared error is read whatever the exit code."""
    if outcome.limit_exceeded or outcome.launch_error or outcome.signal is not None:
        return False
    if outcome.exit_code in definition.retryable_exit_codes:
        return True
    declared = _declared_error(_parse_stdout(outcome.stdout)[1])
    return bool(declared and declared.get("retryable") is True)


def register_without_the_path_argument_check(self: FFToolRegistry, definition: FFToolDefinitionDTO, *, replace: bool = False) -> None:
    """register_tool no longer checks that every path argument is a parameter (``missing = None``):
    a path argument the model does not have is accepted, and never checked against the work dir."""
    if not isinstance(definition, FFToolDefinitionDTO):
        raise FFValidationError("register_tool takes an FFToolDefinitionDTO", field="definition")
    if definition.name in self._tools and not replace:
        raise FFConflictError(f"tool {definition.name!r} is already registered", tool=definition.name)
    self._tools[definition.name] = definition


def check_files_without_field(self: FFToolRuns, files: Any) -> dict[str, bytes]:
    """A staged file that is not bytes is refused without naming the field (``field`` dropped)."""
    staged: dict[str, bytes] = {}
    total = 0
    for name, data in (files or {}).items():
        ff_validate_id(name, "file name")
        if not isinstance(data, (bytes, bytearray)):
            raise FFValidationError(f"file {name!r} must be bytes")
        total += len(data)
        staged[name] = bytes(data)
    if total > self.settings.max_input_file_bytes:
        raise FFValidationError(f"staged files of {total:,} bytes exceed {self.settings.max_input_file_bytes:,}", field="files")
    return staged


async def run_timing_only_the_last_attempt(self: FFToolRuns, plan: FFToolRunPlan, started_at: datetime, isolation: str) -> FFToolRunResultDTO:
    """A retried run's duration is that of its last attempt (``elapsed = outcome.duration_s`` for
    ``+=``): the time of every failed attempt before it is lost."""
    definition, settings = plan.definition, self.settings
    request = self._request(plan, isolation)
    attempts = 0
    elapsed = 0.0

    async def attempt() -> FFSandboxOutcome:
        nonlocal attempts, elapsed, request
        attempts += 1
        outcome = await runs_module.ff_run_sandboxed(request)
        elapsed = outcome.duration_s
        if outcome.files:
            request = dataclasses.replace(request, files=tuple(outcome.files))
        return outcome

    outcome = await runs_module.ff_retry(
        attempt, is_transient=lambda outcome: runs_module.ff_is_transient(definition, outcome), max_attempts=settings.max_retries + 1,
        backoff=settings.retry_backoff_seconds, backoff_max=settings.retry_backoff_max_seconds, sleep=self.sleep,
    )  # fmt: skip
    if outcome.files and settings.keep_work_dirs:
        await asyncio.to_thread(self._write_back, plan, outcome.files)
    return runs_module.ff_run_result(
        definition, user_id=plan.user_id, run_id=plan.run_id, arguments=plan.arguments,
        started_at=started_at, outcome=outcome, attempts=attempts, elapsed=elapsed,
    )  # fmt: skip



# ---------------------------------------------------------------- the 2026-12-07 sample (test_tools_fresh_review.py)


def get_without_the_type_check(self: FFToolRegistry, name: str) -> FFToolDefinitionDTO:
    """A tool name that is not text (a list) crashes the call with a TypeError (unhashable type)
    instead of being not found: the ``isinstance`` check dropped (``... or True``)."""
    definition = self._tools.get(name)
    if definition is None:
        raise FFNotFoundError(f"no tool named {name!r}", kind="tool", key=str(name))
    return definition


def validate_arguments_as_python_objects(definition: FFToolDefinitionDTO, arguments: dict[str, Any]) -> dict[str, Any]:
    """A run's ``arguments`` hold Python objects (a date, a tuple, an enum) instead of the plain
    JSON data the run log keeps, so the result of ``execute_tool`` differs from what ``get_run``
    reads back (``model_dump(mode="JSON")``: pydantic takes an unknown mode for Python)."""
    model = validate_input(definition.parameters, arguments, field="arguments", action=f"run {definition.name}", tool=definition.name)
    return model.model_dump(mode="python", exclude_none=True)


def plan_with_a_mangled_run_id(self: FFToolRuns, user_id: str, tool_name: str, arguments: Any, files: Any) -> FFToolRunPlan:
    """Run ids lose their documented form ``run-`` and 32 hex digits: they start ``XXrun-XX``
    (``ff_new_id("XXrun-XX")``)."""
    definition = self.registry.get(tool_name)
    plain = runs_module.check_json_object(arguments, field="arguments", max_bytes=self.settings.max_argument_bytes)
    validated = self.registry.validate_arguments(definition, plain)
    payload = runs_module.ff_dumps(validated)
    staged = self._check_files(files)
    run_id = runs_module.ff_new_id("XXrun-XX")
    return FFToolRunPlan(definition, user_id, run_id, validated, payload, staged, self._work_dir(user_id, run_id))

_TEST = "tools_contracts"
_OUTCOMES = "tools_outcome_contracts"

def _replay(name: str, test: str, mutant: str, owner: Any, attribute: str, replacement: Any) -> PlantedDefect:
    """A killed survivor replayed: ``owner.attribute`` replaced for the run; its docstring says the bug."""
    function = getattr(replacement, "__func__", replacement)
    return PlantedDefect(name=name, what=" ".join((function.__doc__ or "").split()), suite="component", test=test,
                         origin=f"mutant {mutant}", patches=((owner, attribute, replacement),))


DEFECTS: tuple[PlantedDefect, ...] = (
    _replay("empty_output_ends_copy_back", _TEST, "ff_managers._tools.sandbox_files.x_ff_read_packed__mutmut_37",
            sandbox_module, "ff_read_packed", read_packed_stops_at_an_empty_file),
    _replay("refused_output_drops_the_rest", _TEST, "ff_managers._tools.runs.xǁFFToolRunsǁ_write_back__mutmut_26",
            FFToolRuns, "_write_back", write_back_stops_at_a_refused_name),
    _replay("run_not_found_without_kind", _TEST, "ff_managers._tools.runs.xǁFFToolRunsǁfind__mutmut_16",
            FFToolRuns, "find", run_not_found_without_kind),
    _replay("signal_kill_reads_none", _OUTCOMES, "ff_managers._tools.results.x_ff_run_result__mutmut_19",
            runs_module, "ff_run_result", run_result_signal_kill_without_note),
    _replay("output_limit_reported_as_signal_kill", _OUTCOMES, "ff_managers._tools.results.x_ff_run_result__mutmut_10",
            runs_module, "ff_run_result", run_result_output_limit_as_a_signal_kill),
    _replay("success_retried_for_its_output", _OUTCOMES, "ff_managers._tools.results.x_ff_is_transient__mutmut_9",
            runs_module, "ff_is_transient", transient_success_with_a_retryable_document),
    _replay("path_arguments_not_checked_at_registration", _OUTCOMES, "ff_managers._tools.registry.xǁFFToolRegistryǁregister__mutmut_20",
            FFToolRegistry, "register", register_without_the_path_argument_check),
    _replay("staged_file_refusal_without_field", _OUTCOMES, "ff_managers._tools.runs.xǁFFToolRunsǁ_check_files__mutmut_15",
            FFToolRuns, "_check_files", check_files_without_field),
    _replay("retried_run_timed_by_its_last_attempt", _OUTCOMES, "ff_managers._tools.runs.xǁFFToolRunsǁ_run__mutmut_16",
            FFToolRuns, "_run", run_timing_only_the_last_attempt),
    _replay("tool_name_not_text_crashes", _OUTCOMES, "ff_managers._tools.registry.xǁFFToolRegistryǁget__mutmut_3",
            FFToolRegistry, "get", get_without_the_type_check),
    _replay("tool_arguments_kept_as_python_objects", _OUTCOMES, "ff_managers._tools.registry.xǁFFToolRegistryǁvalidate_arguments__mutmut_19",
            FFToolRegistry, "validate_arguments", staticmethod(validate_arguments_as_python_objects)),
    _replay("tool_run_id_mangled", _OUTCOMES, "ff_managers._tools.runs.xǁFFToolRunsǁplan__mutmut_23",
            FFToolRuns, "plan", plan_with_a_mangled_run_id),
)
