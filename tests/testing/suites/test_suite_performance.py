"""The performance suite end to end: a short real load run, and proof that it can fail.

Each run is 2.5 s of load (plus seeding) at a modest rate, so the numbers are real but the
tests stay a few seconds each. Thresholds for the passing run are generous on purpose: this
tests the suite's measuring and judging, not this machine's speed.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from ff_class_configs import load_config
from ff_class_configs.ff_test_result_dtos import FFOperationStatsDTO, FFPerformanceSummaryDTO, FFTestStatus
from ff_managers import FFMemoryLayerManager
from ff_utils.ff_errors import FFStorageError
from ff_utils.ff_store import FFStore
from testing._load import OPERATIONS
from testing.ff_integration_test_manager import FFIntegrationTestManager

pytestmark = pytest.mark.slow  # each test seeds users and runs 2.5 s of real load: about 4-6 s

_SHORT = {
    "concurrent_users": 3,
    "requests_per_second": 40.0,
    "test_duration_seconds": 2.5,
    "ramp_up_seconds": 0.5,
    "max_p95_ms": 10_000.0,
    "max_memory_usage_mb": 4_096.0,
    "max_cpu_usage_percent": 10_000.0,
}


def _manager(tmp_path: Path, *, parts: dict[str, Any] | None = None, **overrides: Any) -> FFIntegrationTestManager:
    """A run with the short load ``overrides`` and, in ``parts``, the seams a defect goes in by."""
    config = load_config(base_path=tmp_path / "unused_root", environ={})
    testing = config.integration_testing
    perf = testing.performance_config.model_copy(update={**_SHORT, **overrides})
    config = config.model_copy(update={"integration_testing": testing.model_copy(update={"performance_config": perf, "max_retry_attempts": 0})})
    return FFIntegrationTestManager(config, output_dir=tmp_path / "reports", **(parts or {}))


async def _run(manager: FFIntegrationTestManager) -> tuple[Any, FFPerformanceSummaryDTO]:
    try:
        result = await manager.run_performance_tests()
    finally:
        await manager.close()
    return result, FFPerformanceSummaryDTO.model_validate(result.details["performance"])


async def test_short_run_passes_with_sane_numbers(tmp_path: Path) -> None:
    result, summary = await _run(_manager(tmp_path))
    assert result.status == FFTestStatus.PASSED, result.error_message
    ops = {op.operation: op for op in summary.operations}
    assert set(ops) == set(OPERATIONS)
    planned = int(result.metrics["planned_requests"])
    assert planned == 90  # 40/s over 2.5 s, the first 0.5 s ramping: 40 * (0.25 + 2.0)
    assert sum(op.count + op.errors for op in ops.values()) == planned
    assert summary.error_rate_percent == 0.0
    for op in ops.values():
        assert 0 < op.p50_ms <= op.p95_ms <= op.p99_ms <= op.max_ms, op
        assert op.throughput_ops > 0
    # Most of the plan's rate is achieved (the tail of the run can stretch the elapsed time).
    assert 0.5 * 36 <= summary.achieved_rps <= 40 * 1.05
    assert len(summary.resource_samples) >= 4  # every 0.5 s over ~2.5 s
    assert summary.peak_rss_mb > 20 and summary.peak_cpu_percent > 0
    assert summary.baseline_run_id is None and summary.regressions == [] and summary.threshold_failures == []
    # The manager lifts the evidence into the report's typed field.
    assert summary.p95_threshold_ms == 10_000.0


async def test_impossible_thresholds_fail_the_run(tmp_path: Path) -> None:
    result, summary = await _run(_manager(tmp_path, max_p95_ms=0.001, operation_p95_ms={}, max_memory_usage_mb=1.0))
    assert result.status == FFTestStatus.FAILED
    assert len(summary.threshold_failures) == len(OPERATIONS) + 1  # every p95, and the memory ceiling
    assert any("peak RSS" in f for f in summary.threshold_failures)
    assert any(not a.passed and "p95 within" in a.description for a in result.assertions)


async def test_an_operation_ceiling_of_its_own_replaces_the_shared_one(tmp_path: Path) -> None:
    result, summary = await _run(_manager(tmp_path, max_p95_ms=0.001, operation_p95_ms={"run_tool": 60_000.0}))
    assert not any(f.startswith("run_tool:") for f in summary.threshold_failures)
    assert any(f.startswith("append_turn:") for f in summary.threshold_failures)


async def test_regression_against_an_artificially_fast_baseline_is_flagged(tmp_path: Path) -> None:
    manager = _manager(tmp_path)
    ctx = await manager.initialize_testing_environment()
    fast = [
        FFOperationStatsDTO(operation=op, count=100, errors=0, p50_ms=0.01, p95_ms=0.01, p99_ms=0.01, mean_ms=0.01, max_ms=0.01, throughput_ops=1.0)
        for op in OPERATIONS
    ]
    ctx.baseline = (
        "run_fast_baseline",
        FFPerformanceSummaryDTO(
            profile="quick", concurrent_users=3, duration_seconds=2.5, target_rps=40.0, achieved_rps=40.0,
            error_rate_percent=0.0, operations=fast,
        ),
    )
    result, summary = await _run(manager)
    assert summary.baseline_run_id == "run_fast_baseline"
    assert result.status == FFTestStatus.FAILED
    # The tool run (a process spawn) is always far above 0.01 ms + the noise floor.
    assert any(r.startswith("run_tool:") for r in summary.regressions)


async def test_baseline_of_another_load_shape_is_not_compared(tmp_path: Path) -> None:
    manager = _manager(tmp_path)
    ctx = await manager.initialize_testing_environment()
    ctx.baseline = (
        "run_other_shape",
        FFPerformanceSummaryDTO(
            profile="full", concurrent_users=16, duration_seconds=120, target_rps=500.0, achieved_rps=500.0,
            error_rate_percent=0.0, operations=[],
        ),
    )
    result, summary = await _run(manager)
    assert summary.baseline_run_id is None
    assert any("not compared" in w for w in result.warnings_generated)


class BrokenSearchMemory(FFMemoryLayerManager):
    """A memory manager whose search always fails on storage."""

    async def search_memories(self, *args: Any, **kwargs: Any) -> Any:
        raise FFStorageError("injected: memory search storage failure")


async def test_an_operation_that_raises_counts_as_errors(tmp_path: Path) -> None:
    result, summary = await _run(_manager(tmp_path, parts={"manager_classes": {"memory": BrokenSearchMemory}}))
    ops = {op.operation: op for op in summary.operations}
    assert ops["search_memory"].count == 0 and ops["search_memory"].errors > 0
    expected_rate = 100.0 * ops["search_memory"].errors / result.metrics["planned_requests"]
    assert summary.error_rate_percent == pytest.approx(expected_rate)
    assert result.status == FFTestStatus.FAILED
    assert any("error rate" in f for f in summary.threshold_failures)
    assert any("injected" in w for w in result.warnings_generated)


class LossyMessageStore(FFStore):
    """Acknowledges every message append but drops every tenth."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.message_appends = itertools.count(1)

    def append_many(self, path: Path, records: Iterable[Any]) -> None:
        if path.name == "messages.jsonl" and next(self.message_appends) % 10 == 0:
            return
        super().append_many(path, records)


async def test_lost_appends_are_caught(tmp_path: Path) -> None:
    """A message writer that acknowledges but drops every tenth append fails the read-back check."""
    result, _ = await _run(_manager(tmp_path, parts={"store_factory": LossyMessageStore.from_config}))
    assert result.status == FFTestStatus.FAILED
    assert any(not a.passed and "every acknowledged append is stored" in a.description for a in result.assertions)
