"""The console's tables after a run: the load test's headline figures (Locust/k6 style)."""

from __future__ import annotations

import io

from rich.console import Console

from ff_class_configs.ff_test_result_dtos import FFSystemIntegrationReportDTO
from testing._progress import performance_table


def _text(renderable: object) -> str:
    out = io.StringIO()
    Console(file=out, width=140, force_terminal=False).print(renderable)
    return out.getvalue()


def test_headline_figures_per_operation_and_for_all_requests(sample_report: FFSystemIntegrationReportDTO) -> None:
    table = performance_table(sample_report)
    assert table is not None
    text = _text(table)
    for header in ("requests", "errors", "ops/s", "min", "p50", "p90", "p95", "p99", "max ms"):
        assert header in text
    assert "load: 8 users, 187.4 of 200 ops/s, 10.0s" in text
    tools = next(line for line in text.splitlines() if "tools.execute_tool" in line)
    assert all(figure in tools for figure in ("149", "18.3", "61.0", "150.1", "188.3", "262.7", "420.3"))
    overall = next(line for line in text.splitlines() if "all requests" in line)
    assert "1,869" in overall and "39.5" in overall and "151.2" in overall


def test_no_load_test_no_table(sample_report: FFSystemIntegrationReportDTO) -> None:
    assert performance_table(sample_report.model_copy(update={"performance": None})) is None
