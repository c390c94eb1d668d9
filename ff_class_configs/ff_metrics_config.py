"""Configuration of metrics, analytics and audit."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ff_class_configs._section import FFConfigSection

__all__ = ["FFMetricsConfigDTO"]


class FFMetricsConfigDTO(FFConfigSection):
    """Metrics, analytics and audit."""

    bucket: Literal["hour", "day"] = "hour"
    audit_enabled: bool = True
    subscribe_to_events: bool = True
