"""What the HTML/PDF template shows, computed from the report object (pure, no I/O).

The template only lays things out; every decision a reader relies on (the verdict, which items
count as failures, the order they appear in, the use case x manager matrix, which results are
failure simulations) is made here, where it is tested without rendering.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from ff_class_configs.ff_test_result_dtos import (
    FFAssertionDTO,
    FFIntegrationTestResultDTO,
    FFSecurityCheckDTO,
    FFSuiteResultDTO,
    FFSystemIntegrationReportDTO,
    FFTestAttemptDTO,
    FFTestStatus,
    FFUseCaseValidationDTO,
)
from testing.reporting import _charts
from testing.reporting._history import FFTrendPoint, trend_points
from testing.reporting._templating import format_duration

__all__ = [
    "MANAGER_COLUMNS",
    "FAILURE_SUITE",
    "Card",
    "FailureItem",
    "MatrixRow",
    "RecoveryRow",
    "TrendChart",
    "Chart",
    "SuiteBlock",
    "FilterOption",
    "ReportView",
    "build_view",
    "manager_key",
    "status_rank",
]

Tone = Literal["good", "bad", "warn", "neutral"]

#: Column order of the use case matrix: the five managers, by their short names.
MANAGER_COLUMNS = ("memory", "panel", "knowledge", "tools", "analytics")
FAILURE_SUITE = "failure"
_USE_CASE_SUITE = "use_cases"
_ALIASES = {"metrics": "analytics", "tool": "tools", "persona": "panel", "panels": "panel", "rag": "knowledge"}
_RANK = {
    FFTestStatus.ERROR: 0,
    FFTestStatus.FAILED: 1,
    FFTestStatus.FLAKY: 2,
    FFTestStatus.SKIPPED: 3,
    FFTestStatus.PASSED: 4,
}
_FAILING = (FFTestStatus.FAILED, FFTestStatus.ERROR)


def status_rank(status: FFTestStatus) -> int:
    """Sort key that puts errors, then failures, then flaky, skipped and passed."""
    return _RANK[status]


def manager_key(component: str) -> str:
    """The matrix column of a component name: ``"panel(persona)"`` → ``panel``, ``metrics`` → ``analytics``."""
    key = component.split("(", 1)[0].strip().lower()
    for prefix in ("ff_", "ff"):
        if key.startswith(prefix) and key[len(prefix) :] in MANAGER_COLUMNS:
            key = key[len(prefix) :]
    return _ALIASES.get(key, key)


@dataclass(frozen=True, slots=True)
class Card:
    """One summary card at the top of the report."""

    label: str
    value: str
    detail: str
    tone: Tone


@dataclass(frozen=True, slots=True)
class FailureItem:
    """One thing that went wrong, with what a reader needs to start fixing it."""

    area: str
    name: str
    ident: str
    status: str
    error_type: str
    message: str
    failed_assertions: list[FFAssertionDTO] = field(default_factory=list)
    attempts: int = 1
    components: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class MatrixRow:
    """A use case and, per manager column, its status where it touches that manager (else None)."""

    use_case: FFUseCaseValidationDTO
    cells: list[str | None]


@dataclass(frozen=True, slots=True)
class RecoveryRow:
    """One failure-simulation scenario and how long the system took to recover."""

    name: str
    scenario_id: str
    seconds: float
    status: str
    message: str


@dataclass(frozen=True, slots=True)
class TrendChart:
    title: str
    svg: str


@dataclass(frozen=True, slots=True)
class Chart:
    """One chart drawn twice: ``wide`` for screens and print, ``narrow`` for phones (readable text)."""

    wide: str
    narrow: str


@dataclass(frozen=True, slots=True)
class SuiteBlock:
    """One suite's tests for the expandable per-test list (failures first)."""

    suite: FFSuiteResultDTO
    anchor: str


@dataclass(frozen=True, slots=True)
class FilterOption:
    value: str
    label: str
    count: int


@dataclass(slots=True)
class ReportView:
    """Everything the template renders, beside the report itself."""

    report: FFSystemIntegrationReportDTO
    verdict: Literal["passed", "failed", "inconclusive", "none"]
    headline: str
    cards: list[Card]
    failures: list[FailureItem]
    flaky: list[FailureItem]
    suites: list[FFSuiteResultDTO]
    matrix_columns: list[str]
    matrix_rows: list[MatrixRow]
    matrix_totals: list[tuple[int, int]]
    security_checks: list[FFSecurityCheckDTO]
    recovery_rows: list[RecoveryRow]
    charts: dict[str, Chart]
    trend_charts: list[TrendChart]
    trend_rows: list[FFTrendPoint]
    suite_blocks: list[SuiteBlock] = field(default_factory=list)
    status_filters: list[FilterOption] = field(default_factory=list)


# --------------------------------------------------------------------------- pieces


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _shown_suites(report: FFSystemIntegrationReportDTO) -> list[FFSuiteResultDTO]:
    """Suites with a table of their own: the use case results, when present, replace a
    ``use_cases`` suite (same scenarios, less detail)."""
    if not report.use_case_results:
        return list(report.suites)
    return [s for s in report.suites if s.suite != _USE_CASE_SUITE]


def _first_failed_attempt(attempts: list[FFTestAttemptDTO]) -> FFTestAttemptDTO | None:
    return next((a for a in attempts if a.status != FFTestStatus.PASSED), None)


def _failure_from_result(result: FFIntegrationTestResultDTO) -> FailureItem:
    failed = [a for a in result.assertions if not a.passed]
    message = result.error_message or (failed[0].description if failed else "")
    first = _first_failed_attempt(result.attempt_results)
    if result.status == FFTestStatus.FLAKY and first is not None:  # why it needed a retry
        failed = list(first.failed_assertions)
        message = first.error_message or (failed[0].description if failed else "")
    return FailureItem(
        area=result.test_suite,
        name=result.test_name,
        ident=result.test_id,
        status=result.status.value,
        error_type=result.error_type,
        message=message,
        failed_assertions=failed,
        attempts=result.attempts,
        components=list(result.components),
    )


def _failure_from_use_case(use_case: FFUseCaseValidationDTO) -> FailureItem:
    failed = [a for a in use_case.assertions if not a.passed]
    message = use_case.first_failure or (failed[0].description if failed else "")
    error_type = use_case.error_type
    first = _first_failed_attempt(use_case.attempt_results)
    if use_case.status == FFTestStatus.FLAKY and first is not None:
        failed = list(first.failed_assertions)
        message = first.error_message or (failed[0].description if failed else "")
        error_type = first.error_type
    return FailureItem(
        area=_USE_CASE_SUITE,
        name=use_case.use_case_name,
        ident=use_case.use_case_id,
        status=use_case.status.value,
        error_type=error_type,
        message=message,
        failed_assertions=failed,
        attempts=use_case.attempts,
        components=list(use_case.required_components),
    )


def _failure_from_check(check: FFSecurityCheckDTO) -> FailureItem:
    return FailureItem(
        area="security",
        name=f"{check.name} ({check.asvs_id})",
        ident=check.check_id,
        status=FFTestStatus.FAILED.value,
        error_type=f"{check.severity} severity",
        message=f"Attack: {check.attack}. Expected: {check.expected}. Observed: {check.observed}.",
    )


def _collect(report: FFSystemIntegrationReportDTO, statuses: tuple[FFTestStatus, ...]) -> list[FailureItem]:
    results = [r for s in _shown_suites(report) for r in s.results if r.status in statuses]
    results.sort(key=lambda r: status_rank(r.status))
    items = [_failure_from_result(r) for r in results]
    use_cases = sorted(
        (u for u in report.use_case_results if u.status in statuses), key=lambda u: status_rank(u.status)
    )
    items += [_failure_from_use_case(u) for u in use_cases]
    return items


def _failures(report: FFSystemIntegrationReportDTO) -> list[FailureItem]:
    items = _collect(report, _FAILING)
    # A failed security check is listed once: skip it when the security suite already has a
    # failing test with the same id.
    known = {item.ident for item in items if item.area == "security"}
    items += [_failure_from_check(c) for c in report.security_checks if not c.passed and c.check_id not in known]
    return items


def _matrix(use_cases: list[FFUseCaseValidationDTO]) -> tuple[list[str], list[MatrixRow], list[tuple[int, int]]]:
    seen = {manager_key(c) for u in use_cases for c in u.required_components}
    columns = [m for m in MANAGER_COLUMNS if m in seen] + sorted(seen - set(MANAGER_COLUMNS))
    rows = []
    for use_case in use_cases:
        touched = {manager_key(c) for c in use_case.required_components}
        rows.append(MatrixRow(use_case, [use_case.status.value if col in touched else None for col in columns]))
    totals = []
    for index in range(len(columns)):
        cells = [row.cells[index] for row in rows if row.cells[index] is not None]
        good = sum(1 for c in cells if c in (FFTestStatus.PASSED.value, FFTestStatus.FLAKY.value))
        totals.append((good, len(cells)))
    return columns, rows, totals


def _recovery_rows(report: FFSystemIntegrationReportDTO) -> list[RecoveryRow]:
    return [
        RecoveryRow(
            name=r.test_name,
            scenario_id=r.test_id,
            seconds=r.metrics["recovery_seconds"],
            status=r.status.value,
            message=r.error_message,
        )
        for s in report.suites
        if s.suite == FAILURE_SUITE
        for r in s.results
        if "recovery_seconds" in r.metrics
    ]


def _tone(good: bool, warn: bool = False) -> Tone:
    return "bad" if not good else ("warn" if warn else "good")


def _cards(report: FFSystemIntegrationReportDTO) -> list[Card]:
    cards = []
    executed = report.total_tests_executed
    succeeded = report.tests_passed + report.tests_flaky
    cards.append(
        Card(
            "Tests",
            f"{succeeded}/{executed}" if executed else "none run",
            f"{report.tests_failed} failed · {report.tests_flaky} flaky · {report.tests_skipped} skipped",
            _tone(report.tests_failed == 0 and executed > 0, report.tests_flaky > 0),
        )
    )
    if report.use_case_results:
        total = len(report.use_case_results)
        flaky = sum(1 for u in report.use_case_results if u.status == FFTestStatus.FLAKY)
        cards.append(
            Card(
                "Use cases",
                f"{report.use_cases_passing}/{total}",
                f"{total - report.use_cases_passing} failing" + (f" · {flaky} flaky" if flaky else ""),
                _tone(report.use_cases_passing == total, flaky > 0),
            )
        )
    if report.security_checks:
        total = len(report.security_checks)
        cards.append(
            Card(
                "Security",
                f"{total - report.vulnerabilities_found}/{total}",
                f"attacks blocked · {_plural(report.vulnerabilities_found, 'finding')}",
                _tone(report.vulnerabilities_found == 0),
            )
        )
    performance = report.performance
    if performance is not None:
        worst = max(performance.operations, key=lambda op: op.p95_ms, default=None)
        problems = len(performance.threshold_failures) + len(performance.regressions)
        cards.append(
            Card(
                "Worst p95",
                f"{worst.p95_ms:,.1f} ms" if worst else "no data",
                f"{worst.operation} · {performance.achieved_rps:,.0f} of {performance.target_rps:,.0f} ops/s target"
                if worst
                else "no operations measured",
                _tone(problems == 0 and worst is not None),
            )
        )
    migration = report.migration
    if migration is not None:
        proven = not migration.differences and migration.rollback_identical and migration.reapply_identical
        cards.append(
            Card(
                "Migration",
                "verified" if proven else "problems",
                f"v{migration.from_version} → v{migration.to_version} · rollback "
                + ("identical" if migration.rollback_identical else "NOT identical"),
                _tone(proven),
            )
        )
    cross = report.cross_system
    if cross is not None and cross.gates:
        held = sum(1 for g in cross.gates if g.outcome == "passed")
        undecided = sum(1 for g in cross.gates if g.outcome == "inconclusive")
        broken = len(cross.gates) - held - undecided
        cards.append(
            Card(
                "Cross-system",
                f"{held}/{len(cross.gates)}",
                f"seed 000 criteria held · {broken} broken · {undecided} inconclusive · {len(cross.faults)} faults",
                _tone(broken == 0 and undecided == 0, undecided > 0 and broken == 0),
            )
        )
    seconds = max(0.0, (report.finished_at - report.started_at).total_seconds())
    cards.append(
        Card("Duration", format_duration(seconds), f"profile {report.profile} · seed {report.seed}", "neutral")
    )
    return cards


def _verdict(report: FFSystemIntegrationReportDTO) -> tuple[Literal["passed", "failed", "inconclusive", "none"], str]:
    gates = report.quality_gates
    if not gates:
        return "none", "No quality gate was evaluated, so this run has no verdict."
    failed = [g.name for g in gates if not g.passed and not g.inconclusive]
    undecided = [g.name for g in gates if g.inconclusive]
    if not failed and not undecided:
        return "passed", f"All {_plural(len(gates), 'quality gate')} held."
    if not failed:
        return "inconclusive", (f"No quality gate failed, but {len(undecided)} of {_plural(len(gates), 'quality gate')} "
                                "could not be decided (not a pass): " + "; ".join(undecided) + ".")
    return "failed", f"{len(failed)} of {_plural(len(gates), 'quality gate')} failed: " + "; ".join(failed) + "."


def _trend_charts(points: list[FFTrendPoint]) -> list[TrendChart]:
    if len(points) < 2:
        return []
    charts = [
        TrendChart(
            "Pass rate",
            _charts.trend_chart([(p.report_id, p.pass_rate_percent) for p in points], title="Pass rate", unit="%"),
        )
    ]
    latency = [(p.report_id, p.worst_p95_ms) for p in points if p.worst_p95_ms is not None]
    if len(latency) >= 2:
        charts.append(
            TrendChart(
                "Worst p95 latency",
                _charts.trend_chart(latency, title="Worst p95 latency", unit="ms", good_up=False),  # type: ignore[arg-type]
            )
        )
    charts.append(
        TrendChart(
            "Run duration",
            _charts.trend_chart(
                [(p.report_id, p.duration_seconds) for p in points], title="Run duration", unit="s", good_up=False
            ),
        )
    )
    return charts


def _both(draw: Callable[..., str], *args: object, **kwargs: object) -> Chart:
    return Chart(wide=draw(*args, **kwargs), narrow=draw(*args, width_in=_charts.NARROW_IN, **kwargs))


def _performance_charts(report: FFSystemIntegrationReportDTO) -> dict[str, Chart]:
    performance = report.performance
    if performance is None:
        return {}
    charts = {}
    if len(performance.timeline) >= 2:
        charts["throughput_over_time"] = _both(
            _charts.throughput_timeline_chart,
            [(s.start_seconds, s.throughput_ops, s.errors / s.seconds) for s in performance.timeline],
            performance.target_rps,
        )
        charts["latency_over_time"] = _both(
            _charts.latency_timeline_chart,
            [(s.start_seconds, s.p50_ms, s.p90_ms, s.p95_ms, s.p99_ms) for s in performance.timeline if s.ok],
            performance.p95_threshold_ms,
        )
    if performance.operations:
        charts["latency"] = _both(
            _charts.latency_chart,
            [(op.operation, op.p50_ms, op.p95_ms, op.p99_ms) for op in performance.operations],
            threshold_ms=performance.p95_threshold_ms,
        )
        charts["throughput"] = _both(
            _charts.throughput_chart, [(op.operation, op.throughput_ops) for op in performance.operations]
        )
    if len(performance.resource_samples) >= 2:
        charts["resources"] = _both(
            _charts.resource_chart, [(s.elapsed_seconds, s.cpu_percent, s.rss_mb) for s in performance.resource_samples]
        )
    return charts


_MARKED = ("fault", "cleared", "recovered", "ejected", "returned", "breaker_open")


def _timeline_marks(events: list) -> list[tuple[float, str, str]]:
    """The events worth a line on the chart: faults, clearings, recoveries and the first ejection
    or return of each burst (an instance's endpoints change state together; one line says it)."""
    marks: list[tuple[float, str, str]] = []
    last: dict[str, float] = {}
    for event in sorted(events, key=lambda e: e.at_seconds):
        if event.kind not in _MARKED:
            continue
        if event.kind not in ("fault", "cleared") and event.at_seconds - last.get(event.kind, -1.0) < 0.5:
            continue
        last[event.kind] = event.at_seconds
        marks.append((event.at_seconds, event.kind, event.label))
    return marks


def _cross_system_charts(report: FFSystemIntegrationReportDTO) -> dict[str, Chart]:
    cross = report.cross_system
    if cross is None or len(cross.timeline) < 2:
        return {}
    ceiling = next((float(g.target.split("<")[-1].split("ms")[0]) for g in cross.gates if g.name.startswith("latency ")
                    and "<" in g.target and "ms" in g.target), None)
    return {
        "cross_system_timeline": _both(
            _charts.cross_system_timeline_chart,
            [(s.start_seconds, s.ok / s.seconds, s.errors / s.seconds, s.p95_ms) for s in cross.timeline],
            _timeline_marks(cross.events),
            ceiling,
        )
    }


def _suite_blocks(report: FFSystemIntegrationReportDTO) -> list[SuiteBlock]:
    """Every suite (use cases included: their steps and assertions are here), failures first."""
    return [
        SuiteBlock(
            suite=s.model_copy(update={"results": sorted(s.results, key=lambda r: status_rank(r.status))}),
            anchor=f"suite-{index}",
        )
        for index, s in enumerate(report.suites, start=1)
    ]


def _status_filters(report: FFSystemIntegrationReportDTO) -> list[FilterOption]:
    results = [r for s in report.suites for r in s.results]
    counts = {status: sum(1 for r in results if r.status == status) for status in FFTestStatus}
    options = [FilterOption("all", "All", len(results))]
    options.append(FilterOption("failed", "Failed", counts[FFTestStatus.FAILED] + counts[FFTestStatus.ERROR]))
    options += [
        FilterOption(status.value, status.value.capitalize(), counts[status])
        for status in (FFTestStatus.FLAKY, FFTestStatus.SKIPPED, FFTestStatus.PASSED)
    ]
    return options


# --------------------------------------------------------------------------- entry point


def build_view(
    report: FFSystemIntegrationReportDTO, history: list[FFSystemIntegrationReportDTO] | None = None
) -> ReportView:
    """Everything the template shows for ``report``.

    ``history`` is the previous runs, oldest first (without ``report``); the trends plot them
    followed by ``report`` itself.
    """
    verdict, headline = _verdict(report)
    columns, rows, totals = _matrix(report.use_case_results)
    recovery = _recovery_rows(report)
    charts = {**_performance_charts(report), **_cross_system_charts(report)}
    if recovery:
        charts["recovery"] = _both(
            _charts.recovery_chart,
            [(r.name, r.seconds, r.status in (FFTestStatus.PASSED.value, FFTestStatus.FLAKY.value)) for r in recovery],
        )
    points = trend_points([*(history or []), report])
    suites = [
        s.model_copy(update={"results": sorted(s.results, key=lambda r: status_rank(r.status))})
        for s in _shown_suites(report)
    ]
    return ReportView(
        report=report,
        verdict=verdict,
        headline=headline,
        cards=_cards(report),
        failures=_failures(report),
        flaky=_collect(report, (FFTestStatus.FLAKY,)),
        suites=suites,
        matrix_columns=columns,
        matrix_rows=rows,
        matrix_totals=totals,
        security_checks=sorted(report.security_checks, key=lambda c: (c.passed, c.category, c.check_id)),
        recovery_rows=recovery,
        charts=charts,
        trend_charts=_trend_charts(points),
        trend_rows=points if len(points) >= 2 else [],
        suite_blocks=_suite_blocks(report),
        status_filters=_status_filters(report),
    )
