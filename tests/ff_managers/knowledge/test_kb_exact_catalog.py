"""The knowledge catalog pinned exactly (issue 20, surviving mutants of ``_knowledge``): deletion's
commit point (a base marked deleted is gone even when removing its folder failed), what the
``knowledge.base_deleted`` event counts, and the not-found errors' ``kind`` and ``key``."""

from __future__ import annotations

import pytest

from ff_managers import FFEvent, FFEventBus, FFKnowledgeBaseManager
from ff_utils.ff_errors import FFNotFoundError
from ff_utils.ff_store import FFStore

TEXT = "# Entropy\n\nEntropy measures the number of microscopic configurations of a state.\n"


@pytest.fixture
async def kb(config):
    bus = FFEventBus()
    seen: list[FFEvent] = []
    bus.subscribe("knowledge.base_deleted", seen.append)
    async with FFKnowledgeBaseManager(config, bus=bus) as manager:
        manager.seen = seen  # type: ignore[attr-defined]
        yield manager


async def test_deleting_counts_documents_and_chunks_and_a_second_delete_is_not_found(kb):
    base = await kb.create_knowledge_base("alice", "Physics")
    docs = [await kb.add_document("alice", base.kb_id, content=TEXT * (i + 1), title=f"d{i}", format="markdown") for i in range(2)]
    await kb.delete_knowledge_base("alice", base.kb_id)
    assert [e.payload for e in kb.seen] == [{"kb_id": base.kb_id, "documents": 2, "chunks": sum(d.chunk_count for d in docs)}]
    with pytest.raises(FFNotFoundError) as again:
        await kb.delete_knowledge_base("alice", base.kb_id)
    assert (again.value.message, again.value.kind, again.value.key) == (f"no knowledge base {base.kb_id!r}", "knowledge_base", base.kb_id)


async def test_a_base_marked_deleted_is_gone_even_if_its_folder_stays(kb, monkeypatch):
    keep = await kb.create_knowledge_base("alice", "Keep")
    base = await kb.create_knowledge_base("alice", "Doomed")
    await kb.add_document("alice", base.kb_id, content=TEXT, title="d", format="markdown")
    monkeypatch.setattr(FFStore, "remove_tree", lambda self, path: None)  # a crash right after the commit point
    await kb.delete_knowledge_base("alice", base.kb_id)
    assert [b.kb_id for b in await kb.list_knowledge_bases("alice")] == [keep.kb_id]
    with pytest.raises(FFNotFoundError) as gone:
        await kb.get_knowledge_base("alice", base.kb_id)
    assert (gone.value.kind, gone.value.key) == ("knowledge_base", base.kb_id)
    with pytest.raises(FFNotFoundError):
        await kb.delete_knowledge_base("alice", base.kb_id)


async def test_an_unknown_document_is_kind_document_with_its_key(kb):
    base = await kb.create_knowledge_base("alice", "Physics")
    with pytest.raises(FFNotFoundError) as caught:
        await kb.get_document("alice", base.kb_id, "doc_missing")
    assert (caught.value.message, caught.value.kind, caught.value.key) == (
        f"no document 'doc_missing' in knowledge base {base.kb_id!r}", "document", "doc_missing")


def test_a_chunk_record_reads_back_from_its_saved_form_field_for_field():
    """A saved index's records are read with from_json; a record that reads back different (or
    not at all) would be rebuilt silently or, worse, served: pinned here directly."""
    from ff_managers._knowledge.index import FFChunkRecord

    record = FFChunkRecord("c_1", "doc_a", 3, 10, 42, "Heading", "the text", "doc_b", ("doc_c", "doc_d"))
    assert FFChunkRecord.from_json(record.to_json()) == record
    plain = FFChunkRecord("c_2", "doc_a", 0, 0, 5, "", "words")
    saved = {k: v for k, v in plain.to_json().items() if k not in ("owner", "also_in")}  # written before those fields
    assert FFChunkRecord.from_json(saved) == plain
