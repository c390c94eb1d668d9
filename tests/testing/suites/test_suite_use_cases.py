"""The use-case suite: all 22 scenarios pass on the real managers, and each one fails when the
managers are broken in the way it is meant to catch (defects planted through the validation
platform's seams: a manager or FFStore subclass handed to FFIntegrationTestManager as
``manager_classes`` / ``store_factory``, so only the run's managers are broken)."""

from __future__ import annotations

import time
import wave
from collections.abc import Awaitable, Callable
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest

from ff_class_configs import load_config
from ff_class_configs.ff_test_result_dtos import FFTestStatus, FFUseCaseValidationDTO
from ff_managers import FFKnowledgeBaseManager, FFMemoryLayerManager, FFMetricsCollectionManager, FFPanelSessionManager
from ff_utils.ff_json_utils import ff_read_jsonl
from ff_utils.ff_store import FFStore
from testing import FFIntegrationTestManager
from testing._context import MANAGER_NAMES
from testing.suites.use_cases import CATEGORIES, REGISTRY, USE_CASE_CATALOG
from testing.suites.use_cases._media import png_bytes, png_size, wav_bytes
from testing.suites.use_cases._support import use_case

RunUseCases = Callable[..., Awaitable[dict[str, FFUseCaseValidationDTO]]]
BROKEN = (FFTestStatus.FAILED, FFTestStatus.ERROR)


# --------------------------------------------------------------------------- the catalog


def test_catalog_names_the_22_use_cases_once_each() -> None:
    ids = [spec.use_case_id for spec in USE_CASE_CATALOG]
    assert len(ids) == 22 and len(set(ids)) == 22
    assert {spec.category for spec in USE_CASE_CATALOG} == set(CATEGORIES)
    assert all(spec.components and set(spec.components) <= set(MANAGER_NAMES) for spec in USE_CASE_CATALOG)


def test_registry_holds_one_end_to_end_spec_per_use_case_in_catalog_order() -> None:
    assert REGISTRY.suite == "use_cases"
    assert [s.test_id for s in REGISTRY.specs] == [f"use_cases.{c.use_case_id}" for c in USE_CASE_CATALOG]
    for spec, entry in zip(REGISTRY.specs, USE_CASE_CATALOG, strict=True):
        assert (spec.name, spec.components, spec.level.value) == (entry.name, entry.components, "end_to_end")
        assert spec.tags == {"category": entry.category}


def test_use_case_refuses_a_function_not_named_after_its_id() -> None:
    with pytest.raises(ValueError, match="basic_chat"):

        @use_case("basic_chat")
        async def something_else(ctx: Any, check: Any) -> None:
            return None

    with pytest.raises(KeyError, match="no_such_case"):
        use_case("no_such_case")


def test_media_helpers_build_real_files() -> None:
    image = png_bytes(7, 3, (1, 2, 3))
    assert png_size(image) == (7, 3)
    assert png_size(b"not a png at all, just bytes") is None
    with wave.open(BytesIO(wav_bytes(500, sample_rate=8000))) as audio:
        assert (audio.getnchannels(), audio.getframerate(), audio.getnframes()) == (1, 8000, 4000)


# --------------------------------------------------------------------------- the whole suite


@pytest.mark.slow
async def test_all_22_use_cases_pass_through_the_test_manager(tmp_path: Path) -> None:
    manager = FFIntegrationTestManager(load_config(environ={}), output_dir=tmp_path)
    try:
        started = time.perf_counter()
        results = await manager.run_use_case_validation_tests()
        elapsed = time.perf_counter() - started
        report = manager.build_report()
    finally:
        await manager.close()
    failures = {
        r.use_case_id: f"{r.status.value}: {r.first_failure}" for r in results if r.status != FFTestStatus.PASSED
    }
    assert failures == {}
    assert [r.use_case_id for r in results] == [c.use_case_id for c in USE_CASE_CATALOG]
    for result, entry in zip(results, USE_CASE_CATALOG, strict=True):
        assert (result.use_case_name, result.use_case_category) == (entry.name, entry.category)
        assert result.required_components == list(entry.components)
        assert result.assertions_total >= 5 and result.assertions_failed == 0, result.use_case_id
        assert len(result.steps) >= 3 and all(step.ok for step in result.steps), result.use_case_id
    assert report.use_cases_passing == 22
    # ~10 s on an idle 2-core machine (4 in parallel); the bound leaves room for other suites'
    # processes sharing the machine (23 s was measured at a load average of 8).
    assert elapsed < 45, f"the suite took {elapsed:.1f}s"
    stored = list(ff_read_jsonl(manager.run_dir / "results.jsonl"))
    assert sorted(r["details"]["use_case"]["id"] for r in stored) == sorted(c.use_case_id for c in USE_CASE_CATALOG)


# --------------------------------------------------------------------------- injected defects


@pytest.fixture
def run_use_cases(tmp_path: Path) -> RunUseCases:
    """Run some use cases of the suite through FFIntegrationTestManager (the others are left out);
    keyword ``parts`` go to its seams (``manager_classes``, ``store_factory``...)."""

    async def run(*use_case_ids: str, overrides: dict[str, Any] | None = None, **parts: Any) -> dict[str, FFUseCaseValidationDTO]:
        manager = FFIntegrationTestManager(load_config(environ={}, overrides=overrides), output_dir=tmp_path / "reports", **parts)
        try:
            await manager.run_suite("use_cases", only=use_case_ids)
            return {r.use_case_id: r for r in manager.use_case_results()}
        finally:
            await manager.close()

    return run


async def test_the_defect_runner_passes_on_healthy_managers(run_use_cases: RunUseCases) -> None:
    results = await run_use_cases("basic_chat", "ai_debate")
    assert {u: r.status for u, r in results.items()} == {
        "basic_chat": FFTestStatus.PASSED,
        "ai_debate": FFTestStatus.PASSED,
    }


class NewestFirstHistory(FFMemoryLayerManager):
    """Reads a session's history back newest first."""

    async def get_messages(self, *args: Any, **kwargs: Any) -> Any:
        return list(reversed(await super().get_messages(*args, **kwargs)))


async def test_reversed_history_fails_basic_chat(run_use_cases: RunUseCases) -> None:
    result = (await run_use_cases("basic_chat", manager_classes={"memory": NewestFirstHistory}))["basic_chat"]
    assert result.status in BROKEN
    assert "in the order it was added" in result.first_failure
    assert result.assertions_failed >= 2  # the reload after the restart is out of order too


class AttachmentsDropped(FFMemoryLayerManager):
    """Stores each message without its attachments."""

    async def add_message(  # type: ignore[override]
        self, user_id: str, session_id: str, role: str, content: str, attachments: Any = None, **kwargs: Any
    ) -> Any:
        return await super().add_message(user_id, session_id, role, content, None, **kwargs)


async def test_dropped_attachments_fail_the_multimodal_cases(run_use_cases: RunUseCases) -> None:
    results = await run_use_cases("multimodal_chat", "multimodal_rag", manager_classes={"memory": AttachmentsDropped})
    assert results["multimodal_chat"].status in BROKEN
    assert "attachments are listed with the turn" in results["multimodal_chat"].first_failure
    assert results["multimodal_rag"].status in BROKEN
    assert results["multimodal_rag"].first_failure


class LeakySearch(FFKnowledgeBaseManager):
    """Mixes into each search the hits of every other user's knowledge base searched before."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seen: list[tuple[str, str]] = []

    async def search(  # type: ignore[override]
        self, user_id: str, kb_id: str, query: str, top_k: int | None = None, **kwargs: Any
    ) -> Any:
        hits = list(await super().search(user_id, kb_id, query, top_k, **kwargs))
        for other_user, other_kb in list(self.seen):
            if other_user != user_id:
                hits.extend(await super().search(other_user, other_kb, query, top_k, **kwargs))
        if (user_id, kb_id) not in self.seen:
            self.seen.append((user_id, kb_id))
        return sorted(hits, key=lambda h: -h.score)


async def test_a_search_leaking_other_users_hits_fails_the_concierge(run_use_cases: RunUseCases) -> None:
    result = (await run_use_cases("cross_team_concierge", manager_classes={"knowledge": LeakySearch}))["cross_team_concierge"]
    assert result.status in BROKEN
    assert "from the team's own knowledge base" in result.first_failure


def _keep_expired(*args: Any, **kwargs: Any) -> Any:
    plan = FFMemoryLayerManager.retention_planner(*args, **kwargs)
    for record in [a for a in plan.archived if a.reason == "expired"]:
        plan.layers[record.from_layer].append(record.entry)  # the expired entry stays active
    plan.archived = [a for a in plan.archived if a.reason != "expired"]
    return plan


class RetentionNeverArchives(FFMemoryLayerManager):
    """Retention that keeps expired entries active."""

    retention_planner = staticmethod(_keep_expired)


async def test_retention_that_never_archives_fails_memory_chat(run_use_cases: RunUseCases) -> None:
    result = (await run_use_cases("memory_chat", manager_classes={"memory": RetentionNeverArchives}))["memory_chat"]
    assert result.status in BROKEN
    assert "expired into the archive" in result.first_failure


async def test_no_retries_fail_the_task_agent(run_use_cases: RunUseCases) -> None:
    result = (await run_use_cases("auto_task_agent", overrides={"tools": {"max_retries": 0}}))["auto_task_agent"]
    assert result.status in BROKEN
    assert "step fetch" in result.first_failure and "try again" in result.first_failure


class AnyoneMaySpeak(FFPanelSessionManager):
    """Creates every panel with a free turn policy: the turn order is never enforced."""

    async def create_panel(self, *args: Any, turn_order: Any = None, **kwargs: Any) -> Any:  # type: ignore[override]
        return await super().create_panel(*args, **{**kwargs, "turn_policy": "free"})


async def test_an_unenforced_turn_order_fails_the_debate_and_the_panel(run_use_cases: RunUseCases) -> None:
    results = await run_use_cases("ai_debate", "multi_ai_panel", manager_classes={"panel": AnyoneMaySpeak})
    assert results["ai_debate"].status in BROKEN
    assert "con cannot open the debate" in results["ai_debate"].first_failure
    assert results["multi_ai_panel"].status in BROKEN
    assert "out of turn is refused" in results["multi_ai_panel"].first_failure


class UnauditedRefusals(FFMetricsCollectionManager):
    """Audits no tool outcome, refusals included."""

    audited_outcomes = ()


async def test_unaudited_refusals_fail_chatops(run_use_cases: RunUseCases) -> None:
    result = (await run_use_cases("chatops_assistant", manager_classes={"metrics": UnauditedRefusals}))["chatops_assistant"]
    assert result.status in BROKEN
    assert "refusal is audited" in result.first_failure


class WorstFirstSearch(FFKnowledgeBaseManager):
    """Returns search hits worst first."""

    async def search(self, *args: Any, **kwargs: Any) -> Any:
        return list(reversed(await super().search(*args, **kwargs)))


async def test_worst_first_search_fails_rag_chat(run_use_cases: RunUseCases) -> None:
    result = (await run_use_cases("rag_chat", manager_classes={"knowledge": WorstFirstSearch}))["rag_chat"]
    assert result.status in BROKEN
    assert "the best chunk comes from the document holding the answer" in result.first_failure


class StateNeverWritten(FFPanelSessionManager):
    """Merges and returns a panel's state changes but never writes them."""

    async def update_state(self, user_id: str, panel_id: str, changes: Any) -> dict[str, Any]:
        current = await self.get_state(user_id, panel_id)
        return {key: value for key, value in {**current, **changes}.items() if value is not None}


async def test_panel_state_never_written_fails_the_game_master(run_use_cases: RunUseCases) -> None:
    result = (await run_use_cases("ai_game_master", manager_classes={"panel": StateNeverWritten}))["ai_game_master"]
    assert result.status in BROKEN
    assert "world state survived the restart" in result.first_failure


def _without_compression(layers: Any, now: Any, policy: Any, **kwargs: Any) -> Any:
    return FFMemoryLayerManager.retention_planner(layers, now, policy.model_copy(update={"layer_max_entries": {}}), **kwargs)


class RetentionNeverCompresses(FFMemoryLayerManager):
    """Retention that ignores the layers' size limits, so nothing is ever summarised."""

    retention_planner = staticmethod(_without_compression)


async def test_retention_without_compression_fails_the_thought_partner(run_use_cases: RunUseCases) -> None:
    result = (await run_use_cases("thought_partner", manager_classes={"memory": RetentionNeverCompresses}))["thought_partner"]
    assert result.status in BROKEN
    assert "one summary replaced the overflow" in result.first_failure


class ToolRunsNotLogged(FFStore):
    """Makes every append but the tool run log's."""

    def append(self, path: Path, record: Any) -> None:
        if path.parts[-2:] != ("tools", "runs.jsonl"):
            super().append(path, record)


async def test_unlogged_tool_runs_fail_translation_and_sandbox(run_use_cases: RunUseCases) -> None:
    results = await run_use_cases("translation_chat", "prompt_sandbox", store_factory=ToolRunsNotLogged.from_config)
    assert results["translation_chat"].status in BROKEN
    assert "tool log holds one translate run per turn" in results["translation_chat"].first_failure
    assert results["prompt_sandbox"].status in BROKEN
    assert "runs.jsonl on disk holds every run" in results["prompt_sandbox"].first_failure
