"""Helpers shared by the tool tests: test-only tool definitions that run Python code, a fake clock."""

from __future__ import annotations

import sys
import textwrap
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict

from ff_class_configs.ff_tool_dtos import FFToolDefinitionDTO, FFToolLimitsDTO

__all__ = ["AnyArgs", "FakeClock", "code_tool"]


class AnyArgs(BaseModel):
    """Test tools accept any JSON object."""

    model_config = ConfigDict(extra="allow")


def code_tool(name: str, code: str, *, limits: FFToolLimitsDTO | None = None, **extra: object) -> FFToolDefinitionDTO:
    """A tool whose fixed argv is ``python -c <code>``: how the tests run hostile programs."""
    return FFToolDefinitionDTO(
        name=name,
        description=f"test tool {name}",
        argv=(sys.executable, "-c", textwrap.dedent(code)),
        parameters=AnyArgs,
        limits=limits or FFToolLimitsDTO(),
        **extra,
    )


class FakeClock:
    """An injectable clock that only moves when told to."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
