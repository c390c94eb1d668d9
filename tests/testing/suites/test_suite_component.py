"""The component suite: green on the real managers, red on each injected defect; results.jsonl.

Every defect here is a real bug planted in the run's managers through the validation platform's
seams (an FFStore subclass handed in as ``store_factory``, an FFEventBus subclass as
``bus_factory``, a manager subclass in ``manager_classes``): a bus that drops events, a search that
ignores the user, a restart that loses a session... The suite test meant to catch it must come
back failed or error, never passed.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import fnmatch
import gc
import inspect
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from ff_class_configs import load_config
from ff_class_configs.ff_test_result_dtos import (
    FFIntegrationTestResultDTO,
    FFTestStatus,
)
from ff_managers import (
    FFComponentBase,
    FFComponentState,
    FFEvent,
    FFEventBus,
    FFMetricsCollectionManager,
)
from ff_utils.ff_json_utils import ff_read_jsonl
from ff_utils.ff_store import FFStore
from testing._context import MANAGER_CLASSES
from testing.ff_integration_test_manager import FFIntegrationTestManager
from testing.suites.component import REGISTRY
from tests._suite_helpers import (
    BROKEN,
    SessionsLostOnRestart,
    SharedMemoryFolderStore,
    run_suite,
)

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


class DroppingBus(FFEventBus):
    """Counts every event as published and delivers it to no one."""

    async def publish(self, event: FFEvent) -> None:
        self.published += 1


class ReversedMessagesStore(FFStore):
    """Reads a session's messages back newest first."""

    def tail_jsonl(self, path: Path, n: int, **kwargs: Any) -> list[Any]:
        records = super().tail_jsonl(path, n, **kwargs)
        return list(reversed(records)) if path.name == "messages.jsonl" else records

    def tail_jsonl_page(self, path: Path, n: int, **kwargs: Any) -> tuple[bytes, int] | None:
        page = super().tail_jsonl_page(path, n, **kwargs)
        if page is None or path.name != "messages.jsonl":
            return page
        lines, count = page
        return b"\n".join(reversed(lines.split(b"\n"))), count


class BlindCatalogCacheStore(FFStore):
    """Keeps the knowledge catalogs it read or wrote and never looks at kb.json on disk again,
    so an instance's index follows its own writes only."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.catalogs: dict[Path, Any] = {}

    def read_json(self, path: Path, *default: Any) -> Any:
        if path.name != "kb.json":
            return super().read_json(path, *default)
        if path not in self.catalogs:
            self.catalogs[path] = super().read_json(path, *default)
        return copy.deepcopy(self.catalogs[path])

    def write_json(self, path: Path, data: Any) -> None:
        super().write_json(path, data)
        if path.name == "kb.json":
            self.catalogs[path] = copy.deepcopy(data)


class UnisolatedBus(FFEventBus):
    """Calls the handlers straight from ``publish``: a handler's error reaches the publisher."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.handlers: list[tuple[str, Callable[[FFEvent], Any]]] = []

    def subscribe(self, pattern: str, handler: Callable[[FFEvent], Any]) -> Callable[[], None]:
        entry = (pattern, handler)
        self.handlers.append(entry)

        def unsubscribe() -> None:
            if entry in self.handlers:
                self.handlers.remove(entry)

        return unsubscribe

    async def publish(self, event: FFEvent) -> None:
        self.published += 1
        targets = [handler for pattern, handler in self.handlers if fnmatch.fnmatchcase(event.type, pattern)]
        await asyncio.gather(*(self._call(handler, event) for handler in targets))

    async def _call(self, handler: Callable[[FFEvent], Any], event: FFEvent) -> None:
        result = handler(event)
        if inspect.isawaitable(result):
            await result
        self.delivered += 1


class UnauditedMetrics(FFMetricsCollectionManager):
    """Audits no tool outcome, refusals included."""

    audited_outcomes = ()


def uncounted(cls: type[FFComponentBase]) -> type[FFComponentBase]:
    """``cls`` with requests no longer counted or timed (it still starts lazily)."""

    class Uncounted(cls):  # type: ignore[valid-type, misc]
        @contextlib.asynccontextmanager
        async def _operation(self) -> AsyncIterator[None]:
            if self.state != FFComponentState.RUNNING:
                await self.initialize()
            yield

    Uncounted.__name__ = Uncounted.__qualname__ = f"Uncounted{cls.__name__}"
    return Uncounted


async def test_a_bus_that_drops_events_fails_the_tool_metrics_flow(tmp_path: Path) -> None:
    results = await run_suite(tmp_path, "component", "tool_run_in_metrics", bus_factory=lambda path: DroppingBus(dead_letter_path=path))
    assert results["tools_round_trip"].status == FFTestStatus.PASSED  # the base works: the flow runs
    assert results["metrics_round_trip"].status == FFTestStatus.PASSED
    assert results["tool_run_in_metrics"].status in BROKEN
    assert "tool.duration_ms" in results["tool_run_in_metrics"].error_message


async def test_memory_search_ignoring_the_user_fails_the_round_trip_and_skips_flows(tmp_path: Path) -> None:
    results = await run_suite(tmp_path, "component", "panel_turn_memory_searchable", store_factory=SharedMemoryFolderStore.from_config)
    assert results["memory_round_trip"].status == FFTestStatus.FAILED
    failed = [a.description for a in results["memory_round_trip"].assertions if not a.passed]
    assert any("another user" in d for d in failed), failed
    dependent = results["panel_turn_memory_searchable"]
    assert dependent.status == FFTestStatus.SKIPPED and "memory_round_trip" in dependent.skip_reason


async def test_messages_read_back_out_of_order_fail_the_memory_round_trip(tmp_path: Path) -> None:
    results = await run_suite(tmp_path, "component", "memory_round_trip", store_factory=ReversedMessagesStore.from_config)
    assert results["memory_round_trip"].status == FFTestStatus.FAILED
    assert "order" in results["memory_round_trip"].error_message


async def test_a_restart_that_loses_a_session_fails_the_restart_test(tmp_path: Path) -> None:
    results = await run_suite(tmp_path, "component", "restart_keeps_everything", manager_classes={"memory": SessionsLostOnRestart})
    assert all(results[n].status == FFTestStatus.PASSED for n in results if n.endswith("_round_trip"))
    assert results["restart_keeps_everything"].status in BROKEN


async def test_an_index_cache_blind_to_other_instances_fails_the_two_instances_test(tmp_path: Path) -> None:
    results = await run_suite(tmp_path, "component", "two_instances_share_root", store_factory=BlindCatalogCacheStore.from_config)
    assert results["knowledge_round_trip"].status == FFTestStatus.PASSED  # one instance alone cannot tell
    assert results["two_instances_share_root"].status in BROKEN
    assert "second instance's document" in results["two_instances_share_root"].error_message


async def test_a_bus_that_lets_handler_errors_reach_the_publisher_errors_the_isolation_test(tmp_path: Path) -> None:
    results = await run_suite(tmp_path, "component", "failing_handler_isolated", bus_factory=lambda path: UnisolatedBus(dead_letter_path=path))
    assert results["failing_handler_isolated"].status in BROKEN
    assert "handler broke" in results["failing_handler_isolated"].error_message


async def test_refusals_missing_from_the_audit_log_fail_the_audit_flow(tmp_path: Path) -> None:
    results = await run_suite(tmp_path, "component", "refused_tool_audited", manager_classes={"metrics": UnauditedMetrics})
    assert results["refused_tool_audited"].status in BROKEN
    assert "audit record" in results["refused_tool_audited"].error_message


async def test_uncounted_requests_fail_the_health_test(tmp_path: Path) -> None:
    classes = {name: uncounted(cls) for name, cls in MANAGER_CLASSES.items()}
    results = await run_suite(tmp_path, "component", "managers_healthy", manager_classes=classes)
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
