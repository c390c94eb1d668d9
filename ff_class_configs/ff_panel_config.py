"""Configuration of panel sessions."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ff_class_configs._section import FFConfigSection

__all__ = ["FFPanelConfigDTO"]


class FFPanelConfigDTO(FFConfigSection):
    """Multi-persona panels."""

    max_participants: int = Field(32, ge=2)
    max_message_chars: int = Field(50_000, ge=1)
    default_turn_policy: Literal["free", "round_robin", "moderated"] = "free"
