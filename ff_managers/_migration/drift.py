"""What changed in a migrated root since its last migration: what a rollback would throw away.

A rollback restores the backup taken *before* the migration, so anything written to the root
*after* it (new sessions, messages, documents) is lost. Before it does that the CLI asks this module
and refuses unless told ``--force``, listing what would go.

The reference is the manifest of the verified staging copy that was swapped in. The engine keeps it
as ``<run>/manifest_after.json`` in the work directory; a root migrated before that file existed
still has it as the root's own ``ff_manifest.json``, as long as nobody replaced it (the journal's
``staging_digest`` tells). When neither is there, the digest still tells *whether* the root
changed, only not where.
"""

from __future__ import annotations

from pathlib import Path

from ff_class_configs.ff_migration_dtos import FFMigrationStateDTO
from ff_class_configs.ff_migration_info_dtos import FFMigrationDriftDTO
from ff_managers._migration.backup import manifest_digest, read_manifest, read_state, work_store
from ff_utils.ff_errors import FFConflictError, FFNotFoundError
from ff_utils.ff_hashing import FF_MANIFEST_NAME, FFManifest, ff_build_manifest, ff_diff_manifests
from ff_utils.ff_json_utils import ff_read_json

__all__ = ["MANIFEST_AFTER", "changes_since_migration", "post_migration_manifest"]

#: Name of the post-migration manifest in the run's folder of the work directory.
MANIFEST_AFTER = "manifest_after.json"


def post_migration_manifest(state: FFMigrationStateDTO) -> FFManifest | None:
    """The manifest the root had right after the migration; None when it is no longer known."""
    store = work_store(state.target)
    kept = store.path(state.run_id, MANIFEST_AFTER)
    if kept.is_file():
        return read_manifest(store, kept)
    in_root = Path(state.target) / FF_MANIFEST_NAME
    if in_root.is_file():
        try:
            candidate = FFManifest.model_validate(ff_read_json(in_root))
        except ValueError:  # a damaged or foreign file there is simply not the reference
            return None
        if manifest_digest(candidate) == state.staging_digest:
            return candidate
    return None


def changes_since_migration(root: Path | str) -> FFMigrationDriftDTO:
    """Paths added, removed and modified since the root's last migration.

    Raises FFNotFoundError when no migration is recorded for ``root``, FFConflictError when the last
    one did not finish or was already rolled back (there is nothing a rollback would discard).
    """
    state = read_state(root)
    if state is None:
        raise FFNotFoundError(f"no migration recorded for {root}", kind="migration", key=str(root))
    if state.phase != "done":
        raise FFConflictError(f"the last migration of {root} is {state.phase}, not done")
    target = Path(state.target)
    current = ff_build_manifest(target) if target.is_dir() else FFManifest(entries=[])
    changed = manifest_digest(current) != state.staging_digest
    reference = post_migration_manifest(state)
    if reference is None:
        return FFMigrationDriftDTO(root=str(target), run_id=state.run_id, changed=changed, paths_known=not changed)
    diff = ff_diff_manifests(reference, current)
    return FFMigrationDriftDTO(root=str(target), run_id=state.run_id, changed=changed,
                               added=diff.added, removed=diff.removed, modified=diff.changed)
