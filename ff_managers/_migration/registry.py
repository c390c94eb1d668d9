"""The ordered migration registry and a data root's log of applied migrations.

A migration is an id, a from and a to version, a description, a forward step and (where the
data allows one) a backward step. Its *checksum* is the SHA-256 of the definition: the id, both
versions, the description and the source code of both steps. Like Flyway's checksum table, the
log keeps the checksum each migration had when it was applied, so :meth:`FFMigrationRegistry.validate`
can say "migration X changed since it was applied" or "X was applied but is no longer known".

The log is ``<root>/system/migrations.jsonl`` (append-only) and the applied ids also go into
``ff_meta.json``'s ``migrations_applied`` so the data root names where it stands.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ff_class_configs.ff_migration_dtos import (
    FFAppliedMigrationDTO,
    FFMigrationDefinitionDTO,
    FFRegistryProblemDTO,
)
from ff_utils.ff_errors import FFConflictError, FFValidationError
from ff_utils.ff_hashing import ff_sha256_bytes
from ff_utils.ff_ids import ff_validate_id
from ff_utils.ff_json_utils import ff_dumps
from ff_utils.ff_store import FFStore

__all__ = ["FFMigration", "FFMigrationRegistry", "MIGRATION_LOG", "read_applied", "append_applied"]

MIGRATION_LOG = "system/migrations.jsonl"

#: A step gets the migration context (source, target, config, ...) and returns counts or None.
MigrationStep = Callable[..., Any]


@dataclass(frozen=True)
class FFMigration:
    """One registered migration. ``backward`` is None when the step cannot be undone from data alone."""

    migration_id: str
    from_version: int
    to_version: int
    description: str
    forward: MigrationStep
    backward: MigrationStep | None = None

    def __post_init__(self) -> None:
        ff_validate_id(self.migration_id, "migration_id")
        if self.to_version != self.from_version + 1:
            raise FFValidationError(
                f"migration {self.migration_id} must go up one version ({self.from_version} -> {self.to_version})",
                field="to_version",
            )

    def checksum(self) -> str:
        """SHA-256 over the definition, so an edited step or description is detected."""
        parts: dict[str, Any] = {
            "id": self.migration_id,
            "from": self.from_version,
            "to": self.to_version,
            "description": self.description,
            "forward": _source_of(self.forward),
            "backward": _source_of(self.backward) if self.backward is not None else None,
        }
        return ff_sha256_bytes(ff_dumps(parts))

    def definition(self) -> FFMigrationDefinitionDTO:
        return FFMigrationDefinitionDTO(
            migration_id=self.migration_id,
            from_version=self.from_version,
            to_version=self.to_version,
            description=self.description,
            reversible=self.backward is not None,
            checksum=self.checksum(),
        )


def _source_of(step: MigrationStep) -> str:
    """The step's source code (a callable object's class source); its qualified name if none."""
    target = step if inspect.isfunction(step) or inspect.ismethod(step) else type(step)
    try:
        return inspect.getsource(target)
    except (OSError, TypeError):
        return f"{getattr(target, '__module__', '')}.{getattr(target, '__qualname__', repr(target))}"


def read_applied(store: FFStore) -> list[FFAppliedMigrationDTO]:
    """The applied-migrations log of a data root, oldest first (empty when there is none).

    Raises FFCorruptionError naming the log when a line is not an applied migration.
    """
    path = store.path(*MIGRATION_LOG.split("/"))
    return [store.load(FFAppliedMigrationDTO, record, path) for record in store.read_jsonl(path)]


def append_applied(store: FFStore, entry: FFAppliedMigrationDTO) -> None:
    """Append one line to the log (append-only: history is never rewritten)."""
    store.append(store.path(*MIGRATION_LOG.split("/")), entry.model_dump(mode="json"))


class FFMigrationRegistry:
    """Migrations in the order they must run; at most one per from-version."""

    def __init__(self, migrations: list[FFMigration] | None = None) -> None:
        self._migrations: list[FFMigration] = []
        for migration in migrations or []:
            self.register(migration)

    def register(self, migration: FFMigration) -> None:
        """Add a migration. Raises FFConflictError for a duplicate id or a second step from a version."""
        for known in self._migrations:
            if known.migration_id == migration.migration_id:
                raise FFConflictError(f"migration {migration.migration_id} is already registered")
            if known.from_version == migration.from_version:
                raise FFConflictError(
                    f"two migrations start at version {migration.from_version}: {known.migration_id}, {migration.migration_id}"
                )
        self._migrations.append(migration)
        self._migrations.sort(key=lambda m: m.from_version)

    @property
    def migrations(self) -> list[FFMigration]:
        return list(self._migrations)

    def get(self, migration_id: str) -> FFMigration | None:
        return next((m for m in self._migrations if m.migration_id == migration_id), None)

    @property
    def latest_version(self) -> int:
        return self._migrations[-1].to_version if self._migrations else 0

    def path(self, from_version: int, to_version: int | None = None) -> list[FFMigration]:
        """The chain that takes ``from_version`` to ``to_version`` (latest by default).

        Raises FFValidationError when there is a gap (no migration starts at some version).
        """
        goal = self.latest_version if to_version is None else to_version
        chain: list[FFMigration] = []
        version = from_version
        while version < goal:
            step = next((m for m in self._migrations if m.from_version == version), None)
            if step is None:
                raise FFValidationError(f"no migration from schema version {version}", field="schema_version", value=version)
            chain.append(step)
            version = step.to_version
        return chain

    def validate(self, applied: list[FFAppliedMigrationDTO]) -> list[FFRegistryProblemDTO]:
        """Compare a log with the registry: changed checksums, unknown ids, wrong order."""
        problems: list[FFRegistryProblemDTO] = []
        expected_version: int | None = None
        for entry in applied:
            known = self.get(entry.migration_id)
            if known is None:
                problems.append(FFRegistryProblemDTO(
                    migration_id=entry.migration_id, problem="missing",
                    detail=f"applied on {entry.applied_at:%Y-%m-%d} but no longer in the registry"))
                continue
            checksum = known.checksum()
            if checksum != entry.checksum:
                problems.append(FFRegistryProblemDTO(
                    migration_id=entry.migration_id, problem="changed",
                    detail=f"checksum {entry.checksum[:12]} when applied, {checksum[:12]} now"))
            if expected_version is not None and entry.from_version != expected_version:
                problems.append(FFRegistryProblemDTO(
                    migration_id=entry.migration_id, problem="out_of_order",
                    detail=f"starts at version {entry.from_version}, the previous one ended at {expected_version}"))
            expected_version = entry.to_version
        return problems

    def validate_root(self, root: Path | str) -> list[FFRegistryProblemDTO]:
        """:meth:`validate` against the log stored in a data root."""
        return self.validate(read_applied(FFStore(root)))

    def new_log_entry(self, migration: FFMigration, applied_at: datetime, duration: float, source: str) -> FFAppliedMigrationDTO:
        return FFAppliedMigrationDTO(
            migration_id=migration.migration_id, from_version=migration.from_version,
            to_version=migration.to_version, checksum=migration.checksum(), applied_at=applied_at,
            duration_seconds=max(0.0, duration), source=source,
        )
