"""Which rule of :mod:`ff_managers._core.checks` each knowledge base argument follows.

The rules themselves (text, JSON object, limit) are written once in ``_core.checks``; this module
only names the kind of each field and adds what is knowledge's own: names, titles and sources
are stored stripped of surrounding whitespace, ``format`` and ``mime_type`` must agree, and
``per_document`` 0 means "no cap". Every check raises :class:`FFValidationError` naming the
field, before anything is written. Document content is checked by :mod:`.extract` (it has to be
decoded first).
"""

from __future__ import annotations

import sys
from typing import Any

from ff_managers._core.checks import check_json_object, check_limit, check_text
from ff_managers._knowledge.extract import resolve_format
from ff_utils.ff_errors import FFValidationError
from ff_utils.ff_ids import ff_validate_id

__all__ = [
    "check_batch",
    "check_ids",
    "check_label",
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


def check_label(value: object, name: str, max_chars: int, *, allow_empty: bool = False) -> str:
    """A name, title, description or source: the text rule on the value stripped of outer whitespace."""
    return check_text(
        value.strip() if isinstance(value, str) else value, field=name, max_chars=max_chars, allow_empty=allow_empty
    )


def check_metadata(metadata: dict[str, Any] | None, max_bytes: int) -> dict[str, Any]:
    """The JSON object rule: a fresh plain copy, as a reader will get it back (None is ``{}``)."""
    return check_json_object(metadata, field="metadata", max_bytes=max_bytes)


def check_format(fmt: str | None, mime_type: str | None) -> str | None:
    """The format named by ``fmt`` or ``mime_type``; FFValidationError when both are given and disagree."""
    if fmt is not None and mime_type is not None and resolve_format(fmt, has_bytes=True) != resolve_format(
        mime_type, has_bytes=True
    ):
        raise FFValidationError("format and mime_type disagree", field="format", value=(fmt, mime_type))
    return fmt or mime_type


def check_top_k(top_k: int | None, *, default: int, maximum: int) -> int:
    """``top_k`` (``default`` when None): the limit rule in 1..``maximum``."""
    return check_limit(default if top_k is None else top_k, field="top_k", maximum=maximum)


def check_per_document(per_document: int | None, *, default: int | None) -> int | None:
    """The per-document cap: None means ``default``, 0 means no cap (None), else an integer >= 1."""
    if per_document is None:
        return default
    return check_limit(per_document, field="per_document", minimum=0, maximum=sys.maxsize) or None


def check_query(query: object, max_chars: int) -> str:
    """The text rule: a non-blank query of at most ``max_chars`` characters (returned as given)."""
    return check_text(query, field="query", max_chars=max_chars)


def check_batch(items: object, maximum: int) -> list[Any]:
    """A batch as a list: a sequence (not text, bytes or a mapping) of 1..``maximum`` items."""
    if isinstance(items, (str, bytes, bytearray, dict)) or not isinstance(items, (list, tuple)):
        raise FFValidationError("documents must be a list of mappings", field="documents")
    if not 1 <= len(items) <= maximum:
        raise FFValidationError(f"a batch holds 1 to {maximum:,} documents, not {len(items):,}", field="documents", value=len(items))
    return list(items)
