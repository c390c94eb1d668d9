"""The built-in tools: one small module per tool, each a program of its own.

Every tool runs as ``python -m ff_managers.tools_builtin.<name>`` (or, as the tool manager starts
it, ``python -m tools_builtin.<name>`` with only this package on ``PYTHONPATH``, so a tool never
imports, nor pays for, the managers): JSON arguments on stdin, one JSON result on stdout, an
exit code from :mod:`._protocol`. This ``__init__`` imports nothing on purpose.
"""

BUILTIN_TOOL_NAMES = (
    "word_count",
    "extract_text",
    "summarize",
    "calculator",
    "translate",
    "grammar_check",
    "create_task",
    "disk_usage",
    "restart_service",
)

__all__ = ["BUILTIN_TOOL_NAMES"]
