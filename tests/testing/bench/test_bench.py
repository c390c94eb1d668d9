"""The benchmark harness: alternation, medians and ratios from measured samples, JSON, CLI.

The harness logic is tested with hand-made cases (exact, instant); the real workloads run with
tiny sizes (the whole set is slow: the knowledge base ingest and two migrations dominate).
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest

from ff_class_configs.ff_bench_dtos import FFBenchReportDTO
from ff_utils.ff_errors import FFValidationError
from main import main
from testing.bench import FFBenchSizes, run_benchmarks, write_report
from testing.bench._core import FFBenchCase, FFComparisonSpec, FFMetric, alternate, compare, to_dtos

pytest.importorskip("tinydb", reason="the bench extra is not installed")
pytest.importorskip("rank_bm25", reason="the bench extra is not installed")

TINY = FFBenchSizes(
    append_messages=24, append_writers=8, tinydb_inserts=12, history_small=60, history_large=600, history_reads=5,
    hash_files=12, hash_bytes=256 * 1024, migrate_bytes=256 * 1024,
)
_RATE = FFMetric("ops", "op/s", True)


def test_alternate_rotates_order_and_respects_max_repetitions() -> None:
    order: list[str] = []

    def case(name: str, value: float, max_reps: int | None = None) -> FFBenchCase:
        def run() -> dict[str, float]:
            order.append(name)
            return {"ops": value}

        return FFBenchCase(name, "x", (_RATE,), run, max_repetitions=max_reps)

    cases = [case("a", 1.0), case("b", 2.0), case("c", 3.0, max_reps=1)]
    alternate(cases, 3)
    assert order == ["a", "b", "c", "b", "a", "a", "b"]  # rotated; "c" only once
    assert cases[0].samples == {"ops": [1.0, 1.0, 1.0]} and cases[2].samples == {"ops": [3.0]}


def test_ratios_are_medians_of_the_measured_samples() -> None:
    ours = FFBenchCase("ours", "ours", (_RATE,), lambda: {}, samples={"ops": [10.0, 30.0, 20.0, 1000.0, 25.0]})
    peer = FFBenchCase("peer", "peer", (_RATE,), lambda: {}, samples={"ops": [5.0, 4.0, 6.0, 5.0, 50.0]})
    specs = [FFComparisonSpec("ops", "ours", "peer", ">=", 4.0), FFComparisonSpec("ops", "ours", None, "<=", 20.0),
             FFComparisonSpec("ops", "ours", "missing", ">=", 1.0)]
    found = compare("w", [ours, peer], specs)
    assert len(found) == 2  # the comparison with a case that did not run is left out
    assert found[0].value == pytest.approx(25.0 / 5.0) and found[0].met
    assert found[1].value == 25.0 and not found[1].met
    dto = to_dtos("w", [ours])[0]
    assert (dto.median, dto.min, dto.max) == (25.0, 10.0, 1000.0)


def test_unknown_workload_is_refused() -> None:
    with pytest.raises(FFValidationError):
        run_benchmarks(workloads=["nosuch"])


@pytest.mark.slow  # ~6 s: 8 append cases and 3 hashing cases, 5 repetitions each
def test_cheap_workloads_measure_and_round_trip_through_json(tmp_path: Path) -> None:
    report = run_benchmarks(sizes=TINY, workloads=["durable_append", "manifest_hashing"], work_dir=tmp_path)
    assert report.repetitions == 5 and report.machine["nproc"]
    for case in report.cases:
        assert len(case.samples) == 5, case.case
        assert all(value > 0 for value in case.samples), case.case
    # ratios are recomputed from the stored samples, never trusted as given
    for comparison in report.comparisons:
        ours = report.case(comparison.workload, comparison.ours, comparison.metric)
        peer = report.case(comparison.workload, comparison.versus, comparison.metric)
        assert comparison.value == pytest.approx(statistics.median(ours.samples) / statistics.median(peer.samples))
    assert {c.versus for c in report.comparisons} >= {"sqlite_full_1w", "sqlite_full_8w", "sqlite_normal_1w", "tinydb_1w"}
    # group commit shows: 8 concurrent writers need fewer fsyncs per message than one
    eight = report.case("durable_append", "ours_always_8w", "fsyncs_per_message").median
    one = report.case("durable_append", "ours_always_1w", "fsyncs_per_message").median
    assert eight < one
    path = write_report(report, tmp_path / "bench.json")
    data = json.loads(path.read_text())
    assert data["schema_version"] == 1 and data["cases"][0]["median"] == statistics.median(data["cases"][0]["samples"])
    again = FFBenchReportDTO.model_validate(data)
    assert again.comparisons == report.comparisons


@pytest.mark.slow
def test_every_workload_runs_with_tiny_sizes(tmp_path: Path) -> None:
    report = run_benchmarks(sizes=TINY, work_dir=tmp_path)
    assert {c.workload for c in report.cases} == {"durable_append", "recent_history", "knowledge_search", "manifest_hashing", "peak_memory", "tool_run", "service"}
    search = {c.case: c for c in report.cases if c.workload == "knowledge_search" and c.metric == "hit_at_5"}
    assert set(search) == {"ours", "sqlite_fts5", "rank_bm25"}
    assert all(0 < c.median <= 1 for c in search.values())
    memory = report.case("peak_memory", "migrate_full", "peak_rss_mb")
    assert len(memory.samples) == 1 and 10 < memory.median < 1_000
    assert len(report.comparisons) >= 15


@pytest.mark.slow  # ~9 s: the quick hashing workload (20 MiB, 5 repetitions, 3 cases)
def test_cli_bench_prints_tables_and_writes_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "out.json"
    code = main(["bench", "--quick", "--workloads", "manifest_hashing", "--work-dir", str(tmp_path / "w"), "--output", str(output)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "manifest_hashing" in printed and "sha256sum" in printed
    data = json.loads(output.read_text())
    assert data["quick"] is True and {c["case"] for c in data["cases"]} >= {"ours", "hashlib_1t"}
