"""FFKnowledgeBaseManager: ingest, search, citations, persistence, isolation, bad input."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ff_class_configs import load_config
from ff_managers import FFEvent, FFEventBus, FFKnowledgeBaseManager
from ff_utils.ff_errors import FFConflictError, FFCorruptionError, FFNotFoundError, FFValidationError
from ff_utils.ff_hashing import ff_sha256_bytes
from tests._fakes import tree_snapshot

PHYSICS = """# Thermodynamics

## Entropy

Entropy measures the number of microscopic configurations that match a macroscopic state.
The second law says the entropy of an isolated system never decreases.

## Temperature

Temperature is what a thermometer reads; heat flows from hot bodies to cold ones.
"""

COOKING = """# Bread

Knead the dough for ten minutes, then let it rise until doubled in size.
Bake at a high temperature with steam for a crisp crust.
"""


@pytest.fixture
def events() -> list[FFEvent]:
    return []


@pytest.fixture
def kb(config, events) -> FFKnowledgeBaseManager:
    bus = FFEventBus()
    bus.subscribe("knowledge.*", events.append)
    return FFKnowledgeBaseManager(config, bus=bus)


async def test_create_list_and_get_knowledge_bases(kb: FFKnowledgeBaseManager, events: list[FFEvent]) -> None:
    physics = await kb.create_knowledge_base("alice", "physics notes", description="course notes")
    await kb.create_knowledge_base("alice", "recipes")
    await kb.create_knowledge_base("bob", "bob's own")
    names = [b.name for b in await kb.list_knowledge_bases("alice")]
    assert sorted(names) == ["physics notes", "recipes"]
    fetched = await kb.get_knowledge_base("alice", physics.kb_id)
    assert fetched.description == "course notes" and fetched.document_count == 0
    assert await kb.list_knowledge_bases("nobody") == []
    assert [e.type for e in events].count("knowledge.base_created") == 3
    assert events[0].payload == {"kb_id": physics.kb_id} and events[0].user_id == "alice"


async def test_add_and_search_returns_ranked_cited_chunks(kb: FFKnowledgeBaseManager, events: list[FFEvent]) -> None:
    base = await kb.create_knowledge_base("alice", "physics notes")
    doc = await kb.add_document("alice", base.kb_id, content=PHYSICS, title="Thermo", format="markdown")
    await kb.add_document("alice", base.kb_id, content=COOKING, title="Bread")
    assert doc.doc_id == f"doc-{ff_sha256_bytes(PHYSICS.encode())[:32]}"
    assert doc.checksum_sha256 == ff_sha256_bytes(PHYSICS.encode())
    assert doc.format == "markdown" and doc.mime_type == "text/markdown" and doc.chunk_count >= 2

    hits = await kb.search("alice", base.kb_id, "what is entropy", top_k=5)
    assert hits, "entropy is in the physics notes"
    best = hits[0]
    assert best.doc_id == doc.doc_id and best.document_title == "Thermo"
    assert best.heading == "Thermodynamics > Entropy"
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert all(a.score >= b.score for a, b in zip(hits, hits[1:], strict=False))
    text = await kb.get_document_text("alice", base.kb_id, doc.doc_id)
    assert text[best.char_start : best.char_end] == best.text
    assert "second law" in best.text

    chunk = await kb.get_chunk("alice", base.kb_id, best.chunk_id)
    assert chunk.text == best.text and chunk.doc_id == doc.doc_id

    searched = [e for e in events if e.type == "knowledge.searched"]
    assert searched and searched[-1].payload["hits"] == len(hits)
    assert "query" not in searched[-1].payload, "events carry no content"
    added = [e for e in events if e.type == "knowledge.document_added"]
    assert [e.payload["doc_id"] for e in added][0] == doc.doc_id


async def test_search_with_no_matching_word_returns_nothing(kb: FFKnowledgeBaseManager) -> None:
    base = await kb.create_knowledge_base("alice", "notes")
    await kb.add_document("alice", base.kb_id, content=PHYSICS)
    assert await kb.search("alice", base.kb_id, "zymurgy xylophone") == []


async def test_empty_knowledge_base_searches_to_nothing(kb: FFKnowledgeBaseManager) -> None:
    base = await kb.create_knowledge_base("alice", "empty")
    assert await kb.search("alice", base.kb_id, "anything") == []


async def test_metadata_source_and_explicit_document_id_are_kept(kb: FFKnowledgeBaseManager) -> None:
    base = await kb.create_knowledge_base("alice", "imported")
    doc = await kb.add_document(
        "alice",
        base.kb_id,
        content=COOKING,
        title="Bread",
        mime_type="text/markdown",
        source="ecdb8df1_bread.md",
        metadata={"author": "bob", "uploaded_at": "2025-08-05T21:57:18"},
        document_id="ecdb8df1",
    )
    assert doc.doc_id == "ecdb8df1"
    stored = await kb.get_document("alice", base.kb_id, "ecdb8df1")
    assert stored.metadata == {"author": "bob", "uploaded_at": "2025-08-05T21:57:18"}
    assert stored.source == "ecdb8df1_bread.md" and stored.format == "markdown"
    # The same bytes under another explicit id are a second document (legacy ids are kept).
    again = await kb.add_document("alice", base.kb_id, content=COOKING, title="Copy", document_id="other")
    assert again.doc_id == "other"
    assert len(await kb.list_documents("alice", base.kb_id)) == 2
    # The same id with other bytes is refused, not silently replaced.
    with pytest.raises(FFConflictError):
        await kb.add_document("alice", base.kb_id, content=PHYSICS, document_id="ecdb8df1")


async def test_re_adding_identical_content_is_idempotent_with_stable_chunk_ids(
    kb: FFKnowledgeBaseManager, events: list[FFEvent], config
) -> None:
    base = await kb.create_knowledge_base("alice", "notes")
    first = await kb.add_document("alice", base.kb_id, content=PHYSICS, title="Thermo")
    first_ids = [h.chunk_id for h in await kb.search("alice", base.kb_id, "entropy temperature", top_k=10)]
    added_events = sum(e.type == "knowledge.document_added" for e in events)

    second = await kb.add_document("alice", base.kb_id, content=PHYSICS, title="Another title")
    assert second == first
    assert len(await kb.list_documents("alice", base.kb_id)) == 1
    assert sum(e.type == "knowledge.document_added" for e in events) == added_events

    # Delete and ingest again (also in another manager instance): the same chunk ids come back.
    await kb.delete_document("alice", base.kb_id, first.doc_id)
    fresh = FFKnowledgeBaseManager(config)
    again = await fresh.add_document("alice", base.kb_id, content=PHYSICS, title="Thermo")
    assert again.doc_id == first.doc_id
    again_ids = [h.chunk_id for h in await fresh.search("alice", base.kb_id, "entropy temperature", top_k=10)]
    assert sorted(again_ids) == sorted(first_ids)


async def test_delete_document_removes_its_chunks_from_search_immediately(
    kb: FFKnowledgeBaseManager, events: list[FFEvent], tmp_path: Path
) -> None:
    base = await kb.create_knowledge_base("alice", "notes")
    physics = await kb.add_document("alice", base.kb_id, content=PHYSICS)
    bread = await kb.add_document("alice", base.kb_id, content=COOKING)
    before = await kb.search("alice", base.kb_id, "temperature", top_k=10)
    assert {h.doc_id for h in before} == {physics.doc_id, bread.doc_id}
    physics_chunk = next(h.chunk_id for h in before if h.doc_id == physics.doc_id)
    deleted = await kb.delete_document("alice", base.kb_id, physics.doc_id)
    assert deleted.doc_id == physics.doc_id
    hits = await kb.search("alice", base.kb_id, "temperature entropy", top_k=10)
    assert {h.doc_id for h in hits} == {bread.doc_id}
    with pytest.raises(FFNotFoundError):
        await kb.get_chunk("alice", base.kb_id, physics_chunk)
    with pytest.raises(FFNotFoundError):
        await kb.get_document("alice", base.kb_id, physics.doc_id)
    assert not (tmp_path / "users/alice/knowledge" / base.kb_id / "documents" / physics.doc_id).exists()
    assert events[-1].type == "knowledge.searched"
    assert any(e.type == "knowledge.document_deleted" and e.payload["doc_id"] == physics.doc_id for e in events)
    with pytest.raises(FFNotFoundError):
        await kb.delete_document("alice", base.kb_id, physics.doc_id)


async def test_new_instance_finds_documents_and_searches_without_re_adding(config, tmp_path: Path) -> None:
    first = FFKnowledgeBaseManager(config)
    base = await first.create_knowledge_base("alice", "notes")
    doc = await first.add_document("alice", base.kb_id, content=PHYSICS, title="Thermo")
    expected = await first.search("alice", base.kb_id, "entropy isolated system")
    await first.shutdown()

    index_dir = tmp_path / "users/alice/knowledge" / base.kb_id / "index"
    assert (index_dir / "current.json").is_file(), "the index is saved in the knowledge base's folder"

    restarted = FFKnowledgeBaseManager(config)
    assert [d.doc_id for d in await restarted.list_documents("alice", base.kb_id)] == [doc.doc_id]
    hits = await restarted.search("alice", base.kb_id, "entropy isolated system")
    assert [(h.chunk_id, h.score) for h in hits] == [(h.chunk_id, h.score) for h in expected]
    stats = await restarted.refresh_index("alice", base.kb_id)
    assert stats.rebuilt is False and stats.chunk_count == doc.chunk_count


async def test_a_damaged_saved_index_is_rebuilt_from_the_documents(config, tmp_path: Path) -> None:
    first = FFKnowledgeBaseManager(config)
    base = await first.create_knowledge_base("alice", "notes")
    await first.add_document("alice", base.kb_id, content=PHYSICS)
    expected = [h.chunk_id for h in await first.search("alice", base.kb_id, "entropy")]
    index_dir = tmp_path / "users/alice/knowledge" / base.kb_id / "index"
    for array in index_dir.rglob("*.npy"):
        array.write_bytes(b"garbage")
    restarted = FFKnowledgeBaseManager(config)
    assert [h.chunk_id for h in await restarted.search("alice", base.kb_id, "entropy")] == expected


async def test_changes_by_another_instance_are_seen_by_the_next_search(config) -> None:
    reader = FFKnowledgeBaseManager(config)
    writer = FFKnowledgeBaseManager(config)
    base = await writer.create_knowledge_base("alice", "shared")
    assert await reader.search("alice", base.kb_id, "bread") == []
    bread = await writer.add_document("alice", base.kb_id, content=COOKING)
    assert [h.doc_id for h in await reader.search("alice", base.kb_id, "bread dough")] == [bread.doc_id]
    await writer.delete_document("alice", base.kb_id, bread.doc_id)
    assert await reader.search("alice", base.kb_id, "bread dough") == []


async def test_search_never_crosses_users_or_knowledge_bases(kb: FFKnowledgeBaseManager) -> None:
    alice_physics = await kb.create_knowledge_base("alice", "physics")
    alice_food = await kb.create_knowledge_base("alice", "food")
    bob = await kb.create_knowledge_base("bob", "bob physics")
    alice_doc = await kb.add_document("alice", alice_physics.kb_id, content=PHYSICS)
    await kb.add_document("alice", alice_food.kb_id, content=COOKING)
    bob_doc = await kb.add_document("bob", bob.kb_id, content=PHYSICS + "\nBob's private remark on entropy.")

    for hit in await kb.search("alice", alice_physics.kb_id, "entropy temperature bread dough", top_k=20):
        assert hit.kb_id == alice_physics.kb_id and hit.doc_id == alice_doc.doc_id
    assert {h.doc_id for h in await kb.search("bob", bob.kb_id, "entropy", top_k=20)} == {bob_doc.doc_id}
    assert all("Bread" not in h.text for h in await kb.search("alice", alice_physics.kb_id, "bread", top_k=20))
    # Another user's knowledge base does not exist for this user.
    with pytest.raises(FFNotFoundError):
        await kb.search("alice", bob.kb_id, "entropy")
    with pytest.raises(FFNotFoundError):
        await kb.get_document("alice", bob.kb_id, bob_doc.doc_id)
    with pytest.raises(FFNotFoundError):
        await kb.add_document("bob", alice_physics.kb_id, content="intrusion")
    bob_chunk = (await kb.search("bob", bob.kb_id, "entropy"))[0].chunk_id
    with pytest.raises(FFNotFoundError):
        await kb.get_chunk("alice", alice_physics.kb_id, bob_chunk)


async def test_pdf_documents_are_extracted_chunked_and_retrieved(kb: FFKnowledgeBaseManager) -> None:
    weasyprint = pytest.importorskip("weasyprint")
    pdf = weasyprint.HTML(
        string="<h1>Photosynthesis</h1><p>Chlorophyll absorbs sunlight and plants turn carbon dioxide "
        "and water into glucose and oxygen.</p><h2>Respiration</h2><p>Mitochondria release energy.</p>"
    ).write_pdf()
    base = await kb.create_knowledge_base("alice", "biology")
    doc = await kb.add_document("alice", base.kb_id, data=pdf, format="application/pdf", title="Plants")
    assert doc.format == "pdf" and doc.page_count == 1 and doc.size_bytes == len(pdf)
    assert doc.checksum_sha256 == ff_sha256_bytes(pdf)
    hits = await kb.search("alice", base.kb_id, "which pigment absorbs sunlight")
    assert hits and hits[0].doc_id == doc.doc_id and "Chlorophyll" in hits[0].text
    text = await kb.get_document_text("alice", base.kb_id, doc.doc_id)
    assert text[hits[0].char_start : hits[0].char_end] == hits[0].text


BAD_DOCUMENTS = [
    pytest.param({"content": ""}, id="empty"),
    pytest.param({"content": "   \n\t "}, id="blank"),
    pytest.param({"content": "x" * 2_000}, id="oversized"),
    pytest.param({"content": "text", "format": "docx"}, id="unsupported-format"),
    pytest.param({"data": b"\x00\xff garbage \x13\x37" * 50, "format": "pdf"}, id="binary-garbage-as-pdf"),
    pytest.param({"data": b"%PDF-1.7\n" + os.urandom(800), "format": "pdf"}, id="corrupt-pdf"),
    pytest.param({"data": b"\xff\xfe\x00bad", "format": "text"}, id="not-utf8"),
    pytest.param({"data": b"abc"}, id="bytes-without-format"),
    pytest.param({"content": "a", "data": b"a"}, id="both-content-and-data"),
    pytest.param({}, id="neither"),
    pytest.param({"content": "ok", "document_id": "../escape"}, id="path-traversal-id"),
    pytest.param({"content": "ok", "metadata": {"k": b"bytes"}}, id="metadata-not-json"),
    pytest.param({"content": "ok", "title": ""}, id="empty-title"),
    pytest.param({"content": "ok", "format": "text", "mime_type": "application/pdf"}, id="format-mismatch"),
    pytest.param({"content": "a\x00b"}, id="nul-in-text"),
    pytest.param({"content": "ok", "metadata": {"score": float("nan")}}, id="metadata-nan"),
    pytest.param({"content": "ok", "metadata": {"deep": [{"x": float("inf")}]}}, id="metadata-infinity"),
    pytest.param({"content": "ok", "title": "a\x1b[31mred"}, id="escape-in-title"),
    pytest.param({"content": "ok", "source": "file\x00.md"}, id="nul-in-source"),
]


@pytest.mark.parametrize("kwargs", BAD_DOCUMENTS)
async def test_bad_documents_raise_one_validation_error_and_write_nothing(tmp_path: Path, kwargs: dict) -> None:
    config = load_config(base_path=tmp_path, environ={}, overrides={"knowledge": {"max_document_bytes": 1_000}})
    kb = FFKnowledgeBaseManager(config)
    base = await kb.create_knowledge_base("alice", "notes")
    before = tree_snapshot(tmp_path)
    with pytest.raises(FFValidationError):
        await kb.add_document("alice", base.kb_id, **kwargs)
    assert tree_snapshot(tmp_path) == before
    assert await kb.list_documents("alice", base.kb_id) == []


@pytest.mark.parametrize(
    ("user_id", "kb_id"),
    [("../alice", "kb"), ("alice", "../../etc"), ("alice", "a/b"), ("", "kb"), ("alice", ".hidden")],
)
async def test_bad_ids_are_refused_before_anything_is_written(
    kb: FFKnowledgeBaseManager, tmp_path: Path, user_id: str, kb_id: str
) -> None:
    await kb.create_knowledge_base("alice", "existing")
    before = tree_snapshot(tmp_path)
    with pytest.raises(FFValidationError):
        await kb.add_document(user_id, kb_id, content="hello")
    with pytest.raises(FFValidationError):
        await kb.search(user_id, kb_id, "hello")
    with pytest.raises(FFValidationError):
        await kb.create_knowledge_base(user_id, "x", kb_id=kb_id)
    assert tree_snapshot(tmp_path) == before


async def test_unknown_knowledge_base_writes_nothing(kb: FFKnowledgeBaseManager, tmp_path: Path) -> None:
    await kb.create_knowledge_base("alice", "existing")
    before = tree_snapshot(tmp_path)
    with pytest.raises(FFNotFoundError):
        await kb.add_document("alice", "kb-missing", content="hello")
    with pytest.raises(FFNotFoundError):
        await kb.delete_document("alice", "kb-missing", "doc-1")
    with pytest.raises(FFNotFoundError):
        await kb.search("carol", "kb-missing", "hello")
    assert tree_snapshot(tmp_path) == before


@pytest.mark.parametrize(
    ("query", "top_k"),
    [("", 5), ("   ", 5), ("x" * 5_000, 5), ("ok", 0), ("ok", 1_000), ("ok", True), ("tea\x00", 5), ("\x1b[2J tea", 5)],
)
async def test_bad_queries_are_refused(kb: FFKnowledgeBaseManager, query: str, top_k: object) -> None:
    base = await kb.create_knowledge_base("alice", "notes")
    with pytest.raises(FFValidationError):
        await kb.search("alice", base.kb_id, query, top_k=top_k)  # type: ignore[arg-type]


async def test_per_document_cap_limits_chunks_of_one_long_document(kb: FFKnowledgeBaseManager) -> None:
    base = await kb.create_knowledge_base("alice", "notes")
    long_text = "\n\n".join(f"Section {i} talks about entropy and heat number {i}. " * 8 for i in range(12))
    long_doc = await kb.add_document("alice", base.kb_id, content=long_text, title="Long")
    short_doc = await kb.add_document("alice", base.kb_id, content="A short note that mentions entropy once.")
    capped = await kb.search("alice", base.kb_id, "entropy heat", top_k=5, per_document=2)
    assert sum(h.doc_id == long_doc.doc_id for h in capped) == 2
    assert short_doc.doc_id in {h.doc_id for h in capped}
    uncapped = await kb.search("alice", base.kb_id, "entropy heat", top_k=5, per_document=0)
    # Lifting the cap lets the long document take more than two slots (feedback may still rank
    # the short note among them, so the exact count is not fixed).
    assert sum(h.doc_id == long_doc.doc_id for h in uncapped) > 2
    default = await kb.search("alice", base.kb_id, "entropy heat", top_k=5)
    assert sum(h.doc_id == long_doc.doc_id for h in default) == 1, "the default cap is one chunk per document"


async def test_delete_knowledge_base_removes_everything(kb: FFKnowledgeBaseManager, tmp_path: Path) -> None:
    base = await kb.create_knowledge_base("alice", "notes")
    keep = await kb.create_knowledge_base("alice", "keep")
    await kb.add_document("alice", base.kb_id, content=PHYSICS)
    await kb.search("alice", base.kb_id, "entropy")
    await kb.delete_knowledge_base("alice", base.kb_id)
    assert [b.kb_id for b in await kb.list_knowledge_bases("alice")] == [keep.kb_id]
    assert not (tmp_path / "users/alice/knowledge" / base.kb_id).exists()
    with pytest.raises(FFNotFoundError):
        await kb.search("alice", base.kb_id, "entropy")
    with pytest.raises(FFNotFoundError):
        await kb.delete_knowledge_base("alice", base.kb_id)


async def test_explicit_kb_id_conflicts_when_taken(kb: FFKnowledgeBaseManager) -> None:
    await kb.create_knowledge_base("alice", "one", kb_id="legacy-kb")
    with pytest.raises(FFConflictError):
        await kb.create_knowledge_base("alice", "two", kb_id="legacy-kb")
    # Ids are per user: bob may use the same one.
    assert (await kb.create_knowledge_base("bob", "one", kb_id="legacy-kb")).kb_id == "legacy-kb"


async def test_chunk_text_cuts_as_add_document_does(kb: FFKnowledgeBaseManager) -> None:
    spans = kb.chunk_text(PHYSICS)
    assert spans and all(PHYSICS[s.start : s.end].strip() == PHYSICS[s.start : s.end] for s in spans)
    base = await kb.create_knowledge_base("alice", "notes")
    doc = await kb.add_document("alice", base.kb_id, content=PHYSICS, format="markdown")
    assert doc.chunk_count == len(spans)
    hits = await kb.search("alice", base.kb_id, "entropy temperature", top_k=5, per_document=0)
    assert hits
    assert {(h.chunk_index, h.char_start, h.char_end, h.heading) for h in hits} <= {
        (s.index, s.start, s.end, s.heading) for s in spans
    }


@pytest.mark.parametrize(
    ("plant", "call"),
    [
        # A document entry whose size is not a number: the stored record no longer fits its DTO.
        (lambda catalog, doc_id: catalog["documents"][doc_id].update(size_bytes="lots"), "list_documents"),
        (lambda catalog, doc_id: catalog["documents"][doc_id].update(size_bytes="lots"), "get_document"),
        # The base's own record without its name, and a chunk count that is not a number.
        (lambda catalog, doc_id: catalog["kb"].pop("name"), "get_knowledge_base"),
        (lambda catalog, doc_id: catalog["kb"].pop("name"), "list_knowledge_bases"),
        (lambda catalog, doc_id: catalog["documents"][doc_id].update(chunk_count="many"), "get_knowledge_base"),
    ],
)
async def test_a_stored_record_of_the_wrong_shape_is_corruption(
    kb: FFKnowledgeBaseManager, tmp_path: Path, plant, call: str
) -> None:
    """A kb.json that is valid JSON but not what we wrote is FFCorruptionError naming the file,
    never a raw pydantic ValidationError or an FFValidationError (the caller's input was fine)."""
    base = await kb.create_knowledge_base("alice", "notes")
    doc = await kb.add_document("alice", base.kb_id, content=PHYSICS)
    path = tmp_path / "users" / "alice" / "knowledge" / base.kb_id / "kb.json"
    catalog = json.loads(path.read_text())
    plant(catalog, doc.doc_id)
    path.write_text(json.dumps(catalog))
    arguments = {
        "list_documents": ("alice", base.kb_id),
        "get_document": ("alice", base.kb_id, doc.doc_id),
        "get_knowledge_base": ("alice", base.kb_id),
        "list_knowledge_bases": ("alice",),
    }[call]
    with pytest.raises(FFCorruptionError) as caught:
        await getattr(kb, call)(*arguments)
    assert Path(caught.value.path) == path
