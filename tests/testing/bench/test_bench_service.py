"""The ``service`` workload at a tiny size: real servers, real numbers, every target, no process left.

Not a speed test (targets live in ``main.py bench``): it checks the workload measures what it says
— both servers started as processes, every case and comparison filled with finite positive
numbers — and that SIGTERM and reaping leave no server running, even when a case fails.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import psutil
import pytest

from testing.bench import FFBenchSizes, _service, run_benchmarks

pytest.importorskip("aiosqlite", reason="the bench extra is not installed")

TINY = FFBenchSizes(append_messages=8)
_HTTP_CASES = {f"{s}_http_{op}_{c}c" for s in ("ours", "peer") for op in ("add", "get") for c in _service.CLIENTS}
_TAX_CASES = {"ours_inprocess_add_1c", "ours_tcp_add_1c", "ours_ws_add_1c"}


def _processes_mentioning(text: str) -> list[int]:
    """Live processes whose command line names ``text`` (the run's scratch folder)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if text in (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def _children() -> set[int]:
    """This process's children, zombies included (another test's leftovers are not this test's)."""
    return {child.pid for child in psutil.Process().children()}


def _assert_no_server_left(work: Path, children_before: set[int]) -> None:
    assert _processes_mentioning(str(work)) == []
    assert _children() - children_before == set()  # every child it started was reaped, not even a zombie is left


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to look for leftover servers")
def test_service_workload_measures_every_case_and_target_and_reaps_both_servers(tmp_path: Path) -> None:
    work = tmp_path / "w"
    children_before = _children()
    report = run_benchmarks(sizes=TINY, repetitions=1, workloads=["service"], work_dir=work)
    cases = {c.case for c in report.cases}
    assert cases == _HTTP_CASES | _TAX_CASES
    for case in report.cases:
        assert case.metric in {"requests_per_s", "p95_ms", "server_cpu_ms_per_1k"} and len(case.samples) == 1
        # the server's CPU time is counted in clock ticks: 8 requests may take less than one
        floor_ok = case.median >= 0 if case.metric == "server_cpu_ms_per_1k" else case.median > 0
        assert math.isfinite(case.median) and floor_ok, case
    assert {c.case for c in report.cases if c.metric == "server_cpu_ms_per_1k"} == _HTTP_CASES
    assert len(report.comparisons) == len(_service.COMPARISONS) == 8
    assert {(c.ours, c.versus, c.metric) for c in report.comparisons} == {(s.ours, s.versus, s.metric) for s in _service.COMPARISONS}
    for comparison in report.comparisons:
        assert math.isfinite(comparison.value) and comparison.value > 0
    _assert_no_server_left(work, children_before)


def test_a_failing_case_still_stops_both_servers(tmp_path: Path) -> None:
    work = tmp_path / "w"
    work.mkdir()
    children_before = _children()
    with pytest.raises(RuntimeError, match="boom"), _service.workload(TINY, work):
        assert (work / "ours.ready.json").exists() and (work / "peer.ready.json").exists()
        raise RuntimeError("boom")
    _assert_no_server_left(work, children_before)
    assert not (work / "ours.ready.json").exists() and not (work / "peer.ready.json").exists()  # each stopped gracefully
