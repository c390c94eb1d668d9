"""Small units of ``_migration`` read back exactly, without running a migration.

Written for the survivors of the mutation run of 2026-12-05 (docs/MUTATION.md, ``_migration``):
``registry.validate`` (out of order, a missing entry followed by others, the checksum detail),
``info.migration_info`` / ``validate_root`` (description, last run's backup, the root; the newer
schema's problem), ``drift`` (the kept post-migration manifest, a target that is gone, the
reference lost), ``backup_remote`` (the store's folder layout its docstring gives; a pack error),
``equivalence`` (the rules' field lists, timestamps that do not parse) and ``legacy_files``.
Journals and roots are made by hand, so each test takes milliseconds.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ff_class_configs import load_config
from ff_class_configs.ff_migration_dtos import FFAppliedMigrationDTO, FFMigrationStateDTO
from ff_managers import FFMigration, FFMigrationRegistry
from ff_managers._migration.backup import describe_diff, manifest_digest, work_dir_for, write_state
from ff_managers._migration.backup_remote import _folder, _pack
from ff_managers._migration.drift import MANIFEST_AFTER, changes_since_migration, post_migration_manifest
from ff_managers._migration.engine import migrate_root
from ff_managers._migration.equivalence import EQUIVALENCE_RULES, _fields, same_instant
from ff_managers._migration.info import migration_info, validate_root
from ff_managers._migration.legacy_files import count_record_lines, describe_link
from ff_managers._migration.legacy_format import message_problem
from ff_managers._migration.legacy_ids import mapped_id
from ff_managers._migration.legacy_mapping import profile_from_v2
from ff_managers._migration.legacy_reader import FFLegacyReader
from ff_managers._migration.registry import append_applied
from ff_managers.ff_data_root import ff_ensure_data_root
from ff_utils.ff_errors import FFNotFoundError, FFValidationError
from ff_utils.ff_hashing import FFManifest, ff_build_manifest, ff_sha256_bytes, ff_write_manifest
from ff_utils.ff_store import FFStore

_AT = datetime(2026, 1, 2, tzinfo=UTC)


async def _step(context: object) -> None:
    return None


def _registry() -> FFMigrationRegistry:
    return FFMigrationRegistry([FFMigration("0001_a", 1, 2, "one to two", _step),
                                FFMigration("0002_b", 2, 3, "two to three", _step)])


def _entry(migration_id: str, start: int, checksum: str = "c" * 64) -> FFAppliedMigrationDTO:
    return FFAppliedMigrationDTO(migration_id=migration_id, from_version=start, to_version=start + 1,
                                 checksum=checksum, applied_at=_AT, duration_seconds=0.1)


def _state(target: Path, **changes: object) -> FFMigrationStateDTO:
    fields = {"run_id": "run-1", "source": "/src", "target": str(target), "in_place": False,
              "target_existed": False, "phase": "done", "started_at": _AT, **changes}
    return FFMigrationStateDTO.model_validate(fields)


def _journal(state: FFMigrationStateDTO) -> None:
    work_dir_for(state.target).mkdir(parents=True, exist_ok=True)
    write_state(state)


# ------------------------------------------------------------------ registry.validate


def test_validate_reports_every_problem_of_a_log_in_order() -> None:
    registry = _registry()
    a, b = registry.get("0001_a"), registry.get("0002_b")
    log = [_entry("0001_a", 1, a.checksum()), _entry("0009_ghost", 2), _entry("0002_b", 3, "d" * 64)]
    problems = registry.validate(log)
    assert [(p.migration_id, p.problem) for p in problems] == [
        ("0009_ghost", "missing"), ("0002_b", "changed"), ("0002_b", "out_of_order")]
    assert problems[1].detail == f"checksum {'d' * 12} when applied, {b.checksum()[:12]} now"
    assert problems[2].detail == "starts at version 3, the previous one ended at 2"
    assert registry.validate([_entry("0001_a", 1, a.checksum()), _entry("0002_b", 2, b.checksum())]) == []


# ------------------------------------------------------------------ info


def _ff_root(root: Path, version: int, applied: list[FFAppliedMigrationDTO]) -> Path:
    ff_ensure_data_root(root)
    meta_path = root / "ff_meta.json"
    meta_path.write_text(json.dumps({**json.loads(meta_path.read_text()), "schema_version": version}))
    for entry in applied:
        append_applied(FFStore(root), entry)
    return root


def test_info_rows_carry_the_registry_description_and_the_last_runs_backup(tmp_path: Path) -> None:
    registry = _registry()
    root = _ff_root(tmp_path / "root", 3, [_entry("0001_a", 1, registry.get("0001_a").checksum()), _entry("0007_gone", 2)])
    _journal(_state(root, backup_dir="/somewhere/backup"))
    info = migration_info(root, registry)
    assert info.root == str(root.resolve())
    assert [(r.migration_id, r.state, r.description) for r in info.applied] == [
        ("0001_a", "applied", "one to two"), ("0007_gone", "missing", "")]
    assert info.pending == []
    assert info.last_run is not None and info.last_run.backup_dir == "/somewhere/backup"
    assert info.last_run.rollback_available


def test_validate_root_names_the_last_applied_migration_of_a_newer_root(tmp_path: Path) -> None:
    registry = _registry()
    logged = _ff_root(tmp_path / "logged", 4, [_entry("0001_a", 1, registry.get("0001_a").checksum()),
                                              _entry("0002_b", 2, registry.get("0002_b").checksum())])
    newer = [p for p in validate_root(logged, registry) if "newer version" in p.detail]
    assert [(p.migration_id, p.problem) for p in newer] == [("0002_b", "unknown_version")]
    bare = _ff_root(tmp_path / "bare", 4, [])
    (problem,) = validate_root(bare, registry)
    assert (problem.migration_id, problem.problem) == ("-", "unknown_version")


# ------------------------------------------------------------------ drift


def _migrated_by_hand(tmp_path: Path, *, keep_after: bool = True) -> tuple[Path, FFMigrationStateDTO]:
    """A target as a migration leaves it: journal 'done', its post-migration manifest kept."""
    target = tmp_path / "target"
    (target / "users").mkdir(parents=True)
    (target / "users" / "a.json").write_text("{}")
    (target / "ff_meta.json").write_text("{}")
    after = ff_build_manifest(target)
    state = _state(target, staging_digest=manifest_digest(after))
    _journal(state)
    if keep_after:
        ff_write_manifest(target, after, work_dir_for(target) / state.run_id / MANIFEST_AFTER)
    return target, state


def test_the_kept_post_migration_manifest_is_the_reference(tmp_path: Path) -> None:
    target, state = _migrated_by_hand(tmp_path)
    kept = post_migration_manifest(state)  # the root has no ff_manifest.json: only the kept copy
    assert kept is not None and [e.path for e in kept.entries] == ["ff_meta.json", "users/a.json"]
    (target / "users" / "b.json").write_text("{}")
    drift = changes_since_migration(target)
    assert (drift.root, drift.changed, drift.added, drift.paths_known) == (str(target), True, ["users/b.json"], True)


def test_a_target_that_is_gone_lost_every_file(tmp_path: Path) -> None:
    target, _state_ = _migrated_by_hand(tmp_path)
    for path in sorted(target.rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    target.rmdir()
    drift = changes_since_migration(target)
    assert drift.changed and drift.removed == ["ff_meta.json", "users/a.json"] and drift.added == []


def test_without_a_reference_the_drift_says_whether_not_where(tmp_path: Path) -> None:
    target, _state_ = _migrated_by_hand(tmp_path, keep_after=False)
    drift = changes_since_migration(target)
    assert (drift.root, drift.run_id, drift.changed, drift.paths_known) == (str(target), "run-1", False, True)
    (target / "users" / "a.json").write_text('{"x": 1}')
    drift = changes_since_migration(target)
    assert (drift.root, drift.changed, drift.paths_known, drift.modified) == (str(target), True, False, [])


# ------------------------------------------------------------------ backup_remote


@pytest.mark.parametrize(("name", "expected"), [
    ("Data Root!", "Data_Root_"), ("MiXed.v2_x-y", "MiXed.v2_x-y"), ("._-.hidden.", "hidden."),
    ("XYZ", "XYZ"), ("###", "root"), ("...", "root"),
])
def test_the_stored_backup_folder_is_the_documented_layout(tmp_path: Path, name: str, expected: str) -> None:
    target = tmp_path / name
    folder = _folder(_state(target, run_id="run-20260102T000000-abcd1234"))
    digest = ff_sha256_bytes(str(target).encode())[:12]
    assert folder == f"migration-backups/{expected}-{digest}/run-20260102T000000-abcd1234"


def test_packing_into_a_missing_folder_names_the_action_and_the_backup(tmp_path: Path) -> None:
    (tmp_path / "backup").mkdir()
    with pytest.raises(FFNotFoundError) as caught:
        _pack(tmp_path / "backup", tmp_path / "missing" / "backup.tar")
    assert str(caught.value).startswith("cannot pack backup: ")
    assert Path(caught.value.path) == tmp_path / "backup"


# ------------------------------------------------------------------ equivalence, legacy_files


def test_the_rules_name_their_fields_as_the_report_prints_them() -> None:
    assert [r.applies_to for r in EQUIVALENCE_RULES] == [
        "message: attachments, metadata",
        "message: attachments, message_id, metadata, timestamp; panel_message: message_id",
        "message: timestamp; panel_message: timestamp; profile: created_at, updated_at; session: created_at, updated_at",
    ]
    assert _fields({"b": {"z", "y"}, "empty": set(), "a": {"x"}}) == "b: y, z; a: x"  # the table's order, fields sorted


def test_a_timestamp_that_does_not_parse_is_never_the_same_instant() -> None:
    assert not same_instant("not a time", "2025-08-01T10:00:00")
    assert not same_instant("2025-08-01T10:00:00", "not a time")
    assert not same_instant(None, None)
    assert same_instant("2025-08-01T10:00:00Z", "2025-08-01T12:00:00+02:00")


def test_describe_link_names_the_target_or_a_question_mark(tmp_path: Path) -> None:
    os.symlink("../elsewhere", tmp_path / "link")
    assert describe_link(tmp_path / "link") == "symbolic link to '../elsewhere': migration never follows links; not imported"
    (tmp_path / "plain").write_text("x")  # not (or no longer) a link: where it pointed is unknown
    assert describe_link(tmp_path / "plain") == "symbolic link to '?': migration never follows links; not imported"


def test_count_record_lines_counts_the_non_blank_lines(tmp_path: Path) -> None:
    (tmp_path / "f.jsonl").write_bytes(b'{"a": 1}\n\n   \n{"b": 2}\n{"c": 3}')
    assert count_record_lines(tmp_path / "f.jsonl") == 3


# ------------------------------------------------------------------ engine._already_current


async def test_a_root_at_the_registrys_latest_version_is_current_at_that_version(tmp_path: Path) -> None:
    """'Already current' reports the root's own version, the registry's latest (here 3, not the
    FF_SCHEMA_VERSION of the default registry)."""
    root = _ff_root(tmp_path / "root", 3, [])
    config = load_config(base_path=tmp_path / "unused", environ={})
    run = await migrate_root(root, root, config, registry=_registry())
    assert run.already_current and (run.from_version, run.to_version) == (3, 3) and run.run_id == "none"


# ------------------------------------------------------------------ the reasons a user reads


_OK = {"role": "user", "content": "hi"}


@pytest.mark.parametrize(("record", "expected"), [
    ({"content": "hi"}, ("invalid_record", "message without a role")),
    ({**_OK, "role": ""}, ("invalid_record", "message without a role")),
    ({**_OK, "content": 5}, ("invalid_record", "message content is neither text nor a list of text parts")),
    ({**_OK, "metadata": []}, ("invalid_record", "message metadata is not an object")),
    ({**_OK, "attachments": {"a": 1}}, ("invalid_record", "message attachments is not a list of objects")),
    ({**_OK, "attachments": [{"a": 1}, "x"]}, ("invalid_record", "message attachments is not a list of objects")),
    ({**_OK, "timestamp": "yesterday"}, ("invalid_record", "timestamp is neither ISO 8601 nor epoch seconds")),
    ({**_OK, "content": "  "}, ("unimportable_record", "empty message: the v2 layout refuses messages without text")),
    ({**_OK, "role": "USER", "metadata": None, "attachments": None, "timestamp": 1754042400}, ("", "")),
])
def test_message_problem_names_each_kind_of_damage(record: dict, expected: tuple[str, str]) -> None:
    assert message_problem(record) == expected


def test_the_reader_refuses_what_is_no_legacy_root_naming_the_source(tmp_path: Path) -> None:
    with pytest.raises(FFValidationError) as caught:
        FFLegacyReader(tmp_path / "missing")
    assert (caught.value.message, caught.value.field, caught.value.path) == (
        f"legacy source is not a directory: {tmp_path / 'missing'}", "source", tmp_path / "missing")
    with pytest.raises(FFValidationError) as caught:
        FFLegacyReader(tmp_path)
    assert (caught.value.message, caught.value.field, caught.value.path) == (
        f"not a legacy v1 root (no users/ or personas_global/): {tmp_path}", "source", tmp_path)


def test_a_profile_without_an_import_book_is_rebuilt_as_stored() -> None:
    """Only the book's ``profile_json: false`` (the legacy user had no profile.json) means "none"."""
    stored = {"user_id": "u", "username": "U", "preferences": {"a": 1}, "metadata": {}, "extra": {"note": 1}}
    rebuilt = profile_from_v2(stored)
    assert rebuilt is not None and (rebuilt["user_id"], rebuilt["username"], rebuilt["note"]) == ("u", "U", 1)


@pytest.mark.parametrize(("original", "readable"), [
    ("Ünïcode Name!!", "Unicode-Name"),  # accents dropped, capitals kept, a run of others is one dash
    ("..a..b..", "a-b"), ("A--B__c", "A-B__c"), ("-._x_.-", "x"), ("Xylophone X", "Xylophone-X"),
    ("a" * 99 + "-b", "a" * 99), ("a" * 99 + "Xb", "a" * 99 + "X"),  # cut at 100, then trailing - . _ dropped
    ("!!!", "id"), ("", "id"),
])
def test_a_mapped_id_is_a_readable_slug_and_a_digest(original: str, readable: str) -> None:
    assert mapped_id(original) == f"{readable}-{hashlib.sha256(original.encode()).hexdigest()[:10]}"


def test_a_name_with_undecodable_bytes_is_mapped_from_its_raw_bytes() -> None:
    """os.fsdecode turns an undecodable byte into a lone surrogate; the digest reads it as such."""
    original = b"bad\xff name".decode("utf-8", "surrogateescape")
    assert mapped_id(original) == "bad-name-" + hashlib.sha256(b"bad\xed\xb3\xbf name").hexdigest()[:10]


def test_a_long_difference_list_is_cut_at_fifty_lines_by_default() -> None:
    entry = {"size": 1, "sha256": "0" * 64}
    before = FFManifest(entries=[])
    after = FFManifest(entries=[{"path": f"f{i:03}", **entry} for i in range(51)])
    lines = describe_diff(before, after)
    assert len(lines) == 51 and lines[49] == "added: f049" and lines[50] == "... and 1 more"
