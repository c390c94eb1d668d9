"""Validation of the ids that become directory and file names under the data root.

Every user id, session id, knowledge base id... ends up as a path component, so the rule is
deliberately narrow: ``[A-Za-z0-9][A-Za-z0-9._-]{0,127}`` and no ``..`` anywhere. Anything else
is refused with :class:`FFValidationError` before a single byte is written.
"""

from __future__ import annotations

import re
import uuid

from ff_utils.ff_errors import FFValidationError

__all__ = ["FF_ID_PATTERN", "ff_validate_id", "ff_is_valid_id", "ff_new_id"]

FF_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def ff_is_valid_id(value: object) -> bool:
    """True when ``value`` is a string the id rule accepts."""
    return isinstance(value, str) and FF_ID_PATTERN.fullmatch(value) is not None and ".." not in value


def ff_validate_id(value: object, kind: str = "id") -> str:
    """Return ``value`` unchanged if it is a valid id, else raise :class:`FFValidationError`.

    ``kind`` names the id in the message ("user_id", "session_id") so the error says what was wrong.
    """
    if ff_is_valid_id(value):
        return value  # type: ignore[return-value]
    shown = repr(value) if not isinstance(value, str) or len(value) <= 40 else repr(value[:40] + "...")
    raise FFValidationError(
        f"invalid {kind} {shown}: use 1-128 of A-Z a-z 0-9 . _ - starting with a letter or digit, no '..'",
        field=kind,
        value=value,
    )


def ff_new_id(prefix: str = "") -> str:
    """A fresh random id that passes :func:`ff_validate_id` (uuid4 hex, optionally prefixed)."""
    return f"{prefix}{uuid.uuid4().hex}"
