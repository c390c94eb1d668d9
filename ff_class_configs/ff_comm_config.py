"""Configuration of the communication manager: balancing, health checks, ejection, retries, pools."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ff_class_configs._section import FFConfigSection

__all__ = ["FFCommConfigDTO", "FFBalancePolicy"]

FFBalancePolicy = Literal["round_robin", "weighted", "least_outstanding", "consistent_hash"]


class FFCommConfigDTO(FFConfigSection):
    """How ``FFCrossSystemCommunicationManager`` reaches, balances and fails over between endpoints."""

    balance_policy: FFBalancePolicy = Field("least_outstanding", description="how a group's endpoint is chosen (consistent_hash routes by user_id)")
    request_timeout_s: float = Field(5.0, gt=0, description="one attempt's bound")
    connect_timeout_s: float = Field(2.0, gt=0, description="opening a connection")
    health_interval_s: float = Field(1.0, gt=0, description="active health check period per endpoint (GET /health/ready)")
    eject_consecutive_failures: int = Field(3, ge=1, description="passive outlier ejection after this many failures in a row")
    eject_base_s: float = Field(1.0, gt=0, description="first ejection time; doubles with each ejection of the same endpoint")
    eject_max_s: float = Field(30.0, gt=0, description="longest ejection")
    slow_start_s: float = Field(2.0, ge=0, description="a returning endpoint's share ramps up over this time")
    breaker_failure_threshold: int = Field(5, ge=1, description="failures in a row that open an endpoint's circuit breaker")
    breaker_cooldown_s: float = Field(2.0, gt=0, description="open breaker lets one trial through after this")
    retry_budget_ratio: float = Field(0.2, ge=0, le=1, description="retries allowed as a share of requests (plus the minimum below)")
    retry_budget_min_per_s: float = Field(10.0, ge=0, description="retries always allowed per second")
    retry_backoff_base_s: float = Field(0.05, ge=0, description="first retry back-off (exponential, jittered)")
    pool_max_connections: int = Field(100, ge=1, description="connections per endpoint (HTTP pool, TCP/WebSocket connections)")
    pool_max_keepalive: int = Field(20, ge=0)
    compress_above_bytes: int = Field(16 * 1024, ge=0, description="payloads larger than this are compressed on the wire (0: never)")
    rpc_max_in_flight: int = Field(32, ge=1, le=10_000, description="JSON-RPC requests one TCP/WebSocket connection has outstanding (the service's default cap is 32)")
    ws_ping_interval_s: float = Field(10.0, gt=0, description="WebSocket keepalive ping period (a missing pong within it closes the connection)")
    inbound_queue_size: int = Field(10_000, ge=1, description="events kept for receive() per connection; past it the oldest is dropped and counted")
    send_queue_size: int = Field(10_000, ge=1, description="messages waiting per endpoint; beyond it the lowest priority is refused")
    hash_replicas: int = Field(160, ge=1, description="virtual nodes per endpoint on the consistent-hash ring (ketama uses 160)")
    shard_routing: str | None = Field(None, description="sharded mode: path or http(s) URL of the shard routing table (docs/SCALING.md); requests to shard_group go to their user's owner only")
    shard_group: str = Field("shards", min_length=1, description="the target name that means 'the owner of the payload's user_id' in sharded mode")
    shard_reload_s: float = Field(2.0, gt=0, description="sharded mode: a routing table read from a URL is fetched again after this (a file is re-read when it changes)")
