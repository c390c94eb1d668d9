"""Results of the validation platform: one DTO per kind of outcome, one report that holds them.

Names follow the Phase 6 design (``FFIntegrationTestResultDTO``, ``FFUseCaseValidationDTO``,
``FFSystemIntegrationReportDTO``). Scores the design invented without a measurement behind them
(``production_readiness_score``...) are left out: every number here is counted or timed.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

from ff_class_configs.ff_integration_testing_config import FFTestingLevel

__all__ = [
    "REPORT_SCHEMA_VERSION",
    "FFTestStatus",
    "FFAssertionDTO",
    "FFStepTimingDTO",
    "FFLogRecordDTO",
    "FFTestAttemptDTO",
    "FFIntegrationTestResultDTO",
    "FFUseCaseValidationDTO",
    "FFOperationStatsDTO",
    "FFLoadIntervalDTO",
    "FFResourceSampleDTO",
    "FFPerformanceSummaryDTO",
    "FFSecurityCheckDTO",
    "FFMigrationSummaryDTO",
    "FFQualityGateResultDTO",
    "FFGateOutcome",
    "FFTransportStatsDTO",
    "FFCrossSystemIntervalDTO",
    "FFCrossSystemEventDTO",
    "FFFaultOutcomeDTO",
    "FFCrossSystemGateDTO",
    "FFCrossSystemSummaryDTO",
    "FFSuiteResultDTO",
    "FFRunComparisonDTO",
    "FFSystemIntegrationReportDTO",
    "FFWorkerDTO",
    "FFExecutionDTO",
]

REPORT_SCHEMA_VERSION = 3
# 2: attempts, captured logs, load timeline, min/p90, git commit, packages
# 3: the cross-system section (cross_system), inconclusive quality gates, the three-way verdict

FFGateOutcome = Literal["passed", "failed", "inconclusive"]
"""A gate held, was broken, or could not be decided (too few samples, a saturated load generator)."""


class _DTO(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _drop_computed_fields(cls, data: Any) -> Any:
        """Let a dumped report validate again: its computed figures are derived, so drop them.

        ``model_dump`` writes computed fields (counts, rates) so JSON readers need not recount,
        but ``extra="forbid"`` would refuse them on the way back in. They are recomputed from
        the stored results, so nothing is lost and a tampered count cannot survive a reload.
        """
        computed = cls.model_computed_fields
        if isinstance(data, dict) and computed and any(name in data for name in computed):
            return {key: value for key, value in data.items() if key not in computed}
        return data


class FFTestStatus(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    FLAKY = "flaky"  # failed at least once, then passed on a retry
    SKIPPED = "skipped"
    ERROR = "error"  # the test itself broke (exception outside an assertion, timeout)


class FFAssertionDTO(_DTO):
    """One checked claim about the system under test."""

    description: str
    passed: bool
    detail: str = Field("", description="expected vs. observed when it failed")


class FFStepTimingDTO(_DTO):
    """One step of a scenario and how long it took."""

    name: str
    duration_ms: float = Field(ge=0)
    ok: bool = True


class FFLogRecordDTO(_DTO):
    """One log record the system under test emitted while a test ran (captured, not printed)."""

    attempt: int = Field(1, ge=1, description="the attempt that was running")
    level: str = Field(description="DEBUG, INFO, WARNING, ERROR or CRITICAL")
    logger: str
    message: str
    elapsed_seconds: float = Field(0.0, ge=0, description="since the attempt started")


class FFTestAttemptDTO(_DTO):
    """One attempt of a test: retried tests keep every attempt, so a flaky pass still says why it failed."""

    attempt: int = Field(ge=1)
    status: FFTestStatus = Field(description="passed, failed or error (this attempt alone)")
    duration_seconds: float = Field(ge=0)
    error_type: str = ""
    error_message: str = ""
    failed_assertions: list[FFAssertionDTO] = Field(default_factory=list)


class _AssertionCounts:
    """Counts derived from a model's ``assertions`` list (shared by test and use-case results).

    A plain mixin without annotations, so the models keep their own field order.
    """

    @computed_field  # type: ignore[prop-decorator]
    @property
    def assertions_total(self) -> int:
        return len(self.assertions)  # type: ignore[attr-defined]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def assertions_passed(self) -> int:
        return sum(1 for a in self.assertions if a.passed)  # type: ignore[attr-defined]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def assertions_failed(self) -> int:
        return sum(1 for a in self.assertions if not a.passed)  # type: ignore[attr-defined]


class FFIntegrationTestResultDTO(_AssertionCounts, _DTO):
    """The outcome of one test of any suite."""

    test_id: str
    test_name: str
    test_suite: str
    status: FFTestStatus
    test_level: FFTestingLevel = FFTestingLevel.INTEGRATION
    start_timestamp: datetime
    end_timestamp: datetime
    execution_time_seconds: float = Field(ge=0)
    attempts: int = Field(1, ge=0, description="0 when skipped before running")
    error_message: str = ""
    error_type: str = ""
    skip_reason: str = ""
    components: list[str] = Field(default_factory=list, description="managers the test exercised")
    assertions: list[FFAssertionDTO] = Field(default_factory=list)
    steps: list[FFStepTimingDTO] = Field(default_factory=list)
    metrics: dict[str, float] = Field(default_factory=dict, description="measured figures, e.g. recovery_seconds")
    warnings_generated: list[str] = Field(default_factory=list)
    details: dict[str, Any] = Field(default_factory=dict, description="suite-specific data for the report")
    attempt_results: list[FFTestAttemptDTO] = Field(default_factory=list, description="every attempt, oldest first")
    logs: list[FFLogRecordDTO] = Field(default_factory=list, description="log records emitted while the test ran")
    logs_dropped: int = Field(0, ge=0, description="records beyond the per-test cap, counted but not kept")
    worker: str = Field("", description="address of the Dask worker that ran the test ('' in a local run)")
    host: str = Field("", description="host name of the machine that ran the test ('' in a local run)")

    @property
    def first_failed_attempt(self) -> FFTestAttemptDTO | None:
        """The first attempt that did not pass (for a flaky test: why it needed a retry)."""
        return next((a for a in self.attempt_results if a.status != FFTestStatus.PASSED), None)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def success(self) -> bool:
        return self.status in (FFTestStatus.PASSED, FFTestStatus.FLAKY)



class FFUseCaseValidationDTO(_AssertionCounts, _DTO):
    """The outcome of one of the 22 chat use cases."""

    use_case_id: str
    use_case_name: str
    use_case_category: str
    required_components: list[str]
    status: FFTestStatus
    validation_timestamp: datetime
    execution_time_seconds: float = Field(ge=0)
    attempts: int = 1
    steps: list[FFStepTimingDTO] = Field(default_factory=list)
    assertions: list[FFAssertionDTO] = Field(default_factory=list)
    first_failure: str = ""
    error_type: str = ""
    attempt_results: list[FFTestAttemptDTO] = Field(default_factory=list, description="every attempt, oldest first")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def validation_successful(self) -> bool:
        return self.status in (FFTestStatus.PASSED, FFTestStatus.FLAKY)


    @computed_field  # type: ignore[prop-decorator]
    @property
    def average_step_ms(self) -> float:
        return sum(s.duration_ms for s in self.steps) / len(self.steps) if self.steps else 0.0


class FFOperationStatsDTO(_DTO):
    """Latency and volume of one operation under load."""

    operation: str
    count: int
    errors: int
    min_ms: float | None = Field(None, description="None in reports written before it was recorded")
    p50_ms: float
    p90_ms: float | None = Field(None, description="None in reports written before it was recorded")
    p95_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    throughput_ops: float


class FFLoadIntervalDTO(_DTO):
    """One time slice of the load test (all operations together), for throughput and latency over time."""

    start_seconds: float = Field(ge=0, description="from the start of the load")
    seconds: float = Field(gt=0, description="length of the slice")
    ok: int = Field(ge=0, description="requests completed in the slice")
    errors: int = Field(ge=0)
    throughput_ops: float = Field(ge=0, description="completed requests per second in the slice")
    min_ms: float = 0.0
    p50_ms: float = 0.0
    p90_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0


class FFResourceSampleDTO(_DTO):
    """One psutil sample of the test process while the load ran."""

    elapsed_seconds: float
    cpu_percent: float
    rss_mb: float


class FFPerformanceSummaryDTO(_DTO):
    """What the load test measured, and how it compares with the previous run."""

    profile: str
    concurrent_users: int
    duration_seconds: float
    target_rps: float
    achieved_rps: float
    error_rate_percent: float
    operations: list[FFOperationStatsDTO]
    overall: FFOperationStatsDTO | None = Field(None, description="every request of the load together (operation '*')")
    resource_samples: list[FFResourceSampleDTO] = Field(default_factory=list)
    timeline: list[FFLoadIntervalDTO] = Field(default_factory=list, description="throughput and latency per time slice")
    peak_rss_mb: float = 0.0
    peak_cpu_percent: float = 0.0
    p95_threshold_ms: float | None = Field(None, description="the p95 ceiling the run was held to, drawn on the latency chart")
    baseline_run_id: str | None = None
    regressions: list[str] = Field(default_factory=list, description="operations slower than baseline by more than the margin")
    threshold_failures: list[str] = Field(default_factory=list)


class FFSecurityCheckDTO(_DTO):
    """One named attack attempt, what should happen and what did."""

    check_id: str
    name: str
    category: str
    asvs_id: str = Field(description="OWASP ASVS requirement covered, e.g. V12.3.1")
    attack: str
    expected: str
    observed: str
    passed: bool
    severity: str = "high"


class FFMigrationSummaryDTO(_DTO):
    """What the migration validator proved about a data root."""

    source: str
    from_version: int
    to_version: int
    records_source: dict[str, int] = Field(default_factory=dict)
    records_target: dict[str, int] = Field(default_factory=dict)
    files_before: int = 0
    bytes_before: int = 0
    manifest_digest_before: str = ""
    manifest_digest_after_rollback: str = ""
    differences: list[str] = Field(default_factory=list, description="unexplained source/target differences")
    skipped_items: list[str] = Field(default_factory=list, description="irregular inputs not imported, with reasons")
    rollback_identical: bool = False
    reapply_identical: bool = False
    duration_seconds: float = 0.0
    timeout_minutes: float = 0.0


class FFQualityGateResultDTO(_DTO):
    """One quality gate and whether the run held it.

    ``inconclusive`` means the run could not decide the gate (below a minimum number of samples,
    or the load generator itself saturated): it is never counted as held, so ``passed`` is False.
    """

    name: str
    passed: bool
    detail: str
    inconclusive: bool = Field(False, description="the gate could not be decided; never counted as passed")

    @model_validator(mode="after")
    def _inconclusive_is_not_passed(self) -> FFQualityGateResultDTO:
        if self.inconclusive and self.passed:
            raise ValueError("an inconclusive gate cannot be passed")
        return self

    @computed_field  # type: ignore[prop-decorator]
    @property
    def outcome(self) -> FFGateOutcome:
        return "inconclusive" if self.inconclusive else ("passed" if self.passed else "failed")


class FFTransportStatsDTO(_DTO):
    """One transport's figures in the cross-system run: steady state and failover windows apart."""

    transport: str
    attempts: int = Field(ge=0)
    ok: int = Field(ge=0)
    errors: int = Field(ge=0)
    availability_percent: float | None = Field(None, description="ok / attempts; None without attempts")
    throughput_ops: float = Field(0.0, ge=0, description="successful requests per second of load")
    steady_count: int = Field(0, ge=0, description="successes outside every failover window")
    p50_ms: float | None = None
    p95_ms: float | None = Field(None, description="steady state (failover windows excluded)")
    p99_ms: float | None = None
    max_ms: float | None = None
    failover_count: int = Field(0, ge=0, description="attempts that overlapped a failover window")
    failover_p95_ms: float | None = Field(None, description="p95 of the successes inside failover windows")


class FFCrossSystemIntervalDTO(_DTO):
    """One second of the cross-system load: what was attempted, what succeeded, how fast."""

    start_seconds: float = Field(ge=0)
    seconds: float = Field(gt=0)
    attempts: int = Field(ge=0)
    ok: int = Field(ge=0)
    errors: int = Field(ge=0)
    throughput_ops: float = Field(ge=0)
    p95_ms: float | None = Field(None, description="None when nothing succeeded in the slice")


class FFCrossSystemEventDTO(_DTO):
    """A mark on the timeline: a fault injected or cleared, an endpoint ejected or back."""

    at_seconds: float = Field(ge=0, description="since the load started")
    kind: str = Field(description="fault, cleared, recovered, ejected, returned, breaker_open, ...")
    label: str
    endpoint: str = ""


class FFFaultOutcomeDTO(_DTO):
    """One injected fault: when it began and ended, and when traffic reached the instance again."""

    fault: str
    target: str = Field(description="the instance (or proxy) the fault hit")
    injected_at_seconds: float
    cleared_at_seconds: float | None = None
    recovered_at_seconds: float | None = Field(None, description="first success routed to the recovered instance")
    recovery_seconds: float | None = Field(None, description="cleared -> first success routed to the recovered instance")
    outage_seconds: float | None = Field(None, description="injected -> first success routed to the recovered instance")
    errors_during: int = Field(0, ge=0, description="failed attempts inside the fault's window")
    back_in_rotation: bool = Field(False, description="breaker closed again and the endpoint healthy at the end")
    detail: str = ""


class FFCrossSystemGateDTO(_DTO):
    """One of seed 000's success criteria beside the figure the run measured."""

    name: str
    criterion: str = Field(description="the seed's wording")
    target: str = Field(description="the threshold as this run applied it")
    measured: str
    outcome: FFGateOutcome
    detail: str = ""


class FFCrossSystemSummaryDTO(_DTO):
    """What the cross-system suite measured across real processes under injected faults."""

    profile: str
    instances: int = Field(ge=0)
    duration_seconds: float = Field(ge=0)
    target_rps: float = Field(ge=0)
    attempts: int = Field(ge=0)
    transports: list[FFTransportStatsDTO] = Field(default_factory=list)
    timeline: list[FFCrossSystemIntervalDTO] = Field(default_factory=list)
    events: list[FFCrossSystemEventDTO] = Field(default_factory=list)
    faults: list[FFFaultOutcomeDTO] = Field(default_factory=list)
    gates: list[FFCrossSystemGateDTO] = Field(default_factory=list)
    acknowledged_writes: int = Field(0, ge=0)
    lost_writes: int = Field(0, ge=0)
    duplicated_writes: int = Field(0, ge=0)
    udp_sent: int = Field(0, ge=0)
    udp_delivered: int = Field(0, ge=0)
    generator_peak_cpu_percent: float = Field(0.0, ge=0, description="the load generator's own process, 100 = one core")
    generator_mean_cpu_percent: float = Field(0.0, ge=0)
    generator_saturated: bool = False
    max_dispatch_lag_ms: float = Field(0.0, ge=0, description="how late the open-loop schedule sent a request (worst)")
    schedule_slip_p95_ms: float = Field(0.0, ge=0, description="p95 of how late requests were sent against the schedule")


class FFSuiteResultDTO(_DTO):
    """One suite's tests and their counts."""

    suite: str
    results: list[FFIntegrationTestResultDTO] = Field(default_factory=list)
    duration_seconds: float = 0.0

    def _count(self, status: FFTestStatus) -> int:
        return sum(1 for r in self.results if r.status == status)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def passed(self) -> int:
        return self._count(FFTestStatus.PASSED)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def failed(self) -> int:
        return self._count(FFTestStatus.FAILED) + self._count(FFTestStatus.ERROR)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def flaky(self) -> int:
        return self._count(FFTestStatus.FLAKY)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def skipped(self) -> int:
        return self._count(FFTestStatus.SKIPPED)


class FFRunComparisonDTO(_DTO):
    """What changed since the previous run (from the stored history)."""

    previous_run_id: str
    newly_failing: list[str] = Field(default_factory=list)
    fixed: list[str] = Field(default_factory=list)
    slower: list[str] = Field(default_factory=list, description="operations or tests slower beyond the margin")


class FFWorkerDTO(_DTO):
    """One Dask worker of a distributed run."""

    address: str
    host: str = ""
    nthreads: int = Field(0, ge=0)
    suites: list[str] = Field(default_factory=list, description="the suites it ran")


class FFExecutionDTO(_DTO):
    """Where a run's tests ran: absent for a local run; for ``--distributed``, the cluster."""

    mode: Literal["local", "distributed"] = "distributed"
    scheduler: str = Field("", description="the scheduler's address (a LocalCluster's is on 127.0.0.1)")
    cluster: Literal["local", "remote"] = "local"
    workers: list[FFWorkerDTO] = Field(default_factory=list)
    versions: dict[str, str] = Field(default_factory=dict, description="package versions every worker and the client agreed on")
    wall_seconds: float = Field(0.0, ge=0, description="from the first suite submitted to the last result merged")


class FFSystemIntegrationReportDTO(_DTO):
    """The one report object of a run; every writer (JSON, HTML, PDF, JUnit) only reads it."""

    report_schema_version: int = REPORT_SCHEMA_VERSION
    report_id: str
    generation_timestamp: datetime
    started_at: datetime
    finished_at: datetime
    seed: int
    profile: str
    environment: str
    platform: dict[str, str] = Field(default_factory=dict, description="python, os, cpu count, package version")
    git_commit: str = Field("", description="commit of the code that ran (with '+dirty' for local changes), '' if unknown")
    packages: dict[str, str] = Field(default_factory=dict, description="installed versions of the runtime dependencies")
    suites: list[FFSuiteResultDTO] = Field(default_factory=list)
    use_case_results: list[FFUseCaseValidationDTO] = Field(default_factory=list)
    performance: FFPerformanceSummaryDTO | None = None
    security_checks: list[FFSecurityCheckDTO] = Field(default_factory=list)
    migration: FFMigrationSummaryDTO | None = None
    cross_system: FFCrossSystemSummaryDTO | None = None
    quality_gates: list[FFQualityGateResultDTO] = Field(default_factory=list)
    comparison: FFRunComparisonDTO | None = None
    critical_issues: list[str] = Field(default_factory=list)
    execution: FFExecutionDTO | None = Field(None, description="the cluster of a distributed run; absent when local")

    def _all_results(self) -> list[FFIntegrationTestResultDTO]:
        return [r for s in self.suites for r in s.results]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total_tests_executed(self) -> int:
        return sum(1 for r in self._all_results() if r.status != FFTestStatus.SKIPPED)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def tests_passed(self) -> int:
        return sum(s.passed for s in self.suites)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def tests_failed(self) -> int:
        return sum(s.failed for s in self.suites)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def tests_flaky(self) -> int:
        return sum(s.flaky for s in self.suites)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def tests_skipped(self) -> int:
        return sum(s.skipped for s in self.suites)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def overall_success_rate(self) -> float:
        executed = self.total_tests_executed
        return (self.tests_passed + self.tests_flaky) / executed if executed else 0.0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def use_cases_passing(self) -> int:
        return sum(1 for u in self.use_case_results if u.validation_successful)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def security_tests_passed(self) -> bool:
        return bool(self.security_checks) and all(c.passed for c in self.security_checks)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def vulnerabilities_found(self) -> int:
        return sum(1 for c in self.security_checks if not c.passed)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def verdict_passed(self) -> bool:
        return bool(self.quality_gates) and all(g.passed for g in self.quality_gates)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def verdict(self) -> Literal["passed", "failed", "inconclusive", "none"]:
        """``inconclusive``: no gate broken but at least one undecided; like ``failed``, not a pass."""
        if not self.quality_gates:
            return "none"
        if any(not g.passed and not g.inconclusive for g in self.quality_gates):
            return "failed"
        return "inconclusive" if any(g.inconclusive for g in self.quality_gates) else "passed"
