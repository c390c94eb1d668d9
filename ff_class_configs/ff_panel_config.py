"""Configuration of panel sessions: size limits on every input, and the default turn policy.

Every limit is checked before anything is written, so a panel never holds a message, title or
metadata blob larger than configured here. The defaults allow long expert answers (50,000
characters is about 8,000 words) while keeping one JSONL record far below the storage layer's
record limit.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ff_class_configs._section import FFConfigSection

__all__ = ["FFPanelConfigDTO", "FFTurnPolicyName"]

FFTurnPolicyName = Literal["free", "round_robin", "moderated"]


class FFPanelConfigDTO(FFConfigSection):
    """Multi-persona panels."""

    max_participants: int = Field(32, ge=2, description="most participants one panel may have")
    min_participants: int = Field(
        2, ge=1, description="fewest participants one panel may have (a panel is a conversation of several)"
    )
    max_message_chars: int = Field(50_000, ge=1, description="longest message, in characters")
    default_turn_policy: FFTurnPolicyName = Field(
        "free", description="turn policy of a panel created without one"
    )
    max_title_chars: int = Field(300, ge=1, description="longest panel title")
    max_name_chars: int = Field(200, ge=1, description="longest participant name, decision option or category")
    max_metadata_bytes: int = Field(
        64 * 1024, ge=2, description="largest metadata object (panel, message, insight...), measured as JSON"
    )
    max_insight_chars: int = Field(20_000, ge=1, description="longest insight or decision question")
    max_state_bytes: int = Field(
        1024 * 1024, ge=2, description="largest panel state document (a game's world, a task's plan), as JSON"
    )
    max_import_messages: int = Field(
        10_000, ge=1, description="most messages one bulk import may append (it is validated in memory first)"
    )
    max_decision_options: int = Field(32, ge=2, description="most options one decision may offer")
    max_persona_bytes: int = Field(
        512 * 1024, ge=256, description="largest persona JSON file the registry reads or writes"
    )
    require_registered_personas: bool = Field(
        True,
        description="a participant's persona_id must name a persona in the registry; switch off only "
        "to accept panels that reference personas kept elsewhere",
    )

    @model_validator(mode="after")
    def _bounds_ordered(self) -> FFPanelConfigDTO:
        if self.min_participants > self.max_participants:
            raise ValueError(
                f"min_participants ({self.min_participants}) exceeds max_participants ({self.max_participants})"
            )
        return self
