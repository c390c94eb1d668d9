"""What a Dask worker does for one suite: a fresh data root, the ordinary runner, results back.

The unit of work is one *suite*, not one test. A suite's tests share one wired context (the
managers on one data root; later tests read what earlier ones wrote), its ``depends_on`` and
``after`` edges never leave it, and ``SUITE_CLEANUP`` must run in the process that started the
suite's servers. Sending a suite whole keeps every one of those rules exactly as in a local run:
the same :class:`FFIntegrationTestManager` runs it, with the same runner, timeouts, retries and
``stop_on_first_failure``; only the report is assembled elsewhere.

One suite at a time per worker *process* (a module-level lock): the failure and performance
suites inject process-wide faults and load that a second suite in the same process would feel.
Each suite gets a folder of its own (``<base>/<suite>-<random>/``) holding its run folder and
fresh test data; a remote worker's folder is a temporary one, removed once the results are on
their way. The random part matters when a worker dies mid-suite: Dask then runs the task again on
another worker (up to the scheduler's ``allowed-failures``), and that attempt starts from a fresh
root too, never from what the dead one left.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import tempfile
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ff_class_configs.ff_configuration_manager_config import (
    FFConfigurationManagerConfigDTO,
)
from ff_class_configs.ff_test_result_dtos import (
    FFPerformanceSummaryDTO,
    FFSuiteResultDTO,
)

__all__ = ["FFSuiteTask", "FFSuiteTaskResult", "run_suite_task"]

_ONE_SUITE_PER_PROCESS = threading.Lock()


@dataclass(frozen=True, slots=True)
class FFSuiteTask:
    """Everything a worker needs to run one suite (pickled to it)."""

    suite: str
    run_id: str
    config: FFConfigurationManagerConfigDTO
    base_dir: str | None = None
    """Where the suite's folder goes (a LocalCluster's workers share the client's disk: the run
    folder); None on a remote cluster: a temporary folder, deleted afterwards."""
    baseline: tuple[str, FFPerformanceSummaryDTO] | None = None
    manager_classes: Mapping[str, type] | None = None
    """The validation platform's seam for planted defects (tests only), as in a local run."""


@dataclass(frozen=True, slots=True)
class FFSuiteTaskResult:
    """The suite's results (as JSON, validated again by the client) and where they ran."""

    suite: dict[str, Any]
    worker: str
    host: str
    log_text: str


def _where() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except ValueError:  # called outside a worker (the unit tests call it directly)
        return ""


def run_suite_task(task: FFSuiteTask) -> FFSuiteTaskResult:
    """Run ``task.suite`` in this process on a fresh data root; stamp every result with worker and host."""
    worker, host = _where(), socket.gethostname()
    with _ONE_SUITE_PER_PROCESS:
        own_folder = task.base_dir is None
        base = Path(tempfile.mkdtemp(prefix=f"ff_{task.run_id}_")) if own_folder else Path(task.base_dir)
        try:
            outcome, log_text = asyncio.run(_run(task, base / f"{task.suite}-{uuid.uuid4().hex[:6]}"))
        finally:
            if own_folder:
                shutil.rmtree(base, ignore_errors=True)
    for result in outcome.results:
        result.worker, result.host = worker, host
    return FFSuiteTaskResult(suite=outcome.model_dump(mode="json"), worker=worker, host=host, log_text=log_text)


async def _run(task: FFSuiteTask, folder: Path) -> tuple[FFSuiteResultDTO, str]:
    from testing.ff_integration_test_manager import FFIntegrationTestManager
    from testing.ff_run_all import RUN_LOG_NAME, capture_run_logs

    manager = FFIntegrationTestManager(task.config, output_dir=folder, run_id=task.run_id,
                                       manager_classes=task.manager_classes)
    log_path = manager.run_dir / RUN_LOG_NAME
    with capture_run_logs(log_path):
        try:
            context = await manager.initialize_testing_environment()
            context.baseline = task.baseline  # the client's history, not this folder's (empty) one
            outcome = await manager.run_suite(task.suite)
        finally:
            await manager.close()
    text = await asyncio.to_thread(log_path.read_text, encoding="utf-8", errors="replace")
    return outcome, text
