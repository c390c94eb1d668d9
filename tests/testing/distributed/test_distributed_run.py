"""A distributed run and a local run of the same suites agree test by test; a planted defect turns both red.

Both go through :func:`testing.ff_run_all.run_suites` (what ``run-all`` calls), the distributed
one on a 2-worker LocalCluster on loopback that the run starts and closes itself; afterwards no
process this test started is left. The defect is the catalogue's ``SessionsLostOnRestart`` (a
write-back cache that never persisted), planted through the run's ``manager_classes`` seam, which
reaches the managers on every worker exactly as it reaches them in a local run.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import dask
import distributed  # noqa: F401  (see below)
import pytest

from ff_class_configs import load_config
from ff_class_configs.ff_test_result_dtos import (
    FFSystemIntegrationReportDTO,
    FFTestStatus,
)
from ff_managers import FFMemoryLayerManager
from testing.distributed import FFClusterTarget
from testing.ff_run_all import FFRunOptions, run_suites
from testing.reporting import FFRunHistory
from tests._suite_helpers import SessionsLostOnRestart
from tests.testing.distributed._dask_procs import assert_gone, children


pytestmark = [pytest.mark.slow, pytest.mark.timeout(420)]

RED = (FFTestStatus.FAILED, FFTestStatus.ERROR)


def _by_test(report: FFSystemIntegrationReportDTO) -> dict[str, tuple[FFTestStatus, int]]:
    return {r.test_id: (r.status, r.assertions_total) for s in report.suites for r in s.results}


class _SeesWorkers:
    """A progress listener that notes this process's children while the suites run on the cluster."""

    def __init__(self) -> None:
        self.during: set[int] = set()

    def suite_started(self, suite: str, total: int) -> None:
        self.during |= children()

    def test_started(self, suite: str, test_name: str) -> None: ...
    def test_finished(self, result: object) -> None: ...
    def suite_finished(self, suite: object) -> None: ...


async def _both(tmp_path: Path, suites: tuple[str, ...], formats: tuple[str, ...], **parts):
    config = load_config(environ={})
    local = await run_suites(config, FFRunOptions(output_dir=tmp_path / "local", suites=suites, formats=formats), **parts)
    before, listener = children(), _SeesWorkers()
    distributed = await run_suites(
        config,
        FFRunOptions(output_dir=tmp_path / "distributed", suites=suites, formats=formats,
                     distributed=FFClusterTarget(workers=2, close_timeout=20)),
        listener,
        **parts,
    )
    started = listener.during - before
    assert len(started) >= 2, "the run's worker processes were not seen while it ran"
    assert_gone(started)  # the LocalCluster's worker processes are gone once run_suites returns
    return local, distributed


async def test_distributed_and_local_runs_agree_test_by_test(tmp_path: Path) -> None:
    local, distributed = await _both(tmp_path, ("component", "migration"), ("json", "html"))
    assert local.report.verdict == distributed.report.verdict == "passed"
    assert _by_test(distributed.report) == _by_test(local.report)
    assert [g.passed for g in distributed.report.quality_gates] == [g.passed for g in local.report.quality_gates]

    execution = distributed.report.execution
    assert execution is not None and local.report.execution is None
    addresses = {w.address for w in execution.workers}
    assert len(addresses) == 2 and execution.scheduler.startswith("tls://127.0.0.1:")
    results = [r for s in distributed.report.suites for r in s.results]
    assert all(r.worker in addresses and r.host for r in results)
    assert all(r.worker == "" and r.host == "" for s in local.report.suites for r in s.results)
    assert execution.versions["ff-platform"] and execution.versions["distributed"]

    # merged into the one run: its results log, its history, its JSON and HTML report
    run_dir = tmp_path / "distributed" / "runs" / distributed.report.report_id
    logged = [json.loads(line) for line in (run_dir / "results.jsonl").read_text().splitlines()]
    assert sorted(line["test_id"] for line in logged) == sorted(r.test_id for r in results)
    assert all(line["worker"] in addresses for line in logged)
    assert [r.report_id for r in FFRunHistory(tmp_path / "distributed").recent(5)] == [distributed.report.report_id]
    stored = json.loads(distributed.paths["json"].read_text())
    assert {w["address"] for w in stored["execution"]["workers"]} == addresses
    html = distributed.paths["html"].read_text()
    assert "Distributed execution" in html and results[0].worker in html


async def test_a_planted_defect_turns_both_runs_red(tmp_path: Path) -> None:
    local, distributed = await _both(tmp_path, ("component",), ("json",), manager_classes={"memory": SessionsLostOnRestart})
    red_local = {t for t, (status, _) in _by_test(local.report).items() if status in RED}
    red_distributed = {t for t, (status, _) in _by_test(distributed.report).items() if status in RED}
    assert "component.restart_keeps_everything" in red_local
    assert red_distributed == red_local
    assert local.report.verdict == distributed.report.verdict == "failed"
    assert local.exit_code == distributed.exit_code == 1


class DiesOnAWorker(FFMemoryLayerManager):
    """A manager that takes its worker process down as soon as a suite builds it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        os._exit(3)


async def test_a_suite_whose_worker_dies_comes_back_as_errors_not_as_a_hang(tmp_path: Path) -> None:
    # distributed is imported at the top of this module on purpose: its defaults must be in dask's
    # config before this set, or the set's exit deletes the whole "distributed" key it created and
    # every later cluster in the process fails with KeyError: 'distributed' (CI, random order).
    before, listener = children(), _SeesWorkers()
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):  # the LocalCluster's scheduler runs here
        outcome = await run_suites(
            load_config(environ={}),
            FFRunOptions(output_dir=tmp_path, suites=("component",), formats=("json",),
                         distributed=FFClusterTarget(workers=2, close_timeout=20)),
            listener,
            manager_classes={"memory": DiesOnAWorker},
        )
    results = outcome.report.suites[0].results
    assert results and all(r.status == FFTestStatus.ERROR and r.error_type == "KilledWorker" for r in results)
    assert outcome.report.verdict == "failed" and outcome.exit_code == 1
    assert_gone(listener.during - before)
    assert dask.config.get("distributed.comm.require-encryption", default=KeyError) is not KeyError
