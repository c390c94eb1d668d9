"""The contract between a tool process and the tool manager (stdlib only).

stdin: one JSON object (the validated arguments). stdout: one JSON value (the result) and exit
0. On a failure the tool prints ``{"error": {"type", "message", "retryable"}}`` and exits with a
sysexits code: 65 bad input, 75 try again later (the manager retries it), 77 sandbox violation.
Paths in arguments are resolved by :func:`workspace_path`, which refuses anything outside the
working directory even when the manager already checked (defence in depth).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

__all__ = [
    "EX_DATAERR",
    "EX_NOPERM",
    "EX_TEMPFAIL",
    "ToolError",
    "ToolSandboxViolation",
    "ToolTransientError",
    "read_text_argument",
    "run_tool",
    "workspace_path",
]

EX_DATAERR = 65
EX_TEMPFAIL = 75
EX_NOPERM = 77
_MAX_STDIN_BYTES = 8 * 1024 * 1024


class ToolError(Exception):
    """The input cannot be processed; not worth retrying."""

    exit_code = EX_DATAERR
    kind = "invalid_input"
    retryable = False


class ToolTransientError(ToolError):
    """A temporary failure: the manager retries with backoff."""

    exit_code = EX_TEMPFAIL
    kind = "transient"
    retryable = True


class ToolSandboxViolation(ToolError):
    """The arguments name something outside the tool's working directory."""

    exit_code = EX_NOPERM
    kind = "sandbox_violation"


def workspace_path(relative: object, *, must_exist: bool = True) -> Path:
    """Resolve ``relative`` inside the working directory or raise ToolSandboxViolation.

    Refuses non-strings, empty, absolute paths, NUL and ``..`` segments lexically, then resolves
    symlinks and refuses a result outside the working directory.
    """
    if not isinstance(relative, str) or not relative or "\x00" in relative:
        raise ToolSandboxViolation(f"not a usable path: {relative!r}")
    if os.path.isabs(relative) or ".." in Path(relative).parts:
        raise ToolSandboxViolation(f"path {relative!r} leaves the working directory")
    root = Path(os.getcwd()).resolve()
    resolved = Path(os.path.realpath(root / relative))
    if resolved != root and root not in resolved.parents:
        raise ToolSandboxViolation(f"path {relative!r} resolves outside the working directory")
    if must_exist and not resolved.is_file():
        raise ToolError(f"no such file in the working directory: {relative!r}")
    return resolved


def read_text_argument(args: dict[str, Any], *, max_chars: int = 2_000_000) -> str:
    """The ``text`` argument, or the UTF-8 content of the file named by ``path``."""
    text, path = args.get("text"), args.get("path")
    if (text is None) == (path is None):
        raise ToolError("give exactly one of 'text' or 'path'")
    if path is not None:
        target = workspace_path(path)
        if target.stat().st_size > max_chars * 4:
            raise ToolError(f"file {path!r} is too large")
        text = target.read_text(encoding="utf-8", errors="replace")
    if not isinstance(text, str):
        raise ToolError("'text' must be a string")
    if len(text) > max_chars:
        raise ToolError(f"text longer than {max_chars:,} characters")
    return text


def _emit(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False))
    sys.stdout.write("\n")
    sys.stdout.flush()


def run_tool(handler: Callable[[dict[str, Any]], Any]) -> NoReturn:
    """Read the arguments, call ``handler``, print its result; exit with the protocol's code.

    Only :class:`ToolError` is turned into an error document; anything else is a bug or a
    resource limit (MemoryError) and ends the process with a traceback on stderr.
    """
    raw = sys.stdin.buffer.read(_MAX_STDIN_BYTES + 1)
    try:
        if len(raw) > _MAX_STDIN_BYTES:
            raise ToolError("arguments too large")
        try:
            args = json.loads(raw.decode("utf-8")) if raw.strip() else {}
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ToolError(f"arguments are not JSON: {exc}") from exc
        if not isinstance(args, dict):
            raise ToolError("arguments must be a JSON object")
        result = handler(args)
    except ToolError as exc:
        _emit({"error": {"type": exc.kind, "message": str(exc), "retryable": exc.retryable}})
        sys.exit(exc.exit_code)
    _emit(result)
    sys.exit(0)
