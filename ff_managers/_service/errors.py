"""Errors to the wire, mapped once: HTTP problem+json and JSON-RPC error objects from one table.

Every transport answers a failure through :func:`describe`, so an ``FFNotFoundError`` is a 404
with the same body over HTTP as the ``-32004`` error over WebSocket and TCP, whose ``data`` names
the same class and status. A not-found answer never repeats the manager's message: another
user's resource must answer exactly like a missing one, and the manager's wording could tell
the two apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ff_managers._shard.errors import FFUserFrozenError, FFUserMovedError
from ff_utils.ff_errors import (
    FFConflictError,
    FFError,
    FFNotFoundError,
    FFPermissionError,
    FFSandboxViolationError,
    FFStorageError,
    FFTimeoutError,
    FFValidationError,
)

__all__ = [
    "FFAuthenticationError",
    "FFMethodNotFoundError",
    "FFPayloadTooLargeError",
    "FFRateLimitError",
    "NOT_FOUND_DETAIL",
    "WireError",
    "describe",
    "jsonrpc_error",
    "problem",
]

NOT_FOUND_DETAIL = "not found"


class FFAuthenticationError(FFPermissionError):
    """No credentials, or credentials that are not valid (unknown, revoked, expired)."""


class FFMethodNotFoundError(FFNotFoundError):
    """A JSON-RPC method no operation has (JSON-RPC's own -32601; 404 in ``data.status``)."""


class FFRateLimitError(FFError):
    """The principal has used its request budget; ``retry_after`` seconds until it refills."""

    def __init__(self, message: str, *, retry_after: int = 1, **context: Any) -> None:
        super().__init__(message, **context)
        self.retry_after = retry_after


class FFPayloadTooLargeError(FFValidationError):
    """A body, line or message larger than the configured limit."""


# Most specific first: the first class the error is an instance of decides.
_TABLE: tuple[tuple[type[BaseException], int, int, str], ...] = (
    (FFAuthenticationError, 401, -32001, "Unauthorized"),
    (FFPayloadTooLargeError, 413, -32013, "Payload Too Large"),
    (FFRateLimitError, 429, -32029, "Too Many Requests"),
    (FFUserFrozenError, 503, -32050, "Service Unavailable"),  # a move fences the user: retry after Retry-After
    (FFUserMovedError, 421, -32021, "Misdirected Request"),  # a tombstone: another shard owns the user now
    (FFValidationError, 422, -32602, "Unprocessable Content"),
    (FFMethodNotFoundError, 404, -32601, "Method Not Found"),
    (FFNotFoundError, 404, -32004, "Not Found"),
    (FFPermissionError, 403, -32003, "Forbidden"),
    (FFSandboxViolationError, 403, -32003, "Forbidden"),
    (FFConflictError, 409, -32009, "Conflict"),
    (FFTimeoutError, 504, -32054, "Gateway Timeout"),
    (FFStorageError, 503, -32053, "Service Unavailable"),
)


@dataclass(frozen=True, slots=True)
class WireError:
    """What every transport says about one failure."""

    status: int
    code: int
    title: str
    error: str
    detail: str
    retry_after: int | None = None


def describe(exc: BaseException) -> WireError:
    """The status, JSON-RPC code, title, class name and detail of ``exc`` (500 for a bug)."""
    for kind, status, code, title in _TABLE:
        if isinstance(exc, kind):
            detail = NOT_FOUND_DETAIL if status == 404 and code != -32601 else str(exc)
            retry = exc.retry_after if isinstance(exc, (FFRateLimitError, FFUserFrozenError)) else None
            return WireError(status, code, title, type(exc).__name__, detail, retry)
    if isinstance(exc, FFError):
        return WireError(500, -32603, "Internal Server Error", type(exc).__name__, str(exc))
    return WireError(500, -32603, "Internal Server Error", "InternalError", "internal error")


def problem(wire: WireError) -> dict[str, Any]:
    """The ``application/problem+json`` body (RFC 9457) with API.md's ``error`` member."""
    body: dict[str, Any] = {
        "type": f"https://ff-platform.invalid/problems/{wire.error}",
        "title": wire.title,
        "status": wire.status,
        "detail": wire.detail,
        "error": wire.error,
    }
    if wire.retry_after is not None:
        body["retry_after"] = wire.retry_after
    return body


def jsonrpc_error(wire: WireError) -> dict[str, Any]:
    """The JSON-RPC 2.0 ``error`` member: code, message, data.error and data.status."""
    data: dict[str, Any] = {"error": wire.error, "status": wire.status, "detail": wire.detail}
    if wire.retry_after is not None:
        data["retry_after"] = wire.retry_after
    return {"code": wire.code, "message": wire.detail, "data": data}
