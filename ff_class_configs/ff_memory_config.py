"""Configuration of the memory manager: conversations, the five memory layers, search, context.

Retention chain (see ``ff_managers/_memory/retention.py`` for the algorithm):

    immediate --2 h--> short_term --24 h--> medium_term --7 d--> long_term --365 d--> archive
    permanent: never expires, never compressed

An entry whose time in its layer passes that layer's retention moves to the next layer when its
importance is at least ``move_min_importance[layer]``; otherwise it is archived. Entries at least
``importance_keep_threshold`` important stay ``important_retention_factor`` times longer in
every layer. A layer holding more than ``layer_max_entries`` is compressed: its oldest entries
are merged, ``compression_batch`` at a time, into extractive summary entries that keep the ids
of their sources; the sources go to the archive, so nothing is lost.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ff_class_configs._section import FFConfigSection

__all__ = ["FFMemoryConfigDTO", "MemoryLayer", "MEMORY_LAYERS", "RETENTION_CHAIN"]

MemoryLayer = Literal["immediate", "short_term", "medium_term", "long_term", "permanent"]
MEMORY_LAYERS: tuple[MemoryLayer, ...] = ("immediate", "short_term", "medium_term", "long_term", "permanent")
RETENTION_CHAIN: tuple[MemoryLayer, ...] = ("immediate", "short_term", "medium_term", "long_term")
"""The layers entries flow through, in order; the last one hands expired entries to the archive."""


class FFMemoryConfigDTO(FFConfigSection):
    """Memory layers: how long each keeps an entry and how many it holds before compressing."""

    # ------------------------------------------------------------------ retention
    retention_hours: dict[MemoryLayer, float | None] = Field(
        default_factory=lambda: {
            "immediate": 2,
            "short_term": 24,
            "medium_term": 24 * 7,
            "long_term": 24 * 365,
            "permanent": None,
        },
        description="time an entry spends in a layer before it leaves it; None keeps it forever",
    )
    layer_max_entries: dict[MemoryLayer, int | None] = Field(
        default_factory=lambda: {
            "immediate": 200,
            "short_term": 1_000,
            "medium_term": 5_000,
            "long_term": 20_000,
            "permanent": None,
        },
        description="size above which the oldest entries are compressed into a summary; None: no limit",
    )
    move_min_importance: dict[MemoryLayer, float] = Field(
        default_factory=lambda: {"immediate": 0.2, "short_term": 0.4, "medium_term": 0.6},
        description="an expired entry moves to the next layer only if at least this important, "
        "else it is archived; layers missing here (long_term) archive everything that expires",
    )
    importance_keep_threshold: float = Field(
        0.8, ge=0, le=1, description="entries at least this important are kept longer in every layer"
    )
    important_retention_factor: float = Field(
        2.0, ge=1, description="how many times longer important entries stay in a layer"
    )
    compression_batch: int = Field(20, ge=2, description="how many old entries one summary replaces")
    summary_max_sentences: int = Field(5, ge=1, description="sentences an extractive summary keeps")

    # ------------------------------------------------------------------ search and context
    bm25_k1: float = Field(1.2, gt=0, description="BM25 term-frequency saturation")
    bm25_b: float = Field(0.75, ge=0, le=1, description="BM25 length normalisation")
    search_importance_weight: float = Field(
        0.1, ge=0, le=1, description="relative boost for importance (a tie-breaker, not a ranking signal)"
    )
    search_recency_weight: float = Field(0.1, ge=0, le=1, description="relative boost for recent entries")
    search_recency_half_life_hours: float = Field(168.0, gt=0, description="age at which the recency boost halves")
    context_budget_chars: int = Field(4_000, ge=100, description="default size of a memory context")

    # ------------------------------------------------------------------ conversations
    allowed_roles: tuple[str, ...] = Field(
        ("user", "assistant", "system", "tool"), min_length=1, description="message roles add_message accepts"
    )
    max_title_chars: int = Field(500, ge=1, description="longest session title, in characters")
    max_metadata_bytes: int = Field(64 * 1024, ge=256, description="largest metadata dict, as JSON")
    max_attachment_bytes: int = Field(25 * 1024 * 1024, ge=1, description="largest attachment content")
    max_attachments_per_message: int = Field(16, ge=0, description="most attachments one message may carry")
    max_import_messages: int = Field(100_000, ge=1, description="largest batch import_messages accepts")

    @model_validator(mode="after")
    def _check_layers(self) -> FFMemoryConfigDTO:
        missing = [layer for layer in RETENTION_CHAIN if self.retention_hours.get(layer) is None]
        if missing:
            raise ValueError(f"retention_hours needs a number for {', '.join(missing)}")
        if any(hours is not None and hours <= 0 for hours in self.retention_hours.values()):
            raise ValueError("retention_hours must be positive")
        if any(limit is not None and limit < 1 for limit in self.layer_max_entries.values()):
            raise ValueError("layer_max_entries must be at least 1")
        if any(not 0 <= value <= 1 for value in self.move_min_importance.values()):
            raise ValueError("move_min_importance values must be within [0, 1]")
        return self
