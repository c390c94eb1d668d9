"""Rules for what the metrics manager accepts beyond the shared ones: names, kinds, tags, values.

Every rule raises :class:`FFValidationError` naming the field, before anything is written. The
shared kinds of field follow ``ff_managers/_core/checks.py`` (one rule each for every manager):
audit actor and target are single-line text, analytics data and audit details are JSON objects
(NaN and infinity refused at any depth), ``limit`` is a limit, values are numbers. What is
particular to metrics is here. Names become directory names (``metrics/<name>/...``), so the
rule is narrow:

* metric name: dot-separated segments of ``[A-Za-z0-9_-]``, the first character a letter,
  at most 200 characters (``latency_ms``, ``events.tool.executed``, ``tool.duration_ms``). No
  empty segment, so no ``..``, no leading or trailing dot, no ``/``.
* event type / audit action: the same rule (``memory.session_created``, ``login``).
* tag key: ``[A-Za-z_][A-Za-z0-9_.-]{0,63}``; tag value: a string, int or bool (stored as a
  string; bools as ``true``/``false``), then single-line text of at most ``max_value_chars``
  (empty allowed: a tag may be present with no value).
* value: a number by the shared rule (finite, not a bool, ints within 2**53); timings and
  counter increments must also be >= 0.

Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Literal

from ff_managers._core.checks import check_number, check_text
from ff_utils.ff_errors import FFValidationError

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
]

MetricKind = Literal["timing", "counter", "gauge"]
METRIC_KINDS: tuple[MetricKind, ...] = ("timing", "counter", "gauge")
MAX_NAME_CHARS = 200
METRIC_NAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*")
_TAG_KEY_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}")


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
    """Return a number suitable for ``kind``: the shared number rule (bools, NaN, inf and ints
    beyond 2**53 refused: they would lose precision as floats in summaries), and >= 0 for
    timings and counters."""
    number = check_number(value, field=field)
    if kind in ("timing", "counter") and number < 0:
        raise FFValidationError(f"{field} of a {kind} must be >= 0, not {number}", field=field, value=value)
    return number


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
        clean[key] = check_text(text, field="tags", max_chars=max_value_chars, allow_empty=True, single_line=True)
    return clean
