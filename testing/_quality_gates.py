"""Quality gates: the configured rules that turn a run's results into a verdict.

Pure functions over the report object, so each gate is tested with hand-made reports.

A gate is held, broken, or *inconclusive* (the run could not decide it: too few samples, a
saturated load generator). Inconclusive is never counted as held: the report's verdict is then
"inconclusive" and ``run-all`` exits 1 like for a broken gate, because exit 0 promises that every
gate held. The cross-system suite's gates (seed 000's success criteria) are the ones that can be
inconclusive; its quick profile is sized to reach their minimum evidence on a healthy machine.
"""

from __future__ import annotations

from collections.abc import Callable

from ff_class_configs.ff_integration_testing_config import FFIntegrationTestingConfigDTO
from ff_class_configs.ff_test_result_dtos import FFQualityGateResultDTO, FFSystemIntegrationReportDTO, FFTestStatus

__all__ = ["evaluate_quality_gates", "GATES"]

Gate = Callable[
    [FFSystemIntegrationReportDTO, FFIntegrationTestingConfigDTO],
    FFQualityGateResultDTO | list[FFQualityGateResultDTO] | None,
]


def _pass_rate(report: FFSystemIntegrationReportDTO, config: FFIntegrationTestingConfigDTO) -> FFQualityGateResultDTO:
    gates = config.quality_gates
    results = [r for s in report.suites for r in s.results if r.status != FFTestStatus.SKIPPED]
    good = {FFTestStatus.PASSED} | ({FFTestStatus.FLAKY} if gates.allow_flaky else set())
    rate = 100.0 * sum(1 for r in results if r.status in good) / len(results) if results else 0.0
    return FFQualityGateResultDTO(
        name="minimum pass rate",
        passed=bool(results) and rate >= gates.min_pass_rate_percent,
        detail=f"{rate:.1f}% of {len(results)} executed tests passed (minimum {gates.min_pass_rate_percent:g}%)"
        + ("" if gates.allow_flaky else "; flaky counts as failed"),
    )


def _no_failures_in(report: FFSystemIntegrationReportDTO, config: FFIntegrationTestingConfigDTO) -> FFQualityGateResultDTO | None:
    named = config.quality_gates.no_failures_in
    if not named:
        return None
    broken = [
        f"{r.test_suite}:{r.test_id}"
        for s in report.suites
        if s.suite in named
        for r in s.results
        if r.status in (FFTestStatus.FAILED, FFTestStatus.ERROR)
    ]
    return FFQualityGateResultDTO(
        name="no failures in " + ", ".join(named),
        passed=not broken,
        detail="none failed" if not broken else f"{len(broken)} failed: " + ", ".join(broken[:5]),
    )


def _p95_ceiling(report: FFSystemIntegrationReportDTO, config: FFIntegrationTestingConfigDTO) -> FFQualityGateResultDTO | None:
    if report.performance is None:
        return None
    ceiling = config.quality_gates.max_p95_ms or config.performance_config.max_p95_ms
    own = config.performance_config.operation_p95_ms
    over = [
        f"{op.operation} p95 {op.p95_ms:.1f} ms > {own.get(op.operation, ceiling):g} ms"
        for op in report.performance.operations
        if op.p95_ms > own.get(op.operation, ceiling)
    ]
    exceptions = "".join(f", {name} {limit:g} ms" for name, limit in sorted(own.items()))
    return FFQualityGateResultDTO(
        name=f"p95 latency at most {ceiling:g} ms{exceptions}",
        passed=bool(report.performance.operations) and not over,
        detail="all operations within the ceiling" if not over else "; ".join(over),
    )


def _performance_regressions(report: FFSystemIntegrationReportDTO, config: FFIntegrationTestingConfigDTO) -> FFQualityGateResultDTO | None:
    if report.performance is None or report.performance.baseline_run_id is None:
        return None
    regressions = report.performance.regressions
    return FFQualityGateResultDTO(
        name=f"no regression beyond {config.performance_config.regression_margin_percent:g}% of the baseline",
        passed=not regressions,
        detail=f"baseline {report.performance.baseline_run_id}: " + ("; ".join(regressions) if regressions else "no regression"),
    )


def _security_findings(report: FFSystemIntegrationReportDTO, config: FFIntegrationTestingConfigDTO) -> FFQualityGateResultDTO | None:
    if not report.security_checks:
        return None
    allowed = config.quality_gates.max_security_findings
    found = [c.check_id for c in report.security_checks if not c.passed]
    return FFQualityGateResultDTO(
        name=f"at most {allowed} security finding(s)",
        passed=len(found) <= allowed,
        detail=f"{len(found)} finding(s) in {len(report.security_checks)} attempts" + (": " + ", ".join(found[:5]) if found else ""),
    )


def _migration_proven(report: FFSystemIntegrationReportDTO, config: FFIntegrationTestingConfigDTO) -> FFQualityGateResultDTO | None:
    migration = report.migration
    if migration is None:
        return None
    problems = []
    if migration.differences:
        problems.append(f"{len(migration.differences)} unexplained difference(s)")
    if not migration.rollback_identical:
        problems.append("rollback did not restore identical bytes")
    if not migration.reapply_identical:
        problems.append("re-applying after rollback gave a different result")
    return FFQualityGateResultDTO(
        name="migration verified, rollback byte-identical",
        passed=not problems,
        detail="; ".join(problems) or "verified: no differences, rollback identical, re-apply identical",
    )


def _cross_system(report: FFSystemIntegrationReportDTO, config: FFIntegrationTestingConfigDTO) -> list[FFQualityGateResultDTO]:
    """Seed 000's criteria as the cross-system suite measured them, one gate each."""
    cross = report.cross_system
    if cross is None:
        return []
    return [
        FFQualityGateResultDTO(
            name=f"cross-system {g.name}: {g.target}",
            passed=g.outcome == "passed",
            inconclusive=g.outcome == "inconclusive",
            detail=(f"{g.measured}; {g.detail}" if g.detail else g.measured)
            + (" (inconclusive: not counted as held)" if g.outcome == "inconclusive" else ""),
        )
        for g in cross.gates
    ]


GATES: tuple[Gate, ...] = (
    _pass_rate,
    _no_failures_in,
    _p95_ceiling,
    _performance_regressions,
    _security_findings,
    _migration_proven,
    _cross_system,
)


def evaluate_quality_gates(
    report: FFSystemIntegrationReportDTO, config: FFIntegrationTestingConfigDTO
) -> list[FFQualityGateResultDTO]:
    """Every applicable gate's outcome; a gate whose data the run did not produce is left out."""
    results: list[FFQualityGateResultDTO] = []
    for gate in GATES:
        outcome = gate(report, config)
        if isinstance(outcome, list):
            results += outcome
        elif outcome is not None:
            results.append(outcome)
    return results
