"""Definitions of the built-in tools: parameter models, fixed argv, permissions, limits.

The tools themselves live in :mod:`ff_managers.tools_builtin` and run as separate programs; this
module only says how to start them. The argv is ``python -P -B -m tools_builtin.<name>``:
``-P`` keeps the working directory (which holds user files) off ``sys.path``, so a staged
``json.py`` cannot shadow the standard library, and ``-B`` writes no bytecode.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ff_class_configs.ff_tool_dtos import FFToolDefinitionDTO, FFToolLimitsDTO, FFToolPermissionsDTO

__all__ = ["TOOLS_PACKAGE_PARENT", "builtin_tool_definitions", "builtin_argv"]

TOOLS_PACKAGE_PARENT = Path(__file__).resolve().parent.parent
"""Put on the tool's PYTHONPATH: it holds ``tools_builtin`` and nothing the tools should import."""

_MAX_TEXT = 200_000


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _TextOrPath(_Args):
    text: str | None = Field(None, max_length=_MAX_TEXT)
    path: str | None = Field(None, max_length=255, description="a file staged into the run's work dir")

    @model_validator(mode="after")
    def _exactly_one(self) -> _TextOrPath:
        if (self.text is None) == (self.path is None):
            raise ValueError("give exactly one of 'text' or 'path'")
        return self


class WordCountArgs(_TextOrPath):
    top: int = Field(5, ge=0, le=50)


class ExtractTextArgs(_Args):
    path: str = Field(min_length=1, max_length=255)
    max_chars: int = Field(200_000, ge=1, le=2_000_000)
    max_pages: int = Field(2_000, ge=1, le=100_000)


class SummarizeArgs(_TextOrPath):
    max_sentences: int = Field(3, ge=1, le=50)


class CalculatorArgs(_Args):
    expression: str = Field(min_length=1, max_length=1000)


class TranslateArgs(_Args):
    text: str = Field(min_length=1, max_length=_MAX_TEXT)
    source: Literal["en", "es", "fr", "de"] = "en"
    target: Literal["en", "es", "fr", "de"]


class GrammarCheckArgs(_Args):
    text: str = Field(min_length=1, max_length=_MAX_TEXT)


class CreateTaskArgs(_Args):
    title: str = Field(min_length=1, max_length=200)
    notes: str = Field("", max_length=5000)
    priority: Literal["low", "normal", "high", "urgent"] = "normal"
    due: str | None = Field(None, pattern=r"^\d{4}-\d{2}-\d{2}$")
    depends_on: list[str] = Field(default_factory=list, max_length=50)
    tags: list[str] = Field(default_factory=list, max_length=20)


class DiskUsageArgs(_Args):
    pass


class RestartServiceArgs(_Args):
    service: Literal["chat-api", "indexer", "worker", "scheduler"]
    reason: str = Field(min_length=3, max_length=500)


def builtin_argv(module: str) -> tuple[str, ...]:
    return (sys.executable, "-P", "-B", "-m", f"tools_builtin.{module}")


def builtin_tool_definitions() -> list[FFToolDefinitionDTO]:
    """The nine built-ins the 22 use cases need."""
    quick = FFToolLimitsDTO(wall_time_seconds=10.0, cpu_time_seconds=10, max_processes=1)

    def tool(name: str, description: str, parameters: type[BaseModel], **extra: object) -> FFToolDefinitionDTO:
        return FFToolDefinitionDTO(
            name=name, description=description, argv=builtin_argv(name), parameters=parameters, limits=quick, **extra
        )

    return [
        tool("word_count", "Count words, characters, lines, sentences; list the most frequent words.", WordCountArgs, path_arguments=("path",)),
        tool("extract_text", "Extract plain text from a .txt, .md or .pdf file staged into the run.", ExtractTextArgs, path_arguments=("path",)),
        tool("summarize", "Extractive summary: the top sentences by word frequency, in original order.", SummarizeArgs, path_arguments=("path",)),
        tool("calculator", "Evaluate arithmetic (+ - * / // % ** and parentheses) safely, without eval.", CalculatorArgs),
        tool("translate", "Glossary translation between English and Spanish, French or German.", TranslateArgs),
        tool("grammar_check", "Certain grammar fixes (repeats, a/an, capitals, spacing, confusions) with offsets.", GrammarCheckArgs),
        tool("create_task", "Create a task record (title, priority, due date, dependencies).", CreateTaskArgs),
        tool(
            "disk_usage",
            "Size of the user's tool workspace (all run directories). Needs a grant.",
            DiskUsageArgs,
            permissions=FFToolPermissionsDTO(dangerous=True),
            workspace_view=True,
        ),
        tool(
            "restart_service",
            "File a restart request for a known service. Ops only; needs a grant.",
            RestartServiceArgs,
            permissions=FFToolPermissionsDTO(dangerous=True, allowed_roles=("ops",)),
        ),
    ]
