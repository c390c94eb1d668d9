"""The planted-defect catalogue: named, plausible bugs the validation suites must turn red (issue 20).

Each entry is one small variant of the real code, and the suite test that must catch it:
- a manager subclass handed to the run through ``manager_classes`` (the validation platform's
  seam: it reaches only that run's managers), for bugs in what a public method returns or keeps;
- or a replacement of one function in its module for the length of the run (``patches``), for
  bugs inside a package's private code; this is how a mutant that survived mutation testing and
  was then killed becomes an entry: its mutated function, verbatim in behaviour.

Bugs in a private package's code are declared beside that package's unit tests
(``tests/ff_managers/<name>/planted_defects.py``, the one place allowed to import it) and
collected here; so are the storage layer's (``storage.py``: ff_utils functions replaced in every
module that binds them) and the reports' (``reports.py``). ``origin`` says where an entry comes from: ``README`` (a documented guarantee the suites did not
check before) or ``mutant <mutmut name>`` (a surviving mutant, killed by a new suite check).
``run_defect`` runs one entry; ``python -m tests.planted_defects`` runs them all and prints the
catalogue's size and hit rate.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ff_managers import (
    FFKnowledgeBaseManager,
    FFMemoryLayerManager,
    FFMetricsCollectionManager,
    FFPanelSessionManager,
    FFToolExecutionManager,
)
from ff_utils.ff_errors import FFValidationError
from tests._planted import PlantedDefect, caught, planted, run_defect
from tests.ff_managers.core.planted_defects import DEFECTS as CORE_DEFECTS
from tests.ff_managers.knowledge.planted_defects import DEFECTS as KNOWLEDGE_DEFECTS
from tests.ff_managers.memory.planted_defects import DEFECTS as MEMORY_DEFECTS
from tests.ff_managers.metrics.planted_defects import DEFECTS as METRICS_DEFECTS
from tests.ff_managers.metrics.planted_defects_windows import DEFECTS as METRICS_WINDOW_DEFECTS
from tests.ff_managers.migration.planted_defects import DEFECTS as MIGRATION_DEFECTS
from tests.ff_managers.panel.planted_defects import DEFECTS as PANEL_DEFECTS
from tests.ff_managers.panel.planted_defects_composition import DEFECTS as PANEL_COMPOSITION_DEFECTS
from tests.ff_managers.tools.planted_defects import DEFECTS as TOOLS_DEFECTS
from tests.ff_managers.tools.planted_defects_policy import DEFECTS as TOOLS_POLICY_DEFECTS
from tests.planted_defects.guarantees import DEFECTS as GUARANTEE_DEFECTS
from tests.planted_defects.reports import DEFECTS as REPORT_DEFECTS
from tests.planted_defects.storage import DEFECTS as STORAGE_DEFECTS

__all__ = ["CATALOGUE", "PlantedDefect", "caught", "planted", "run_defect"]

# The manager's own retention decision (a public hook): the planners below wrap it.
plan_retention = FFMemoryLayerManager.retention_planner


# ====================================================================== memory


class MessagesTailDropsOldest(FFMemoryLayerManager):
    """get_messages(limit=n) returns n - 1 when the session holds n or more (a tail read that
    counts the newline after the last record as a line)."""

    async def get_messages(self, user_id: str, session_id: str, limit: int = 50) -> Any:
        messages = await super().get_messages(user_id, session_id, limit)
        return messages[1:] if len(messages) == limit and limit > 1 else messages


class MemoriesLimitIgnored(FFMemoryLayerManager):
    """get_memories reads every active memory, whatever limit asks for."""

    async def get_memories(self, user_id: str, layers: Any = None, limit: int = 50) -> Any:
        return await super().get_memories(user_id, layers, 1_000)


class MemorySearchLimitPlusOne(FFMemoryLayerManager):
    """search_memories returns one hit more than its limit (a ``<=`` in the cut)."""

    async def search_memories(self, user_id: str, query: str, limit: int = 10, **kwargs: Any) -> Any:
        return await super().search_memories(user_id, query, limit + 1, **kwargs)


class ContentLimitInBytes(FFMemoryLayerManager):
    """max_content_chars compared with the UTF-8 length: text with accents or emoji is refused early."""

    async def add_message(self, user_id: str, session_id: str, role: str, content: str, *args: Any, **kwargs: Any) -> Any:
        if isinstance(content, str) and len(content.encode("utf-8")) > self._max_chars:
            raise FFValidationError(f"content longer than {self._max_chars}")
        return await super().add_message(user_id, session_id, role, content, *args, **kwargs)


class MessageMetadataLostOnRead(FFMemoryLayerManager):
    """Messages read back without their metadata (a reader that builds the DTO from known keys)."""

    async def get_messages(self, user_id: str, session_id: str, limit: int = 50) -> Any:
        return [m.model_copy(update={"metadata": {}}) for m in await super().get_messages(user_id, session_id, limit)]


class MemoryTagsNotStored(FFMemoryLayerManager):
    """store_memory forgets the tags it was given."""

    async def store_memory(self, user_id: str, content: str, *args: Any, **kwargs: Any) -> Any:
        kwargs.pop("tags", None)
        return await super().store_memory(user_id, content, *args, **kwargs)


class ProfilePreferencesLost(FFMemoryLayerManager):
    """get_profile returns the profile without its preferences (a reader that skips a nested field)."""

    async def get_profile(self, user_id: str) -> Any:
        return (await super().get_profile(user_id)).model_copy(update={"preferences": {}})


class ContextOverBudget(FFMemoryLayerManager):
    """get_memory_context fills twice the budget it was given."""

    async def get_memory_context(self, user_id: str, query: str, *, budget_chars: int | None = None, **kwargs: Any) -> Any:
        context = await super().get_memory_context(user_id, query, budget_chars=budget_chars * 2 if budget_chars else None, **kwargs)
        return context.model_copy(update={"budget_chars": budget_chars})


def _strict_threshold_planner(layers: Any, now: datetime, policy: Any, **kwargs: Any) -> Any:
    """Moves an entry only if its importance is above the threshold (``>``, not ``>=``)."""
    nudged = {layer: value + 1e-9 for layer, value in policy.move_min_importance.items()}
    return plan_retention(layers, now, policy.model_copy(update={"move_min_importance": nudged}), **kwargs)


def _enters_at_run_time_planner(layers: Any, now: datetime, policy: Any, **kwargs: Any) -> Any:
    """A moved entry enters the next layer when retention ran, not when it expired."""
    plan = plan_retention(layers, now, policy, **kwargs)
    moved = {m.memory_id for m in plan.moved}
    for layer, entries in plan.layers.items():
        plan.layers[layer] = [e.model_copy(update={"layer_entered_at": now}) if e.memory_id in moved else e for e in entries]
    return plan


def _important_not_kept_longer_planner(layers: Any, now: datetime, policy: Any, **kwargs: Any) -> Any:
    """Important entries expire like the others (the keep factor is never applied)."""
    return plan_retention(layers, now, policy.model_copy(update={"important_retention_factor": 1.0}), **kwargs)


class RetentionStrictThreshold(FFMemoryLayerManager):
    retention_planner = staticmethod(_strict_threshold_planner)


class RetentionEntersAtRunTime(FFMemoryLayerManager):
    retention_planner = staticmethod(_enters_at_run_time_planner)


class RetentionImportantNotKept(FFMemoryLayerManager):
    retention_planner = staticmethod(_important_not_kept_longer_planner)


# ====================================================================== panel


class PanelAfterSequenceInclusive(FFPanelSessionManager):
    """after_sequence pages on from that message instead of after it (each page repeats one)."""

    async def get_messages(self, user_id: str, panel_id: str, *, limit: int = 100, after_sequence: int | None = None) -> Any:
        after = after_sequence - 1 if after_sequence else after_sequence
        return await super().get_messages(user_id, panel_id, limit=limit, after_sequence=after)


class PanelLimitIgnoredWhenReadingBack(FFPanelSessionManager):
    """The default read (no after_sequence) returns the whole panel, ignoring limit."""

    async def get_messages(self, user_id: str, panel_id: str, *, limit: int = 100, after_sequence: int | None = None) -> Any:
        return await super().get_messages(user_id, panel_id, limit=limit if after_sequence is not None else 1_000, after_sequence=after_sequence)


class PanelReplyToLost(FFPanelSessionManager):
    """Messages read back without reply_to."""

    async def get_messages(self, user_id: str, panel_id: str, **kwargs: Any) -> Any:
        return [m.model_copy(update={"reply_to": None}) for m in await super().get_messages(user_id, panel_id, **kwargs)]


class PanelContentCutAtLimit(FFPanelSessionManager):
    """Over-long messages are cut to the limit and stored instead of refused."""

    async def add_message(self, user_id: str, panel_id: str, participant_id: str, content: str, **kwargs: Any) -> Any:
        limit = self.config.panel.max_message_chars
        return await super().add_message(user_id, panel_id, participant_id, content[:limit], **kwargs)


class ParticipantExpertiseLost(FFPanelSessionManager):
    """get_panel returns participants without their expertise (the routing words)."""

    async def get_panel(self, user_id: str, panel_id: str) -> Any:
        panel = await super().get_panel(user_id, panel_id)
        return panel.model_copy(update={"participants": [p.model_copy(update={"expertise": []}) for p in panel.participants]})


class InsightConfidenceLost(FFPanelSessionManager):
    """record_insight drops the confidence it was given."""

    async def record_insight(self, user_id: str, panel_id: str, content: str, **kwargs: Any) -> Any:
        kwargs.pop("confidence", None)
        return await super().record_insight(user_id, panel_id, content, **kwargs)


# ====================================================================== knowledge


class SearchTopKPlusOne(FFKnowledgeBaseManager):
    """search returns top_k + 1 hits."""

    async def search(self, user_id: str, kb_id: str, query: str, top_k: int | None = None, **kwargs: Any) -> Any:
        return await super().search(user_id, kb_id, query, (top_k or 5) + 1, **kwargs)


class PerDocumentCapIgnored(FFKnowledgeBaseManager):
    """per_document is ignored (every chunk of a document may fill the answer)."""

    async def search(self, user_id: str, kb_id: str, query: str, top_k: int | None = None, **kwargs: Any) -> Any:
        kwargs["per_document"] = 0
        return await super().search(user_id, kb_id, query, top_k, **kwargs)


class DocumentTextReadCapped(FFKnowledgeBaseManager):
    """get_document_text reads at most 64 KiB of the stored text (one read call, no loop)."""

    async def get_document_text(self, user_id: str, kb_id: str, doc_id: str) -> str:
        text = await super().get_document_text(user_id, kb_id, doc_id)
        return text.encode("utf-8")[: 64 * 1024].decode("utf-8", errors="ignore")


class DocumentTextStripped(FFKnowledgeBaseManager):
    """get_document_text returns the text stripped of surrounding whitespace (a reader's .strip())."""

    async def get_document_text(self, user_id: str, kb_id: str, doc_id: str) -> str:
        return (await super().get_document_text(user_id, kb_id, doc_id)).strip()


class DocumentMetadataLost(FFKnowledgeBaseManager):
    """get_document returns the document without its metadata."""

    async def get_document(self, user_id: str, kb_id: str, doc_id: str) -> Any:
        return (await super().get_document(user_id, kb_id, doc_id)).model_copy(update={"metadata": {}})


# ====================================================================== tools


class RunsNewestFirst(FFToolExecutionManager):
    """list_runs returns the runs newest first."""

    async def list_runs(self, user_id: str, *, limit: int = 50) -> Any:
        return list(reversed(await super().list_runs(user_id, limit=limit)))


class RunsLimitZeroMeansDefault(FFToolExecutionManager):
    """list_runs(limit=0) reads the default 50 (``limit or 50``)."""

    async def list_runs(self, user_id: str, *, limit: int = 50) -> Any:
        return await super().list_runs(user_id, limit=limit or 50)


class RunArgumentsNotLogged(FFToolExecutionManager):
    """get_run returns the logged run without its arguments."""

    async def get_run(self, user_id: str, run_id: str) -> Any:
        return (await super().get_run(user_id, run_id)).model_copy(update={"arguments": {}})


# ====================================================================== metrics


class AuditTailOneShort(FFMetricsCollectionManager):
    """get_audit_records(limit) returns limit - 1 records (off by one at the start of the tail)."""

    async def get_audit_records(self, limit: int = 100) -> Any:
        return (await super().get_audit_records(limit))[1:]


class EventDataNotStored(FFMetricsCollectionManager):
    """record_event counts the event but stores none of its data."""

    async def record_event(self, user_id: str, event_type: str, data: Mapping[str, Any] | None = None) -> None:
        await super().record_event(user_id, event_type, {})


class TagValuesTruncated(FFMetricsCollectionManager):
    """Tag values are cut one character short of the limit when stored, so two close values merge."""

    async def record_metric(self, name: str, value: float, *, tags: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        cut = {k: v[:255] if isinstance(v, str) and len(v) <= 256 else v for k, v in (tags or {}).items()}
        await super().record_metric(name, value, tags=cut or None, **kwargs)


def _c(name: str, what: str, test: str, *, origin: str = "README", suite: str = "component", **parts: Any) -> PlantedDefect:
    return PlantedDefect(name=name, what=what, origin=origin, suite=suite, test=test, **parts)


_MEM, _PAN, _KB, _TOOL, _MET = "memory_contracts", "panel_contracts", "knowledge_contracts", "tools_contracts", "metrics_contracts"
_RET = "memory_retention_per_layer"

CATALOGUE: tuple[PlantedDefect, ...] = (
    _c("messages_tail_drops_oldest", MessagesTailDropsOldest.__doc__ or "", _MEM, manager_classes={"memory": MessagesTailDropsOldest}),
    _c("memories_limit_ignored", MemoriesLimitIgnored.__doc__ or "", _MEM, manager_classes={"memory": MemoriesLimitIgnored}),
    _c("memory_search_limit_plus_one", MemorySearchLimitPlusOne.__doc__ or "", _MEM, manager_classes={"memory": MemorySearchLimitPlusOne}),
    _c("content_limit_in_bytes", ContentLimitInBytes.__doc__ or "", _MEM, manager_classes={"memory": ContentLimitInBytes}),
    _c("message_metadata_lost_on_read", MessageMetadataLostOnRead.__doc__ or "", _MEM, manager_classes={"memory": MessageMetadataLostOnRead}),
    _c("memory_tags_not_stored", MemoryTagsNotStored.__doc__ or "", _MEM, manager_classes={"memory": MemoryTagsNotStored}),
    _c("profile_preferences_lost", ProfilePreferencesLost.__doc__ or "", _MEM, manager_classes={"memory": ProfilePreferencesLost}),
    _c("memory_context_over_budget", ContextOverBudget.__doc__ or "", _MEM, manager_classes={"memory": ContextOverBudget}),
    _c("retention_strict_threshold", _strict_threshold_planner.__doc__ or "", _RET, manager_classes={"memory": RetentionStrictThreshold}),
    _c("retention_enters_at_run_time", _enters_at_run_time_planner.__doc__ or "", _RET, manager_classes={"memory": RetentionEntersAtRunTime}),
    _c("retention_important_not_kept", _important_not_kept_longer_planner.__doc__ or "", _RET, manager_classes={"memory": RetentionImportantNotKept}),
    _c("panel_after_sequence_inclusive", PanelAfterSequenceInclusive.__doc__ or "", _PAN, manager_classes={"panel": PanelAfterSequenceInclusive}),
    _c("panel_limit_ignored", PanelLimitIgnoredWhenReadingBack.__doc__ or "", _PAN, manager_classes={"panel": PanelLimitIgnoredWhenReadingBack}),
    _c("panel_reply_to_lost", PanelReplyToLost.__doc__ or "", _PAN, manager_classes={"panel": PanelReplyToLost}),
    _c("panel_content_cut_at_limit", PanelContentCutAtLimit.__doc__ or "", _PAN, manager_classes={"panel": PanelContentCutAtLimit}),
    _c("participant_expertise_lost", ParticipantExpertiseLost.__doc__ or "", _PAN, manager_classes={"panel": ParticipantExpertiseLost}),
    _c("insight_confidence_lost", InsightConfidenceLost.__doc__ or "", _PAN, manager_classes={"panel": InsightConfidenceLost}),
    _c("search_top_k_plus_one", SearchTopKPlusOne.__doc__ or "", _KB, manager_classes={"knowledge": SearchTopKPlusOne}),
    _c("per_document_cap_ignored", PerDocumentCapIgnored.__doc__ or "", _KB, manager_classes={"knowledge": PerDocumentCapIgnored}),
    _c("document_text_read_capped", DocumentTextReadCapped.__doc__ or "", _KB, manager_classes={"knowledge": DocumentTextReadCapped}),
    _c("document_text_stripped", DocumentTextStripped.__doc__ or "", _KB, manager_classes={"knowledge": DocumentTextStripped}),
    _c("document_metadata_lost", DocumentMetadataLost.__doc__ or "", _KB, manager_classes={"knowledge": DocumentMetadataLost}),
    _c("runs_newest_first", RunsNewestFirst.__doc__ or "", _TOOL, manager_classes={"tools": RunsNewestFirst}),
    _c("runs_limit_zero_means_default", RunsLimitZeroMeansDefault.__doc__ or "", _TOOL, manager_classes={"tools": RunsLimitZeroMeansDefault}),
    _c("run_arguments_not_logged", RunArgumentsNotLogged.__doc__ or "", _TOOL, manager_classes={"tools": RunArgumentsNotLogged}),
    _c("audit_tail_one_short", AuditTailOneShort.__doc__ or "", _MET, manager_classes={"metrics": AuditTailOneShort}),
    _c("event_data_not_stored", EventDataNotStored.__doc__ or "", _MET, manager_classes={"metrics": EventDataNotStored}),
    _c("tag_values_truncated", TagValuesTruncated.__doc__ or "", _MET, manager_classes={"metrics": TagValuesTruncated}),
    *METRICS_DEFECTS,
    *METRICS_WINDOW_DEFECTS,
    *CORE_DEFECTS,
    *MEMORY_DEFECTS,
    *PANEL_DEFECTS,
    *PANEL_COMPOSITION_DEFECTS,
    *TOOLS_DEFECTS,
    *TOOLS_POLICY_DEFECTS,
    # The use-case suite's scenarios check the same guarantees on the data they produce.
    _c("rag_search_top_k_plus_one", SearchTopKPlusOne.__doc__ or "", "rag_chat", suite="use_cases",
       manager_classes={"knowledge": SearchTopKPlusOne}),
    _c("memory_chat_context_over_budget", ContextOverBudget.__doc__ or "", "memory_chat", suite="use_cases",
       manager_classes={"memory": ContextOverBudget}),
    *GUARANTEE_DEFECTS,
    # The storage layer (ff_utils) and the reports (testing/reporting): storage_contracts,
    # report_contracts, and the failure suite for the crash paths.
    *STORAGE_DEFECTS,
    *REPORT_DEFECTS,
    # Listings that take the leftovers of crashes and atomic writes for objects (stray_files_ignored;
    # the panel's listing defect is in PANEL_DEFECTS above).
    *KNOWLEDGE_DEFECTS,
    *MIGRATION_DEFECTS,
)
