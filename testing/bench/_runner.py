"""Run the workloads, alternating ours and the peers, and build one :class:`FFBenchReportDTO`."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

from ff_class_configs.ff_bench_dtos import FFBenchReportDTO
from ff_utils.ff_errors import FFValidationError
from ff_utils.ff_json_utils import ff_write_json
from testing.bench import _append, _hashing, _history, _memory, _search, _service, _tool_run
from testing.bench._core import FULL, QUICK, FFBenchCase, FFBenchSizes, alternate, compare, to_dtos
from testing.bench._machine import machine_info

__all__ = ["WORKLOADS", "MIN_REPETITIONS", "run_benchmarks", "write_report"]

WORKLOADS: dict[str, ModuleType] = {
    m.NAME: m for m in (_append, _history, _search, _hashing, _memory, _tool_run, _service)
}
MIN_REPETITIONS = 5

Progress = Callable[[str], None]




def run_benchmarks(
    *,
    quick: bool = False,
    sizes: FFBenchSizes | None = None,
    repetitions: int = MIN_REPETITIONS,
    workloads: Sequence[str] | None = None,
    work_dir: Path | str | None = None,
    progress: Progress | None = None,
) -> FFBenchReportDTO:
    """Run the chosen workloads (all by default) and return the report; nothing is printed.

    ``sizes`` overrides the preset (``QUICK`` with ``quick=True``, else ``FULL``). Scratch data
    goes to a fresh folder under ``work_dir`` (default: the system's temp folder), removed at
    the end. Raises FFValidationError for an unknown workload or fewer than one repetition.
    """
    chosen = list(workloads or WORKLOADS)
    unknown = [w for w in chosen if w not in WORKLOADS]
    if unknown:
        raise FFValidationError(f"unknown workload(s) {', '.join(unknown)}; choose from {', '.join(WORKLOADS)}", field="workloads")
    if repetitions < 1:
        raise FFValidationError("repetitions must be >= 1", field="repetitions", value=repetitions)
    preset = sizes or (QUICK if quick else FULL)
    parent = Path(work_dir) if work_dir is not None else None
    if parent is not None:
        parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="ff_bench_", dir=parent))
    report = FFBenchReportDTO(
        started_at=datetime.now(UTC), finished_at=datetime.now(UTC), quick=quick, repetitions=repetitions,
        machine=machine_info(scratch),
    )
    try:
        for name in chosen:
            module = WORKLOADS[name]
            work = scratch / name
            work.mkdir()
            if progress is not None:
                progress(f"{name}: preparing")
            manager: AbstractContextManager[list[FFBenchCase]] = module.workload(preset, work)
            with manager as cases:
                def tick(case: FFBenchCase, rep: int, name: str = name) -> None:
                    if progress is not None:
                        progress(f"{name}: repetition {rep + 1}/{repetitions}: {case.case}")

                alternate(cases, repetitions, on_sample=tick)
                specs = module.COMPARISONS(preset) if callable(module.COMPARISONS) else module.COMPARISONS
                report.cases.extend(to_dtos(name, cases))
                report.comparisons.extend(compare(name, cases, specs))
            shutil.rmtree(work, ignore_errors=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    report.finished_at = datetime.now(UTC)
    return report


def write_report(report: FFBenchReportDTO, path: Path | str) -> Path:
    """Write the report as JSON (atomically) and return the path."""
    target = Path(path)
    ff_write_json(target, report.model_dump(mode="json"))
    return target
