"""What the report shows: verdict, failure order, the use case matrix, recovery rows (pure)."""

from __future__ import annotations

import pytest

from ff_class_configs.ff_test_result_dtos import FFSecurityCheckDTO, FFSystemIntegrationReportDTO, FFTestStatus
from testing.reporting._view import MANAGER_COLUMNS, ReportView, build_view, manager_key, status_rank


@pytest.fixture(scope="module")
def report(sample_report: FFSystemIntegrationReportDTO) -> FFSystemIntegrationReportDTO:
    return sample_report  # built once per session (conftest)


@pytest.fixture(scope="module")
def view(report: FFSystemIntegrationReportDTO) -> ReportView:
    return build_view(report)


def test_manager_key_normalises_component_names() -> None:
    assert manager_key("panel(persona)") == "panel"
    assert manager_key("Memory") == "memory"
    assert manager_key("metrics") == "analytics"
    assert manager_key("tool") == "tools"
    assert manager_key("ff_knowledge") == "knowledge"
    assert manager_key("scheduler") == "scheduler"


def test_status_rank_puts_errors_first() -> None:
    ordered = sorted(FFTestStatus, key=status_rank)
    assert ordered == [
        FFTestStatus.ERROR,
        FFTestStatus.FAILED,
        FFTestStatus.FLAKY,
        FFTestStatus.SKIPPED,
        FFTestStatus.PASSED,
    ]


def test_failures_are_listed_once_errors_first(view: ReportView) -> None:
    idents = [(f.area, f.ident) for f in view.failures]
    assert idents[0] == ("failure", "corrupt_session_json")
    assert len(idents) == len(set(idents))
    # the use case is listed from the use case results, not again from the use_cases suite
    assert [i for i in idents if i[1] == "ai_notetaker"] == [("use_cases", "ai_notetaker")]
    # the failed security check is listed once (the security suite already has it)
    assert [i for i in idents if i[1] == "sec.audit.tamper"] == [("security", "sec.audit.tamper")]
    assert {f.ident for f in view.flaky} == {"tools_sandbox_limits", "auto_task_agent"}


def test_a_failed_check_without_a_suite_result_is_still_listed(report: FFSystemIntegrationReportDTO) -> None:
    extra = FFSecurityCheckDTO(
        check_id="sec.extra",
        name="Extra",
        category="x",
        asvs_id="V1.1.1",
        attack="a",
        expected="e",
        observed="o",
        passed=False,
    )
    view = build_view(report.model_copy(update={"security_checks": [*report.security_checks, extra]}))
    item = next(f for f in view.failures if f.ident == "sec.extra")
    assert "Observed: o" in item.message and "V1.1.1" in item.name


def test_matrix_columns_rows_and_totals(report: FFSystemIntegrationReportDTO, view: ReportView) -> None:
    assert view.matrix_columns == list(MANAGER_COLUMNS)
    assert len(view.matrix_rows) == 22
    notetaker = next(r for r in view.matrix_rows if r.use_case.use_case_id == "ai_notetaker")
    assert notetaker.cells == ["failed", None, "failed", "failed", None]
    memory_total = view.matrix_totals[0]
    touching_memory = [
        u for u in report.use_case_results if any(manager_key(c) == "memory" for c in u.required_components)
    ]
    assert memory_total == (sum(1 for u in touching_memory if u.validation_successful), len(touching_memory))


def test_suites_hide_the_duplicate_use_case_suite_and_sort_failures_first(view: ReportView) -> None:
    assert "use_cases" not in [s.suite for s in view.suites]
    component = next(s for s in view.suites if s.suite == "component")
    assert [r.status for r in component.results][:2] == [FFTestStatus.FAILED, FFTestStatus.FLAKY]


def test_recovery_rows_come_from_the_failure_suite(view: ReportView) -> None:
    assert [(r.scenario_id, r.seconds) for r in view.recovery_rows] == [
        ("kill_during_append", 0.84),
        ("disk_full_on_write", 0.31),
        ("lock_holder_crash", 1.27),
        ("corrupt_session_json", 2.05),
    ]
    assert "recovery" in view.charts


def test_verdict_without_gates_is_none(report: FFSystemIntegrationReportDTO, view: ReportView) -> None:
    assert view.verdict == "failed"
    bare = report.model_copy(update={"quality_gates": [], "performance": None, "suites": []})
    assert build_view(bare).verdict == "none"


def test_cards_reflect_the_counts(report: FFSystemIntegrationReportDTO, view: ReportView) -> None:
    cards = {c.label: c for c in view.cards}
    assert cards["Tests"].value == f"{report.tests_passed + report.tests_flaky}/{report.total_tests_executed}"
    assert cards["Tests"].tone == "bad"
    assert cards["Use cases"].value == "21/22"
    assert cards["Security"].value == "10/11" and cards["Security"].tone == "bad"
    assert cards["Migration"].value == "verified" and cards["Migration"].tone == "good"
    assert cards["Worst p95"].value == "188.3 ms"
