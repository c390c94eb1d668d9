"""Configuration of sandboxed tool execution."""

from __future__ import annotations

from pydantic import Field

from ff_class_configs._section import FFConfigSection

__all__ = ["FFToolConfigDTO"]


class FFToolConfigDTO(FFConfigSection):
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
