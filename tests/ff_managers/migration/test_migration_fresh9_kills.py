"""Survivors of the uniform ``_migration`` sample of seed 20261209 (issue 20, "Detection power"),
each read back as a caller of the migration sees it: a small legacy root written by hand (two
personas sharing a legacy id the v2 rule refuses, a session with two documents, a BOM, a salvaged
line, a stray folder at the root) is migrated once and its report, target and scan are read;
the refusals of a newer root and of a root of no known layout are checked word for word.
Every test here was seen red with its mutant applied by hand (branch rev-mig-9).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from ff_class_configs import load_config
from ff_class_configs.ff_migration_dtos import FFComparisonDTO, FFMigrationRunDTO
from ff_managers._migration.compare import compare_source_target
from ff_managers._migration.engine import migrate_root, plan_migration
from ff_managers._migration.legacy_files import BOM
from ff_managers._migration.legacy_format import parse_line
from ff_managers._migration.legacy_mapping import LEGACY_KB_ID
from ff_managers._migration.legacy_reader import FFLegacyReader
from ff_managers._migration.manager_adapter import FFManagerTarget
from ff_managers.ff_data_root import ff_ensure_data_root
from ff_utils.ff_errors import FFValidationError
from tests.ff_managers.migration._small_migration import TargetView, config_for

_SESSION = "users/alice/chat_1"
_MESSAGES = f"{_SESSION}/messages.jsonl"
_BOM_FILE = "users/alice/chat_bom/messages.jsonl"
_DOC_A, _DOC_B = f"{_SESSION}/documents/a_report.txt", f"{_SESSION}/documents/b_notes.txt"


def _line(n: int) -> str:
    return json.dumps({"role": "user", "content": f"hello {n}", "message_id": f"m{n}",
                       "timestamp": f"2024-01-0{n}T10:00:00"})


def _write(path: Path, data: bytes | str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode())


def _legacy_root(src: Path) -> Path:
    """Two personas whose persona_id ``bad id`` the v2 rule refuses; alice's chat with a salvaged
    line 2 and two documents (one with an original name); a chat whose lines 1 and 2 start with a
    BOM; a folder at the root that is not part of the layout."""
    for stem in ("first", "second"):
        _write(src / "personas_global" / f"{stem}.json", json.dumps({"persona_id": "bad id", "name": stem}))
    _write(src / _MESSAGES, f"{_line(1)}\nxx{_line(2)}\n")
    _write(src / _DOC_A, "the report body\n")
    _write(src / _DOC_B, "the notes body\n")
    _write(src / _SESSION / "documents" / "metadata.json", json.dumps({
        "a_report.txt": {"original_name": "Quarterly report.txt", "mime_type": "text/plain"},
        "b_notes.txt": {"mime_type": "text/plain"}}))
    _write(src / _BOM_FILE, BOM + f"{_line(3)}\n".encode() + BOM + f"{_line(4)}\n".encode())
    _write(src / "junk" / "inner.txt", "a folder the legacy layout does not know")
    return src


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, FFMigrationRunDTO]:
    base = tmp_path_factory.mktemp("fresh9")
    src = _legacy_root(base / "src")
    run = asyncio.run(migrate_root(src, base / "dst", config_for(base)))
    return src, base / "dst", run


def _irregular(run: FFMigrationRunDTO, path: str) -> list[tuple[str, int | None]]:
    return sorted(((i.kind, i.line_number) for i in run.irregular if i.path == path), key=repr)


async def _compare(src: Path, dst: Path, **overrides: Any) -> FFComparisonDTO:
    reader = FFLegacyReader(src)
    async with FFManagerTarget(load_config(base_path=dst, environ={})) as real:
        return await compare_source_target(reader, reader.scan(), TargetView(real, **overrides), [], [])


async def _documents(dst: Path) -> set[tuple[str, str | None]]:
    """(title, source) of alice's imported documents, read through the knowledge manager."""
    async with FFManagerTarget(load_config(base_path=dst, environ={})) as target:
        docs = await target.knowledge.list_documents("alice", LEGACY_KB_ID)
    return {(d.title, d.source) for d in docs}


# ------------------------------------------------------------------ audit._listed 12
# ------------------------------------------------------------------ legacy_reader.scan 19


def test_a_file_in_a_stray_folder_at_the_root_is_accounted_for_by_the_folders_listing(
    migrated: tuple[Path, Path, FFMigrationRunDTO],
) -> None:
    _src, dst, run = migrated
    assert run.comparison.equivalent, run.comparison.differences
    assert run.comparison.unaccounted == [] and dst.is_dir()
    (junk,) = [i for i in run.irregular if i.path == "junk"]
    assert (junk.kind, junk.action, junk.reason) == (
        "stray_file", "skipped", "not part of the legacy layout (users/, personas_global/)")


# ------------------------------------------------------------------ legacy_files.iter_raw_lines 8
# ------------------------------------------------------------------ legacy_reader.iter_lines 87


def test_a_bom_is_dropped_from_the_first_line_only_and_a_later_one_is_a_salvaged_line(
    migrated: tuple[Path, Path, FFMigrationRunDTO],
) -> None:
    _src, _dst, run = migrated
    assert _irregular(run, _BOM_FILE) == [("salvaged_line", 2)]
    assert _irregular(run, _MESSAGES) == [("salvaged_line", 2)]
    (salvaged,) = [i for i in run.irregular if i.path == _MESSAGES]
    assert salvaged.reason == "2 stray byte(s) before the JSON object were dropped; the record is intact"


# ------------------------------------------------------------------ legacy_format.parse_line 18


def test_a_good_line_parses_with_no_stray_bytes_and_no_error() -> None:
    assert parse_line(b'{"role": "user", "content": "hi"}\n') == ({"role": "user", "content": "hi"}, 0, "")
    assert parse_line(b'xx{"a": 1}\n') == ({"a": 1}, 2, "")


# ------------------------------------------------------------------ legacy_ids.FFIdMapper.map 21


async def test_two_personas_sharing_a_refused_legacy_id_get_two_distinct_mapped_ids(tmp_path: Path) -> None:
    src = tmp_path / "src"
    for stem in ("first", "second"):
        _write(src / "personas_global" / f"{stem}.json", json.dumps({"persona_id": "bad id", "name": stem}))
    ids = [p.persona_id for p in FFLegacyReader(src).scan().personas]
    assert len(set(ids)) == 2 and all(i.startswith("bad-id-") for i in ids)
    assert sorted(len(i) for i in ids) == [len("bad-id-") + 10, len("bad-id-") + 16]
    run = await migrate_root(src, tmp_path / "dst", config_for(tmp_path))
    assert run.comparison.equivalent, run.comparison.differences
    assert sorted(m.v2_id for m in run.id_map if m.legacy_id == "bad id") == sorted(ids)


# ------------------------------------------------------------------ legacy_import.run 27


async def test_the_dry_run_counts_every_persona(migrated: tuple[Path, Path, FFMigrationRunDTO], tmp_path: Path) -> None:
    src, _dst, run = migrated
    plan = await plan_migration(src, tmp_path / "planned", config_for(tmp_path))
    assert plan.records["personas"] == 2
    assert run.comparison.counts_source["personas"] == run.comparison.counts_target["personas"] == 2


# ------------------------------------------------------------------ legacy_import._import_user 131
# ------------------------------------------------------------------ manager_adapter.put_document 25


async def test_an_imported_document_is_titled_by_its_original_name_and_sourced_by_its_legacy_path(
    migrated: tuple[Path, Path, FFMigrationRunDTO],
) -> None:
    _src, dst, _run = migrated
    # b_notes.txt has no original name: it keeps its stored name as title
    assert await _documents(dst) == {("Quarterly report.txt", _DOC_A), ("b_notes.txt", _DOC_B)}


# ------------------------------------------------------------------ compare._session 92


async def test_every_document_missing_in_the_target_is_named_not_only_the_first(
    migrated: tuple[Path, Path, FFMigrationRunDTO],
) -> None:
    src, dst, _run = migrated

    async def no_documents(user_id: str, kb_id: str, document_id: str) -> None:
        return None

    comparison = await _compare(src, dst, get_document=no_documents)
    missing = [d for d in comparison.differences if d.endswith(": document missing in target")]
    assert missing == [f"{_DOC_A}: document missing in target", f"{_DOC_B}: document missing in target"]


# ------------------------------------------------------------------ compare._Comparer.run 27


async def test_a_persona_field_the_target_changed_is_named_with_the_persona_file(
    migrated: tuple[Path, Path, FFMigrationRunDTO],
) -> None:
    src, dst, _run = migrated
    async with FFManagerTarget(load_config(base_path=dst, environ={})) as real:
        async def get_persona(persona_id: str) -> dict[str, Any] | None:
            stored = await real.get_persona(persona_id)
            assert stored is not None
            return {**stored, "name": "changed by the test"}

        reader = FFLegacyReader(src)
        comparison = await compare_source_target(reader, reader.scan(), TargetView(real, get_persona=get_persona), [], [])
    named = sorted(d.split(":")[0] for d in comparison.differences if "'name'" in d)
    assert named == ["personas_global/first.json", "personas_global/second.json"]


# ------------------------------------------------------------------ engine._refuse_newer 10
# ------------------------------------------------------------------ engine.detect_version 16


async def test_a_root_of_a_newer_schema_is_refused_in_so_many_words(tmp_path: Path) -> None:
    root = tmp_path / "root"
    ff_ensure_data_root(root)
    meta = root / "ff_meta.json"
    meta.write_text(json.dumps({**json.loads(meta.read_text()), "schema_version": 3}))
    with pytest.raises(FFValidationError) as caught:
        await plan_migration(root, tmp_path / "target", config_for(tmp_path))
    assert caught.value.message == (
        f"{root.resolve()} is at schema version 3, newer than the 2 this FF Platform knows "
        "(a newer release wrote it); nothing was migrated")


async def test_a_source_of_no_known_layout_is_refused_naming_the_source(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "notes").mkdir(parents=True)
    with pytest.raises(FFValidationError) as caught:
        await migrate_root(src, tmp_path / "dst", config_for(tmp_path))
    assert (caught.value.field, caught.value.path) == ("source", src.resolve())
    assert caught.value.message == f"neither a legacy v1 root nor an FF data root: {src.resolve()}"
    assert not (tmp_path / "dst").exists()
