"""Encoding and decoding JSON with orjson: the one place that says what JSON FF Platform stores.

:func:`ff_dumps` accepts what records commonly hold beside plain JSON (pydantic models, paths,
sets, enums, numpy values) and refuses the rest with FFValidationError, so bad input is refused
before anything is written; :func:`ff_loads` turns bytes that do not parse into
FFCorruptionError naming the file. The document helpers (:mod:`ff_utils.ff_json_utils`) and the
JSONL appender and readers (:mod:`ff_utils._jsonl_append`, :mod:`ff_utils._jsonl_read`) share
them; every public name is importable from :mod:`ff_utils.ff_json_utils`.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Any, Literal

import orjson

from ff_utils.ff_errors import FFValidationError, ff_translate_errors

__all__ = ["Durability", "DEFAULT_MAX_RECORD_BYTES", "ff_dumps", "ff_loads"]

Durability = Literal["always", "batch", "never"]
DEFAULT_MAX_RECORD_BYTES = 16 * 1024 * 1024


def _default(value: Any) -> Any:
    # Pydantic models, paths and sets show up in records often enough to accept them directly.
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, bytes):
        raise TypeError("bytes are not JSON; encode them (base64) first")
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def ff_dumps(value: Any, *, indent: bool = False) -> bytes:
    """Serialise to JSON bytes; FFValidationError for anything JSON cannot hold."""
    option = orjson.OPT_SERIALIZE_NUMPY | (orjson.OPT_INDENT_2 if indent else 0)
    try:
        return orjson.dumps(value, default=_default, option=option)
    except (orjson.JSONEncodeError, TypeError) as exc:
        # orjson words a refusal of ``_default`` as its own generic "Type is not JSON
        # serializable: bytes" and keeps ours (with its hint) as the cause: show ours.
        reason = exc.__cause__ if isinstance(exc.__cause__, TypeError) else exc
        raise FFValidationError(f"value cannot be stored as JSON: {reason}", field="record") from exc


def ff_loads(data: bytes | str, *, path: Path | None = None) -> Any:
    """Parse JSON; FFCorruptionError (naming ``path``) when the bytes are not valid JSON."""
    with ff_translate_errors("parse JSON", path):
        return orjson.loads(data)

