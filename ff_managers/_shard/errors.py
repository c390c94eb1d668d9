"""The typed errors of sharded users, in the one FFError hierarchy.

Two of them travel over the wire (``_service/errors.py`` maps them once):

* :class:`FFUserFrozenError` (503 with ``Retry-After``): the user is being moved; nothing was
  written; the same request a moment later succeeds (at the old owner, or at the new one after
  the client re-reads the routing table). Retryable by design.
* :class:`FFUserMovedError` (421 Misdirected Request): this data root no longer owns the user
  (a tombstone left by a finished move); the client's routing table is stale and ``owner`` names
  the shard that owns the user now.
"""

from __future__ import annotations

from typing import Any

from ff_utils.ff_errors import FFConflictError, FFError

__all__ = ["FFMoveError", "FFUserFrozenError", "FFUserMovedError"]


class FFUserFrozenError(FFError):
    """Writes to this user are fenced while a move runs; retry after ``retry_after`` seconds."""

    def __init__(self, message: str, *, retry_after: int = 1, **context: Any) -> None:
        super().__init__(message, **context)
        self.retry_after = retry_after


class FFUserMovedError(FFError):
    """This data root does not own the user any more (``owner``: the shard that does)."""

    def __init__(self, message: str, *, owner: str | None = None, **context: Any) -> None:
        super().__init__(message, owner=owner, **context)
        self.owner = owner


class FFMoveError(FFConflictError):
    """A move cannot start or go on in the state it found (another move's journal, a tree in the way)."""
