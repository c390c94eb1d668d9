"""Rules for what the metrics manager accepts: metric names, event types, tags, values, payloads.

Every rule raises :class:`FFValidationError` naming the field, before anything is written.
Names become directory names (``metrics/<name>/...``), so the rule is narrow:

* metric name: dot-separated segments of ``[A-Za-z0-9_-]``, the first character a letter,
  at most 200 characters (``latency_ms``, ``events.tool.executed``, ``tool.duration_ms``). No
  empty segment, so no ``..``, no leading or trailing dot, no ``/``.
* event type / audit action: the same rule (``memory.session_created``, ``login``).
* tag key: ``[A-Za-z_][A-Za-z0-9_.-]{0,63}``; tag value: a string, int or bool (stored as a
  string; bools as ``true``/``false``), no control characters, at most ``max_value_chars``.
* value: a finite int or float (not a bool); timings and counter increments must be >= 0.
* limit (how many audit records to read): an int (not a bool) in ``1..maximum``.

Pure: no I/O.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, Literal

from ff_utils.ff_errors import FFValidationError
from ff_utils.ff_json_utils import ff_dumps, ff_loads

__all__ = [
    "MetricKind",
    "METRIC_KINDS",
    "METRIC_NAME_PATTERN",
    "MAX_NAME_CHARS",
    "validate_metric_name",
    "validate_event_type",
    "validate_tags",
    "validate_value",
    "validate_kind",
    "validate_text",
    "validate_payload",
    "validate_limit",
]

MetricKind = Literal["timing", "counter", "gauge"]
METRIC_KINDS: tuple[MetricKind, ...] = ("timing", "counter", "gauge")
MAX_NAME_CHARS = 200
METRIC_NAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*")
_TAG_KEY_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _dotted_name(value: object, field: str) -> str:
    if (
        not isinstance(value, str)
        or len(value) > MAX_NAME_CHARS
        or METRIC_NAME_PATTERN.fullmatch(value) is None
    ):
        shown = repr(value)[:60]
        raise FFValidationError(
            f"invalid {field} {shown}: use dot-separated segments of A-Z a-z 0-9 _ -, "
            f"starting with a letter, at most {MAX_NAME_CHARS} characters",
            field=field,
            value=value,
        )
    return value


def validate_metric_name(value: object) -> str:
    """Return ``value`` if it is a valid metric name, else raise FFValidationError."""
    return _dotted_name(value, "name")


def validate_event_type(value: object, field: str = "event_type") -> str:
    """Return ``value`` if it is a valid event type (or audit action), else raise FFValidationError."""
    return _dotted_name(value, field)


def validate_kind(value: object) -> MetricKind:
    """Return ``value`` if it is one of ``timing``, ``counter``, ``gauge``."""
    if value not in METRIC_KINDS:
        raise FFValidationError(f"invalid kind {value!r}: use one of {', '.join(METRIC_KINDS)}", field="kind", value=value)
    return value  # type: ignore[return-value]


def validate_value(value: object, kind: MetricKind, field: str = "value") -> float | int:
    """Return a finite number suitable for ``kind``; bools, NaN, inf and negative timings are refused."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FFValidationError(f"{field} must be a number, not {type(value).__name__}", field=field, value=value)
    if isinstance(value, float) and not math.isfinite(value):
        raise FFValidationError(f"{field} must be finite, not {value}", field=field, value=value)
    if isinstance(value, int) and abs(value) > 2**53:
        # Larger ints lose precision as floats in summaries; refuse rather than round silently.
        raise FFValidationError(f"{field} {value} is beyond 2**53", field=field, value=value)
    if kind in ("timing", "counter") and value < 0:
        raise FFValidationError(f"{field} of a {kind} must be >= 0, not {value}", field=field, value=value)
    return value


def validate_tags(tags: object, *, max_tags: int, max_value_chars: int) -> dict[str, str]:
    """Return the tags as ``{str: str}`` sorted by key, or raise FFValidationError.

    Sorting makes equal tag sets serialise identically, which keeps files diffable.
    """
    if tags is None:
        return {}
    if not isinstance(tags, Mapping):
        raise FFValidationError(f"tags must be a mapping, not {type(tags).__name__}", field="tags", value=tags)
    if len(tags) > max_tags:
        raise FFValidationError(f"{len(tags)} tags exceed the limit of {max_tags}", field="tags")
    clean: dict[str, str] = {}
    for key in sorted(tags, key=str):
        raw = tags[key]
        if not isinstance(key, str) or _TAG_KEY_PATTERN.fullmatch(key) is None:
            raise FFValidationError(f"invalid tag key {key!r}", field="tags", value=key)
        if isinstance(raw, bool):
            text = "true" if raw else "false"
        elif isinstance(raw, (str, int)):
            text = str(raw)
        else:
            raise FFValidationError(
                f"tag {key!r} must be a string, int or bool, not {type(raw).__name__}", field="tags", value=raw
            )
        if len(text) > max_value_chars or _CONTROL.search(text):
            raise FFValidationError(
                f"tag {key!r} value is longer than {max_value_chars} characters or holds control characters",
                field="tags",
                value=text[:60],
            )
        clean[key] = text
    return clean


def validate_text(value: object, field: str, *, max_chars: int = 1024) -> str:
    """A non-empty single-line string of at most ``max_chars`` (audit actor and target)."""
    if not isinstance(value, str) or not value or len(value) > max_chars or _CONTROL.search(value):
        raise FFValidationError(
            f"{field} must be a non-empty string of at most {max_chars} characters without control characters",
            field=field,
            value=value if not isinstance(value, str) else value[:60],
        )
    return value


def validate_payload(value: object, field: str, *, max_bytes: int) -> dict[str, Any]:
    """A JSON object (None reads as ``{}``) that serialises to at most ``max_bytes``.

    Returns a plain copy made by a JSON round trip, so later changes by the caller cannot alter
    what is stored, and float NaN/inf (which JSON cannot hold) are refused rather than stored as
    ``null``.
    """
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise FFValidationError(f"{field} must be a mapping, not {type(value).__name__}", field=field, value=value)
    _refuse_non_finite(value, field)
    encoded = ff_dumps(dict(value))
    if len(encoded) > max_bytes:
        raise FFValidationError(f"{field} is {len(encoded):,} bytes as JSON; the limit is {max_bytes:,}", field=field)
    return ff_loads(encoded)


def _refuse_non_finite(value: Any, field: str, depth: int = 0) -> None:
    if depth > 64:
        raise FFValidationError(f"{field} is nested deeper than 64 levels", field=field)
    if isinstance(value, float) and not math.isfinite(value):
        raise FFValidationError(f"{field} holds a non-finite number {value}", field=field, value=value)
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise FFValidationError(f"{field} keys must be strings, not {type(key).__name__}", field=field, value=key)
            _refuse_non_finite(item, field, depth + 1)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _refuse_non_finite(item, field, depth + 1)


def validate_limit(value: object, *, maximum: int) -> int:
    """Return ``value`` if it is an int (not a bool) in ``1..maximum``, else raise FFValidationError."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        raise FFValidationError(f"limit must be an int in 1..{maximum}, not {value!r}", field="limit", value=value)
    return value
