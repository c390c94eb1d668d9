"""The component suite: green on the real managers, red on each injected defect; results.jsonl.

Every defect here is a real bug planted in the test process with monkeypatch (a bus that drops
events, a search that ignores the user, a restart that loses a session...). The suite test
meant to catch it must come back failed or error, never passed.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import gc
import weakref
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

import ff_managers.ff_metrics_collection_manager as metrics_module
from ff_class_configs import load_config
from ff_class_configs.ff_test_result_dtos import FFIntegrationTestResultDTO, FFTestStatus
from ff_managers import FFComponentBase, FFComponentState, FFEvent, FFEventBus
from ff_utils.ff_json_utils import ff_read_jsonl
from ff_utils.ff_store import FFStore
from testing.ff_integration_test_manager import FFIntegrationTestManager
from testing.suites.component import REGISTRY
from tests._suite_helpers import BROKEN, plant_sessions_lost_on_restart, run_suite

# ---------------------------------------------------------------------------------- green


@pytest.mark.slow
async def test_component_suite_passes_on_the_real_managers(tmp_path: Path) -> None:
    results = await run_suite(tmp_path, "component")
    assert len(results) >= 10
    assert {r.status for r in results.values()} == {FFTestStatus.PASSED}, {
        name: (r.status, r.error_message or r.skip_reason) for name, r in results.items() if r.status != FFTestStatus.PASSED
    }
    for name in ("memory_round_trip", "panel_round_trip", "knowledge_round_trip", "tools_round_trip", "metrics_round_trip"):
        assert name in results
    assert all(r.assertions and r.steps for r in results.values())
    assert "restart_seconds" in results["restart_keeps_everything"].metrics


def test_flows_depend_on_the_round_trips_they_build_on() -> None:
    specs = {spec.test_id.split(".", 1)[1]: spec for spec in REGISTRY.specs}
    assert set(specs["tool_run_in_metrics"].depends_on) == {"component.tools_round_trip", "component.metrics_round_trip"}
    assert "component.memory_round_trip" in specs["panel_turn_memory_searchable"].depends_on
    assert len(specs["restart_keeps_everything"].depends_on) == 5


# ---------------------------------------------------------------------------------- defects


async def test_a_bus_that_drops_events_fails_the_tool_metrics_flow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async def drop(self: FFEventBus, event: FFEvent) -> None:
        self.published += 1  # counted as published, delivered to no one

    monkeypatch.setattr(FFEventBus, "publish", drop)
    results = await run_suite(tmp_path, "component", "tool_run_in_metrics")
    assert results["tools_round_trip"].status == FFTestStatus.PASSED  # the base works: the flow runs
    assert results["metrics_round_trip"].status == FFTestStatus.PASSED
    assert results["tool_run_in_metrics"].status in BROKEN
    assert "tool.duration_ms" in results["tool_run_in_metrics"].error_message


async def test_memory_search_ignoring_the_user_fails_the_round_trip_and_skips_flows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_path = FFStore.path

    def leaky(self: FFStore, *parts: str) -> Path:  # every user's memory folder is the same one
        if parts[:1] == ("users",) and parts[2:3] == ("memory",):
            parts = ("users", "everyone", *parts[2:])
        return real_path(self, *parts)

    monkeypatch.setattr(FFStore, "path", leaky)
    results = await run_suite(tmp_path, "component", "panel_turn_memory_searchable")
    assert results["memory_round_trip"].status == FFTestStatus.FAILED
    failed = [a.description for a in results["memory_round_trip"].assertions if not a.passed]
    assert any("another user" in d for d in failed), failed
    dependent = results["panel_turn_memory_searchable"]
    assert dependent.status == FFTestStatus.SKIPPED and "memory_round_trip" in dependent.skip_reason


async def test_messages_read_back_out_of_order_fail_the_memory_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = FFStore.tail_jsonl

    def reversed_messages(self: FFStore, path: Path, n: int, **kwargs: Any) -> list[Any]:
        records = real(self, path, n, **kwargs)
        return list(reversed(records)) if path.name == "messages.jsonl" else records

    monkeypatch.setattr(FFStore, "tail_jsonl", reversed_messages)
    results = await run_suite(tmp_path, "component", "memory_round_trip")
    assert results["memory_round_trip"].status == FFTestStatus.FAILED
    assert "order" in results["memory_round_trip"].error_message


async def test_a_restart_that_loses_a_session_fails_the_restart_test(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plant_sessions_lost_on_restart(monkeypatch)
    results = await run_suite(tmp_path, "component", "restart_keeps_everything")
    assert all(results[n].status == FFTestStatus.PASSED for n in results if n.endswith("_round_trip"))
    assert results["restart_keeps_everything"].status in BROKEN


async def test_an_index_cache_blind_to_other_instances_fails_the_two_instances_test(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each instance's store keeps the catalogs it read or wrote and never looks at kb.json on disk
    # again, so an instance's index follows its own writes only.
    known: weakref.WeakKeyDictionary[FFStore, dict[Path, Any]] = weakref.WeakKeyDictionary()
    read_json, write_json = FFStore.read_json, FFStore.write_json

    def blind_read(self: FFStore, path: Path, *default: Any) -> Any:
        if path.name != "kb.json":
            return read_json(self, path, *default)
        catalogs = known.setdefault(self, {})
        if path not in catalogs:
            catalogs[path] = read_json(self, path, *default)
        return copy.deepcopy(catalogs[path])

    def remembering_write(self: FFStore, path: Path, data: Any) -> None:
        write_json(self, path, data)
        if path.name == "kb.json":
            known.setdefault(self, {})[path] = copy.deepcopy(data)

    monkeypatch.setattr(FFStore, "read_json", blind_read)
    monkeypatch.setattr(FFStore, "write_json", remembering_write)
    results = await run_suite(tmp_path, "component", "two_instances_share_root")
    assert results["knowledge_round_trip"].status == FFTestStatus.PASSED  # one instance alone cannot tell
    assert results["two_instances_share_root"].status in BROKEN
    assert "second instance's document" in results["two_instances_share_root"].error_message


async def test_a_bus_that_lets_handler_errors_reach_the_publisher_errors_the_isolation_test(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def deliver(self: FFEventBus, subscription: Any, event: FFEvent) -> None:
        result = subscription.handler(event)
        if asyncio.iscoroutine(result):
            await result
        self.delivered += 1

    monkeypatch.setattr(FFEventBus, "_deliver", deliver)
    results = await run_suite(tmp_path, "component", "failing_handler_isolated")
    assert results["failing_handler_isolated"].status in BROKEN
    assert "handler broke" in results["failing_handler_isolated"].error_message


async def test_refusals_missing_from_the_audit_log_fail_the_audit_flow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(metrics_module.FFMetricsCollectionManager, "audited_outcomes", ())
    results = await run_suite(tmp_path, "component", "refused_tool_audited")
    assert results["refused_tool_audited"].status in BROKEN
    assert "audit record" in results["refused_tool_audited"].error_message


async def test_uncounted_requests_fail_the_health_test(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    @contextlib.asynccontextmanager
    async def uncounted(self: FFComponentBase) -> AsyncIterator[None]:
        if self.state != FFComponentState.RUNNING:  # still starts lazily, but counts and times nothing
            await self.initialize()
        yield

    monkeypatch.setattr(FFComponentBase, "_operation", uncounted)
    results = await run_suite(tmp_path, "component", "managers_healthy")
    assert results["managers_healthy"].status in BROKEN
    assert "counter moved" in results["managers_healthy"].error_message


# ---------------------------------------------------------------------------------- results.jsonl


def _lines(path: Path) -> list[FFIntegrationTestResultDTO]:
    return [FFIntegrationTestResultDTO.model_validate(record) for record in ff_read_jsonl(path)] if path.is_file() else []


class _Witness:
    """A progress listener that looks at results.jsonl the moment each result is reported."""

    def __init__(self, path_of: Any) -> None:
        self.path_of = path_of
        self.persisted_when_reported: dict[str, bool] = {}

    def suite_started(self, suite: str, total: int) -> None: ...

    def test_started(self, suite: str, test_name: str) -> None: ...

    def test_finished(self, result: FFIntegrationTestResultDTO) -> None:
        on_disk = {r.test_id for r in _lines(self.path_of())}
        self.persisted_when_reported[result.test_id] = result.test_id in on_disk

    def suite_finished(self, suite: Any) -> None: ...


async def test_results_jsonl_holds_every_result_as_it_completed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    holder: list[FFIntegrationTestManager] = []
    witness = _Witness(lambda: holder[0].run_dir / "results.jsonl")
    tm = FFIntegrationTestManager(load_config(environ={}), output_dir=tmp_path, listener=witness)
    holder.append(tm)
    try:
        suite = await tm.run_suite("component", only=("metrics_round_trip", "memory_round_trip", "failing_handler_isolated"))
    finally:
        await tm.close()
    assert witness.persisted_when_reported == {r.test_id: True for r in suite.results}
    stored = {r.test_id: r for r in _lines(tm.run_dir / "results.jsonl")}
    assert len(stored) == len(suite.results) == 3
    for result in suite.results:
        assert stored[result.test_id].model_dump(mode="json") == result.model_dump(mode="json")


async def test_an_interrupted_run_keeps_the_results_it_finished(tmp_path: Path) -> None:
    tm = FFIntegrationTestManager(load_config(environ={}), output_dir=tmp_path)
    path = tm.run_dir / "results.jsonl"
    total = len(REGISTRY.specs)
    task = asyncio.create_task(tm.run_suite("component"))
    try:
        async with asyncio.timeout(60):
            while len(_lines(path)) < 3:
                await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # The runner leaves CancelledError set on futures nobody reads. Let its tasks wind down and
        # collect those futures here: left to a random later collection, the "never retrieved" log
        # formats a traceback (ast.parse on 3.11) in the middle of another ast.parse, which
        # CPython 3.11 reports as "SystemError: AST constructor recursion depth mismatch".
        async with asyncio.timeout(30):
            while len(asyncio.all_tasks()) > 1:
                await asyncio.sleep(0.01)
        gc.collect()
    finally:
        await tm.close()
    kept = _lines(path)
    assert 3 <= len(kept) < total, "the run was cut short, and what finished is on disk"
    assert len({r.test_id for r in kept}) == len(kept)
    assert {r.test_id for r in kept} <= {spec.test_id for spec in REGISTRY.specs}
    assert all(r.end_timestamp >= r.start_timestamp and (r.assertions or r.status == FFTestStatus.SKIPPED) for r in kept)
    assert tm.suite_results == {}  # no suite result was built for the cancelled run
