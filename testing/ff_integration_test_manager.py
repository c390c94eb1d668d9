"""FFIntegrationTestManager: runs the validation suites against the wired managers.

Each suite is a registry of small test specs in ``testing/suites/<suite>.py``. Every suite runs
through the same :class:`FFTestRunner` (dependencies, parallelism, timeouts, retries -> flaky),
and every result is appended to ``<run_dir>/results.jsonl`` the moment it completes, so an
interrupted run keeps what it finished. Suite-specific evidence travels in a result's ``details``
under one key (``use_case``, ``security_check``, ``performance``, ``migration``) and is lifted into
the typed report fields here.

The managers under test are built from real parts unless the caller injects others:
``store_factory(config) -> FFStore``, ``bus_factory(dead_letter_path) -> FFEventBus`` and
``manager_classes`` ({name: class}) are handed to :meth:`FFTestContext.create`, which uses them
for every manager of the run (at start, on restart, for second instances and sandboxes). That is
how the pytest suite plants a defect (a leaking ``FFStore`` subclass, a bus that drops events)
and shows the suite meant to catch it turning red.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import platform
import time
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from ff_class_configs.ff_configuration_manager_config import FFConfigurationManagerConfigDTO
from ff_class_configs.ff_integration_testing_config import SUITE_NAMES
from ff_class_configs.ff_test_result_dtos import (
    FFCrossSystemSummaryDTO,
    FFIntegrationTestResultDTO,
    FFMigrationSummaryDTO,
    FFPerformanceSummaryDTO,
    FFSecurityCheckDTO,
    FFSuiteResultDTO,
    FFSystemIntegrationReportDTO,
    FFTestStatus,
    FFUseCaseValidationDTO,
)
from ff_utils.ff_errors import FFValidationError
from ff_utils.ff_file_ops import ff_ensure_directory
from ff_utils.ff_json_utils import ff_append_jsonl
from ff_managers import FFComponentBase
from testing._context import BusFactory, FFTestContext, StoreFactory
from testing._quality_gates import evaluate_quality_gates
from testing._synthetic_data import generate_synthetic_data
from testing.runner import FFTestRunner, FFTestSpec

__all__ = ["FFIntegrationTestManager", "FFProgressListener", "DEFAULT_OUTPUT_DIR"]

DEFAULT_OUTPUT_DIR = Path("ff_reports")


class FFProgressListener(Protocol):
    """What a progress display implements (the CLI's rich bars; tests use none)."""

    def suite_started(self, suite: str, total: int) -> None: ...
    def test_started(self, suite: str, test_name: str) -> None: ...
    def test_finished(self, result: FFIntegrationTestResultDTO) -> None: ...
    def suite_finished(self, suite: FFSuiteResultDTO) -> None: ...


def _suite_module(suite: str) -> Any:
    if suite not in SUITE_NAMES:
        raise FFValidationError(f"unknown suite {suite!r}; choose from {', '.join(SUITE_NAMES)}", field="suite", value=suite)
    return importlib.import_module(f"testing.suites.{suite}")


def _suite_specs(suite: str) -> list[FFTestSpec]:
    return list(_suite_module(suite).REGISTRY.specs)


_ONE_AT_A_TIME = ("performance", "failure", "cross_system")
"""Suites whose tests share process-wide state (I/O faults, a load, a cluster): run in order."""


def _with_dependencies(specs: list[FFTestSpec], wanted: set[str], suite: str) -> list[FFTestSpec]:
    """``specs`` narrowed to ``wanted`` and, transitively, the tests they depend on (spec order kept)."""
    by_id = {spec.test_id: spec for spec in specs}
    unknown = sorted(wanted - by_id.keys())
    if unknown:
        raise FFValidationError(f"unknown test id(s) in suite {suite}: {', '.join(unknown)}", field="only")
    chosen = set(wanted)
    stack = list(wanted)
    while stack:
        for dependency in by_id[stack.pop()].depends_on:
            if dependency in by_id and dependency not in chosen:
                chosen.add(dependency)
                stack.append(dependency)
    return [spec for spec in specs if spec.test_id in chosen]


def _new_run_id() -> str:
    return datetime.now(UTC).strftime("run_%Y%m%dT%H%M%SZ_") + uuid.uuid4().hex[:6]


class FFIntegrationTestManager:
    """Owns one validation run: its id, folder, data root, context and results."""

    def __init__(
        self,
        config: FFConfigurationManagerConfigDTO,
        *,
        output_dir: Path | str | None = None,
        data_dir: Path | str | None = None,
        run_id: str | None = None,
        listener: FFProgressListener | None = None,
        store_factory: StoreFactory | None = None,
        bus_factory: BusFactory | None = None,
        manager_classes: Mapping[str, type[FFComponentBase]] | None = None,
        cluster_run_dir: Path | str | None = None,
        comm_factory: Callable[..., Any] | None = None,
    ) -> None:
        """``store_factory``, ``bus_factory`` and ``manager_classes`` swap the parts the managers
        under test are built from (see the module docstring); ``None`` keeps the real ones.
        ``cluster_run_dir`` names a running cluster (``main.py cluster test``) for the
        cross-system suite to use instead of starting its own; ``comm_factory`` builds that
        suite's communication manager (the seam for a planted defect)."""
        self.base_config = config
        self.testing = config.integration_testing
        self.output_dir = Path(output_dir) if output_dir is not None else DEFAULT_OUTPUT_DIR
        self.run_id = run_id or _new_run_id()
        self.run_dir = self.output_dir / "runs" / self.run_id
        # A test run never touches a real data root: it works in a fresh folder of its own.
        data_parent = Path(data_dir) if data_dir is not None else self.run_dir
        self.data_root = data_parent / "test_data" if data_dir is None else data_parent / "ff_test_runs" / self.run_id
        self.listener = listener
        self.store_factory = store_factory
        self.bus_factory = bus_factory
        self.manager_classes = manager_classes
        self.cluster_run_dir = Path(cluster_run_dir) if cluster_run_dir is not None else None
        self.comm_factory = comm_factory
        self.context: FFTestContext | None = None
        self.suite_results: dict[str, FFSuiteResultDTO] = {}
        self.started_at = datetime.now(UTC)
        self._results_path = self.run_dir / "results.jsonl"

    # ------------------------------------------------------------------ environment

    async def initialize_testing_environment(self) -> FFTestContext:
        """Create the run folder and a fresh data root, generate the seeded data, wire the managers."""
        if self.context is not None:
            return self.context
        if self.data_root.exists() and any(self.data_root.iterdir()):
            raise FFValidationError(f"test data root {self.data_root} is not empty", field="data_dir", path=self.data_root)
        await asyncio.to_thread(ff_ensure_directory, self.data_root)
        config = self.base_config.with_base_path(self.data_root)
        config.storage.artifacts_url = None  # a run's synthetic data never goes to the configured artifact store
        data = generate_synthetic_data(self.testing.seed)
        self.context = await FFTestContext.create(
            config,
            self.run_dir,
            data,
            store_factory=self.store_factory,
            bus_factory=self.bus_factory,
            manager_classes=self.manager_classes,
            cluster_run_dir=self.cluster_run_dir,
            comm_factory=self.comm_factory,
        )
        self.context.baseline = self._load_baseline()
        return self.context

    def _load_baseline(self) -> tuple[str, FFPerformanceSummaryDTO] | None:
        """The latest earlier run's performance summary, from the output folder's history."""
        from testing.reporting import FFRunHistory

        for report in reversed(FFRunHistory(self.output_dir).recent(5, before=self.run_id)):
            if report.performance is not None and report.report_id != self.run_id:
                return report.report_id, report.performance
        return None

    async def close(self) -> None:
        if self.context is not None:
            await self.context.close()

    # ------------------------------------------------------------------ suites

    async def run_suite(self, suite: str, *, only: Collection[str] | None = None) -> FFSuiteResultDTO:
        """Run one suite, or with ``only`` the named tests of it plus what they depend on.

        ``only`` takes test ids with or without the suite prefix (``"use_cases.rag_chat"`` or
        ``"rag_chat"``). Results are persisted as they complete and kept for the report. A suite
        module may set ``MAX_RETRIES`` (its own retry count) and ``SUITE_CLEANUP`` (an async hook
        run after its tests whatever happened: the cross-system suite stops its processes there).
        Raises FFValidationError for an unknown suite or test id.
        """
        module = _suite_module(suite)
        specs = list(module.REGISTRY.specs)
        if only is not None:
            specs = _with_dependencies(specs, {t if t.startswith(f"{suite}.") else f"{suite}.{t}" for t in only}, suite)
        context = await self.initialize_testing_environment()
        if self.listener is not None:
            self.listener.suite_started(suite, len(specs))

        async def persist(result: FFIntegrationTestResultDTO) -> None:
            await asyncio.to_thread(ff_append_jsonl, self._results_path, result.model_dump(mode="json"))
            if self.listener is not None:
                self.listener.test_finished(result)

        def started(spec: FFTestSpec) -> None:
            if self.listener is not None:
                self.listener.test_started(spec.suite, spec.name)

        runner = FFTestRunner(
            max_parallel=self.testing.max_parallel_tests if suite not in _ONE_AT_A_TIME else 1,
            default_timeout=self.testing.test_timeout_seconds,
            max_retries=getattr(module, "MAX_RETRIES", self.testing.max_retry_attempts),
            stop_on_first_failure=self.testing.stop_on_first_failure,
            on_result=persist,
            on_start=started,
        )
        began = time.perf_counter()
        cleanup = getattr(module, "SUITE_CLEANUP", None)
        try:
            results = await runner.run(specs, context)
        finally:  # a suite's processes and load end with it, whatever its tests did
            if cleanup is not None:
                await cleanup(context)
        outcome = FFSuiteResultDTO(suite=suite, results=results, duration_seconds=time.perf_counter() - began)
        self.suite_results[suite] = outcome
        if self.listener is not None:
            self.listener.suite_finished(outcome)
        return outcome

    async def run_component_integration_tests(self) -> list[FFIntegrationTestResultDTO]:
        return (await self.run_suite("component")).results

    async def run_use_case_validation_tests(self) -> list[FFUseCaseValidationDTO]:
        await self.run_suite("use_cases")
        return self.use_case_results()

    async def run_performance_tests(self) -> FFIntegrationTestResultDTO:
        return _single(await self.run_suite("performance"), "performance")

    async def run_security_validation_tests(self) -> FFIntegrationTestResultDTO:
        return _aggregate(await self.run_suite("security"), "security validation")

    async def run_failure_simulation_tests(self) -> list[FFIntegrationTestResultDTO]:
        return (await self.run_suite("failure")).results

    async def run_cross_system_tests(self) -> FFCrossSystemSummaryDTO | None:
        """The cross-system suite (real instances, faults, seed 000's gates); its report section."""
        await self.run_suite("cross_system")
        return self.cross_system_summary()

    async def run_migration_validation_tests(self) -> FFIntegrationTestResultDTO:
        return _aggregate(await self.run_suite("migration"), "migration validation")

    # ------------------------------------------------------------------ typed evidence

    def use_case_results(self) -> list[FFUseCaseValidationDTO]:
        suite = self.suite_results.get("use_cases")
        return [_use_case_dto(r) for r in suite.results] if suite else []

    def security_checks(self) -> list[FFSecurityCheckDTO]:
        suite = self.suite_results.get("security")
        return [FFSecurityCheckDTO.model_validate(r.details["security_check"]) for r in suite.results if "security_check" in r.details] if suite else []

    def performance_summary(self) -> FFPerformanceSummaryDTO | None:
        suite = self.suite_results.get("performance")
        found = [r.details["performance"] for r in suite.results if "performance" in r.details] if suite else []
        return FFPerformanceSummaryDTO.model_validate(found[0]) if found else None

    def cross_system_summary(self) -> FFCrossSystemSummaryDTO | None:
        suite = self.suite_results.get("cross_system")
        found = [r.details["cross_system"] for r in suite.results if "cross_system" in r.details] if suite else []
        return FFCrossSystemSummaryDTO.model_validate(found[-1]) if found else None

    def migration_summary(self) -> FFMigrationSummaryDTO | None:
        suite = self.suite_results.get("migration")
        found = [r.details["migration"] for r in suite.results if "migration" in r.details] if suite else []
        return FFMigrationSummaryDTO.model_validate(found[0]) if found else None

    # ------------------------------------------------------------------ the report

    async def generate_system_integration_report(self, suites: Sequence[str] | None = None) -> FFSystemIntegrationReportDTO:
        """Run the suites not yet run (all by default) and build the one report object with its verdict."""
        for suite in suites or SUITE_NAMES:
            if suite not in self.suite_results:
                await self.run_suite(suite)
        return self.build_report()

    def build_report(self) -> FFSystemIntegrationReportDTO:
        """The report of what has run so far, with quality gates evaluated."""
        from testing.reporting import git_commit, package_versions

        now = datetime.now(UTC)
        report = FFSystemIntegrationReportDTO(
            report_id=self.run_id,
            generation_timestamp=now,
            started_at=self.started_at,
            finished_at=now,
            seed=self.testing.seed,
            profile=self.testing.performance_config.profile,
            environment=self.testing.test_environment.value,
            platform=_platform_info(),
            git_commit=git_commit(),
            packages=package_versions(),
            suites=[self.suite_results[s] for s in SUITE_NAMES if s in self.suite_results],
            use_case_results=self.use_case_results(),
            performance=self.performance_summary(),
            security_checks=self.security_checks(),
            migration=self.migration_summary(),
            cross_system=self.cross_system_summary(),
        )
        report.quality_gates = evaluate_quality_gates(report, self.testing)
        report.critical_issues = [
            f"{r.test_suite}: {r.test_name}: {r.error_message}"
            for s in report.suites
            for r in s.results
            if r.status in (FFTestStatus.FAILED, FFTestStatus.ERROR)
        ]
        return report


def _platform_info() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    try:
        package = version("ff-platform")
    except PackageNotFoundError:
        package = "unknown"
    return {
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
        "machine": platform.machine(),
        "cpu_count": str(os.cpu_count() or 0),
        "ff_platform": package,
    }


def _use_case_dto(result: FFIntegrationTestResultDTO) -> FFUseCaseValidationDTO:
    meta = result.details.get("use_case", {})
    return FFUseCaseValidationDTO(
        use_case_id=meta.get("id", result.test_id.split(".", 1)[-1]),
        use_case_name=result.test_name,
        use_case_category=meta.get("category", ""),
        required_components=list(result.components),
        status=result.status,
        validation_timestamp=result.start_timestamp,
        execution_time_seconds=result.execution_time_seconds,
        attempts=result.attempts,
        steps=result.steps,
        assertions=result.assertions,
        first_failure=result.error_message or result.skip_reason,
        error_type=result.error_type,
        attempt_results=result.attempt_results,
    )


def _single(suite: FFSuiteResultDTO, name: str) -> FFIntegrationTestResultDTO:
    return suite.results[0] if len(suite.results) == 1 else _aggregate(suite, name)


def _aggregate(suite: FFSuiteResultDTO, name: str) -> FFIntegrationTestResultDTO:
    """One result standing for a whole suite (the Phase 6 API returns one per suite)."""
    results = suite.results
    statuses = {r.status for r in results}
    if not results:
        status = FFTestStatus.ERROR
    elif statuses & {FFTestStatus.ERROR}:
        status = FFTestStatus.ERROR
    elif statuses & {FFTestStatus.FAILED, FFTestStatus.SKIPPED}:
        status = FFTestStatus.FAILED
    elif FFTestStatus.FLAKY in statuses:
        status = FFTestStatus.FLAKY
    else:
        status = FFTestStatus.PASSED
    first_bad = next((r for r in results if not r.success), None)
    starts = [r.start_timestamp for r in results] or [datetime.now(UTC)]
    ends = [r.end_timestamp for r in results] or starts
    return FFIntegrationTestResultDTO(
        test_id=f"{suite.suite}.all",
        test_name=name,
        test_suite=suite.suite,
        status=status,
        start_timestamp=min(starts),
        end_timestamp=max(ends),
        execution_time_seconds=suite.duration_seconds,
        error_message="" if first_bad is None else f"{first_bad.test_name}: {first_bad.error_message or first_bad.skip_reason}",
        error_type="" if first_bad is None else (first_bad.error_type or first_bad.status.value),
        components=sorted({c for r in results for c in r.components}),
        assertions=[a for r in results for a in r.assertions],
        metrics={"tests": float(len(results)), "failed": float(suite.failed), "skipped": float(suite.skipped)},
    )
