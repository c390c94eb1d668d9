"""Helpers shared by the tool tests: test-only tool definitions that run Python code.

The fake clock the tool tests inject is the shared one, :class:`tests._fakes.FakeClock`.
"""

from __future__ import annotations

import sys
import textwrap

from pydantic import BaseModel, ConfigDict

from ff_class_configs.ff_tool_dtos import FFToolDefinitionDTO, FFToolLimitsDTO

__all__ = ["AnyArgs", "code_tool"]


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

