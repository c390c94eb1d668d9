"""The report as rich tables: every case's median [min-max], then each comparison and its target."""

from __future__ import annotations

from rich.table import Table

from ff_class_configs.ff_bench_dtos import FFBenchReportDTO

__all__ = ["cases_table", "comparisons_table"]


def _fmt(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def cases_table(report: FFBenchReportDTO) -> Table:
    table = Table(title=f"Benchmarks ({'quick' if report.quick else 'full'}, {report.repetitions} repetitions, alternated)")
    for column in ("workload", "case", "metric", "median", "min", "max", "unit", "what"):
        table.add_column(column, justify="right" if column in ("median", "min", "max") else "left", overflow="fold")
    for c in report.cases:
        table.add_row(c.workload, c.case, c.metric, _fmt(c.median), _fmt(c.min), _fmt(c.max), c.unit, c.detail)
    return table


def comparisons_table(report: FFBenchReportDTO) -> Table:
    table = Table(title="Ours against peers and targets (ratios of medians of this run)")
    for column in ("workload", "metric", "ours", "versus", "value", "target", "met"):
        table.add_column(column, overflow="fold")
    for c in report.comparisons:
        table.add_row(
            c.workload, c.metric, c.ours, c.versus or "(absolute)", _fmt(c.value) + ("x" if c.versus else ""),
            f"{c.comparator} {_fmt(c.target)}", "[green]yes[/]" if c.met else "[red]no[/]",
        )
    return table
