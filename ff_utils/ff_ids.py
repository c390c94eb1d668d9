"""Validation of the ids that become directory and file names under the data root.

Every user id, session id, knowledge base id... ends up as a path component, so the rule is
deliberately narrow: ``[A-Za-z0-9][A-Za-z0-9._-]{0,127}`` and no ``..`` anywhere. Anything else
is refused with :class:`FFValidationError` before a single byte is written.
"""

from __future__ import annotations

import os
import re
import threading

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


_POOL_BYTES = 4096  # 256 ids per getrandom call
_VERSION_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_VERSION_SET = (0x4000 << 64) | (0x8000 << 48)  # version 4, RFC 4122 variant: what uuid4() sets
_local = threading.local()
_generation = 0  # bumped in a forked child: it must never reuse the parent's unread random bytes


def ff_new_id(prefix: str = "") -> str:
    """A fresh random id that passes :func:`ff_validate_id` (uuid4 hex, optionally prefixed).

    The same 32 hex digits ``uuid.uuid4().hex`` gives (122 random bits from ``os.urandom``, the
    version and variant bits set), without a ``getrandom`` call and a ``UUID`` object per id:
    every ``add_message`` makes one, and those were a tenth of its event-loop time. Random bytes
    are read 4 KiB at a time into a per-thread pool; a forked child drops what it inherited, so
    parent and child never hand out the same id.
    """
    local = _local
    offset = getattr(local, "offset", _POOL_BYTES)
    if offset >= _POOL_BYTES or local.generation != _generation:
        local.pool, local.generation, offset = os.urandom(_POOL_BYTES), _generation, 0
    local.offset = offset + 16
    value = (int.from_bytes(local.pool[offset : offset + 16], "big") & _VERSION_CLEAR) | _VERSION_SET
    return f"{prefix}{value:032x}"


def _after_fork_in_child() -> None:
    global _generation
    _generation += 1


os.register_at_fork(after_in_child=_after_fork_in_child)
