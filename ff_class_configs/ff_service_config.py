"""Configuration of the service (``python main.py serve``): listeners, credentials, limits, health.

Safe by default: every listener binds to loopback, TCP and UDP are off until given a port, the
JWT algorithm is fixed here (a token never chooses it), and every limit has a bound. A port of 0
asks the system for a free one (the real ports are written to the ready file).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr

from ff_class_configs._section import FFConfigSection

__all__ = ["FFServiceConfigDTO", "JwtAlgorithm"]

JwtAlgorithm = Literal["HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "EdDSA"]


class FFServiceConfigDTO(FFConfigSection):
    """The service: HTTP/WebSocket, TCP and UDP listeners, API keys and JWT, rate and size limits."""

    host: str = Field("127.0.0.1", description="address HTTP and TCP bind to; anything but loopback must be asked for")
    http_port: int = Field(8080, ge=0, le=65535, description="HTTP/HTTPS and WebSocket port (0: a free port)")
    tcp_port: int | None = Field(None, ge=0, le=65535, description="newline-delimited JSON-RPC port (None: off; 0: a free port)")
    udp_port: int | None = Field(None, ge=0, le=65535, description="StatsD/DogStatsD port (None: off; 0: a free port)")
    udp_host: str = Field("127.0.0.1", description="address the UDP listener binds to")
    max_request_bytes: int = Field(1024 * 1024, ge=1024, description="largest HTTP body (413 past it)")
    max_line_bytes: int = Field(1024 * 1024, ge=1024, description="largest TCP line or WebSocket message")
    max_in_flight_per_connection: int = Field(32, ge=1, le=10_000, description="TCP/WebSocket requests one connection may have running")
    rate_limit: str = Field("200/second", description="requests per principal (limits notation, e.g. '100/second;5000/minute'); an operation costs its rate cost")
    auth_failure_rate_limit: str = Field("20/minute", description="wrong tokens per client address before the address is refused with 429 (a missing token is not counted)")
    jwt_algorithm: JwtAlgorithm = Field("HS256", description="the one algorithm JWTs are verified with (never taken from the token)")
    jwt_secret: SecretStr | None = Field(None, description="HMAC secret for HS* algorithms (None: JWTs are refused); set it with FF_SERVICE__JWT_SECRET")
    jwt_public_key_file: Path | None = Field(None, description="PEM public key for RS*/ES*/EdDSA algorithms")
    jwt_audience: str | None = Field(None, description="required 'aud' claim (None: not checked)")
    jwt_issuer: str | None = Field(None, description="required 'iss' claim (None: not checked)")
    jwt_leeway_seconds: float = Field(0.0, ge=0, le=300, description="clock skew allowed on 'exp'/'nbf'")
    admin_role: str = Field("admin", description="the role that may act for every user (a tool-manager role)")
    operation_roles: dict[str, str] = Field(default_factory=dict, description="operation name -> role it requires, overriding the registry's default")
    idempotency_keys_per_principal: int = Field(1000, ge=1, le=1_000_000, description="Idempotency-Key responses kept per principal (oldest dropped)")
    event_retention: int = Field(10_000, ge=1, le=10_000_000, description="events kept for resuming subscriptions (events.subscribe after=offset)")
    subscriber_queue: int = Field(1000, ge=1, description="events queued for one slow subscriber before it is disconnected")
    shutdown_grace_seconds: float = Field(10.0, gt=0, description="on SIGTERM, how long in-flight requests may take to finish")
    heartbeat_seconds: float = Field(5.0, gt=0, description="how often the instance lease is renewed")
    lease_seconds: float = Field(15.0, gt=0, description="an instance whose lease is older than this is not listed")
    max_loop_lag_ms: float = Field(500.0, gt=0, description="event-loop lag past which /health/ready says not ready")
