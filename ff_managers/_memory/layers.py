"""A user's layered memories: store, read, search, prompt context, archive and counts.

Synchronous; the manager calls it from worker threads (ranking thousands of entries must not
stall the event loop). The files and their crash-safety are in ``layer_store.py``, relevance in
``ranking.py``; this module turns them into what the manager returns.
"""

from __future__ import annotations

from datetime import UTC, datetime

from ff_class_configs.ff_memory_config import MEMORY_LAYERS, FFMemoryConfigDTO, MemoryLayer
from ff_class_configs.ff_memory_dtos import (
    FFArchivedMemoryDTO,
    FFMemoryContextDTO,
    FFMemoryEntryDTO,
    FFMemorySearchHitDTO,
    FFMemoryStatsDTO,
)
from ff_managers._core.checks import check_json_object, check_number, check_timestamp
from ff_managers._memory.layer_store import MemoryStore
from ff_managers._memory.layout import MemoryLayout
from ff_managers._memory.ranking import RankedEntry, rank_entries
from ff_managers._memory.validation import check_layer, check_record_size, check_tags
from ff_managers.ff_component_base import Clock
from ff_utils.ff_errors import FFConflictError, FFNotFoundError
from ff_utils.ff_ids import ff_new_id, ff_validate_id
from ff_utils.ff_store import FFStore

__all__ = ["MemoryLayers", "search_hit"]


def search_hit(ranked: RankedEntry) -> FFMemorySearchHitDTO:
    return FFMemorySearchHitDTO(
        entry=ranked.entry, score=ranked.score, bm25=ranked.bm25, matched_terms=list(ranked.matched_terms)
    )


class MemoryLayers:
    """Every user's active memories and archive, under one data root."""

    def __init__(self, store: FFStore, layout: MemoryLayout, policy: FFMemoryConfigDTO, clock: Clock) -> None:
        self.store = store
        self.layout = layout
        self.policy = policy
        self.clock = clock

    def of(self, user_id: str) -> MemoryStore:
        """The user's memory folder (cheap: the read cache is shared per process)."""
        return MemoryStore(self.layout.memory_dir(user_id), self.store)

    def new(
        self,
        user_id: str,
        content: str,
        layer: object,
        importance: object,
        *,
        tags: object,
        metadata: object,
        session_id: str | None,
        message_id: str | None,
        memory_id: str | None,
        created_at: datetime | str | None,
    ) -> FFMemoryEntryDTO:
        """An entry from checked input; ``content`` was checked by the caller (the manager).

        Raises FFValidationError (naming the field) for an unknown layer, importance outside
        [0, 1], bad tags, metadata, ids or time, or a record over the store's size limit.
        """
        created = (
            check_timestamp(created_at, field="created_at", naive="utc", parse_text=True)
            if created_at is not None
            else self.clock()
        )
        entry = FFMemoryEntryDTO(
            memory_id=ff_validate_id(memory_id, "memory_id") if memory_id is not None else ff_new_id("mem_"),
            user_id=ff_validate_id(user_id, "user_id"),
            layer=check_layer(layer),
            content=content,
            importance=float(check_number(importance, field="importance", minimum=0.0, maximum=1.0)),
            created_at=created,
            layer_entered_at=created,
            tags=check_tags(tags),
            session_id=ff_validate_id(session_id, "session_id") if session_id is not None else None,
            message_id=ff_validate_id(message_id, "message_id") if message_id is not None else None,
            metadata=check_json_object(metadata, field="metadata", max_bytes=self.policy.max_metadata_bytes),
        )
        check_record_size(entry.model_dump(mode="json"), self.store.max_record_bytes)
        return entry

    def add(self, entry: FFMemoryEntryDTO, *, keep_id: bool) -> None:
        """One append to the entry's layer; with ``keep_id`` an id already active is FFConflictError."""
        memories = self.of(entry.user_id)
        if keep_id and any(e.memory_id == entry.memory_id for e in memories.load_active()):
            raise FFConflictError(f"memory {entry.memory_id!r} already exists")
        memories.append(entry)

    def newest(self, user_id: str, layers: tuple[MemoryLayer, ...], limit: int) -> list[FFMemoryEntryDTO]:
        """Active memories in ``layers``, newest first (ties: last stored first)."""
        entries = self.of(user_id).load_active(layers)
        order = sorted(range(len(entries)), key=lambda i: (entries[i].created_at, i), reverse=True)
        return [entries[i] for i in order[:limit]]

    def get(self, user_id: str, memory_id: str) -> FFMemoryEntryDTO:
        """One active memory by id; FFNotFoundError (archived entries are not active)."""
        for entry in self.of(user_id).load_active():
            if entry.memory_id == memory_id:
                return entry
        raise FFNotFoundError(f"memory {memory_id!r} not found", kind="memory", key=memory_id)

    def ranked(self, user_id: str, layers: tuple[MemoryLayer, ...], query: str) -> list[RankedEntry]:
        """The user's active memories in ``layers`` sharing a term with ``query``, best first."""
        policy = self.policy
        now = self.clock()
        return rank_entries(
            self.of(user_id).load_active(layers),
            query,
            now=now if now.tzinfo else now.replace(tzinfo=UTC),
            k1=policy.bm25_k1,
            b=policy.bm25_b,
            importance_weight=policy.search_importance_weight,
            recency_weight=policy.search_recency_weight,
            recency_half_life_hours=policy.search_recency_half_life_hours,
        )

    def search(
        self, user_id: str, layers: tuple[MemoryLayer, ...], query: str, limit: int
    ) -> list[FFMemorySearchHitDTO]:
        return [search_hit(ranked) for ranked in self.ranked(user_id, layers, query)[:limit]]

    def context(self, user_id: str, layers: tuple[MemoryLayer, ...], query: str, budget: int) -> FFMemoryContextDTO:
        """Relevant memories as prompt text, one ``- [layer] content`` line each, within ``budget``.

        Lines are added in rank order while they fit; a line that does not fit is left out
        (counted in ``omitted``), except that the best memory is cut to the budget rather than
        dropped, so a relevant memory is never absent.
        """
        lines: list[str] = []
        hits: list[FFMemorySearchHitDTO] = []
        used = omitted = 0
        for ranked in self.ranked(user_id, layers, query):
            line = f"- [{ranked.entry.layer}] {' '.join(ranked.entry.content.split())}"
            cost = len(line) + (1 if lines else 0)
            if used + cost > budget:
                if lines or budget < 2:
                    omitted += 1
                    continue
                line = line[: budget - 1] + "…"
                cost = len(line)
            lines.append(line)
            used += cost
            hits.append(search_hit(ranked))
        return FFMemoryContextDTO(
            query=query, text="\n".join(lines), hits=hits, budget_chars=budget, used_chars=used, omitted=omitted
        )

    def archived(self, user_id: str, limit: int) -> list[FFArchivedMemoryDTO]:
        """The last ``limit`` archive records, oldest first."""
        return self.of(user_id).tail_archive(limit)

    def stats(self, user_id: str) -> FFMemoryStatsDTO:
        """Active entries per layer and distinct archived entries (scans the archive)."""
        memories = self.of(user_id)
        active = memories.load_active()
        per_layer = {layer: 0 for layer in MEMORY_LAYERS}
        for entry in active:
            per_layer[entry.layer] += 1
        archived = len(memories.archived_ids())
        return FFMemoryStatsDTO(user_id=user_id, layers=per_layer, active=len(active), archived=archived)
