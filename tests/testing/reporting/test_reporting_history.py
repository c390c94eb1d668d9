"""Run history: comparison rules (pure), storage of runs, and write_reports/rerender over it."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from ff_class_configs.ff_test_result_dtos import FFSystemIntegrationReportDTO, FFTestStatus
from ff_utils.ff_errors import FFCorruptionError, FFNotFoundError, FFValidationError
from testing.reporting import FFRunHistory, compare_runs, rerender, trend_points, write_reports
from testing.reporting.sample import build_sample_history, build_sample_report


def _with_status(
    report: FFSystemIntegrationReportDTO, suite: str, test_id: str, status: FFTestStatus, seconds: float | None = None
):
    suites = []
    for s in report.suites:
        results = []
        for r in s.results:
            if s.suite == suite and r.test_id == test_id:
                update: dict[str, object] = {"status": status}
                if seconds is not None:
                    update["execution_time_seconds"] = seconds
                r = r.model_copy(update=update)
            results.append(r)
        suites.append(s.model_copy(update={"results": results}))
    return report.model_copy(update={"suites": suites})


@pytest.fixture(scope="module")
def base() -> FFSystemIntegrationReportDTO:
    return build_sample_report(failing=frozenset(), with_comparison=False)


# --------------------------------------------------------------------------- compare (pure)


def test_identical_runs_have_no_changes(base: FFSystemIntegrationReportDTO) -> None:
    result = compare_runs(base, base, 50.0)
    assert result.previous_run_id == base.report_id
    assert (result.newly_failing, result.fixed, result.slower) == ([], [], [])


def test_newly_failing_and_fixed(base: FFSystemIntegrationReportDTO) -> None:
    previous = _with_status(base, "component", "panel_turn_order", FFTestStatus.FAILED)
    current = _with_status(base, "component", "metrics_percentiles", FFTestStatus.ERROR)
    result = compare_runs(current, previous, 50.0)
    assert "component/metrics_percentiles" in result.newly_failing
    assert result.fixed == ["component/panel_turn_order"]


def test_still_failing_is_neither_new_nor_fixed(base: FFSystemIntegrationReportDTO) -> None:
    both = _with_status(base, "component", "panel_turn_order", FFTestStatus.FAILED)
    result = compare_runs(both, both, 50.0)
    assert "component/panel_turn_order" not in result.newly_failing + result.fixed


def test_a_new_failing_test_counts_as_newly_failing(base: FFSystemIntegrationReportDTO) -> None:
    previous = base.model_copy(update={"suites": [s for s in base.suites if s.suite != "migration"]})
    current = _with_status(base, "migration", "legacy_import", FFTestStatus.FAILED)
    assert compare_runs(current, previous, 50.0).newly_failing == ["migration/legacy_import"]


def test_flaky_after_failure_is_fixed(base: FFSystemIntegrationReportDTO) -> None:
    previous = _with_status(base, "component", "panel_turn_order", FFTestStatus.FAILED)
    current = _with_status(base, "component", "panel_turn_order", FFTestStatus.FLAKY)
    assert compare_runs(current, previous, 50.0).fixed == ["component/panel_turn_order"]


def test_use_case_results_are_compared(base: FFSystemIntegrationReportDTO) -> None:
    failing = build_sample_report(failing=frozenset({"rag_chat"}), with_comparison=False)
    result = compare_runs(failing, base, 50.0)
    assert "use_cases/rag_chat" in result.newly_failing
    assert compare_runs(base, failing, 50.0).fixed == ["use_cases/rag_chat"]


def test_slower_beyond_the_margin_only(base: FFSystemIntegrationReportDTO) -> None:
    # panel_turn_order takes 0.22 s in the sample.
    within = _with_status(base, "component", "panel_turn_order", FFTestStatus.PASSED, seconds=0.32)
    beyond = _with_status(base, "component", "panel_turn_order", FFTestStatus.PASSED, seconds=0.34)
    assert not [s for s in compare_runs(within, base, 50.0).slower if "panel_turn_order" in s]
    slower = [s for s in compare_runs(beyond, base, 50.0).slower if "panel_turn_order" in s]
    assert slower == ["component/panel_turn_order: 0.22 s → 0.34 s (+55%)"]


def test_tiny_absolute_changes_are_not_slower(base: FFSystemIntegrationReportDTO) -> None:
    # metrics_percentiles: 0.12 s -> 0.16 s is +33%; at margin 10% it is beyond, but under 0.05 s.
    current = _with_status(base, "component", "metrics_percentiles", FFTestStatus.PASSED, seconds=0.16)
    assert not [s for s in compare_runs(current, base, 10.0).slower if "metrics_percentiles" in s]


def test_performance_p95_regressions_are_slower() -> None:
    previous = build_sample_report(latency_factor=1.0, with_comparison=False)
    current = build_sample_report(latency_factor=2.0, with_comparison=False)
    slower = [s for s in compare_runs(current, previous, 50.0).slower if s.startswith("performance/")]
    assert "performance/knowledge.search: p95 68.2 ms → 136.4 ms (+100%)" in slower
    # metrics.record_metric doubles too (1.9 -> 3.8 ms) and moves by >= 1 ms, so it is listed.
    assert any("metrics.record_metric" in s for s in slower)
    assert compare_runs(previous, current, 50.0).slower == []


def test_negative_margin_is_refused(base: FFSystemIntegrationReportDTO) -> None:
    with pytest.raises(FFValidationError):
        compare_runs(base, base, -1.0)


def test_trend_points() -> None:
    history = build_sample_history(3)
    points = trend_points(history)
    assert [p.report_id for p in points] == [r.report_id for r in history]
    assert points[0].worst_p95_ms == max(op.p95_ms for op in history[0].performance.operations)  # type: ignore[union-attr]
    assert points[-1].worst_p95_ms > points[0].worst_p95_ms  # type: ignore[operator]
    assert points[0].duration_seconds == pytest.approx((history[0].finished_at - history[0].started_at).total_seconds())
    assert 0 < points[0].pass_rate_percent <= 100


# --------------------------------------------------------------------------- storage


def test_record_load_and_recent(tmp_path: Path) -> None:
    history = FFRunHistory(tmp_path)
    runs = build_sample_history(4)
    for run in reversed(runs):  # recorded out of order: recent() orders by generation time
        history.record(run)
    assert (tmp_path / "history" / f"{runs[0].report_id}.json").is_file()
    assert history.load(runs[1].report_id) == runs[1]
    assert [r.report_id for r in history.recent(2)] == [runs[2].report_id, runs[3].report_id]
    assert [r.report_id for r in history.recent(10, before=runs[2].report_id)] == [runs[0].report_id, runs[1].report_id]
    assert [r.report_id for r in history.recent(10, before="never-recorded")] == [r.report_id for r in runs]
    assert history.recent(0) == []


def test_recording_twice_keeps_one_entry(tmp_path: Path) -> None:
    history = FFRunHistory(tmp_path)
    run = build_sample_history(1)[0]
    history.record(run)
    history.record(run)
    assert history.run_ids() == [run.report_id]
    assert len(history.recent(5)) == 1


def test_empty_history(tmp_path: Path) -> None:
    history = FFRunHistory(tmp_path / "nothing-yet")
    assert history.run_ids() == []
    assert history.recent(3) == []
    with pytest.raises(FFNotFoundError):
        history.load("run-1")


def test_bad_report_ids_are_refused_and_write_nothing(tmp_path: Path) -> None:
    history = FFRunHistory(tmp_path)
    with pytest.raises(FFValidationError):
        history.load("../etc/passwd")
    bad = build_sample_report(with_comparison=False).model_copy(update={"report_id": "../escape"})
    with pytest.raises(FFValidationError):
        history.record(bad)
    with pytest.raises(FFValidationError):
        write_reports(bad, tmp_path, ["json"])
    assert list(tmp_path.iterdir()) == []


def test_deleted_and_corrupt_runs_are_skipped_and_a_corrupt_one_loads_as_corruption(tmp_path: Path) -> None:
    history = FFRunHistory(tmp_path)
    runs = build_sample_history(4)
    for run in runs:
        history.record(run)
    (tmp_path / "history" / f"{runs[1].report_id}.json").unlink()
    assert [r.report_id for r in history.recent(5)] == [runs[0].report_id, runs[2].report_id, runs[3].report_id]
    (tmp_path / "history" / f"{runs[2].report_id}.json").write_text("{not json", encoding="utf-8")
    (tmp_path / "history" / f"{runs[3].report_id}.json").write_text('{"report_id": 5, "suites": []}', encoding="utf-8")
    assert [r.report_id for r in history.recent(5)] == [runs[0].report_id]
    for broken in runs[2:]:
        with pytest.raises(FFCorruptionError):  # stored data: never a raw pydantic error, never "bad input"
            history.load(broken.report_id)


# --------------------------------------------------------------------------- write_reports / rerender


def test_write_reports_compares_with_the_previous_run_and_records(tmp_path: Path) -> None:
    earlier = build_sample_history(2)
    for run in earlier:
        write_reports(run, tmp_path, ["json"])
    current = build_sample_report(with_comparison=False)
    paths = write_reports(current, tmp_path, ["json", "html", "junit"])
    assert set(paths) == {"json", "html", "junit"}
    assert paths["junit"].name == f"{current.report_id}.junit.xml"
    written = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert written["comparison"]["previous_run_id"] == earlier[-1].report_id
    assert "component/knowledge_reindex" in written["comparison"]["newly_failing"]
    html = paths["html"].read_text(encoding="utf-8")
    assert "Trends over the last 3 runs" in html
    assert FFRunHistory(tmp_path).run_ids() == [*(r.report_id for r in earlier), current.report_id]


def test_a_given_comparison_is_kept(tmp_path: Path) -> None:
    write_reports(build_sample_history(1)[0], tmp_path, ["json"])
    current = build_sample_report()  # carries its own comparison
    paths = write_reports(current, tmp_path, ["json"])
    assert json.loads(paths["json"].read_text(encoding="utf-8"))["comparison"] == current.comparison.model_dump(
        mode="json"
    )  # type: ignore[union-attr]


def test_unknown_format_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(FFValidationError, match="docx"):
        write_reports(build_sample_report(), tmp_path, ["json", "docx"])
    with pytest.raises(FFValidationError):
        write_reports(build_sample_report(), tmp_path, [])
    assert list(tmp_path.iterdir()) == []


def test_formats_may_be_a_comma_separated_string(tmp_path: Path) -> None:
    paths = write_reports(build_sample_report(), tmp_path, "json,junit", record_history=False)
    assert set(paths) == {"json", "junit"}
    assert not (tmp_path / "history").exists()


def test_rerender_a_stored_run_with_the_history_it_had(tmp_path: Path) -> None:
    runs = build_sample_history(3)
    for run in runs:
        write_reports(run, tmp_path, ["json"])
    later = build_sample_report(started_at=runs[-1].started_at + timedelta(days=1), with_comparison=False)
    write_reports(later, tmp_path, ["json"])
    (tmp_path / f"{runs[1].report_id}.json").unlink()
    paths = rerender(tmp_path, runs[1].report_id, ["html", "junit"])
    html = paths["html"].read_text(encoding="utf-8")
    assert runs[1].report_id in html
    assert "Trends over the last 2 runs" in html  # runs[0] and runs[1], not the later ones
    assert later.report_id not in html
    assert FFRunHistory(tmp_path).run_ids().count(runs[1].report_id) == 1
    with pytest.raises(FFNotFoundError):
        rerender(tmp_path, "run-unknown", ["html"])


def test_a_use_case_in_both_the_suite_and_the_use_case_results_is_listed_once(base: FFSystemIntegrationReportDTO) -> None:
    # Real runs name the suite's tests "use_cases.<id>" while use case results carry "<id>".
    base = base.model_copy(update={"suites": [
        s.model_copy(update={"results": [r.model_copy(update={"test_id": f"use_cases.{r.test_id}"}) for r in s.results]})
        if s.suite == "use_cases" else s
        for s in base.suites
    ]})
    slow_id = base.use_case_results[0].use_case_id
    slower_cases = [u.model_copy(update={"execution_time_seconds": u.execution_time_seconds * 10 + 1}) if u.use_case_id == slow_id else u
                    for u in base.use_case_results]
    suites = [
        s.model_copy(update={"results": [r.model_copy(update={"execution_time_seconds": r.execution_time_seconds * 10 + 1})
                                          if r.test_id.endswith(slow_id) else r for r in s.results]})
        for s in base.suites
    ]
    current = base.model_copy(update={"use_case_results": slower_cases, "suites": suites})
    slower = [line for line in compare_runs(current, base, 50.0).slower if slow_id in line]
    assert len(slower) == 1 and slower[0].startswith(f"use_cases/{slow_id}:")
