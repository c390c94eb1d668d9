"""Live progress for long runs: a rich bar per suite, the test in flight, a summary table at the end."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from ff_class_configs.ff_test_result_dtos import (
    FFIntegrationTestResultDTO,
    FFOperationStatsDTO,
    FFSuiteResultDTO,
    FFSystemIntegrationReportDTO,
)
from testing.reporting._text import clean_text

__all__ = ["FFRichProgress", "gates_table", "performance_table", "summary_table"]

_STATUS_STYLE = {"passed": "green", "flaky": "yellow", "failed": "red", "error": "red", "skipped": "dim"}


class FFRichProgress:
    """An FFProgressListener that draws on a rich console (use as a context manager)."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.fields[suite]:<11}"),
            BarColumn(bar_width=24),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[current]}", style="dim"),
            console=console,
            transient=False,
        )
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> FFRichProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._progress.stop()

    def suite_started(self, suite: str, total: int) -> None:
        self._tasks[suite] = self._progress.add_task(suite, total=total, suite=suite, current="")

    def test_started(self, suite: str, test_name: str) -> None:
        if suite in self._tasks:
            self._progress.update(self._tasks[suite], current=escape(clean_text(test_name[:48])))

    def test_finished(self, result: FFIntegrationTestResultDTO) -> None:
        if result.test_suite in self._tasks:
            self._progress.advance(self._tasks[result.test_suite])
        if not result.success and result.status.value != "skipped":
            line = Text.assemble(
                ("  " + result.status.value, "red"),
                clean_text(f" {result.test_suite}: {result.test_name}: {result.error_message[:160]}"),
            )
            self._progress.console.print(line, highlight=False)

    def suite_finished(self, suite: FFSuiteResultDTO) -> None:
        if suite.suite in self._tasks:
            verdict = "[green]ok[/]" if suite.failed == 0 else f"[red]{suite.failed} failed[/]"
            self._progress.update(self._tasks[suite.suite], current=verdict)


def summary_table(report: FFSystemIntegrationReportDTO) -> Table:
    """Suite, passed, failed, flaky, skipped, duration; then the gates and the verdict."""
    table = Table(title=f"run {report.report_id}  (seed {report.seed}, profile {report.profile})")
    for column, justify in (("suite", "left"), ("passed", "right"), ("failed", "right"), ("flaky", "right"), ("skipped", "right"), ("duration", "right")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for suite in report.suites:
        table.add_row(
            suite.suite,
            f"[green]{suite.passed}[/]",
            f"[red]{suite.failed}[/]" if suite.failed else "0",
            f"[yellow]{suite.flaky}[/]" if suite.flaky else "0",
            str(suite.skipped),
            f"{suite.duration_seconds:.1f}s",
        )
    table.add_section()
    table.add_row(
        "total", str(report.tests_passed), str(report.tests_failed), str(report.tests_flaky), str(report.tests_skipped),
        f"{(report.finished_at - report.started_at).total_seconds():.1f}s",
    )
    return table


def gates_table(report: FFSystemIntegrationReportDTO) -> Table:
    verdict = {"passed": "[green]PASSED[/]", "inconclusive": "[yellow]INCONCLUSIVE[/] (not a pass)"}.get(report.verdict, "[red]FAILED[/]")
    table = Table(title="quality gates: " + verdict)
    table.add_column("gate")
    table.add_column("result")
    table.add_column("detail", overflow="fold")
    for gate in report.quality_gates:
        shown = "[green]held[/]" if gate.passed else ("[yellow]inconclusive[/]" if gate.inconclusive else "[red]broken[/]")
        table.add_row(gate.name, shown, gate.detail)
    return table


def performance_table(report: FFSystemIntegrationReportDTO) -> Table | None:
    """The load test's headline figures, as Locust and k6 print them: per operation and all together.

    Requests, errors, throughput and min/p50/p90/p95/p99/max latency in ms; None when the run
    had no load test. Rows over the p95 ceiling are red.
    """
    performance = report.performance
    if performance is None or not performance.operations:
        return None
    table = Table(
        title=f"load: {performance.concurrent_users} users, {performance.achieved_rps:,.1f} of "
        f"{performance.target_rps:,.0f} ops/s, {performance.duration_seconds:.1f}s, "
        f"{performance.error_rate_percent:.2f}% errors"
    )
    table.add_column("operation")
    for column in ("requests", "errors", "ops/s", "min", "p50", "p90", "p95", "p99", "max ms"):
        table.add_column(column, justify="right")
    ceiling = performance.p95_threshold_ms

    def row(op: FFOperationStatsDTO, name: str) -> None:
        figures = (op.min_ms, op.p50_ms, op.p90_ms, op.p95_ms, op.p99_ms, op.max_ms)
        over = ceiling is not None and op.p95_ms > ceiling
        table.add_row(
            clean_text(name), f"{op.count:,}", f"[red]{op.errors}[/]" if op.errors else "0", f"{op.throughput_ops:,.1f}",
            *("–" if value is None else f"{value:,.1f}" for value in figures),
            style="red" if over else None,
        )

    for op in performance.operations:
        row(op, escape(op.operation))
    if performance.overall is not None:
        table.add_section()
        row(performance.overall, "all requests")
    return table

