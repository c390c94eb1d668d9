"""DTOs of the migration commands a user runs by hand: ``migrate info``, ``rollback``'s drift check.

Like Flyway's ``info``, :class:`FFMigrationInfoDTO` answers "where does this data root stand": its
schema version, each applied migration with the checksum it had when applied and whether the
registry still has that checksum, and the migrations still to run. :class:`FFMigrationDriftDTO`
answers "what did anyone write here since the last migration", which a rollback would discard.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ff_class_configs.ff_migration_dtos import FFMigrationDefinitionDTO

__all__ = ["FFAppliedMigrationInfoDTO", "FFLastMigrationRunDTO", "FFMigrationDriftDTO", "FFMigrationInfoDTO"]


class _DTO(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FFAppliedMigrationInfoDTO(_DTO):
    """One line of a root's applied-migrations log, checked against the registry."""

    migration_id: str
    from_version: int
    to_version: int
    description: str = Field("", description="the registry's description; empty when it no longer knows the id")
    applied_at: datetime
    duration_seconds: float
    checksum: str = Field(description="SHA-256 of the definition when it was applied")
    checksum_now: str | None = Field(None, description="the registry's checksum today; None when the id is unknown")
    state: Literal["applied", "changed", "missing"] = Field(
        description="applied: checksums agree; changed: the definition changed since; missing: no longer registered"
    )


class FFLastMigrationRunDTO(_DTO):
    """The journal of the root's last migration run, as far as a rollback is concerned."""

    run_id: str
    phase: str
    started_at: datetime
    source: str
    backup_dir: str = Field("", description="empty when the target did not exist before (rollback removes it)")
    rollback_available: bool


class FFMigrationInfoDTO(_DTO):
    """Where a data root stands: ``migrate info DIR``."""

    root: str
    layout: Literal["legacy_v1", "ff"]
    schema_version: int
    latest_version: int = Field(description="the newest schema version this FF Platform knows")
    applied: list[FFAppliedMigrationInfoDTO] = Field(default_factory=list)
    pending: list[FFMigrationDefinitionDTO] = Field(default_factory=list, description="to run, in order")
    last_run: FFLastMigrationRunDTO | None = None


class FFMigrationDriftDTO(_DTO):
    """What changed in a migrated root since its last migration (what a rollback would discard)."""

    root: str
    run_id: str
    changed: bool
    added: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    modified: list[str] = Field(default_factory=list)
    paths_known: bool = Field(
        True, description="False when the post-migration manifest is gone: the root changed, but not known where"
    )
