"""The shard routing table: which data root (and which service URL) owns which user.

One small versioned JSON document shared by every client and by ``main.py shard move``. A user
belongs to ``overrides[user_id]`` when it is there (a user that was moved), else to the shard the
ketama ring of the shard ids gives for ``user_id``. The document is replaced atomically and each
change bumps ``version``, so a reader sees the old table or the new one, never a mix.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["FF_SHARD_TABLE_SCHEMA", "FFShardDTO", "FFShardRoutingTableDTO"]

FF_SHARD_TABLE_SCHEMA = 1


class FFShardDTO(BaseModel):
    """One shard: a data root and the service (one or more instances) that serves it."""

    model_config = ConfigDict(extra="forbid")
    url: str = Field(description="base URL of the shard's service, e.g. http://10.0.0.5:8080")
    data_root: str | None = Field(None, description="the shard's data root as this machine reaches it (needed to move users in or out)")
    weight: int = Field(1, ge=1, le=100, description="share of the hash ring")


class FFShardRoutingTableDTO(BaseModel):
    """The routing table document (see the module doc)."""

    model_config = ConfigDict(extra="forbid")
    schema_version: int = FF_SHARD_TABLE_SCHEMA
    version: int = Field(1, ge=1, description="bumped by every change")
    updated_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    shards: dict[str, FFShardDTO] = Field(description="shard id -> shard; the ring is built from these ids")
    overrides: dict[str, str] = Field(default_factory=dict, description="user_id -> shard id, for users moved off their ring shard")

    @model_validator(mode="after")
    def _overrides_name_shards(self) -> FFShardRoutingTableDTO:
        if not self.shards:
            raise ValueError("a routing table needs at least one shard")
        unknown = sorted({s for s in self.overrides.values() if s not in self.shards})
        if unknown:
            raise ValueError(f"overrides name unknown shards: {unknown}")
        return self
