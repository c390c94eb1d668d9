"""run-all: every suite on a fresh test data root, then the reports, then a verdict.

The library side of ``python main.py run-all`` and ``python main.py run SUITE``; the CLI only
parses options into :class:`FFRunOptions` and prints.

While the suites run, the ``ff`` loggers also write to ``<output>/runs/<run_id>/run.log`` (every
line naming the test attempt that caused it), and each record emitted inside a test is kept in
that test's result, so the report shows it beside the test (see
:mod:`testing.runner._log_capture`). The injected faults log warnings on purpose; the CLI keeps
those records off the console.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from ff_class_configs.ff_configuration_manager_config import FFConfigurationManagerConfigDTO
from ff_class_configs.ff_integration_testing_config import SUITE_NAMES, FFIntegrationTestingConfigDTO
from ff_class_configs.ff_test_result_dtos import FFSystemIntegrationReportDTO
from ff_utils.ff_errors import FFValidationError, ff_translate_errors
from ff_utils.ff_file_ops import ff_ensure_directory
from ff_utils.ff_logging import FF_LOGGER_NAME
from testing.ff_integration_test_manager import DEFAULT_OUTPUT_DIR, FFIntegrationTestManager, FFProgressListener
from testing.reporting import write_reports
from testing.runner import FFRunLogFormatter, FFTestLogHandler

if TYPE_CHECKING:
    from testing.distributed import FFClusterTarget

__all__ = ["RUN_LOG_NAME", "FFRunOptions", "FFRunOutcome", "apply_run_options", "capture_run_logs", "run_suites"]

EXIT_OK, EXIT_CHECK_FAILED = 0, 1
RUN_LOG_NAME = "run.log"


@dataclass(frozen=True, slots=True)
class FFRunOptions:
    """What the user chose on the command line (None keeps the configured value)."""

    output_dir: Path = DEFAULT_OUTPUT_DIR
    data_dir: Path | None = None
    profile: Literal["quick", "full"] | None = None
    formats: tuple[str, ...] | None = None
    parallel: int | None = None
    seed: int | None = None
    stop_on_first_failure: bool = False
    suites: tuple[str, ...] = SUITE_NAMES
    cluster_run_dir: Path | None = None
    """A running cluster's run dir (``main.py cluster test``), handed to the test context."""
    distributed: FFClusterTarget | None = None
    """Run the suites on Dask workers (``--distributed``); None runs them in this process."""


@dataclass(slots=True)
class FFRunOutcome:
    report: FFSystemIntegrationReportDTO
    paths: dict[str, Path] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.report.verdict_passed else EXIT_CHECK_FAILED


def apply_run_options(config: FFConfigurationManagerConfigDTO, options: FFRunOptions) -> FFConfigurationManagerConfigDTO:
    """A copy of ``config`` with the command-line choices applied, validated like the config.

    Raises FFValidationError for an unknown suite or a value the config would refuse.
    """
    unknown = [s for s in options.suites if s not in SUITE_NAMES]
    if unknown:
        raise FFValidationError(f"unknown suite {unknown[0]!r}; choose from {', '.join(SUITE_NAMES)}", field="suite")
    testing = config.integration_testing.model_dump()
    if options.profile is not None:
        performance = testing["performance_config"]
        performance["profile"] = options.profile
        if options.profile == "full":
            performance["test_duration_seconds"] = performance["full_duration_seconds"]
    if options.formats is not None:
        testing["report_output_formats"] = list(options.formats)
    if options.parallel is not None:
        testing["max_parallel_tests"] = options.parallel
    if options.seed is not None:
        testing["seed"] = options.seed
    if options.stop_on_first_failure:
        testing["stop_on_first_failure"] = True
    copy = config.model_copy(deep=True)
    with ff_translate_errors("apply run options"):
        copy.integration_testing = FFIntegrationTestingConfigDTO.model_validate(testing)
    return copy


async def run_suites(
    config: FFConfigurationManagerConfigDTO,
    options: FFRunOptions,
    listener: FFProgressListener | None = None,
    *,
    manager_classes: dict[str, type] | None = None,
) -> FFRunOutcome:
    """Run the chosen suites, write the reports in the configured formats, return the outcome.

    ``manager_classes`` is FFIntegrationTestManager's seam for a planted defect (tests only); it
    reaches the managers of this run, on this process or on every Dask worker alike.
    """
    config = apply_run_options(config, options)
    if options.distributed is not None and options.cluster_run_dir is not None:
        raise FFValidationError("a run against a running cluster (cluster test) cannot also be --distributed: "
                                "its workers may not see the cluster's run dir", field="distributed")
    manager = FFIntegrationTestManager(config, output_dir=options.output_dir, data_dir=options.data_dir, listener=listener,
                                       cluster_run_dir=options.cluster_run_dir, manager_classes=manager_classes)
    with capture_run_logs(manager.run_dir / RUN_LOG_NAME):
        if options.distributed is not None:
            from testing.distributed import run_report_distributed

            report = await run_report_distributed(manager, options.suites, options.distributed, manager_classes=manager_classes)
        else:
            try:
                report = await manager.generate_system_integration_report(options.suites)
            finally:
                await manager.close()
    testing = config.integration_testing
    paths = write_reports(
        report,
        options.output_dir,
        testing.report_output_formats,
        history_runs=testing.history_runs_shown,
        margin_percent=testing.performance_config.regression_margin_percent,
    )
    return FFRunOutcome(report=report, paths=paths)


@contextlib.contextmanager
def capture_run_logs(log_path: Path) -> Iterator[Path]:
    """While the block runs: every ``ff`` record to ``log_path``, and records of a test into its result.

    The ``ff`` logger's own level is left alone (the application's or the CLI's choice), so the
    file holds what would have been printed, WARNING and above by default.
    """
    ff_ensure_directory(log_path.parent)
    logger = logging.getLogger(FF_LOGGER_NAME)
    file_handler = logging.FileHandler(log_path, encoding="utf-8", errors="backslashreplace")
    file_handler.setFormatter(FFRunLogFormatter())
    capture = FFTestLogHandler()
    logger.addHandler(file_handler)
    logger.addHandler(capture)
    try:
        yield log_path
    finally:
        logger.removeHandler(capture)
        logger.removeHandler(file_handler)
        file_handler.close()
