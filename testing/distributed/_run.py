"""A validation run whose suites execute on Dask workers and whose report is assembled here.

The client (this process) checks the same-versions rule, submits one task per suite
(:mod:`testing.distributed._worker_task` says why a suite is the unit): the functional suites all
at once, then the timed ones (:data:`RUN_ALONE`) one by one, and merges what comes
back into the one :class:`FFIntegrationTestManager` of the run: its run id, its ``results.jsonl``
(appended as each suite returns), its ``run.log`` (each worker's log appended under a header),
its report with the quality gates evaluated over *all* suites exactly as in a local run, and so
its history. Every test result names the worker address and host it ran on; the report's
``execution`` section lists the cluster.

Bounded: each suite's task must come back within the sum of its tests' timeouts times their
attempts, plus a setup allowance; in the first phase, the sum of those over the phase (a suite
waiting for a busy worker waits inside that bound). A suite that does not come back, or whose worker died,
becomes ERROR results for each of its tests, naming why: the report never loses a test.
"""

from __future__ import annotations

import asyncio
import importlib
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ff_class_configs.ff_configuration_manager_config import (
    FFConfigurationManagerConfigDTO,
)
from ff_class_configs.ff_test_result_dtos import (
    FFExecutionDTO,
    FFIntegrationTestResultDTO,
    FFSuiteResultDTO,
    FFSystemIntegrationReportDTO,
    FFTestStatus,
    FFWorkerDTO,
)
from ff_utils.ff_file_ops import ff_ensure_directory
from ff_utils.ff_json_utils import ff_append_jsonl
from testing.distributed._cluster import FFClusterHandle, FFClusterTarget, open_cluster
from testing.distributed._versions import check_versions
from testing.distributed._worker_task import (
    FFSuiteTask,
    FFSuiteTaskResult,
    run_suite_task,
)

__all__ = ["RUN_ALONE", "SETUP_ALLOWANCE_SECONDS", "run_report_distributed", "suite_bound_seconds"]

RUN_ALONE = ("performance", "failure", "cross_system")
"""Suites whose gates are timings (latency, recovery, availability under load): each runs by
itself on the cluster, after the others, as in a local run where no other suite runs beside it.
On a LocalCluster every worker shares this machine's cores; a load beside them would be ours."""

SETUP_ALLOWANCE_SECONDS = 120.0
"""Per suite, beyond its tests' own timeouts: spawning the context, generating the seeded data."""


def suite_bound_seconds(suite: str, config: FFConfigurationManagerConfigDTO) -> float:
    """The longest a suite can take when every test of it times out on every attempt."""
    testing = config.integration_testing
    module = importlib.import_module(f"testing.suites.{suite}")
    attempts = 1 + getattr(module, "MAX_RETRIES", testing.max_retry_attempts)
    return SETUP_ALLOWANCE_SECONDS + sum((s.timeout_seconds or testing.test_timeout_seconds) * attempts
                                         for s in module.REGISTRY.specs)


def _lost_suite(suite: str, error_type: str, message: str) -> FFSuiteResultDTO:
    """Every test of a suite that never came back, as an ERROR result saying why."""
    now = datetime.now(UTC)
    specs = importlib.import_module(f"testing.suites.{suite}").REGISTRY.specs
    results = [
        FFIntegrationTestResultDTO(
            test_id=s.test_id, test_name=s.name, test_suite=suite, test_level=s.level, status=FFTestStatus.ERROR,
            start_timestamp=now, end_timestamp=now, execution_time_seconds=0.0, attempts=0,
            error_type=error_type, error_message=message, components=list(s.components),
        )
        for s in specs
    ]
    return FFSuiteResultDTO(suite=suite, results=results, duration_seconds=0.0)


async def run_report_distributed(
    manager: Any, suites: Sequence[str], target: FFClusterTarget, *, manager_classes: Mapping[str, type] | None = None
) -> FFSystemIntegrationReportDTO:
    """Run ``suites`` on the cluster for ``manager``'s run; return its report with ``execution`` set.

    ``manager`` is the run's FFIntegrationTestManager (its id, folder, listener, report).
    Raises FFVersionMismatchError before submitting anything when a worker differs, and
    FFClusterError when the cluster cannot be reached.
    """
    ff_ensure_directory(manager.run_dir)
    async with open_cluster(target) as handle:
        versions = await check_versions(handle.client)
        began = time.perf_counter()
        ran_on = await _run_all(manager, handle, suites, manager_classes)
        wall = time.perf_counter() - began
        workers = await handle.workers()
    report = manager.build_report()
    report.execution = FFExecutionDTO(
        scheduler=handle.scheduler,
        cluster="local" if target.is_local else "remote",
        workers=[FFWorkerDTO(address=address, host=str(info.get("host", "")), nthreads=int(info.get("nthreads", 0)),
                             suites=sorted(s for s, w in ran_on.items() if w == address))
                 for address, info in sorted(workers.items())],
        versions=versions,
        wall_seconds=wall,
    )
    return report


async def _run_all(manager: Any, handle: FFClusterHandle, suites: Sequence[str],
                   manager_classes: Mapping[str, type] | None) -> dict[str, str]:
    """Two phases: the other suites all at once (the scheduler spreads them), then each suite of
    :data:`RUN_ALONE` by itself; merge each suite as it returns."""
    config = manager.base_config
    baseline = manager._load_baseline()
    # A LocalCluster shares this disk: each suite's fresh root goes under the run's own test-data
    # folder (so --data-dir and run pruning apply); a remote worker uses a temporary folder.
    base_dir = str(manager.data_root) if handle.target.is_local else None
    ran_on: dict[str, str] = {}
    futures: list[Any] = []

    async def one(suite: str, bound: float) -> None:
        task = FFSuiteTask(suite=suite, run_id=manager.run_id, config=config, base_dir=base_dir,
                           baseline=baseline, manager_classes=manager_classes)
        future = handle.client.submit(run_suite_task, task, key=f"ff-{manager.run_id}-{suite}", pure=False)
        futures.append(future)
        if manager.listener is not None:
            manager.listener.suite_started(suite, len(importlib.import_module(f"testing.suites.{suite}").REGISTRY.specs))
        try:
            returned: FFSuiteTaskResult = await asyncio.wait_for(future, bound)
            outcome = FFSuiteResultDTO.model_validate(returned.suite)
            ran_on[suite] = returned.worker
            await asyncio.to_thread(_append_log, manager.run_dir / "run.log", suite, returned)
        except TimeoutError:
            outcome = _lost_suite(suite, "Timeout", f"the suite did not come back from the cluster within {bound:g}s")
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a worker died, a task could not be unpickled: a result, not a crash
            outcome = _lost_suite(suite, type(exc).__name__, f"the suite's worker task failed: {exc}")
        await _merge(manager, outcome)

    together = [s for s in suites if s not in RUN_ALONE]
    bound = sum(suite_bound_seconds(s, config) for s in together)  # a suite may queue behind the others
    try:
        await asyncio.gather(*(one(s, bound) for s in together))
        for suite in (s for s in suites if s in RUN_ALONE):
            await one(suite, suite_bound_seconds(suite, config))
    finally:
        await handle.client.cancel(futures, force=True)
    return ran_on


async def _merge(manager: Any, outcome: FFSuiteResultDTO) -> None:
    """Persist a returned suite like a local run does, test by test, and keep it for the report."""
    for result in outcome.results:
        await asyncio.to_thread(ff_append_jsonl, manager.run_dir / "results.jsonl", result.model_dump(mode="json"))
        if manager.listener is not None:
            manager.listener.test_finished(result)
    manager.suite_results[outcome.suite] = outcome
    if manager.listener is not None:
        manager.listener.suite_finished(outcome)


def _append_log(path: Path, suite: str, returned: FFSuiteTaskResult) -> None:
    if not returned.log_text:
        return
    with path.open("a", encoding="utf-8") as log:
        log.write(f"--- suite {suite} on worker {returned.worker} ({returned.host})\n{returned.log_text}")
