"""Configuration sections of the five managers.

Each manager owns one section; defaults are what a chat product wants out of the box.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "FFMemoryConfigDTO",
    "FFPanelConfigDTO",
    "FFKnowledgeConfigDTO",
    "FFToolConfigDTO",
    "FFMetricsConfigDTO",
    "MemoryLayer",
    "MEMORY_LAYERS",
]

MemoryLayer = Literal["immediate", "short_term", "medium_term", "long_term", "permanent"]
MEMORY_LAYERS: tuple[MemoryLayer, ...] = ("immediate", "short_term", "medium_term", "long_term", "permanent")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class FFMemoryConfigDTO(_Section):
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


class FFPanelConfigDTO(_Section):
    """Multi-persona panels."""

    max_participants: int = Field(32, ge=2)
    max_message_chars: int = Field(50_000, ge=1)
    default_turn_policy: Literal["free", "round_robin", "moderated"] = "free"


class FFKnowledgeConfigDTO(_Section):
    """Knowledge bases: chunking and retrieval."""

    chunk_size_chars: int = Field(1_000, ge=100)
    chunk_overlap_chars: int = Field(150, ge=0)
    max_document_bytes: int = Field(20 * 1024 * 1024, ge=1)
    default_top_k: int = Field(5, ge=1, le=100)


class FFToolConfigDTO(_Section):
    """Sandboxed tool execution: default limits and resilience settings."""

    default_wall_time_seconds: float = Field(10.0, gt=0)
    default_cpu_time_seconds: int = Field(10, ge=1)
    default_memory_mb: int = Field(512, ge=32)
    default_max_output_bytes: int = Field(256 * 1024, ge=1024)
    max_retries: int = Field(2, ge=0, le=10)
    retry_backoff_seconds: float = Field(0.05, ge=0)
    breaker_failure_threshold: int = Field(5, ge=1)
    breaker_cooldown_seconds: float = Field(30.0, gt=0)
    rate_limit_per_minute: int = Field(600, ge=1)


class FFMetricsConfigDTO(_Section):
    """Metrics, analytics and audit."""

    bucket: Literal["hour", "day"] = "hour"
    audit_enabled: bool = True
    subscribe_to_events: bool = True
