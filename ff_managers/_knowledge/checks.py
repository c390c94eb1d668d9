"""The knowledge base's input checks: what a caller hands the façade, refused before any work.

Every check raises :class:`FFValidationError` naming the field, so the façade's public methods
read as "check, call, publish". Document content is checked by :mod:`.extract` (it has to be
decoded first); everything else a caller passes is checked here.
"""

from __future__ import annotations

from typing import Any

from ff_managers._knowledge.extract import resolve_format
from ff_utils.ff_errors import FFValidationError
from ff_utils.ff_ids import ff_validate_id
from ff_utils.ff_json_utils import ff_dumps, ff_loads

__all__ = [
    "check_ids",
    "check_text_field",
    "check_metadata",
    "check_format",
    "check_top_k",
    "check_per_document",
    "check_query",
]


def check_ids(user_id: str, kb_id: str, **others: str | None) -> None:
    """``user_id`` and ``kb_id``, then each keyword (``doc_id=...``) that is not None."""
    ff_validate_id(user_id, "user_id")
    ff_validate_id(kb_id, "kb_id")
    for name, value in others.items():
        if value is not None:
            ff_validate_id(value, name)


def check_text_field(value: object, name: str, max_chars: int, *, allow_empty: bool = False) -> str:
    """A one-line-ish text (name, title, source): stripped, bounded, no control characters but tab and newline."""
    if not isinstance(value, str):
        raise FFValidationError(f"{name} must be a string", field=name, value=type(value).__name__)
    cleaned = value.strip()
    if not cleaned and not allow_empty:
        raise FFValidationError(f"{name} must not be empty", field=name)
    if len(cleaned) > max_chars:
        raise FFValidationError(f"{name} longer than {max_chars} characters", field=name, value=len(cleaned))
    if any(ord(ch) < 32 and ch not in "\t\n" for ch in cleaned) or "\x7f" in cleaned:
        raise FFValidationError(f"{name} contains control characters", field=name)
    return cleaned


def check_metadata(metadata: dict[str, Any] | None, max_bytes: int) -> dict[str, Any]:
    """A JSON object with string keys of at most ``max_bytes`` encoded, as a reader will get it back."""
    if metadata is None:
        return {}
    if not isinstance(metadata, dict) or not all(isinstance(k, str) for k in metadata):
        raise FFValidationError("metadata must be a JSON object with string keys", field="metadata")
    encoded = ff_dumps(metadata)  # FFValidationError for anything JSON cannot hold
    if len(encoded) > max_bytes:
        raise FFValidationError(f"metadata of {len(encoded):,} bytes exceeds {max_bytes:,}", field="metadata")
    # Round-tripping through JSON stores exactly what a reader will get back.
    return dict(ff_loads(encoded))


def check_format(fmt: str | None, mime_type: str | None) -> str | None:
    """The format named by ``fmt`` or ``mime_type``; FFValidationError when both are given and disagree."""
    if fmt is not None and mime_type is not None and resolve_format(fmt, has_bytes=True) != resolve_format(
        mime_type, has_bytes=True
    ):
        raise FFValidationError("format and mime_type disagree", field="format", value=(fmt, mime_type))
    return fmt or mime_type


def check_top_k(top_k: int | None, *, default: int, maximum: int) -> int:
    """``top_k`` (``default`` when None): an integer in 1..``maximum``."""
    k = default if top_k is None else top_k
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= maximum:
        raise FFValidationError(f"top_k must be an integer in 1..{maximum}", field="top_k", value=k)
    return k


def check_per_document(per_document: int | None, *, default: int | None) -> int | None:
    """The per-document cap: None means ``default``, 0 means no cap (None), else an integer >= 1."""
    if per_document is None:
        return default
    if isinstance(per_document, bool) or not isinstance(per_document, int) or per_document < 0:
        raise FFValidationError("per_document must be an integer >= 0", field="per_document", value=per_document)
    return per_document or None


def check_query(query: object, max_chars: int) -> str:
    """A non-empty query of at most ``max_chars`` characters (returned as given)."""
    if not isinstance(query, str) or not query.strip():
        raise FFValidationError("query must be a non-empty string", field="query")
    if len(query) > max_chars:
        raise FFValidationError(f"query longer than {max_chars} characters", field="query", value=len(query))
    return query
