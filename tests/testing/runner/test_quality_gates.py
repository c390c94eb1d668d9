"""Each quality gate holds on good results and fails on the matching defect."""

from __future__ import annotations

from datetime import UTC, datetime

from ff_class_configs import (
    FFIntegrationTestingConfigDTO,
    FFIntegrationTestResultDTO,
    FFMigrationSummaryDTO,
    FFOperationStatsDTO,
    FFPerformanceSummaryDTO,
    FFSecurityCheckDTO,
    FFSuiteResultDTO,
    FFSystemIntegrationReportDTO,
    FFTestStatus,
)
from testing._quality_gates import evaluate_quality_gates

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _result(suite: str, name: str, status: FFTestStatus) -> FFIntegrationTestResultDTO:
    return FFIntegrationTestResultDTO(
        test_id=f"{suite}.{name}", test_name=name, test_suite=suite, status=status,
        start_timestamp=NOW, end_timestamp=NOW, execution_time_seconds=0.1,
    )


def _report(*results: FFIntegrationTestResultDTO, **extra) -> FFSystemIntegrationReportDTO:
    suites: dict[str, list] = {}
    for r in results:
        suites.setdefault(r.test_suite, []).append(r)
    return FFSystemIntegrationReportDTO(
        report_id="r1", generation_timestamp=NOW, started_at=NOW, finished_at=NOW, seed=1, profile="quick",
        environment="development", suites=[FFSuiteResultDTO(suite=s, results=rs) for s, rs in suites.items()], **extra,
    )


def _gates(report, config=None):
    return {g.name: g for g in evaluate_quality_gates(report, config or FFIntegrationTestingConfigDTO())}


def _op(p95: float) -> FFOperationStatsDTO:
    return FFOperationStatsDTO(operation="append", count=10, errors=0, p50_ms=1, p95_ms=p95, p99_ms=p95, mean_ms=1, max_ms=p95, throughput_ops=5)


def _perf(p95: float, regressions=(), baseline=None) -> FFPerformanceSummaryDTO:
    return FFPerformanceSummaryDTO(
        profile="quick", concurrent_users=2, duration_seconds=1, target_rps=10, achieved_rps=10,
        error_rate_percent=0, operations=[_op(p95)], regressions=list(regressions), baseline_run_id=baseline,
    )


def test_all_green_run_holds_every_gate():
    report = _report(_result("component", "a", FFTestStatus.PASSED), _result("security", "b", FFTestStatus.PASSED))
    gates = evaluate_quality_gates(report, FFIntegrationTestingConfigDTO())
    assert gates and all(g.passed for g in gates)


def test_a_failure_breaks_pass_rate_and_named_suite_gates():
    report = _report(_result("component", "a", FFTestStatus.PASSED), _result("security", "b", FFTestStatus.FAILED))
    gates = _gates(report)
    assert not gates["minimum pass rate"].passed
    named = next(g for n, g in gates.items() if n.startswith("no failures in"))
    assert not named.passed and "security.b" in named.detail


def test_flaky_counts_as_failure_only_when_not_allowed():
    report = _report(_result("component", "a", FFTestStatus.FLAKY))
    assert _gates(report)["minimum pass rate"].passed
    strict = FFIntegrationTestingConfigDTO()
    strict.quality_gates.allow_flaky = False
    assert not _gates(report, strict)["minimum pass rate"].passed


def test_an_empty_run_is_not_green():
    assert not _gates(_report())["minimum pass rate"].passed


def test_p95_ceiling_and_regressions():
    ok = _gates(_report(_result("performance", "load", FFTestStatus.PASSED), performance=_perf(10.0)))
    assert all(g.passed for g in ok.values())
    slow = _gates(_report(_result("performance", "load", FFTestStatus.PASSED), performance=_perf(10_000.0)))
    assert not next(g for n, g in slow.items() if n.startswith("p95")).passed
    regressed = _gates(
        _report(_result("performance", "load", FFTestStatus.PASSED), performance=_perf(10.0, ["append p95 +80%"], "r0"))
    )
    assert not next(g for n, g in regressed.items() if n.startswith("no regression")).passed


def test_security_findings_and_migration_gates():
    check = dict(check_id="c1", name="traversal", category="paths", asvs_id="V12.3.1", attack="../x", expected="refused", observed="written")
    bad = _gates(_report(_result("security", "s", FFTestStatus.PASSED), security_checks=[FFSecurityCheckDTO(passed=False, **check)]))
    assert not next(g for n, g in bad.items() if "security finding" in n).passed
    migration = FFMigrationSummaryDTO(source="x", from_version=1, to_version=2, rollback_identical=True, reapply_identical=False)
    gates = _gates(_report(_result("migration", "m", FFTestStatus.PASSED), migration=migration))
    assert not gates["migration verified, rollback byte-identical"].passed


def test_an_operation_can_have_its_own_p95_ceiling():
    report = _report(_result("performance", "load", FFTestStatus.PASSED), performance=_perf(400.0))
    config = FFIntegrationTestingConfigDTO()
    gate = next(g for n, g in _gates(report, config).items() if n.startswith("p95"))
    assert not gate.passed  # "append" has no ceiling of its own: 400 > 250
    config.performance_config.operation_p95_ms = {"append": 500.0}
    gate = next(g for n, g in _gates(report, config).items() if n.startswith("p95"))
    assert gate.passed and "append 500 ms" in gate.name


def _cross(*outcomes: str):
    from ff_class_configs import FFCrossSystemGateDTO, FFCrossSystemSummaryDTO

    return FFCrossSystemSummaryDTO(
        profile="quick", instances=2, duration_seconds=30, target_rps=40, attempts=1200,
        gates=[FFCrossSystemGateDTO(name=f"g{i}", criterion="seed", target="t", measured="m", outcome=o)
               for i, o in enumerate(outcomes)],
    )


def test_cross_system_gates_are_lifted_and_inconclusive_is_never_held():
    passed = _report(_result("cross_system", "a", FFTestStatus.PASSED), cross_system=_cross("passed", "passed"))
    passed.quality_gates = evaluate_quality_gates(passed, FFIntegrationTestingConfigDTO())
    assert passed.verdict == "passed" and passed.verdict_passed

    undecided = _report(_result("cross_system", "a", FFTestStatus.PASSED), cross_system=_cross("passed", "inconclusive"))
    undecided.quality_gates = evaluate_quality_gates(undecided, FFIntegrationTestingConfigDTO())
    gate = next(g for g in undecided.quality_gates if g.inconclusive)
    assert not gate.passed and gate.outcome == "inconclusive" and "inconclusive" in gate.detail
    assert undecided.verdict == "inconclusive" and not undecided.verdict_passed

    broken = _report(_result("cross_system", "a", FFTestStatus.PASSED), cross_system=_cross("failed", "inconclusive"))
    broken.quality_gates = evaluate_quality_gates(broken, FFIntegrationTestingConfigDTO())
    assert broken.verdict == "failed"


def test_an_inconclusive_gate_cannot_claim_to_have_passed():
    import pytest
    from pydantic import ValidationError

    from ff_class_configs import FFQualityGateResultDTO

    with pytest.raises(ValidationError):
        FFQualityGateResultDTO(name="x", passed=True, inconclusive=True, detail="")


def test_inconclusive_run_exits_1():
    from testing.ff_run_all import FFRunOutcome

    undecided = _report(_result("cross_system", "a", FFTestStatus.PASSED), cross_system=_cross("inconclusive"))
    undecided.quality_gates = evaluate_quality_gates(undecided, FFIntegrationTestingConfigDTO())
    assert FFRunOutcome(report=undecided).exit_code == 1
