"""Survivors of the second `_migration` sample (seed 20261207) in the legacy reader and import.

Each test names the mutants it kills (``legacy_reader``, ``legacy_stores``, ``legacy_format``,
``legacy_records``, ``legacy_mapping``, ``legacy_import``). Roots are written by hand and
scanned or imported into a recording sink; no migration is run.
"""

from __future__ import annotations

import errno
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ff_class_configs.ff_migration_dtos import FFIrregularAction
from ff_managers._migration import legacy_reader
from ff_managers._migration.legacy_format import FFLegacyLine, parse_line, profile_problem
from ff_managers._migration.legacy_ids import mapped_id
from ff_managers._migration.legacy_import import FFLegacyImport
from ff_managers._migration.legacy_mapping import IMPORT_KEY, document_id_for, message_from_v2, message_to_v2
from ff_managers._migration.legacy_reader import FFLegacyReader
from ff_managers._migration.legacy_records import FFSessionRecord

from tests.ff_managers.migration.test_migration_sample_kills_legacy import _items, _msg, _root, _scan, _write, npy_bytes
from tests.ff_managers.migration.test_migration_sample_kills_legacy_import import RecordingSink

SKIPPED = FFIrregularAction.SKIPPED
IMPORTED = FFIrregularAction.IMPORTED


class MessageSink(RecordingSink):
    """The recording sink, also remembering the message batches."""

    async def put_messages(self, user_id: str, session_id: str, messages: list[dict[str, Any]]) -> None:
        self.calls.append(("put_messages", (user_id, session_id, messages)))

    async def put_panel_messages(self, user_id: str, panel_id: str, messages: list[dict[str, Any]]) -> None:
        self.calls.append(("put_panel_messages", (user_id, panel_id, messages)))


async def _import(root: Path, clock: datetime | None = None) -> tuple[FFLegacyImport, MessageSink]:
    reader = FFLegacyReader(root)
    job = FFLegacyImport(reader, reader.scan(), batch_size=50)
    sink = MessageSink()
    await job.run(sink, clock=clock)
    return job, sink


def _triples(inventory: Any, path: str) -> list[tuple[str, FFIrregularAction, str]]:
    return [(i.kind, i.action, i.reason) for i in _items(inventory, path)]


# ---------------------------------------------------------------- legacy_format


def test_a_failed_parse_reports_no_stray_bytes() -> None:
    """parse_line 13 (a line that is not JSON and has no ``{`` to salvage from reported 1 stray
    byte). parse_line is exported: its tuple is (record, stray bytes skipped, error)."""
    record, stray, error = parse_line(b"{broken\n")
    assert (record, stray) == (None, 0) and error.startswith("invalid JSON: ")
    assert parse_line(b"garbage\n")[:2] == (None, 0)
    assert parse_line(b'xx{"a": 1}\n') == ({"a": 1}, 2, "")


def test_a_profile_naming_another_user_or_with_a_non_object_metadata_is_refused(tmp_path: Path) -> None:
    """profile_problem 5 (the message names user None) and 19 (``metadata`` not checked: a text
    metadata reached the import)."""
    assert profile_problem({"user_id": "other"}, "u1") == "profile names user 'other', directory is 'u1'"
    assert profile_problem({"metadata": "x"}, "u1") == "metadata is not an object"
    root = _root(tmp_path)
    _write(root / "users/u1/profile.json", json.dumps({"user_id": "u1", "metadata": "x"}))
    _write(root / "users/u2/profile.json", json.dumps({"user_id": "other"}))
    inventory = _scan(root)
    assert _triples(inventory, "users/u1/profile.json") == [("invalid_profile", SKIPPED, "metadata is not an object")]
    assert _triples(inventory, "users/u2/profile.json") == [
        ("invalid_profile", SKIPPED, "profile names user 'other', directory is 'u2'")]
    assert all(u.profile is None for u in inventory.users)


async def test_a_session_with_participants_is_imported_as_a_panel(tmp_path: Path) -> None:
    """classify_session 37 (the participants list ignored: a session whose only panel sign is
    its participants was imported as a chat)."""
    root = _root(tmp_path)
    _write(root / "users/u1/s2/session.json", json.dumps({"title": "P", "metadata": {"participants": ["a_b"]}}))
    _write(root / "users/u1/s2/messages.jsonl", _msg(0))
    (s2,) = [s for s in _scan(root).sessions() if s.session_id == "s2"]
    assert s2.kind == "panel"
    _job, sink = await _import(root)
    assert [p["panel_id"] for _u, p in sink.of("put_panel")] == ["s2"]
    assert [s["session_id"] for _u, s in sink.of("put_session")] == ["s1"]


# ---------------------------------------------------------------- legacy_reader


def test_a_fifo_is_skipped_as_unreadable(tmp_path: Path) -> None:
    """_entries 41 (its kind ``UNREADABLE``, not the corrupt kind ``unreadable``)."""
    root = _root(tmp_path)
    os.mkfifo(root / "users/u1/s1/pipe")
    assert _triples(_scan(root), "users/u1/s1/pipe") == [
        ("unreadable", SKIPPED, "neither a regular file nor a directory (device, socket, fifo)")]


def test_a_json_document_that_cannot_be_read_or_is_not_an_object_is_noted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """_read_json_object 20 (a read error noted with kind None: the scan crashed) and 50 (a JSON
    array noted without its path: the scan crashed)."""
    root = _root(tmp_path)
    _write(root / "users/u2/profile.json", "[1, 2]")
    _write(root / "users/u2/s1/messages.jsonl", _msg(0))
    real = legacy_reader.read_nofollow
    failing = root / "users/u1/profile.json"

    def read(path: Path) -> bytes:
        if Path(path) == failing:
            raise OSError(errno.EIO, "Input/output error")
        return real(path)

    monkeypatch.setattr(legacy_reader, "read_nofollow", read)
    inventory = _scan(root)
    assert _triples(inventory, "users/u1/profile.json") == [("unreadable", SKIPPED, "cannot read: Input/output error")]
    assert _triples(inventory, "users/u2/profile.json") == [
        ("invalid_profile", SKIPPED, "expected a JSON object, found list")]


def test_a_read_error_inside_a_messages_file_keeps_the_lines_before_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """iter_lines 12 (the note of a read error loses its path: the scan crashed)."""
    root = _root(tmp_path)
    real = legacy_reader.iter_raw_lines

    def lines(path: Path) -> Any:
        for number, raw in real(path):
            if number == 2 and Path(path).name == "messages.jsonl":
                raise OSError(errno.EIO, "Input/output error")
            yield number, raw

    monkeypatch.setattr(legacy_reader, "iter_raw_lines", lines)
    inventory = _scan(root)
    assert _triples(inventory, "users/u1/s1/messages.jsonl") == [
        ("unreadable", SKIPPED, "cannot read: Input/output error")]
    assert inventory.sessions()[0].message_count == 1


def test_the_inventory_counts_every_file(tmp_path: Path) -> None:
    """scan 109 (``files -= 1``: the count negative)."""
    root = _root(tmp_path)
    _write(root / "users/u1/s1/session.json", json.dumps({"title": "t"}))
    inventory = _scan(root)
    assert (inventory.files, inventory.bytes) == (3, sum(p.stat().st_size for p in root.rglob("*") if p.is_file()))


def test_a_user_with_only_vector_stores_is_explained(tmp_path: Path) -> None:
    """_scan_user 166 (the no_user_data reason)."""
    root = _root(tmp_path)
    _write(root / "users/default/sessions/s1/vectors/embeddings.npy", npy_bytes(1))
    inventory = _scan(root)
    assert _triples(inventory, "users/default") == [
        ("no_user_data", FFIrregularAction.EXPLAINED,
         "no profile and no sessions: only vector stores, imported under their sessions' owners")]
    assert [(v.owner_user_id, v.session_id) for v in inventory.vector_sets] == [("u1", "s1")]


def test_a_sessions_folder_with_another_subdirectory_is_not_a_vector_store(tmp_path: Path) -> None:
    """_scan_user 91 (``or``: any subdirectory made a vector store, its missing vectors/ then
    noted as unreadable)."""
    root = _root(tmp_path)
    (root / "users/u1/sessions/x/other").mkdir(parents=True)
    inventory = _scan(root)
    assert [(i.path, i.kind, i.reason) for i in inventory.irregular if i.path.startswith("users/u1/sessions")] == [
        ("users/u1/sessions/x", "stray_file", "not a vector store session directory")]
    assert inventory.vector_sets == []


def test_a_panel_id_met_again_is_remapped_and_the_map_keeps_every_other_mapping(tmp_path: Path) -> None:
    """_unique_panel_ids 14 (``or``: every session mapping dropped) and 17 (``SESSION``: the
    panel's first mapping kept beside its new one)."""
    root = _root(tmp_path)
    name = "panel_session_ü"
    for user in ("u1", "u2"):
        _write(root / f"users/{user}/{name}/messages.jsonl", _msg(0))
    _write(root / "users/u1/my chat/messages.jsonl", _msg(0))
    inventory = _scan(root)
    sessions = sorted((m.path, m.legacy_id, m.v2_id) for m in inventory.id_map if m.kind == "session")
    assert sessions == sorted([
        (f"users/u1/{name}", name, mapped_id(name)),
        ("users/u1/my chat", "my chat", mapped_id("my chat")),
        (f"users/u2/{name}", name, mapped_id(f"users/u2/{name}")),
    ])
    panels = sorted(s.session_id for s in inventory.sessions() if s.kind == "panel")
    assert panels == sorted([mapped_id(name), mapped_id(f"users/u2/{name}")])


# ---------------------------------------------------------------- legacy_stores


def test_document_store_notes_name_the_kind_and_the_sizes(tmp_path: Path) -> None:
    """_scan_documents 54 (kind ``DOCUMENT_WITHOUT_METADATA``) and 71 (``meta['XXsizeXX']``: a
    size mismatch crashed the scan)."""
    root = _root(tmp_path)
    docs = root / "users/u1/s1/documents"
    _write(docs / "a.md", "12345")
    _write(docs / "b.md", "x")
    _write(docs / "metadata.json", json.dumps({"a.md": {"size": 9}}))
    inventory = _scan(root)
    assert _triples(inventory, "users/u1/s1/documents/a.md") == [
        ("document_size_mismatch", IMPORTED, "metadata.json says 9 bytes, the file has 5; the file's bytes are "
         "imported, the recorded size kept as legacy metadata")]
    assert _triples(inventory, "users/u1/s1/documents/b.md") == [
        ("document_without_metadata", IMPORTED, "no entry in documents/metadata.json: imported with its file name as title")]


def test_vector_store_stray_file_and_a_set_without_an_index(tmp_path: Path) -> None:
    """_scan_vectors 57 (the stray file's note loses its kind: the scan crashed) and 6 (a set
    without vector_index.jsonl had ``index_lines`` None: the scan crashed)."""
    root = _root(tmp_path)
    vectors = root / "users/u1/sessions/s1/vectors"
    _write(vectors / "embeddings.npy", npy_bytes(2))
    _write(vectors / "notes.txt", "x")
    inventory = _scan(root)
    assert _triples(inventory, "users/u1/sessions/s1/vectors/notes.txt") == [
        ("stray_file", SKIPPED, "not embeddings.npy or vector_index.jsonl")]
    (vs,) = inventory.vector_sets
    assert (vs.index_lines, vs.shape, sorted(vs.files)) == (0, [2, 3], ["embeddings.npy"])


# ---------------------------------------------------------------- legacy_records


async def test_a_renamed_record_of_a_transcript_stays_the_transcripts(tmp_path: Path) -> None:
    """iter_session_records 122 (a renamed transcript record lost its persona: counted as a
    messages.jsonl message by the scan, not counted as a transcript's own record by the import)."""
    root = _root(tmp_path)
    panel = root / "users/u1/panel_session_1"
    _write(panel / "messages.jsonl", _msg(0))
    _write(panel / "a_b_messages.jsonl",
           _msg(1, role="assistant", message_id="t1", metadata={"persona": "a_b"})
           + _msg(2, role="assistant", message_id="t1", content="other", metadata={"persona": "a_b"}))
    (session,) = [s for s in _scan(root).sessions() if s.kind == "panel"]
    assert session.message_count == 1
    job, sink = await _import(root)
    assert [i.reason for i in job.explained] == [
        "per-persona transcript of 'a_b': its records share message_ids with messages.jsonl; "
        "2 record(s) only here were imported"]
    items = [m for _u, _p, batch in sink.of("put_panel_messages") for m in batch]
    assert [(m["message_id"], m["metadata"][IMPORT_KEY].get("transcript")) for m in items] == [
        ("m0", None), ("t1", "a_b"), ("legacy-a_b-00000002", "a_b")]


# ---------------------------------------------------------------- legacy_mapping


def test_a_chat_message_keeps_its_legacy_session_id() -> None:
    """message_from_v2 18 (the legacy ``session_id`` of a record rebuilt as None: the comparison
    saw a difference)."""
    record = {"role": "user", "content": "hi", "message_id": "m1", "timestamp": "2025-08-01T10:00:00",
              "session_id": "old-session"}
    item = message_to_v2(record, FFSessionRecord("users/u/s/messages.jsonl", None, FFLegacyLine(1, record), "new", "m1"))
    assert "session_id" not in item and item[IMPORT_KEY]["session_id"] == "old-session"
    stored = {**{k: item.get(k) for k in ("role", "content", "message_id", "timestamp", "attachments", "metadata")},
              "extra": {k: v for k, v in item.items() if k not in ("role", "content", "message_id", "timestamp")}}
    assert message_from_v2(stored)["session_id"] == "old-session"


def test_a_long_document_name_becomes_doc_and_its_first_hundred_characters() -> None:
    """document_id_for 12 (``[:101]``: a long refused name gave another id than the one a
    re-run of an earlier release wrote)."""
    name = "my notes " * 20 + ".md"
    expected = "doc-" + "".join(c if c.isalnum() else "-" for c in name)[:100]
    assert document_id_for(name) == expected and len(expected) == 104
    assert document_id_for("notes.md") == "notes.md"


# ---------------------------------------------------------------- legacy_import


async def test_each_batch_goes_to_its_session_with_its_items(tmp_path: Path) -> None:
    """_flush 2 (the batch sent with session id None) and 3 (the batch sent as None)."""
    root = _root(tmp_path)
    _job, sink = await _import(root)
    ((user_id, session_id, messages),) = sink.of("put_messages")
    assert (user_id, session_id, [m["message_id"] for m in messages]) == ("u1", "s1", ["m0", "m1"])


async def test_a_documents_mime_type_reaches_the_knowledge_manager(tmp_path: Path) -> None:
    """_import_user 136 (``and False``: always None) and 139 (the key misspelt: always None)."""
    root = _root(tmp_path)
    docs = root / "users/u1/s1/documents"
    _write(docs / "a.md", "# a\n")
    _write(docs / "b.md", "# b\n")
    _write(docs / "metadata.json", json.dumps({"a.md": {"mime_type": "text/markdown"}, "b.md": {"mime_type": 7}}))
    _job, sink = await _import(root)
    assert [(d["document_id"], d["mime_type"]) for _u, _kb, d, _src in sink.of("put_document")] == [
        ("a.md", "text/markdown"), ("b.md", None)]


async def test_a_panels_documents_are_named_in_its_book(tmp_path: Path) -> None:
    """_import_user 49 (the panel's document ids not passed: its book lost ``documents``)."""
    root = _root(tmp_path)
    panel = root / "users/u1/panel_session_1"
    _write(panel / "messages.jsonl", _msg(0))
    _write(panel / "documents/notes.md", "# notes\n")
    _job, sink = await _import(root)
    ((_u, created),) = sink.of("put_panel")
    assert created["metadata"][IMPORT_KEY]["documents"] == ["notes.md"]


async def test_without_a_clock_a_panel_without_times_is_created_at_2000_01_01(tmp_path: Path) -> None:
    """run 13 (the default clock a day later)."""
    root = _root(tmp_path)
    _write(root / "users/u1/panel_session_1/messages.jsonl", _msg(0, timestamp=None))
    _job, sink = await _import(root)
    ((_u, created),) = sink.of("put_panel")
    assert created["created_at"] == datetime(2000, 1, 1, tzinfo=UTC)
