"""Message rules shared by every handler: TTL, replies, and the params an operation is called with.

TTL is enforced at both ends of an attempt. Before anything is sent (and again when a message
leaves a send queue) an expired message becomes an ``error`` reply and never touches the wire;
while it is in flight the attempt's timeout is the smaller of the configured one and what is
left of the TTL, and a reply that comes back after the deadline is turned into an error too (a
late answer is one the caller no longer waits for). Time is wall-clock seconds from an injected
``clock``, since the TTL counts from the message's own ``timestamp``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ff_class_configs.ff_comm_dtos import FFCrossSystemMessageDTO, FFEndpointDTO
from ff_managers._comm.catalogue import FFRoute
from ff_utils.ff_errors import FFError, FFValidationError

__all__ = [
    "Clock",
    "PRIORITY_RANK",
    "ff_call_params",
    "ff_error_reply",
    "ff_expires_at",
    "ff_idempotency_key",
    "ff_is_expired",
    "ff_problem_of",
    "ff_remaining_s",
    "ff_response_reply",
]

Clock = Callable[[], float]  # wall-clock seconds since the epoch (time.time)

PRIORITY_RANK = {"emergency": 0, "critical": 1, "high": 2, "normal": 3, "low": 4}
"""Lower rank is sent first."""


def ff_expires_at(message: FFCrossSystemMessageDTO) -> float | None:
    """The epoch second past which the message is dead (None: no TTL)."""
    if message.ttl_s is None:
        return None
    return message.timestamp.timestamp() + message.ttl_s


def ff_remaining_s(message: FFCrossSystemMessageDTO, now: float) -> float | None:
    expires = ff_expires_at(message)
    return None if expires is None else expires - now


def ff_is_expired(message: FFCrossSystemMessageDTO, now: float) -> bool:
    remaining = ff_remaining_s(message, now)
    return remaining is not None and remaining <= 0


def _reply(message: FFCrossSystemMessageDTO, kind: str, payload: Any, source: str, headers: dict[str, str], now: float) -> FFCrossSystemMessageDTO:
    return FFCrossSystemMessageDTO(
        message_type=kind,  # type: ignore[arg-type]
        source_system=source,
        target_system=message.source_system,
        operation=message.operation,
        priority=message.priority,
        timestamp=datetime.fromtimestamp(now, UTC),
        payload=payload,
        headers=headers,
        correlation_id=message.message_id,
        retry_count=message.retry_count,
        max_retries=message.max_retries,
    )


def ff_response_reply(message: FFCrossSystemMessageDTO, result: Any, *, endpoint: FFEndpointDTO, status: int | None, now: float) -> FFCrossSystemMessageDTO:
    """A ``response``: payload = the operation's result."""
    headers = {"protocol": endpoint.protocol, "endpoint": endpoint.system_id}
    if status is not None:
        headers["status"] = str(status)
    return _reply(message, "response", result, endpoint.system_id, headers, now)


def ff_error_reply(
    message: FFCrossSystemMessageDTO,
    problem: dict[str, Any],
    *,
    now: float,
    endpoint: FFEndpointDTO | None = None,
) -> FFCrossSystemMessageDTO:
    """An ``error``: payload = the problem, always with ``error`` (the FFError class name) and ``status``."""
    headers = {"status": str(problem.get("status"))}
    if endpoint is not None:
        headers |= {"protocol": endpoint.protocol, "endpoint": endpoint.system_id}
    return _reply(message, "error", problem, endpoint.system_id if endpoint else "ff-comm", headers, now)


def ff_problem_of(exc: FFError, status: int) -> dict[str, Any]:
    """A problem dict for an error raised on this side (expired, unsupported, queue full)."""
    return {"type": "about:blank", "title": type(exc).__name__, "status": status, "detail": str(exc), "error": type(exc).__name__}


def ff_call_params(message: FFCrossSystemMessageDTO, route: FFRoute) -> dict[str, Any]:
    """The operation's params from the payload; a keyed write gets ``message_id`` as its key.

    When the operation has an ``idempotency_field`` (``memory.add_message``: ``message_id``) and the
    payload leaves it out, the message id is put there, so every attempt of this message (and a
    failover retry on another instance over the same data root) names the same write.
    """
    payload = message.payload if message.payload is not None else {}
    if not isinstance(payload, dict):
        raise FFValidationError("a request's payload must be a JSON object of the operation's params", field="payload")
    params = dict(payload)
    if route.idempotency_field and params.get(route.idempotency_field) in (None, ""):
        params[route.idempotency_field] = message.message_id
    return params


def ff_idempotency_key(params: dict[str, Any], route: FFRoute) -> str | None:
    """The value that makes a retry of this write safe (None: none)."""
    if route.idempotency_field is None:
        return None
    value = params.get(route.idempotency_field)
    return str(value) if value not in (None, "") else None
