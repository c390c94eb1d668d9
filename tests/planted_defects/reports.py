"""Planted defects in the reports (testing/reporting, and the load statistics they show).

Each replaces one function of a report writer for the length of a run: JUnit counts that do not
add up, a flaky test without its failed attempt, an inconclusive gate shown as a pass, a JSON
summary off by the skipped tests, an HTML page that hides why a test failed, a history that
drops a run or orders runs by id, percentiles by the wrong interpolation. The component suite's
``report_contracts`` test must turn red on each. Collected by ``tests/planted_defects``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ff_class_configs.ff_test_result_dtos import (
    FFIntegrationTestResultDTO,
    FFSystemIntegrationReportDTO,
    FFTestStatus,
)
from testing import _load, _quality_gates, reporting
from testing.reporting import (
    _history,
    _html_writer,
    _json_writer,
    _junit_writer,
    _templating,
    _view,
)
from testing.reporting._history import FFRunHistory
from tests._planted import PlantedDefect

__all__ = ["DEFECTS"]

_junit_from_gate = _junit_writer._from_gate
_view_failure_from_result = _view._failure_from_result
_history_recent = FFRunHistory.recent


def _flaky_without_attempts(parent: Any, case: Any) -> None:
    """JUnit: a flaky test is written as a plain pass (no <flakyFailure>: why it was retried is lost)."""


def _totals_add_without_failures(self: Any, other: Any) -> None:
    """JUnit: the root <testsuites> adds every suite's tests, errors and skipped, but not its failures."""
    self.tests += other.tests
    self.errors += other.errors
    self.skipped += other.skipped
    self.seconds += other.seconds


def _inconclusive_gate_passes(gate: Any) -> Any:
    """JUnit: only a gate whose outcome is "failed" becomes a <failure>; an inconclusive one passes."""
    case = _junit_from_gate(gate)
    if gate.outcome == "inconclusive":
        case.status = FFTestStatus.PASSED
    return case


def _use_cases_counted_twice(report: FFSystemIntegrationReportDTO) -> Iterable[tuple[str, list[Any], float]]:
    """JUnit: the runner's use_cases suite is kept beside the use case results (every scenario twice)."""
    for suite in report.suites:
        yield suite.suite, [_junit_writer._from_result(r) for r in suite.results], suite.duration_seconds
    if report.use_case_results:
        yield _junit_writer.USE_CASE_SUITE, [_junit_writer._from_use_case(u) for u in report.use_case_results], 0.0
    if report.cross_system is not None and report.cross_system.gates:
        yield _junit_writer.CROSS_SYSTEM_GATE_SUITE, [_junit_writer._from_gate(g) for g in report.cross_system.gates], 0.0


def _executed_counts_skipped(report: FFSystemIntegrationReportDTO) -> dict[str, object]:
    """JSON: total_tests_executed recomputed as every result, the skipped ones included."""
    data = _history.report_to_json_data(report)
    data["total_tests_executed"] = sum(len(s.results) for s in report.suites)
    return data


def _failure_without_message(result: FFIntegrationTestResultDTO) -> Any:
    """HTML: a failed test is listed without its error message (only the flaky reason is kept)."""
    item = _view_failure_from_result(result)
    failed = result.status in (FFTestStatus.FAILED, FFTestStatus.ERROR)
    return dataclasses.replace(item, message="") if failed else item


def _verdict_inconclusive_passes(report: FFSystemIntegrationReportDTO) -> tuple[str, str]:
    """HTML: the verdict is "passed" when no gate failed, whatever was left undecided."""
    gates = report.quality_gates
    if not gates:
        return "none", "No quality gate was evaluated, so this run has no verdict."
    failed = [g.name for g in gates if not g.passed and not g.inconclusive]
    if not failed:
        return "passed", f"All {len(gates)} quality gates held."
    return "failed", f"{len(failed)} of {len(gates)} quality gates failed: " + "; ".join(failed) + "."


def _recent_drops_oldest(self: FFRunHistory, n: int, *, before: str | None = None) -> list[Any]:
    """History: recent(n) stops at n - 1 runs (the oldest one asked for is dropped)."""
    return _history_recent(self, n - 1, before=before) if n > 1 else _history_recent(self, n, before=before)


def _run_ids_by_name(self: FFRunHistory) -> list[str]:
    """History: runs ordered by report id instead of generation time."""
    ids = []
    for entry in _history.ff_read_jsonl(self._index_path()):
        if isinstance(entry, dict) and isinstance(entry.get("report_id"), str) and entry["report_id"] not in ids:
            ids.append(entry["report_id"])
    return sorted(ids)


def _nearest_rank(sorted_values: Sequence[float], q: float) -> float:
    """Load statistics: the nearest-rank percentile (no interpolation between ranks)."""
    if not sorted_values:
        return 0.0
    return float(sorted_values[max(1, math.ceil(q / 100 * len(sorted_values))) - 1])


def _regressions_at_the_margin(current: Sequence[Any], baseline: Any, margin_percent: float, *, floor_ms: float = _load.REGRESSION_FLOOR_MS) -> list[str]:
    """Performance regressions: p95 at exactly baseline x (1 + margin) already counts (``>=``)."""
    before = {op.operation: op for op in baseline.operations}
    found = []
    for op in current:
        old = before.get(op.operation)
        if old is None:
            continue
        if op.count and old.count and op.p95_ms >= old.p95_ms * (1 + margin_percent / 100.0) and op.p95_ms - old.p95_ms >= floor_ms:
            found.append(f"{op.operation}: p95 {op.p95_ms:.2f} ms vs {old.p95_ms:.2f} ms in the baseline")
        if op.errors and not old.errors:
            found.append(f"{op.operation}: {op.errors} error(s), none in the baseline")
    return found


def _ceilings_at_the_limit(summary: Any, *, max_p95_ms: float, max_error_rate_percent: float, max_memory_mb: float,
                           max_cpu_percent: float, operation_p95_ms: Any = None) -> list[str]:
    """Performance ceilings: a p95 or error rate exactly at its ceiling fails (``>=``)."""
    ceilings = operation_p95_ms or {}
    failures = [f"{op.operation}: p95 {op.p95_ms:.1f} ms" for op in summary.operations if op.p95_ms >= ceilings.get(op.operation, max_p95_ms)]
    if summary.error_rate_percent >= max_error_rate_percent:
        failures.append(f"error rate {summary.error_rate_percent:.2f}%")
    if summary.peak_rss_mb > max_memory_mb:
        failures.append(f"peak RSS {summary.peak_rss_mb:.1f} MB")
    if summary.peak_cpu_percent > max_cpu_percent:
        failures.append(f"peak CPU {summary.peak_cpu_percent:.0f}%")
    return failures


def _environment_without_escaping(templates_dir: Path = _templating.TEMPLATES_DIR) -> Any:
    """HTML: the template environment built without autoescape: a test name or message with markup
    is rendered as markup (a broken page, or script from a hostile test name)."""
    environment = _templating.report_environment.__wrapped__(templates_dir)
    unescaped = environment.overlay(autoescape=False)
    return unescaped


def _xml_text_unfiltered(value: object) -> str:
    """JUnit: control characters are written as they are; XML 1.0 cannot hold them, so the file does not parse."""
    return str(value)


def _formats_unchecked(formats: Any) -> list[str]:
    """write_reports does not check the formats before writing: the JSON is on disk before an
    unknown format fails ("bad input writes nothing" broken)."""
    if isinstance(formats, str):
        formats = [part.strip() for part in formats.split(",")]
    return list(dict.fromkeys(formats))


def _cross_system_inconclusive_held(report: FFSystemIntegrationReportDTO, config: Any) -> list[Any]:
    """Quality gates: a cross-system criterion counts as held unless it failed (``!= "failed"``):
    an undecided one (too few samples) lets the run pass."""
    from ff_class_configs.ff_test_result_dtos import FFQualityGateResultDTO

    cross = report.cross_system
    if cross is None:
        return []
    return [FFQualityGateResultDTO(name=f"cross-system {g.name}: {g.target}", passed=g.outcome != "failed", detail=g.measured)
            for g in cross.gates]


_ONLY_FAILED = frozenset({FFTestStatus.FAILED})
"""History comparison: only ``failed`` counts as failing; a test that now errors is not "newly failing"."""


def _d(name: str, replacement: Any, *patches: tuple[Any, str, Any]) -> PlantedDefect:
    return PlantedDefect(name=name, what=(replacement.__doc__ or "").strip(), origin="README", suite="component",
                         test="report_contracts", patches=patches)


DEFECTS: tuple[PlantedDefect, ...] = (
    _d("junit_flaky_without_flaky_failure", _flaky_without_attempts, (_junit_writer, "_flaky_elements", _flaky_without_attempts)),
    _d("junit_root_failures_not_added", _totals_add_without_failures, (_junit_writer._Totals, "add", _totals_add_without_failures)),
    _d("junit_inconclusive_gate_passes", _inconclusive_gate_passes, (_junit_writer, "_from_gate", _inconclusive_gate_passes)),
    _d("junit_use_cases_counted_twice", _use_cases_counted_twice, (_junit_writer, "_suites", _use_cases_counted_twice)),
    _d("json_executed_counts_skipped", _executed_counts_skipped, (_json_writer, "report_to_json_data", _executed_counts_skipped)),
    _d("html_failure_message_dropped", _failure_without_message, (_view, "_failure_from_result", _failure_without_message)),
    _d("html_verdict_inconclusive_passes", _verdict_inconclusive_passes, (_view, "_verdict", _verdict_inconclusive_passes)),
    _d("history_recent_drops_oldest", _recent_drops_oldest, (FFRunHistory, "recent", _recent_drops_oldest)),
    _d("history_ordered_by_id", _run_ids_by_name, (FFRunHistory, "run_ids", _run_ids_by_name)),
    _d("load_percentile_nearest_rank", _nearest_rank, (_load, "percentile", _nearest_rank)),
    _d("html_not_escaped", _environment_without_escaping, (_html_writer, "report_environment", _environment_without_escaping)),
    _d("junit_control_characters_kept", _xml_text_unfiltered, (_junit_writer, "_xml_text", _xml_text_unfiltered)),
    _d("report_formats_unchecked", _formats_unchecked, (reporting, "_check_formats", _formats_unchecked)),
    _d("gate_inconclusive_counts_as_held", _cross_system_inconclusive_held,
       (_quality_gates, "GATES", tuple(_cross_system_inconclusive_held if g is _quality_gates._cross_system else g for g in _quality_gates.GATES))),
    _d("regression_at_the_margin", _regressions_at_the_margin, (_load, "find_regressions", _regressions_at_the_margin)),
    _d("ceiling_at_the_limit", _ceilings_at_the_limit, (_load, "threshold_failures", _ceilings_at_the_limit)),
    PlantedDefect(name="comparison_ignores_errors", what="History comparison: only failed counts as failing; a test that now errors is not newly failing.",
                  origin="README", suite="component", test="report_contracts", patches=((_history, "_FAILING", _ONLY_FAILED),)),
)
