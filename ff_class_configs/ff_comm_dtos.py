"""The communication manager's message and endpoint models (API.md "Communication manager").

``FFCrossSystemMessageDTO`` is the one envelope every protocol handler carries: a request names an
operation of the service's registry, a reply is a ``response`` (payload = the operation's result) or
an ``error`` (payload = the error). ``FFEndpointDTO`` is one instance of a system; endpoints that
share a ``group`` serve the same system and are balanced and failed over together.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "FFCommProtocol",
    "FFCrossSystemMessageDTO",
    "FFEndpointDTO",
    "FFEndpointStatusDTO",
    "FFMessagePriority",
    "FFMessageType",
]

FFMessageType = Literal["request", "response", "event", "command", "query", "notification", "heartbeat", "error"]
FFMessagePriority = Literal["low", "normal", "high", "critical", "emergency"]
FFCommProtocol = Literal["http", "https", "websocket", "tcp", "udp"]


def _new_message_id() -> str:
    return uuid.uuid4().hex


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class FFCrossSystemMessageDTO(BaseModel):
    """One message between systems; ``correlation_id`` ties a reply to its request."""

    model_config = ConfigDict(extra="forbid")

    message_id: str = Field(default_factory=_new_message_id, min_length=1, max_length=128)
    message_type: FFMessageType = "request"
    source_system: str = Field("ff-client", min_length=1, max_length=128)
    target_system: str = Field(..., min_length=1, max_length=128, description="an endpoint's system_id or a group")
    operation: str | None = Field(None, max_length=128, description="the registry operation a request calls, e.g. memory.add_message")
    priority: FFMessagePriority = "normal"
    timestamp: datetime = Field(default_factory=_utc_now)
    payload: Any = None
    headers: dict[str, str] = Field(default_factory=dict)
    correlation_id: str | None = Field(None, max_length=128)
    reply_to: str | None = Field(None, max_length=128)
    ttl_s: float | None = Field(None, gt=0, description="seconds after timestamp past which the message is dropped, at both ends")
    retry_count: int = Field(0, ge=0)
    max_retries: int = Field(3, ge=0, le=20)


class FFEndpointDTO(BaseModel):
    """One reachable instance of a system over one protocol."""

    model_config = ConfigDict(extra="forbid")

    system_id: str = Field(..., min_length=1, max_length=128)
    group: str | None = Field(None, max_length=128, description="endpoints of one group serve the same system")
    protocol: str = Field("http", pattern=r"^[a-z][a-z0-9_+.-]{0,31}$", description="http, https, websocket, tcp, udp, or a protocol registered with register_handler")
    host: str = "127.0.0.1"
    port: int = Field(..., ge=1, le=65535)
    weight: int = Field(1, ge=0, le=1000)
    token: str | None = Field(None, repr=False, description="API key or JWT sent as credentials")
    tls: bool = Field(False, description="TLS over tcp and websocket (wss); https implies it")
    tls_verify: bool | str = Field(True, description="verify the server certificate (or a CA bundle path) over https/wss")


class FFEndpointStatusDTO(BaseModel):
    """What the balancer knows of one endpoint now (``get_system_status``)."""

    system_id: str
    group: str | None
    protocol: str
    state: Literal["healthy", "slow_start", "ejected", "unhealthy", "disconnected"]
    breaker: Literal["closed", "open", "half_open"]
    outstanding: int = 0
    ejections: int = 0
    consecutive_failures: int = 0
    ejected_until: float | None = None
