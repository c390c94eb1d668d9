"""Configuration of memory layers."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ff_class_configs._section import FFConfigSection

__all__ = ["FFMemoryConfigDTO", "MemoryLayer", "MEMORY_LAYERS"]

MemoryLayer = Literal["immediate", "short_term", "medium_term", "long_term", "permanent"]
MEMORY_LAYERS: tuple[MemoryLayer, ...] = ("immediate", "short_term", "medium_term", "long_term", "permanent")



class FFMemoryConfigDTO(FFConfigSection):
    """Memory layers: how long each keeps an entry and how many it holds before compressing."""

    retention_hours: dict[MemoryLayer, float | None] = Field(
        default_factory=lambda: {
            "immediate": 2,
            "short_term": 24,
            "medium_term": 24 * 7,
            "long_term": 24 * 365,
            "permanent": None,
        },
        description="age after which an entry leaves its layer; None keeps it forever",
    )
    layer_max_entries: dict[MemoryLayer, int | None] = Field(
        default_factory=lambda: {
            "immediate": 200,
            "short_term": 1_000,
            "medium_term": 5_000,
            "long_term": 20_000,
            "permanent": None,
        },
        description="size above which the oldest entries are compressed into a summary",
    )
    importance_keep_threshold: float = Field(
        0.8, ge=0, le=1, description="entries at least this important move down instead of being archived"
    )
    compression_batch: int = Field(20, ge=2, description="how many old entries one summary replaces")
    summary_max_sentences: int = Field(5, ge=1)
    context_budget_chars: int = Field(4_000, ge=100, description="default size of a memory context")
