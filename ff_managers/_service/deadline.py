"""A request's own deadline, checked by the receiver: a message that expired on the way is not run.

A client may say until when its request is worth running: the ``X-FF-Expires-At`` header (HTTP)
or the ``ff_expires_at`` member of a JSON-RPC request (WebSocket, TCP), both epoch seconds. The
communication manager sets it from the message's TTL. A request that arrives (or waits, behind a
full connection) past it is answered ``FFTimeoutError`` (504) and never reaches a handler, so
nothing is written for a caller that has given up. The clocks of client and server are
compared: on one host they are the same clock; across hosts the skew counts against the TTL.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ff_utils.ff_errors import FFTimeoutError, FFValidationError

__all__ = ["HEADER", "MEMBER", "check_deadline"]

HEADER = "x-ff-expires-at"
MEMBER = "ff_expires_at"


def check_deadline(value: Any, *, now: Callable[[], float] = time.time) -> None:
    """Raise FFTimeoutError when ``value`` (epoch seconds, or None: no deadline) has passed."""
    if value is None:
        return
    try:
        deadline = float(value)
    except (TypeError, ValueError):
        raise FFValidationError("the expiry must be epoch seconds", field=MEMBER, value=str(value)[:40]) from None
    if deadline != deadline:  # NaN
        raise FFValidationError("the expiry must be epoch seconds", field=MEMBER)
    if now() >= deadline:
        raise FFTimeoutError(f"the request expired {now() - deadline:.3f}s before it could be handled; it was not run")
