"""The communication manager's typed errors, all in the one FFError hierarchy.

Two kinds of failure matter to routing and are kept apart on purpose:

* an *answer* from a server (a 4xx or 5xx, a JSON-RPC error) becomes an ``error`` reply message,
  never an exception: the caller gets the problem with the server's FFError class name;
* a *transport* failure (refused, reset, timed out, closed mid-request) is an
  :class:`FFTransportError` raised by a handler. ``sent`` says whether the request may have
  reached the server: a connection that was never opened cannot have applied a write, so even
  a non-idempotent write may go to another endpoint; once bytes left, only an idempotent or keyed
  one may.
"""

from __future__ import annotations

from typing import Any

from ff_utils.ff_errors import FFConflictError, FFError, FFNotFoundError, FFTimeoutError, FFValidationError

__all__ = [
    "FFCommUnavailableError",
    "FFMessageExpiredError",
    "FFQueueFullError",
    "FFShardUnavailableError",
    "FFTransportError",
    "FFUnsupportedOperationError",
]


class FFTransportError(FFError):
    """The attempt failed on the way (no answer from the server); ``sent`` False: nothing left."""

    def __init__(self, message: str, *, sent: bool, **context: Any) -> None:
        super().__init__(message, **context)
        self.sent = sent


class FFMessageExpiredError(FFTimeoutError):
    """The message's TTL ran out (before it was sent, while queued, or before its reply came)."""


class FFQueueFullError(FFConflictError):
    """An endpoint's send queue is full and this message has the lowest priority in it."""


class FFCommUnavailableError(FFError):
    """No endpoint of the target could answer (none known, none available, or every attempt failed)."""


class FFShardUnavailableError(FFCommUnavailableError):
    """Sharded mode: the user's owner cannot answer; the request went nowhere else (context
    ``user_id``, ``owner``, ``maybe_applied``). The user's availability is their owner's."""


class FFUnsupportedOperationError(FFValidationError):
    """The protocol cannot carry this message (a request over UDP, ``receive`` over plain HTTP)."""


def ff_unknown_target(target: str) -> FFNotFoundError:
    return FFNotFoundError(f"no endpoint or group {target!r}", kind="endpoint", key=target)
