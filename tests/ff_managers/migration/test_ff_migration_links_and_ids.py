"""Migration never follows a symlink and never drops a legacy record silently (Hardening attacks 3 and 4).

Each defence has a planted-defect twin: a reader that follows links, a reader that drops ids the
v2 rule refuses (the old behaviour), a target that lost a message. The verification, which does
not trust the reader, must refuse each of them.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from ff_class_configs import load_config
from ff_class_configs.ff_migration_dtos import FFLegacySessionDTO
from ff_managers import FFMemoryLayerManager, FFMigrationManager
from ff_managers._migration.compare import compare_source_target
from ff_managers._migration.engine import migrate_root
from ff_managers._migration.legacy_files import FFEntry, list_entries
from ff_managers._migration.legacy_ids import ID_MAP_NAME, mapped_id
from ff_managers._migration.legacy_import import FFLegacyImport
from ff_managers._migration.legacy_reader import FFLegacyReader
from ff_managers._migration.manager_adapter import FFManagerTarget
from ff_utils.ff_hashing import ff_build_manifest
from ff_utils.ff_ids import ff_is_valid_id


def _line(i: int, **fields: Any) -> str:
    return json.dumps({"role": "user", "content": f"text {i}", "message_id": f"m{i}",
                       "timestamp": f"2025-08-01T10:00:0{i}", **fields}) + "\n"


def _legacy(tmp_path: Path) -> Path:
    """A root with a linked document, a linked session folder and ids the v2 rule refuses."""
    root = tmp_path / "legacy"
    outside = tmp_path / "outside"
    (outside / "victim_session").mkdir(parents=True)
    (outside / "victim_session" / "messages.jsonl").write_text(_line(0, content="someone else's chat"))
    (outside / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    session = root / "users" / "alice" / "s1"
    (session / "documents").mkdir(parents=True)
    (session / "messages.jsonl").write_text(_line(0) + _line(1))
    (session / "documents" / "notes.md").write_text("# my notes\n")
    (session / "documents" / "passwd.md").symlink_to(outside / "passwd")
    (root / "users" / "alice" / "linked_session").symlink_to(outside / "victim_session")
    odd = root / "users" / "zoë" / "my chat"
    odd.mkdir(parents=True)
    (odd / "messages.jsonl").write_text(_line(2) + _line(3, message_id="not valid ë"))
    (root / "users" / "zoë" / "profile.json").write_text(json.dumps({"user_id": "zoë", "username": "Zoë"}))
    return root


class FollowingReader(FFLegacyReader):
    """Planted defect: lists what a link points to as if it were there (the attack's reader)."""

    def _entries(self, directory: Path) -> list[FFEntry]:
        return [FFEntry(e.path, "dir" if e.path.is_dir() else "file") if e.kind == "symlink" else e
                for e in list_entries(directory)]


class DroppingReader(FFLegacyReader):
    """Planted defect: skips a folder whose name is not a valid v2 id, saying nothing (the old mapper)."""

    def _entries(self, directory: Path) -> list[FFEntry]:
        return [e for e in super()._entries(directory) if ff_is_valid_id(e.name) or e.kind == "file"]


async def test_links_are_listed_as_skipped_and_never_read(tmp_path: Path) -> None:
    root = _legacy(tmp_path)
    config = load_config(base_path=tmp_path / "target", environ={})
    run = await FFMigrationManager(config).migrate(root, tmp_path / "target")
    assert run.comparison.equivalent, run.comparison.differences
    links = {i.path: i.reason for i in run.irregular if i.kind == "symlink"}
    assert set(links) == {"users/alice/s1/documents/passwd.md", "users/alice/linked_session"}
    assert all("never follows" in reason and "outside" in reason for reason in links.values())
    assert run.counts["documents"] == 1 and run.counts["sessions"] == 2
    memory = FFMemoryLayerManager(config)
    await memory.initialize()
    try:
        assert [s.session_id for s in await memory.list_sessions("alice")] == ["s1"]
    finally:
        await memory.shutdown()
    for path in (tmp_path / "target").rglob("*"):
        assert not path.is_symlink()
        if path.is_file():
            assert b"root:x:0:0" not in path.read_bytes() and b"someone else" not in path.read_bytes()


async def test_a_reader_that_follows_links_is_refused_by_the_verification(tmp_path: Path) -> None:
    root = _legacy(tmp_path)
    target = tmp_path / "target"
    config = load_config(base_path=target, environ={})
    run = await migrate_root(root, target, config, reader_class=FollowingReader)
    assert not run.comparison.equivalent and not target.exists()
    assert any("documents/passwd.md: imported through a symbolic link" in d for d in run.comparison.differences)
    assert any("linked_session/messages.jsonl: imported through a symbolic link" in d for d in run.comparison.differences)


async def test_invalid_ids_are_mapped_kept_and_listed(tmp_path: Path) -> None:
    root = _legacy(tmp_path)
    target = tmp_path / "target"
    config = load_config(base_path=target, environ={})
    before = ff_build_manifest(root)
    run = await FFMigrationManager(config).migrate(root, target)
    assert run.comparison.equivalent, run.comparison.differences
    assert ff_build_manifest(root).same_content(before)
    user, session = mapped_id("zoë"), mapped_id("my chat")
    assert user.startswith("zoe-") and session.startswith("my-chat-") and ff_is_valid_id(user) and ff_is_valid_id(session)
    mapped = {(m.kind, m.legacy_id, m.v2_id) for m in run.id_map}
    assert {("user", "zoë", user), ("session", "my chat", session),
            ("message", "not valid ë", "legacy-00000002")} == mapped
    on_disk = json.loads((target / ID_MAP_NAME).read_text())["mappings"]
    assert {(m["kind"], m["legacy_id"], m["v2_id"]) for m in on_disk} == mapped
    memory = FFMemoryLayerManager(config)
    await memory.initialize()
    try:
        profile = await memory.get_profile(user)
        assert profile.username == "Zoë" and profile.extra["user_id"] == "zoë"
        assert profile.extra["ff_legacy_import"]["legacy_id"] == "zoë"
        stored = await memory.get_session(user, session)
        assert stored.extra["ff_legacy_import"]["legacy_id"] == "my chat"
        messages = await memory.get_messages(user, session, limit=10)
        assert [m.content for m in messages] == ["text 2", "text 3"]
        assert messages[1].extra["ff_legacy_import"]["original_message_id"] == "not valid ë"
    finally:
        await memory.shutdown()


async def test_mapping_is_deterministic_and_collision_free() -> None:
    assert mapped_id("zoë") == mapped_id("zoë") and mapped_id("zoë") != mapped_id("zoé")
    assert ff_is_valid_id(mapped_id("..")) and ff_is_valid_id(mapped_id("日本")) and ff_is_valid_id(mapped_id(" " * 300))


async def test_a_reader_that_drops_invalid_ids_is_refused_by_the_verification(tmp_path: Path) -> None:
    root = _legacy(tmp_path)
    target = tmp_path / "target"
    run = await migrate_root(root, target, load_config(base_path=target, environ={}), reader_class=DroppingReader)
    assert not run.comparison.equivalent and not target.exists()
    assert "users/zoë/my chat/messages.jsonl" in run.comparison.unaccounted
    assert "users/zoë/profile.json" in run.comparison.unaccounted


class _LosingView:
    """Planted defect: a target that lost the second message of every session."""

    def __init__(self, inner: FFManagerTarget) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def iter_messages(self, user_id: str, session_id: str) -> AsyncIterator[dict[str, Any]]:
        index = 0
        async for message in self.inner.iter_messages(user_id, session_id):
            index += 1
            if index != 2:
                yield message


async def test_verification_fails_when_a_readable_record_is_missing(tmp_path: Path) -> None:
    root = _legacy(tmp_path)
    config = load_config(base_path=tmp_path / "staging", environ={})
    reader = FFLegacyReader(root)
    inventory = reader.scan()
    importer = FFLegacyImport(reader, inventory, batch_size=10)
    async with FFManagerTarget(config) as target:
        await importer.run(target)
        honest = await compare_source_target(reader, inventory, target, importer.explained, importer.skipped)
        losing = await compare_source_target(reader, inventory, _LosingView(target), importer.explained, importer.skipped)  # type: ignore[arg-type]
    assert honest.equivalent, honest.differences
    assert any("users/alice/s1/messages.jsonl:2" in d for d in losing.differences), losing.differences


def test_session_dto_keeps_the_legacy_folder_name() -> None:
    session = FFLegacySessionDTO(user_id="u", session_id=mapped_id("a b"), legacy_id="a b", relative_dir="users/u/a b", kind="chat")
    assert session.legacy_id == "a b"


async def test_vectors_of_a_mapped_session_land_under_its_mapped_id(tmp_path: Path) -> None:
    import random

    from testing.migration._generator import _write_npy

    root = tmp_path / "legacy"
    (root / "users" / "u" / "my chat").mkdir(parents=True)
    (root / "users" / "u" / "my chat" / "messages.jsonl").write_text(_line(0))
    vectors = root / "users" / "default" / "sessions" / "my chat" / "vectors"
    vectors.mkdir(parents=True)
    _write_npy(vectors / "embeddings.npy", 2, random.Random(1))
    (vectors / "vector_index.jsonl").write_text('{"vector_index": 0}\n{"vector_index": 1}\n')
    orphan = root / "users" / "default" / "sessions" / "no session é" / "vectors"
    orphan.mkdir(parents=True)
    (orphan / "vector_index.jsonl").write_text('{"vector_index": 0}\n')
    target = tmp_path / "target"
    run = await FFMigrationManager(load_config(base_path=target, environ={})).migrate(root, target)
    assert run.comparison.equivalent, run.comparison.differences
    session = mapped_id("my chat")
    assert (target / "users" / "u" / "vectors" / session / "embeddings.npy").is_file()
    assert (target / "users" / "default" / "vectors" / mapped_id("no session é") / "vector_index.jsonl").is_file()
    assert ("session", "no session é") in {(m.kind, m.legacy_id) for m in run.id_map}


class LineDroppingReader(FFLegacyReader):
    """Planted defect: a reader that loses a record line everywhere (scan, import and comparison) and says nothing."""

    def iter_lines(self, path: Path, *, note: bool = False, messages: bool = True):  # type: ignore[no-untyped-def]
        return (line for line in super().iter_lines(path, note=note, messages=messages) if line.line_number != 2)


async def test_a_record_line_dropped_silently_is_caught_by_the_line_audit(tmp_path: Path) -> None:
    root = _legacy(tmp_path)
    target = tmp_path / "target"
    run = await migrate_root(root, target, load_config(base_path=target, environ={}), reader_class=LineDroppingReader)
    assert not run.comparison.equivalent and not target.exists()
    assert {"users/alice/s1/messages.jsonl:2", "users/zoë/my chat/messages.jsonl:2"} <= set(run.comparison.unaccounted)
