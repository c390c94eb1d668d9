"""Retention planning for one user's memory layers: pure, so it is tested exactly without disk.

:func:`plan_retention` takes every layer's entries, ``now`` and the policy, and returns the
layers as they must be afterwards plus everything that leaves them. The manager writes the
archive records first and the layers after, so an interrupted pass can leave a copy in two
places but never lose one; the next pass removes such copies (step 1 below).

Chain semantics (``RETENTION_CHAIN``: immediate -> short_term -> medium_term -> long_term):

1. **Duplicates**: an id found in two layers (an earlier pass stopped between writes) is kept in
   the layer furthest down the chain only.
2. **Expiry**: an entry expires when ``now >= layer_entered_at + retention(layer)``; entries at
   least ``importance_keep_threshold`` important get ``important_retention_factor`` times the
   retention. An expired entry moves to the next layer if its importance is at least
   ``move_min_importance[layer]``, else it is archived (reason ``expired``). The last layer
   (long_term) archives everything that expires. A moved entry enters the next layer at the
   moment it expired, not at ``now``, so the outcome does not depend on how often retention
   runs: a month-old entry cascades through every layer it outlived in one pass.
3. **Permanent** entries never expire and never move.
4. **Compression**: a layer holding more than ``layer_max_entries`` merges its oldest entries
   (unimportant before important, plain entries before earlier summaries, then by
   ``layer_entered_at``), ``compression_batch`` at a time, into one summary entry each until it
   fits; summaries are merged again only once no plain entry is left to merge. A summary keeps its sources' ids in
   ``source_ids``, the highest importance among them, their tags, and the latest
   ``layer_entered_at`` (it lives as long as its youngest source would). The sources are
   archived (reason ``compressed``, with ``summary_id``).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from ff_class_configs.ff_memory_config import MEMORY_LAYERS, RETENTION_CHAIN, FFMemoryConfigDTO, MemoryLayer
from ff_class_configs.ff_memory_dtos import (
    FFArchivedMemoryDTO,
    FFMemoryCompressionDTO,
    FFMemoryEntryDTO,
    FFMemoryMoveDTO,
)
from ff_managers._memory.summary import extractive_summary

__all__ = ["RetentionPlan", "RetentionPlanner", "plan_retention", "dedupe_layers"]

_DEPTH: dict[str, int] = {layer: index for index, layer in enumerate(RETENTION_CHAIN)}
_DEPTH["permanent"] = len(RETENTION_CHAIN)


@dataclass(slots=True)
class RetentionPlan:
    """The layers after a retention pass and what left them."""

    layers: dict[MemoryLayer, list[FFMemoryEntryDTO]]
    changed: set[MemoryLayer] = field(default_factory=set)
    moved: list[FFMemoryMoveDTO] = field(default_factory=list)
    archived: list[FFArchivedMemoryDTO] = field(default_factory=list)
    compressed: list[FFMemoryCompressionDTO] = field(default_factory=list)
    summaries: list[FFMemoryEntryDTO] = field(default_factory=list)
    duplicates_removed: int = 0


class RetentionPlanner(Protocol):
    """What decides a retention pass: :func:`plan_retention`'s signature (the manager's hook)."""

    def __call__(
        self,
        layers: Mapping[MemoryLayer, Sequence[FFMemoryEntryDTO]],
        now: datetime,
        policy: FFMemoryConfigDTO,
        *,
        max_content_chars: int,
        new_id: Callable[[], str],
    ) -> RetentionPlan: ...


def dedupe_layers(
    layers: Mapping[MemoryLayer, Sequence[FFMemoryEntryDTO]],
) -> tuple[dict[MemoryLayer, list[FFMemoryEntryDTO]], set[MemoryLayer], int]:
    """Keep each memory id once, in the layer furthest down the chain (and its first copy there).

    Returns the cleaned layers, the layers that lost a copy, and how many copies were dropped.
    """
    home: dict[str, str] = {}
    for layer in MEMORY_LAYERS:
        for entry in layers.get(layer, ()):
            current = home.get(entry.memory_id)
            if current is None or _DEPTH[layer] > _DEPTH[current]:
                home[entry.memory_id] = layer
    cleaned: dict[MemoryLayer, list[FFMemoryEntryDTO]] = {}
    changed: set[MemoryLayer] = set()
    dropped = 0
    for layer in MEMORY_LAYERS:
        kept: list[FFMemoryEntryDTO] = []
        seen: set[str] = set()
        for entry in layers.get(layer, ()):
            if home[entry.memory_id] != layer or entry.memory_id in seen:
                dropped += 1
                changed.add(layer)
                continue
            seen.add(entry.memory_id)
            kept.append(entry)
        cleaned[layer] = kept
    return cleaned, changed, dropped


def _retention(entry: FFMemoryEntryDTO, policy: FFMemoryConfigDTO) -> timedelta | None:
    hours = policy.retention_hours.get(entry.layer)
    if hours is None:
        return None
    if entry.importance >= policy.importance_keep_threshold:
        hours *= policy.important_retention_factor
    return timedelta(hours=hours)


def _expire(plan: RetentionPlan, now: datetime, policy: FFMemoryConfigDTO) -> None:
    for position, layer in enumerate(RETENTION_CHAIN):
        next_layer = RETENTION_CHAIN[position + 1] if position + 1 < len(RETENTION_CHAIN) else None
        minimum = policy.move_min_importance.get(layer)
        kept: list[FFMemoryEntryDTO] = []
        for entry in plan.layers[layer]:
            retention = _retention(entry, policy)
            expires_at = entry.layer_entered_at + retention if retention is not None else None
            if expires_at is None or now < expires_at:
                kept.append(entry)
                continue
            plan.changed.add(layer)
            if next_layer is not None and minimum is not None and entry.importance >= minimum:
                moved = entry.model_copy(update={"layer": next_layer, "layer_entered_at": expires_at})
                plan.layers[next_layer].append(moved)  # checked again when next_layer's turn comes
                plan.changed.add(next_layer)
                plan.moved.append(FFMemoryMoveDTO(
                    memory_id=entry.memory_id, from_layer=layer, to_layer=next_layer, moved_at=expires_at
                ))
            else:
                plan.archived.append(FFArchivedMemoryDTO(entry=entry, archived_at=now, reason="expired", from_layer=layer))
        plan.layers[layer] = kept


def _compression_order(entry: FFMemoryEntryDTO, policy: FFMemoryConfigDTO) -> tuple[bool, bool, datetime, datetime, str]:
    return (
        entry.importance >= policy.importance_keep_threshold,
        entry.kind == "summary",
        entry.layer_entered_at,
        entry.created_at,
        entry.memory_id,
    )


def _compress(
    plan: RetentionPlan,
    now: datetime,
    policy: FFMemoryConfigDTO,
    *,
    max_content_chars: int,
    new_id: Callable[[], str],
) -> None:
    for layer in MEMORY_LAYERS:
        limit = policy.layer_max_entries.get(layer)
        entries = plan.layers[layer]
        if limit is None or len(entries) <= limit:
            continue
        plan.changed.add(layer)
        # A heap keeps each pick O(log n), so compressing a layer thousands over its limit is cheap.
        heap = [(_compression_order(e, policy), index, e) for index, e in enumerate(entries)]
        heapq.heapify(heap)
        remaining = {e.memory_id: e for e in entries}
        counter = len(heap)
        while len(remaining) > limit:
            size = min(policy.compression_batch, len(remaining))
            group = [heapq.heappop(heap)[2] for _ in range(size)]
            group.sort(key=lambda e: (e.created_at, e.memory_id))  # read in the order they happened
            summary = FFMemoryEntryDTO(
                memory_id=new_id(),
                user_id=group[0].user_id,
                layer=layer,
                content=extractive_summary(
                    [e.content for e in group], max_sentences=policy.summary_max_sentences, max_chars=max_content_chars
                ),
                importance=max(e.importance for e in group),
                created_at=now,
                layer_entered_at=max(e.layer_entered_at for e in group),
                kind="summary",
                source_ids=[e.memory_id for e in group],
                tags=sorted({tag for e in group for tag in e.tags}),
                metadata={"compressed_count": len(group), "first_source_at": group[0].created_at.isoformat()},
            )
            for e in group:
                del remaining[e.memory_id]
            remaining[summary.memory_id] = summary
            heapq.heappush(heap, (_compression_order(summary, policy), counter, summary))
            counter += 1
            plan.summaries.append(summary)
            plan.compressed.append(FFMemoryCompressionDTO(layer=layer, summary_id=summary.memory_id, source_ids=summary.source_ids))
            plan.archived.extend(
                FFArchivedMemoryDTO(entry=e, archived_at=now, reason="compressed", from_layer=layer, summary_id=summary.memory_id)
                for e in group
            )
        entries = list(remaining.values())
        plan.layers[layer] = entries


def plan_retention(
    layers: Mapping[MemoryLayer, Sequence[FFMemoryEntryDTO]],
    now: datetime,
    policy: FFMemoryConfigDTO,
    *,
    max_content_chars: int,
    new_id: Callable[[], str],
) -> RetentionPlan:
    """Decide what one retention pass does (see the module docstring). Touches no files.

    ``new_id`` names summary entries; tests pass a counter to get predictable ids.
    """
    cleaned, changed, dropped = dedupe_layers(layers)
    plan = RetentionPlan(layers=cleaned, changed=changed, duplicates_removed=dropped)
    _expire(plan, now, policy)
    _compress(plan, now, policy, max_content_chars=max_content_chars, new_id=new_id)
    return plan
