"""The tool_run bench case: a trivial sandboxed tool run against a bare bwrap ``python -c pass``."""

from __future__ import annotations

from pathlib import Path

import pytest

from testing.bench import run_benchmarks
from testing.bench._core import QUICK
from testing.bench._tool_run import bare_bwrap_seconds


def test_the_bare_peer_runs_python_in_the_same_sandbox() -> None:
    assert 0 < bare_bwrap_seconds() < 30


@pytest.mark.slow
def test_tool_run_reports_both_p95s_and_the_overhead_target(tmp_path: Path) -> None:
    report = run_benchmarks(sizes=QUICK, workloads=["tool_run"], repetitions=1, work_dir=tmp_path)
    ours = report.case("tool_run", "ours", "p95_ms")
    bare = report.case("tool_run", "bare_bwrap", "p95_ms")
    overhead = report.case("tool_run", "ours", "overhead_p95_ms")
    assert ours.median > 0 and bare.median > 0 and overhead.median == pytest.approx(overhead.median)
    assert [c.metric for c in report.comparisons if c.workload == "tool_run"] == ["overhead_p95_ms"]
