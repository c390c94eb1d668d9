"""The tool_run bench case: a trivial sandboxed tool run against a bare bwrap ``python -c pass``."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from testing.bench import run_benchmarks
from testing.bench._core import QUICK
from testing.bench._tool_run import _floor_of, bare_bwrap_seconds, sandbox_floor_command


def test_the_bare_peer_runs_python_in_the_same_sandbox(tmp_path: Path) -> None:
    floor = sandbox_floor_command(tmp_path / "root")
    names = [Path(part).name for part in floor]
    end = floor.index("--", names.index("bwrap"))
    options, command = floor[:end], floor[end + 1 :]
    assert "--unshare-pid" in options and "--as-pid-1" in options
    assert "--unshare-net" in options or names[:2] == ["unshare", "--net"]  # a network namespace either way
    assert command == [sys.executable, "-c", "pass"]  # the supervisor and the tool are gone, nothing else
    assert 0 < bare_bwrap_seconds(floor) < 30


def test_a_command_that_is_not_bwrap_is_no_peer() -> None:
    with pytest.raises(RuntimeError, match="not started through bwrap"):
        _floor_of([sys.executable, "-I", "launcher.py", "--", "tool"])


@pytest.mark.slow
def test_tool_run_reports_both_p95s_and_the_overhead_target(tmp_path: Path) -> None:
    report = run_benchmarks(sizes=QUICK, workloads=["tool_run"], repetitions=1, work_dir=tmp_path)
    ours = report.case("tool_run", "ours", "p95_ms")
    bare = report.case("tool_run", "bare_bwrap", "p95_ms")
    overhead = report.case("tool_run", "ours", "overhead_p95_ms")
    assert ours.median > 0 and bare.median > 0 and overhead.median == pytest.approx(overhead.median)
    assert [c.metric for c in report.comparisons if c.workload == "tool_run"] == ["overhead_p95_ms"]
