"""DTOs of migrations: what the legacy reader found, what a migration did, its journal, what the validator proved.

The legacy layout (schema version 1) is the flat-file chat store of insightprism's
flatfile_chat_database. Its records are kept as plain dicts (``raw``) on purpose: the import
promises "every field kept", so the DTOs name what the importer needs and carry the rest verbatim.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "FFIrregularAction",
    "FFIrregularItemDTO",
    "FFIdMappingDTO",
    "FFLegacyDocumentDTO",
    "FFLegacyPersonaDTO",
    "FFLegacySessionDTO",
    "FFLegacyUserDTO",
    "FFLegacyVectorSetDTO",
    "FFLegacyInventoryDTO",
    "FFMigrationDefinitionDTO",
    "FFAppliedMigrationDTO",
    "FFRegistryProblemDTO",
    "FFMigrationPlanDTO",
    "FFMigrationRunDTO",
    "FFMigrationStateDTO",
    "FFComparisonDTO",
    "FFInterruptionTrialDTO",
    "FFMigrationValidationDTO",
]


class _DTO(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FFIrregularAction(StrEnum):
    IMPORTED = "imported"  # irregular but imported (e.g. no session.json: metadata synthesised)
    SALVAGED = "salvaged"  # a damaged record recovered (e.g. stray bytes before a JSON object)
    EXPLAINED = "explained"  # not imported on its own because its content is already imported
    SKIPPED = "skipped"  # not imported; the reason says why
    QUARANTINED = "quarantined"  # corrupt input copied aside under the quarantine policy


class FFIrregularItemDTO(_DTO):
    """One input that did not fit the legacy layout, and what the import did with it."""

    path: str = Field(description="path relative to the legacy root, POSIX separators")
    kind: str = Field(description="short machine name: no_session_json, empty_session, torn_line, stray_file...")
    action: FFIrregularAction
    reason: str = Field(description="one sentence a person can act on")
    line_number: int | None = None


class FFIdMappingDTO(_DTO):
    """A legacy id the v2 id rule refuses, and the deterministic v2 id it was imported under."""

    kind: Literal["user", "session", "persona", "message"]
    legacy_id: str = Field(description="the id (folder or file name, or message_id) as the legacy root has it")
    v2_id: str = Field(description="the id the record has in the target")
    path: str = Field(description="where it was found, relative to the legacy root (a message: file:line)")


class FFLegacyDocumentDTO(_DTO):
    """An uploaded document of a legacy session (``documents/<id>_<name>``)."""

    stored_name: str = Field(description="file name under documents/, the key of documents/metadata.json")
    relative_path: str
    size: int = Field(ge=0, description="actual size on disk (metadata.json may disagree)")
    metadata: dict[str, Any] | None = Field(None, description="its entry in documents/metadata.json, verbatim")


class FFLegacySessionDTO(_DTO):
    """A legacy session directory: a chat session or a panel session."""

    user_id: str = Field(description="the owner's v2 id (mapped when the folder name is not a valid id)")
    session_id: str = Field(description="the v2 id (mapped when the folder name is not a valid id)")
    legacy_id: str | None = Field(None, description="the folder name, when it had to be mapped")
    relative_dir: str
    kind: Literal["chat", "panel"]
    session_json: dict[str, Any] | None = Field(None, description="session.json verbatim; None when missing")
    messages_file: str | None = Field(None, description="relative path of messages.jsonl, None when missing")
    messages_bytes: int = 0
    transcripts: dict[str, str] = Field(
        default_factory=dict, description="persona name -> relative path of <persona>_messages.jsonl"
    )
    documents: list[FFLegacyDocumentDTO] = Field(default_factory=list)
    participants: list[str] = Field(default_factory=list, description="metadata.participants of session.json")
    message_count: int = Field(0, description="good records in messages.jsonl")
    first_timestamp: str | None = None
    last_timestamp: str | None = None
    first_user_text: str = Field("", description="start of the first user message (title of a session without session.json)")
    personas_seen: list[str] = Field(default_factory=list, description="metadata.persona values of its messages, in order")
    assistant_without_persona: bool = Field(False, description="an assistant message names no persona")


class FFLegacyUserDTO(_DTO):
    """A legacy user directory."""

    user_id: str = Field(description="the v2 id (mapped when the folder name is not a valid id)")
    legacy_id: str | None = Field(None, description="the folder name, when it had to be mapped")
    profile: dict[str, Any] | None = Field(None, description="profile.json verbatim; None when missing")
    sessions: list[FFLegacySessionDTO] = Field(default_factory=list)


class FFLegacyVectorSetDTO(_DTO):
    """``users/default/sessions/<session_id>/vectors/``: embeddings.npy plus vector_index.jsonl."""

    session_id: str
    owner_user_id: str = Field(description="the user whose session this is, or the directory's user")
    relative_dir: str
    files: dict[str, int] = Field(description="file name -> size in bytes")
    dtype: str = ""
    shape: list[int] = Field(default_factory=list)
    index_lines: int = 0


class FFLegacyPersonaDTO(_DTO):
    """``personas_global/<persona_id>.json``."""

    persona_id: str = Field(description="the v2 id (mapped when the legacy one is not a valid id)")
    legacy_id: str | None = Field(None, description="the legacy persona id, when it had to be mapped")
    relative_path: str
    data: dict[str, Any]


class FFLegacyInventoryDTO(_DTO):
    """Everything the legacy reader found under one root (messages are streamed, not held)."""

    root: str
    schema_version: int = 1
    users: list[FFLegacyUserDTO] = Field(default_factory=list)
    personas: list[FFLegacyPersonaDTO] = Field(default_factory=list)
    vector_sets: list[FFLegacyVectorSetDTO] = Field(default_factory=list)
    irregular: list[FFIrregularItemDTO] = Field(default_factory=list)
    id_map: list[FFIdMappingDTO] = Field(default_factory=list, description="legacy ids imported under a mapped v2 id")
    files: int = 0
    bytes: int = 0
    newest_timestamp: str = Field("", description="latest message timestamp: the import's deterministic clock")

    def sessions(self) -> list[FFLegacySessionDTO]:
        return [s for u in self.users for s in u.sessions]


class FFMigrationDefinitionDTO(_DTO):
    """A migration as the registry describes it (its steps are code, identified by checksum)."""

    migration_id: str
    from_version: int
    to_version: int
    description: str
    reversible: bool
    checksum: str = Field(description="SHA-256 of the definition: ids, versions, description, step source code")


class FFAppliedMigrationDTO(_DTO):
    """One line of a data root's applied-migrations log."""

    migration_id: str
    from_version: int
    to_version: int
    checksum: str
    applied_at: datetime
    duration_seconds: float = Field(ge=0)
    source: str = ""


class FFRegistryProblemDTO(_DTO):
    """What ``validate`` found wrong between the registry and a root's log."""

    migration_id: str
    problem: Literal["changed", "missing", "out_of_order", "unknown_version"]
    detail: str


class FFMigrationPlanDTO(_DTO):
    """A dry run: what a migration would write, computed without writing anything."""

    source: str
    target: str
    from_version: int
    to_version: int
    migrations: list[str]
    records: dict[str, int] = Field(description="users, sessions, messages, panels... that would be imported")
    files_to_write: int = Field(description="files the target would hold (estimate from the import plan)")
    bytes_to_copy: int = Field(description="bytes copied verbatim (documents, vector files)")
    source_bytes: int
    irregular: list[FFIrregularItemDTO] = Field(default_factory=list)
    id_map: list[FFIdMappingDTO] = Field(default_factory=list, description="legacy ids that would be mapped")
    writes_performed: int = Field(0, description="files the dry run changed; proven 0 by manifests")


class FFComparisonDTO(_DTO):
    """Field-by-field comparison of a legacy source and a migrated target."""

    counts_source: dict[str, int] = Field(default_factory=dict)
    counts_target: dict[str, int] = Field(default_factory=dict)
    fields_compared: int = 0
    differences: list[str] = Field(default_factory=list, description="unexplained; empty means equivalent")
    explained: list[str] = Field(default_factory=list, description="differences with a recorded reason")
    equivalences: list[str] = Field(
        default_factory=list, description="the documented equivalence rules the comparison applied (the only ones)")
    forgiven: dict[str, int] = Field(
        default_factory=dict, description="rule id -> how many field comparisons that rule settled")
    unaccounted: list[str] = Field(
        default_factory=list, description="legacy files or lines neither imported nor listed with a reason")

    @property
    def equivalent(self) -> bool:
        return not self.differences


class FFMigrationRunDTO(_DTO):
    """One migration of a source into a target (via staging and swap)."""

    run_id: str
    source: str
    target: str
    in_place: bool
    from_version: int
    to_version: int
    migrations_applied: list[str]
    counts: dict[str, int] = Field(default_factory=dict)
    irregular: list[FFIrregularItemDTO] = Field(default_factory=list)
    id_map: list[FFIdMappingDTO] = Field(default_factory=list, description="legacy ids imported under a mapped v2 id")
    comparison: FFComparisonDTO
    manifest_digest_source: str
    manifest_digest_target: str
    backup_dir: str
    batches_written: int = 0
    batch_size: int = 1
    largest_batch: int = 0
    duration_seconds: float = 0.0
    already_current: bool = Field(False, description="the target was already at the latest version")


class FFMigrationStateDTO(_DTO):
    """The journal of a target's last migration run (``.<target>.ff_migration/state.json``).

    Phases: ``prepared`` -> ``staged`` -> ``swapping`` -> ``done`` (-> ``rolled_back``); see
    ``ff_managers.ff_migration_manager`` for what each one promises after a crash.
    """

    run_id: str
    source: str
    target: str
    in_place: bool
    target_existed: bool
    phase: Literal["prepared", "staged", "swapping", "done", "rolled_back"]
    started_at: datetime
    backup_dir: str = Field("", description="copy of the target as it was; empty when it did not exist")
    backup_url: str = Field("", description="the backup's write-once copy in the artifact store (storage.artifacts_url); empty when none")
    manifest_before_path: str = Field("", description="manifest of the target as it was")
    manifest_before_digest: str = ""
    staging_digest: str = Field("", description="manifest digest of the verified staging copy")
    updated_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


class FFInterruptionTrialDTO(_DTO):
    """One SIGKILL of a child process migrating, and what was left."""

    kill_after_seconds: float
    child_finished_first: bool
    source_untouched: bool
    rerun_converged: bool


class FFMigrationValidationDTO(_DTO):
    """Everything ``validate_existing_data_migration`` measured (the summary DTO holds the headline)."""

    run: FFMigrationRunDTO
    dry_run: FFMigrationPlanDTO
    dry_run_wrote_nothing: bool
    rollback_identical: bool
    reapply_identical: bool
    reapply_differences: list[str] = Field(default_factory=list)
    volatile_files: list[str] = Field(default_factory=list, description="files allowed to differ on re-apply")
    registry_problems: list[FFRegistryProblemDTO] = Field(default_factory=list)
    within_timeout: bool
    generated_seed: int | None = None
