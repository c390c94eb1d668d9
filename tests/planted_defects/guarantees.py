"""Planted defects for the use-case and security suites' guarantee checks (issue 20).

Each is a plausible bug behind a passing first hit or count: a limit enforced one early, a retry
that appends again, an owner check that tells B the object exists, figures off by one. Each goes
in through the validation platform's seam (a manager subclass in ``manager_classes``), or, for the
percentile, the metrics package's own planted replacement; the use case or security check named
with it must turn red. Collected by ``tests/planted_defects`` (``CATALOGUE``).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from ff_class_configs.ff_memory_dtos import FFChatMessageDTO
from ff_managers import (
    FFKnowledgeBaseManager,
    FFMemoryLayerManager,
    FFMetricsCollectionManager,
    FFPanelSessionManager,
    FFToolExecutionManager,
)
from ff_utils.ff_errors import (
    FFConflictError,
    FFNotFoundError,
    FFPermissionError,
    FFValidationError,
)
from ff_utils.ff_ids import ff_is_valid_id
from tests._planted import PlantedDefect
from tests.ff_managers.metrics.planted_defects import DEFECTS as METRICS_DEFECTS

__all__ = ["DEFECTS"]


# ====================================================================== memory


class RetryAppendsAgain(FFMemoryLayerManager):
    """add_message ignores a message_id the session already holds: a client's retry is stored twice."""

    async def add_message(self, user_id: str, session_id: str, role: str, content: str, *args: Any, message_id: str | None = None, **kwargs: Any) -> Any:
        if message_id is not None and any(m.message_id == message_id for m in await super().get_messages(user_id, session_id, limit=10_000)):
            message_id = None
        return await super().add_message(user_id, session_id, role, content, *args, message_id=message_id, **kwargs)


class ConflictingRetryReturnsStored(FFMemoryLayerManager):
    """The same message_id with other content returns the stored message instead of FFConflictError."""

    async def add_message(self, user_id: str, session_id: str, role: str, content: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return await super().add_message(user_id, session_id, role, content, *args, **kwargs)
        except FFConflictError:
            wanted = kwargs.get("message_id")
            return next(m for m in await super().get_messages(user_id, session_id, limit=10_000) if m.message_id == wanted)


class ContentLimitOneEarly(FFMemoryLayerManager):
    """max_content_chars enforced with ``>=``: a message of exactly the limit is refused."""

    async def add_message(self, user_id: str, session_id: str, role: str, content: str, *args: Any, **kwargs: Any) -> Any:
        if isinstance(content, str) and len(content) >= self.config.storage.max_content_chars:
            raise FFValidationError(f"content longer than {self.config.storage.max_content_chars}", field="content")
        return await super().add_message(user_id, session_id, role, content, *args, **kwargs)


class MetadataMeasuredPretty(FFMemoryLayerManager):
    """Message metadata measured as indented JSON: metadata near the limit is refused early."""

    async def add_message(self, user_id: str, session_id: str, role: str, content: str, *args: Any, **kwargs: Any) -> Any:
        if len(json.dumps(kwargs.get("metadata") or {}, indent=2).encode()) > self.config.memory.max_metadata_bytes:
            raise FFValidationError("metadata too large", field="metadata")
        return await super().add_message(user_id, session_id, role, content, *args, **kwargs)


class MemoryLimitOneEarly(FFMemoryLayerManager):
    """store_memory enforces max_content_chars with ``>=``."""

    async def store_memory(self, user_id: str, content: str, *args: Any, **kwargs: Any) -> Any:
        if isinstance(content, str) and len(content) >= self.config.storage.max_content_chars:
            raise FFValidationError("content too long", field="content")
        return await super().store_memory(user_id, content, *args, **kwargs)


class AttachmentCountOneEarly(FFMemoryLayerManager):
    """max_attachments_per_message enforced with ``>=``: a message with exactly the limit is refused."""

    async def add_message(self, user_id: str, session_id: str, role: str, content: str, attachments: Any = None, *args: Any, **kwargs: Any) -> Any:
        if attachments and len(attachments) >= self.config.memory.max_attachments_per_message:
            raise FFValidationError("too many attachments", field="attachments")
        return await super().add_message(user_id, session_id, role, content, attachments, *args, **kwargs)


class AttachmentTailDropped(FFMemoryLayerManager):
    """get_attachment stops one byte short of the size limit: an attachment of exactly the limit comes back cut."""

    async def get_attachment(self, user_id: str, session_id: str, attachment_id: str) -> bytes:
        data = await super().get_attachment(user_id, session_id, attachment_id)
        return data[: self.config.memory.max_attachment_bytes - 1]


class SessionOwnerRevealed(FFMemoryLayerManager):
    """Another user's session answers "belongs to another user" (FFPermissionError), unlike a missing one."""

    async def get_session(self, user_id: str, session_id: str) -> Any:
        try:
            return await super().get_session(user_id, session_id)
        except FFNotFoundError:
            if any((self.root / "users").glob(f"*/sessions/{session_id}")):
                raise FFPermissionError(f"session {session_id!r} belongs to another user") from None
            raise


class ReadsFollowSymlinks(FFMemoryLayerManager):
    """get_messages, refused by the no-follow open, retries with a plain open() that follows symlinks."""

    async def get_messages(self, user_id: str, session_id: str, limit: int = 50) -> Any:
        try:
            return await super().get_messages(user_id, session_id, limit)
        except FFValidationError:
            if not (ff_is_valid_id(user_id) and ff_is_valid_id(session_id)):
                raise
            path = self.root / "users" / user_id / "sessions" / session_id / "messages.jsonl"
            lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
            return [FFChatMessageDTO.model_validate(json.loads(line)) for line in lines[-limit:]]


# ====================================================================== panel


class PanelRetryAppendsAgain(FFPanelSessionManager):
    """A panel message retried with its message_id is appended again under a new id."""

    async def add_message(self, user_id: str, panel_id: str, participant_id: str, content: str, **kwargs: Any) -> Any:
        wanted = kwargs.get("message_id")
        if wanted and any(m.message_id == wanted for m in await self.get_messages(user_id, panel_id, limit=10_000)):
            kwargs["message_id"] = None
        return await super().add_message(user_id, panel_id, participant_id, content, **kwargs)


class PanelLimitOneEarly(FFPanelSessionManager):
    """max_message_chars enforced with ``>=``."""

    async def add_message(self, user_id: str, panel_id: str, participant_id: str, content: str, **kwargs: Any) -> Any:
        if isinstance(content, str) and len(content) >= self.config.panel.max_message_chars:
            raise FFValidationError("message too long", field="content")
        return await super().add_message(user_id, panel_id, participant_id, content, **kwargs)


class DebateRulesNotEnforced(FFPanelSessionManager):
    """A panel type's composition rule is not enforced: a debate without a con is created (as generic)."""

    async def create_panel(self, user_id: str, participants: Any, **kwargs: Any) -> Any:
        try:
            return await super().create_panel(user_id, participants, **kwargs)
        except FFValidationError:
            if kwargs.get("panel_type") != "ai_debate":
                raise
            return await super().create_panel(user_id, participants, **{**kwargs, "panel_type": "generic"})


class NextSpeakerNotKept(FFPanelSessionManager):
    """add_message accepts ``next_speaker`` but does not store it: a moderator gives nobody the floor."""

    async def add_message(self, user_id: str, panel_id: str, participant_id: str, content: str, **kwargs: Any) -> Any:
        kwargs.pop("next_speaker", None)
        return await super().add_message(user_id, panel_id, participant_id, content, **kwargs)


class TurnsCountSpeakerChanges(FFPanelSessionManager):
    """close_panel's turn_count is the number of speaker changes (the + 1 forgotten)."""

    async def close_panel(self, user_id: str, panel_id: str, **kwargs: Any) -> Any:
        figures = await super().close_panel(user_id, panel_id, **kwargs)
        return figures.model_copy(update={"turn_count": max(0, figures.turn_count - 1)})


class ConsensusOverEveryDecision(FFPanelSessionManager):
    """close_panel's consensus is the mean over every decision, one nobody voted on counting 0
    (README: the mean over decisions with votes)."""

    async def close_panel(self, user_id: str, panel_id: str, **kwargs: Any) -> Any:
        figures = await super().close_panel(user_id, panel_id, **kwargs)
        levels = [t.consensus_level or 0.0 for t in figures.decisions]
        return figures.model_copy(update={"consensus_level": sum(levels) / len(levels) if levels else None})


# ====================================================================== knowledge


class SearchCutBeforeRanking(FFKnowledgeBaseManager):
    """search keeps top_k - 1 hits when more match (an exclusive cut)."""

    async def search(self, user_id: str, kb_id: str, query: str, top_k: int | None = None, **kwargs: Any) -> Any:
        hits = await super().search(user_id, kb_id, query, top_k, **kwargs)
        return hits[:-1] if top_k and len(hits) == top_k and top_k > 1 else hits


class KnowledgeBaseOwnerRevealed(FFKnowledgeBaseManager):
    """Another user's knowledge base answers FFPermissionError, unlike a missing one."""

    async def get_knowledge_base(self, user_id: str, kb_id: str) -> Any:
        try:
            return await super().get_knowledge_base(user_id, kb_id)
        except FFNotFoundError:
            if any((self.root / "users").glob(f"*/knowledge/{kb_id}")):
                raise FFPermissionError(f"knowledge base {kb_id!r} belongs to another user") from None
            raise


# ====================================================================== tools


class RunsLimitPlusOne(FFToolExecutionManager):
    """list_runs returns one run more than its limit (the cut taken at ``-limit - 1``)."""

    async def list_runs(self, user_id: str, *, limit: int = 50) -> Any:
        return await super().list_runs(user_id, limit=limit + 1 if limit else 0)


class RunOwnerRevealed(FFToolExecutionManager):
    """get_run of another user's run says whose it is (FFPermissionError) instead of not found."""

    async def get_run(self, user_id: str, run_id: str) -> Any:
        try:
            return await super().get_run(user_id, run_id)
        except FFNotFoundError:
            for log in (self.root / "users").glob("*/tools/runs.jsonl"):
                if run_id in log.read_text(encoding="utf-8", errors="replace"):
                    raise FFPermissionError(f"run {run_id!r} belongs to another user") from None
            raise


# ====================================================================== metrics


class TagCountOneEarly(FFMetricsCollectionManager):
    """max_tags enforced with ``>=``: a sample with exactly the limit of tags is refused."""

    async def record_metric(self, name: str, value: float, *, tags: Any = None, **kwargs: Any) -> None:
        if tags and len(tags) >= self.config.metrics.max_tags:
            raise FFValidationError("too many tags", field="tags")
        await super().record_metric(name, value, tags=tags, **kwargs)


class AuditDetailsCut(FFMetricsCollectionManager):
    """Audit details near the limit are stored without their largest value (trimmed to fit)."""

    async def audit(self, user_id: str, action: str, target: str, *args: Any, details: Any = None, **kwargs: Any) -> Any:
        if details and len(json.dumps(details)) >= self.config.metrics.max_event_data_bytes - 16:
            details = {k: v[:-1] if isinstance(v, str) else v for k, v in details.items()}
        return await super().audit(user_id, action, target, *args, details=details, **kwargs)


class LastSeenIsFirst(FFMetricsCollectionManager):
    """get_user_analytics' last_seen is the earliest event (a ``min`` where ``max`` was meant)."""

    async def get_user_analytics(self, user_id: str, *args: Any, **kwargs: Any) -> Any:
        analytics = await super().get_user_analytics(user_id, *args, **kwargs)
        return analytics.model_copy(update={"last_seen": analytics.first_seen})


class TotalEventsCountsTypes(FFMetricsCollectionManager):
    """get_user_analytics' total_events is the number of event types, not of events."""

    async def get_user_analytics(self, user_id: str, *args: Any, **kwargs: Any) -> Any:
        analytics = await super().get_user_analytics(user_id, *args, **kwargs)
        return analytics.model_copy(update={"total_events": len(analytics.event_counts)})


class SummaryWindowIgnored(FFMetricsCollectionManager):
    """get_summary ignores a ``(start, end)`` window (reads every bucket, filters nothing)."""

    async def get_summary(self, name: str, window: Any = None, **kwargs: Any) -> Any:
        return await super().get_summary(name, None if isinstance(window, tuple) else window, **kwargs)


def _u(name: str, cls: type, manager: str, test: str) -> PlantedDefect:
    return PlantedDefect(name=name, what=cls.__doc__ or "", origin="README", suite="use_cases", test=test, manager_classes={manager: cls})


def _s(name: str, cls: type, manager: str, test: str) -> PlantedDefect:
    return PlantedDefect(name=name, what=cls.__doc__ or "", origin="README", suite="security", test=test, manager_classes={manager: cls})


_nearest_rank = next(d for d in METRICS_DEFECTS if d.name == "percentile_nearest_rank")

DEFECTS: tuple[PlantedDefect, ...] = (
    # use cases
    _u("uc_retry_appends_again", RetryAppendsAgain, "memory", "basic_chat"),
    _u("uc_conflicting_retry_returns_stored", ConflictingRetryReturnsStored, "memory", "basic_chat"),
    _u("uc_search_cut_before_ranking", SearchCutBeforeRanking, "knowledge", "rag_chat"),
    _u("uc_panel_retry_appends_again", PanelRetryAppendsAgain, "panel", "multi_ai_panel"),
    _u("uc_debate_rules_not_enforced", DebateRulesNotEnforced, "panel", "ai_debate"),
    _u("uc_next_speaker_not_kept", NextSpeakerNotKept, "panel", "topic_delegation"),
    _u("uc_turns_count_speaker_changes", TurnsCountSpeakerChanges, "panel", "ai_debate"),
    _u("uc_consensus_over_every_decision", ConsensusOverEveryDecision, "panel", "multi_ai_panel"),
    _u("uc_runs_limit_plus_one", RunsLimitPlusOne, "tools", "auto_task_agent"),
    _u("uc_last_seen_is_first", LastSeenIsFirst, "metrics", "basic_chat"),
    _u("uc_total_events_counts_types", TotalEventsCountsTypes, "metrics", "prompt_sandbox"),
    _u("uc_summary_window_ignored", SummaryWindowIgnored, "metrics", "prompt_sandbox"),
    dataclasses.replace(_nearest_rank, name="uc_percentile_nearest_rank", suite="use_cases", test="prompt_sandbox"),
    # security
    _s("sec_content_limit_one_early", ContentLimitOneEarly, "memory", "oversized_chat_message"),
    _s("sec_metadata_measured_pretty", MetadataMeasuredPretty, "memory", "oversized_chat_message"),
    _s("sec_memory_limit_one_early", MemoryLimitOneEarly, "memory", "oversized_memory"),
    _s("sec_panel_limit_one_early", PanelLimitOneEarly, "panel", "oversized_panel_message"),
    _s("sec_attachment_count_one_early", AttachmentCountOneEarly, "memory", "oversized_attachment"),
    _s("sec_attachment_tail_dropped", AttachmentTailDropped, "memory", "oversized_attachment"),
    _s("sec_tag_count_one_early", TagCountOneEarly, "metrics", "oversized_metrics_payloads"),
    _s("sec_audit_details_cut", AuditDetailsCut, "metrics", "oversized_metrics_payloads"),
    _s("sec_reads_follow_symlinks", ReadsFollowSymlinks, "memory", "traversal_ids_memory"),
    _s("sec_session_owner_revealed", SessionOwnerRevealed, "memory", "isolation_chat_sessions"),
    _s("sec_knowledge_base_owner_revealed", KnowledgeBaseOwnerRevealed, "knowledge", "isolation_knowledge_bases"),
    _s("sec_run_owner_revealed", RunOwnerRevealed, "tools", "isolation_tool_runs"),
)
