"""The base of every configuration section: unknown keys are errors, assignments are validated."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["FFConfigSection"]


class FFConfigSection(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)
