"""One set of input checks for every manager: one rule per kind of field, written down once.

Before this module each manager had its own checks and the rules had drifted: memory accepted
control characters and stored NaN metadata (read back as ``null``), metrics refused both, the
panel refused only NUL. Every manager now checks input here, before anything is written, and a
bad value raises one :class:`FFValidationError` whose ``field`` names the argument and whose
message is one line.

=============  ==============================================================================
kind           rule
=============  ==============================================================================
content        ``str``; not blank unless ``allow_empty``; at most ``max_chars`` characters; no NUL.
               The body of what people and tools say: messages, memories, insights, summaries
text           as content, and no control characters (see below): titles, names, questions,
               queries, usernames
single-line    as text, and no TAB / LF / CR either (tags, audit actor/target)
JSON object    a mapping with ``str`` keys (``None`` reads as ``{}``) holding only plain JSON:
               dict, list/tuple, str, int, float, bool, None, at most 64 levels deep; NaN and
               +/-infinity refused at any depth; ints within 64 bits; at most ``max_bytes`` as
               compact JSON. Returned as a fresh copy (a JSON round trip), so a later change
               by the caller cannot alter what is stored
limit          ``int`` (``bool`` is not an int) in ``[minimum, maximum]``, ``minimum`` 1 by
               default: ``limit``, ``top_k``, page sizes
number         ``int`` or ``float`` (not ``bool``), finite, ints within +/-2**53 (beyond, they
               lose precision as floats in summaries), optionally within ``[minimum, maximum]``
timestamp      a ``datetime``, or (``parse_text=True``, for stored and imported records) an ISO
               8601 string or epoch seconds (as pydantic reads them, aware UTC); naive values are
               kept naive (``naive="keep"``: stored legacy data keeps its form), taken as UTC
               (``naive="utc"``: code that compares times) or refused (``naive="refuse"``)
=============  ==============================================================================

The control-character rule, by kind. Content refuses only NUL: it breaks C strings and file
formats downstream, while the other controls are part of what chat content legitimately carries
(a tool's coloured output is ESC sequences, a pasted terminal transcript has BEL and BS), and
legacy conversations hold them, so refusing them would refuse real history. Text refuses the C0
controls U+0000-U+001F and DEL U+007F except TAB, LF and CR: a title or a name is typed, never
printed output, so a control there is injected. Single-line fields refuse TAB, LF and CR as well
(they end up in log lines and file names). C1 controls and other Unicode format characters are
text everywhere and are kept.

Each check is a plain function ``check_<kind>(value, *, field, ...) -> value``, in the style of
attrs' validators; :func:`timestamp` binds a timestamp policy once and returns a :data:`Check`
(``check(value, field)``) for modules that apply the same policy everywhere. Pure: no I/O.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from pydantic import TypeAdapter, ValidationError

from ff_utils.ff_errors import FFValidationError
from ff_utils.ff_json_utils import ff_dumps, ff_loads

__all__ = [
    "Check",
    "NaivePolicy",
    "MAX_JSON_DEPTH",
    "MAX_EXACT_INT",
    "check_content",
    "check_text",
    "check_json_object",
    "check_limit",
    "check_number",
    "check_timestamp",
    "timestamp",
]

T = TypeVar("T")
Check = Callable[[object, str], T]
"""A bound check: ``check(value, field)`` returns the accepted value or raises FFValidationError."""

NaivePolicy = Literal["keep", "utc", "refuse"]

MAX_JSON_DEPTH = 64
MAX_EXACT_INT = 2**53
_INT64 = range(-(2**63), 2**64)  # what orjson can encode (signed and unsigned 64-bit)
_CONTROL_CONTENT = re.compile(r"\x00")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_SINGLE_LINE = re.compile(r"[\x00-\x1f\x7f]")
_DATETIME: TypeAdapter[datetime] = TypeAdapter(datetime)


def _shown(value: object) -> str:
    """``value`` for a one-line message: its repr, cut to 60 characters."""
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."


# --------------------------------------------------------------------------- text


def check_content(value: object, *, field: str, max_chars: int, allow_empty: bool = False) -> str:
    """``value`` if it follows the content rule: text of any characters but NUL (module docstring)."""
    return _checked_text(value, field, max_chars, allow_empty, _CONTROL_CONTENT)


def check_text(
    value: object, *, field: str, max_chars: int, allow_empty: bool = False, single_line: bool = False
) -> str:
    """``value`` if it is text that follows the text rule (see the module docstring).

    ``allow_empty`` accepts blank text (imports keep a historical record even if it is empty);
    ``single_line`` also refuses TAB, LF and CR.
    """
    return _checked_text(value, field, max_chars, allow_empty, _CONTROL_SINGLE_LINE if single_line else _CONTROL)


def _checked_text(value: object, field: str, max_chars: int, allow_empty: bool, refused: re.Pattern[str]) -> str:
    if not isinstance(value, str):
        raise FFValidationError(f"{field} must be text, not {type(value).__name__}", field=field)
    if not allow_empty and not value.strip():
        raise FFValidationError(f"{field} is empty", field=field)
    if len(value) > max_chars:
        raise FFValidationError(f"{field} has {len(value):,} characters; the limit is {max_chars:,}", field=field)
    found = refused.search(value)
    if found is not None:
        raise FFValidationError(
            f"{field} holds the control character U+{ord(found.group()):04X} at position {found.start()}",
            field=field,
            value=value[:60],
        )
    return value


# --------------------------------------------------------------------------- JSON objects


def _refuse_non_plain(value: Any, where: str, field: str, depth: int) -> None:
    """Walk ``value``; raise on the first thing plain JSON cannot hold, naming where it is."""
    if depth > MAX_JSON_DEPTH:
        raise FFValidationError(f"{field} is nested deeper than {MAX_JSON_DEPTH} levels", field=field)
    if value is None or isinstance(value, (str, bool)):
        return
    if isinstance(value, int):
        if value not in _INT64:
            raise FFValidationError(f"{where} holds the integer {value}, beyond 64 bits", field=field, value=value)
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise FFValidationError(
                f"{where} is {value}; JSON cannot hold NaN or infinity", field=field, value=value
            )
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise FFValidationError(
                    f"{where} has a key of type {type(key).__name__}; keys must be text", field=field, value=key
                )
            _refuse_non_plain(item, f"{where}.{key}", field, depth + 1)
        return
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _refuse_non_plain(item, f"{where}[{index}]", field, depth + 1)
        return
    raise FFValidationError(
        f"{where} holds a {type(value).__name__}; only plain JSON (dict, list, str, number, bool, None) is stored",
        field=field,
    )


def check_json_object(value: object, *, field: str, max_bytes: int) -> dict[str, Any]:
    """A fresh plain copy of the JSON object ``value`` (``None`` is ``{}``), per the module's rule."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise FFValidationError(f"{field} must be a mapping, not {type(value).__name__}", field=field)
    _refuse_non_plain(value, field, field, 0)
    encoded = ff_dumps(dict(value))
    if len(encoded) > max_bytes:
        raise FFValidationError(f"{field} is {len(encoded):,} bytes as JSON; the limit is {max_bytes:,}", field=field)
    copy: dict[str, Any] = ff_loads(encoded)
    return copy


# --------------------------------------------------------------------------- numbers


def check_limit(value: object, *, field: str = "limit", maximum: int, minimum: int = 1) -> int:
    """``value`` if it is an int (not a bool) within ``[minimum, maximum]``."""
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise FFValidationError(
            f"{field} must be an integer in [{minimum}, {maximum}], not {_shown(value)}", field=field, value=value
        )
    return value


def check_number(
    value: object, *, field: str, minimum: float | None = None, maximum: float | None = None
) -> int | float:
    """``value`` (unchanged: an int stays an int) if it is a finite number within the bounds."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FFValidationError(f"{field} must be a number, not {type(value).__name__}", field=field, value=value)
    if isinstance(value, float) and not math.isfinite(value):
        raise FFValidationError(f"{field} must be finite, not {value}", field=field, value=value)
    if isinstance(value, int) and abs(value) > MAX_EXACT_INT:
        raise FFValidationError(f"{field} {value} is beyond 2**53", field=field, value=value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        low = "-inf" if minimum is None else f"{minimum:g}"
        high = "inf" if maximum is None else f"{maximum:g}"
        raise FFValidationError(f"{field} {value} is outside [{low}, {high}]", field=field, value=value)
    return value


# --------------------------------------------------------------------------- timestamps


def check_timestamp(value: object, *, field: str, naive: NaivePolicy = "keep", parse_text: bool = False) -> datetime:
    """``value`` as a datetime, per the timestamp rule (see the module docstring)."""
    if parse_text and isinstance(value, (str, int, float)) and not isinstance(value, bool):
        try:
            moment = _DATETIME.validate_python(value)
        except ValidationError as exc:
            raise FFValidationError(f"{field} is not a timestamp: {_shown(value)}", field=field, value=value) from exc
    elif isinstance(value, datetime):
        moment = value
    else:
        expected = "a datetime, an ISO 8601 string or epoch seconds" if parse_text else "a datetime"
        raise FFValidationError(f"{field} must be {expected}, not {_shown(value)}", field=field, value=value)
    if moment.tzinfo is None:
        if naive == "utc":
            return moment.replace(tzinfo=UTC)
        if naive == "refuse":
            raise FFValidationError(f"{field} has no time zone: {moment.isoformat()}", field=field, value=value)
    return moment


# --------------------------------------------------------------------------- bound checks


def timestamp(*, naive: NaivePolicy = "keep", parse_text: bool = False) -> Check[datetime]:
    """:func:`check_timestamp` with its policy bound."""

    def check(value: object, field: str) -> datetime:
        return check_timestamp(value, field=field, naive=naive, parse_text=parse_text)

    return check
