"""Sampled survivors of the legacy import and mapping (2026-12-06 sample, seed 20261206).

The import runs into a recording sink (the same calls the managers get); each test names the
mutants it kills. Reader/stores/format survivors are in ``test_migration_sample_kills_legacy.py``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ff_class_configs.ff_migration_dtos import FFIrregularAction
from ff_managers._migration.legacy_import import FFCountingSink, FFLegacyImport
from ff_managers._migration.legacy_mapping import ASSISTANT_SEAT, IMPORT_KEY, LEGACY_KB_ID, session_to_v2
from ff_managers._migration.legacy_reader import FFLegacyReader
from ff_utils.ff_errors import FFCorruptionError

from tests.ff_managers.migration.test_migration_sample_kills_legacy import _msg, _root, _write, npy_bytes


class RecordingSink(FFCountingSink):
    """Writes nothing, remembers every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def of(self, name: str) -> list[tuple[Any, ...]]:
        return [args for call, args in self.calls if call == name]

    async def put_session(self, user_id: str, session: dict[str, Any]) -> None:
        self.calls.append(("put_session", (user_id, session)))

    async def put_panel(self, user_id: str, panel: dict[str, Any]) -> None:
        self.calls.append(("put_panel", (user_id, panel)))

    async def put_knowledge_base(self, user_id: str, kb_id: str, name: str, description: str) -> None:
        self.calls.append(("put_knowledge_base", (user_id, kb_id, name, description)))

    async def put_document(self, user_id: str, kb_id: str, document: dict[str, Any], source: Path) -> None:
        self.calls.append(("put_document", (user_id, kb_id, document, source)))

    async def put_vectors(self, user_id: str, session_id: str, files: dict[str, Path]) -> None:
        self.calls.append(("put_vectors", (user_id, session_id, files)))


async def _import(root: Path, *, policy: str = "quarantine", clock: datetime | None = None) -> tuple[FFLegacyImport, RecordingSink]:
    reader = FFLegacyReader(root)
    job = FFLegacyImport(reader, reader.scan(), batch_size=50, policy=policy)
    sink = RecordingSink()
    await job.run(sink, clock=clock)
    return job, sink


def _documents_and_vectors(root: Path) -> None:
    _write(root / "users/u1/s1/documents/notes.md", "# notes\n")
    _write(root / "users/u1/s1/documents/metadata.json",
           json.dumps({"notes.md": {"original_name": "Notes.md", "mime_type": "text/markdown"}}))
    for sid in ("s1", "s2"):
        vectors = root / "users/u1/sessions" / sid / "vectors"
        _write(vectors / "embeddings.npy", npy_bytes(1))
        _write(vectors / "vector_index.jsonl", json.dumps({"chunk_id": "c0"}) + "\n")


async def test_documents_vectors_and_their_references_reach_the_sink(tmp_path: Path) -> None:
    """_import_user 27 (the knowledge base's description), 148 (a document's ``session_id`` key),
    _vector_refs 7 (a session loses its vector references), run 57 (vector file count of the last
    set only), legacy_mapping.session_to_v2 15 (the session's ``documents`` key)."""
    root = _root(tmp_path)
    _documents_and_vectors(root)
    job, sink = await _import(root)
    assert sink.of("put_knowledge_base") == [
        ("u1", LEGACY_KB_ID, "Legacy documents", "documents uploaded to legacy chat sessions")]
    ((_u, _kb, document, _src),) = sink.of("put_document")
    refs = ["users/u1/vectors/s1/embeddings.npy", "users/u1/vectors/s1/vector_index.jsonl"]
    book = document["metadata"][IMPORT_KEY]
    assert (book["session_id"], book["vectors"]) == ("s1", refs)
    (session,) = [s for _u, s in sink.of("put_session") if s["session_id"] == "s1"]
    session_book = session["extra"][IMPORT_KEY]
    assert (session_book["documents"], session_book["vectors"]) == (["notes.md"], refs)
    assert job.stats.counts["vector_files"] == 4
    assert len(sink.of("put_vectors")) == 2


def test_session_to_v2_keeps_document_ids_in_its_book(tmp_path: Path) -> None:
    """session_to_v2 15 on the pure function."""
    root = _root(tmp_path)
    session = FFLegacyReader(root).scan().sessions()[0]
    kwargs = session_to_v2(session, [], ["doc-1"])
    assert kwargs["extra"][IMPORT_KEY]["documents"] == ["doc-1"]
    assert "documents" not in session_to_v2(session, [], [])["extra"][IMPORT_KEY]


def _panel(root: Path, *, participants: list[str], messages: str) -> Path:
    panel = root / "users/u1/panel_session_1"
    _write(panel / "session.json", json.dumps({"session_id": "panel_session_1", "title": "P",
                                               "metadata": {"participants": participants}}))
    _write(panel / "messages.jsonl", messages)
    return panel


async def test_a_panel_gets_the_assistant_seat_for_an_assistant_without_persona(tmp_path: Path) -> None:
    """legacy_format.summarise_message 44/45: without the flag the unattributed assistant message
    has no seat of its own among two personas."""
    root = _root(tmp_path)
    _panel(root, participants=["a_b", "c_d"], messages=_msg(0) + _msg(1, role="assistant", metadata={}))
    _job, sink = await _import(root)
    ((_u, panel),) = sink.of("put_panel")
    assert [s["participant_id"] for s in panel["participants"]] == ["user", "a_b", "c_d", ASSISTANT_SEAT]


async def test_a_panel_without_times_is_created_at_the_import_clock(tmp_path: Path) -> None:
    """_import_user 50 (the clock not passed: created_at None)."""
    root = _root(tmp_path)
    _panel(root, participants=["a_b"], messages=_msg(0, timestamp=None))
    clock = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    _job, sink = await _import(root, clock=clock)
    ((_u, panel),) = sink.of("put_panel")
    assert panel["created_at"] == clock


async def test_a_persona_transcript_is_explained(tmp_path: Path) -> None:
    """_stream 53 (the explained item's kind)."""
    root = _root(tmp_path)
    panel = _panel(root, participants=["a_b"], messages=_msg(0) + _msg(1, role="assistant", metadata={"persona": "a_b"}))
    _write(panel / "a_b_messages.jsonl", _msg(1, role="assistant", metadata={"persona": "a_b"}))
    job, _sink = await _import(root)
    assert [(i.path, i.kind, i.action) for i in job.explained] == [
        ("users/u1/panel_session_1/a_b_messages.jsonl", "persona_transcript", FFIrregularAction.EXPLAINED)]


async def test_abort_lists_the_corrupt_inputs_separated_by_semicolons(tmp_path: Path) -> None:
    """check_policy 8 (the separator of the listed inputs)."""
    root = _root(tmp_path)
    _write(root / "users/u1/s1/messages.jsonl", _msg(0) + "{broken\n" + "[1]\n" + _msg(3))
    with pytest.raises(FFCorruptionError) as caught:
        await _import(root, policy="abort")
    listed = caught.value.message.split("'abort': ", 1)[1]
    parts = listed.split("; ")
    assert len(parts) == 2
    assert parts[0].startswith("users/u1/s1/messages.jsonl:2 corrupt_line: ")
    assert parts[1].startswith("users/u1/s1/messages.jsonl:3 ")
