"""add_documents: a batch means what the same add_document calls mean, with one durable commit."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ff_class_configs import load_config
from ff_managers import FFEvent, FFEventBus, FFKnowledgeBaseManager
from ff_managers._knowledge import documents as documents_module
from ff_managers._knowledge import ingest as ingest_module
from ff_utils import ff_fs_sync
from ff_utils.ff_errors import FFConflictError, FFNotFoundError, FFValidationError
from tests._fakes import tree_snapshot

TOPICS = {
    "entropy": "# Entropy\n\nEntropy measures the number of microscopic configurations of a state.\n",
    "bread": "# Bread\n\nKnead the dough for ten minutes, then let it rise until doubled in size.\n",
    "tides": "# Tides\n\nThe moon's gravity raises two bulges of ocean water on opposite sides of the earth.\n",
}


@pytest.fixture
def events() -> list[FFEvent]:
    return []


@pytest.fixture
def kb(config, events) -> FFKnowledgeBaseManager:  # type: ignore[no-untyped-def]
    bus = FFEventBus()
    bus.subscribe("knowledge.*", events.append)
    return FFKnowledgeBaseManager(config, bus=bus)


@pytest.fixture
def syncs(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every filesystem flush the knowledge base asks for (still performed)."""
    seen: list[Path] = []
    real = ff_fs_sync.ff_sync_filesystem

    def spy(directory: Path) -> None:
        seen.append(Path(directory))
        real(directory)

    monkeypatch.setattr(ingest_module, "ff_sync_filesystem", spy)
    return seen


def _items(topics: dict[str, str]) -> list[dict[str, object]]:
    return [{"content": text, "title": title, "document_id": title} for title, text in topics.items()]


async def test_a_batch_stores_what_the_same_single_adds_store(config, tmp_path: Path, syncs: list[Path]) -> None:  # type: ignore[no-untyped-def]
    one_by_one = FFKnowledgeBaseManager(load_config(base_path=tmp_path / "single", environ={}))
    batched = FFKnowledgeBaseManager(load_config(base_path=tmp_path / "batch", environ={}))
    single_base = await one_by_one.create_knowledge_base("alice", "topics", kb_id="kb-1")
    batch_base = await batched.create_knowledge_base("alice", "topics", kb_id="kb-1")
    singles = [await one_by_one.add_document("alice", single_base.kb_id, **item) for item in _items(TOPICS)]  # type: ignore[arg-type]
    batch = await batched.add_documents("alice", batch_base.kb_id, _items(TOPICS))
    strip = {"added_at"}
    assert [d.model_dump(exclude=strip) for d in batch] == [d.model_dump(exclude=strip) for d in singles]
    assert [d.doc_id for d in await batched.list_documents("alice", "kb-1")] == list(TOPICS)
    for question in ("microscopic configurations", "dough rise", "moon gravity ocean"):
        single_hits = await one_by_one.search("alice", "kb-1", question, top_k=3)
        batch_hits = await batched.search("alice", "kb-1", question, top_k=3)
        assert [(h.chunk_id, h.score) for h in batch_hits] == [(h.chunk_id, h.score) for h in single_hits]
    for doc_id in TOPICS:
        doc_files = Path("users/alice/knowledge/kb-1/documents", doc_id)
        for name in ("source.txt", "text.txt", "chunks.json"):
            assert (tmp_path / "batch" / doc_files / name).read_bytes() == (tmp_path / "single" / doc_files / name).read_bytes()
    assert len(syncs) == 1  # one flush for the whole batch (single adds fsync each file instead)
    assert (await batched.get_knowledge_base("alice", "kb-1")).document_count == 3


async def test_one_durable_commit_whatever_the_batch_size(kb: FFKnowledgeBaseManager, monkeypatch: pytest.MonkeyPatch, syncs: list[Path]) -> None:
    base = await kb.create_knowledge_base("alice", "many")
    fsyncs: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: fsyncs.append(fd) or real_fsync(fd))
    many = {f"topic-{i}": f"# Topic {i}\n\nParagraph number {i} about subject {i * 7}.\n" for i in range(40)}
    await kb.add_documents("alice", base.kb_id, _items(many))
    assert len(syncs) == 1
    assert len(fsyncs) <= 2  # the catalog's replace (the file, its directory); no fsync per document


async def test_the_files_are_flushed_before_the_catalog_names_them(kb: FFKnowledgeBaseManager, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    base = await kb.create_knowledge_base("alice", "order")
    seen_at_flush: list[tuple[bool, int]] = []
    catalog = tmp_path / "users" / "alice" / "knowledge" / base.kb_id / "kb.json"
    doc_dir = catalog.parent / "documents" / "bread"

    def flush(directory: Path) -> None:
        seen_at_flush.append(((doc_dir / "chunks.json").exists(), len(json.loads(catalog.read_text())["documents"])))

    monkeypatch.setattr(ingest_module, "ff_sync_filesystem", flush)
    await kb.add_documents("alice", base.kb_id, _items(TOPICS))
    assert seen_at_flush == [(True, 0)]  # every file written, none registered yet
    assert len(await kb.list_documents("alice", base.kb_id)) == 3


async def test_never_durability_flushes_nothing(tmp_path: Path, syncs: list[Path]) -> None:
    config = load_config(base_path=tmp_path, environ={})
    config.storage.durability = "never"
    kb = FFKnowledgeBaseManager(config)
    base = await kb.create_knowledge_base("alice", "fast")
    await kb.add_documents("alice", base.kb_id, _items(TOPICS))
    assert syncs == [] and len(await kb.list_documents("alice", base.kb_id)) == 3


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"content": ""}, "documents[1]"),
        ({"content": "fine", "document_id": "../escape"}, "documents[1].document_id"),
        ({"content": "fine", "format": "docx"}, "documents[1]"),
        ({"content": "fine", "metadata": {"x": object()}}, "documents[1].metadata"),
        ({"content": "fine", "colour": "blue"}, "documents[1]"),
        ("just text", "documents[1]"),
    ],
)
async def test_a_bad_item_writes_nothing_and_is_named(
    kb: FFKnowledgeBaseManager, tmp_path: Path, events: list[FFEvent], item: object, field: str
) -> None:
    base = await kb.create_knowledge_base("alice", "strict")
    before = tree_snapshot(tmp_path)
    with pytest.raises(FFValidationError) as caught:
        await kb.add_documents("alice", base.kb_id, [{"content": "a good one"}, item, {"content": "another"}])  # type: ignore[list-item]
    assert caught.value.field is not None and caught.value.field.startswith(field)
    assert tree_snapshot(tmp_path) == before
    assert [e.type for e in events] == ["knowledge.base_created"]


@pytest.mark.parametrize("documents", [[], "text", {"content": "x"}, None])
async def test_a_batch_must_be_a_non_empty_list(kb: FFKnowledgeBaseManager, documents: object) -> None:
    base = await kb.create_knowledge_base("alice", "strict")
    with pytest.raises(FFValidationError):
        await kb.add_documents("alice", base.kb_id, documents)  # type: ignore[arg-type]


async def test_repeats_return_the_stored_copy_and_conflicts_write_nothing(kb: FFKnowledgeBaseManager, tmp_path: Path, events: list[FFEvent]) -> None:
    base = await kb.create_knowledge_base("alice", "repeats")
    first = await kb.add_documents("alice", base.kb_id, [{"content": "same bytes here"}, {"content": "same bytes here"}])
    assert first[0] == first[1] and len(await kb.list_documents("alice", base.kb_id)) == 1
    again = await kb.add_documents("alice", base.kb_id, [{"content": "same bytes here"}, {"content": "new words", "document_id": "n1"}])
    assert again[0] == first[0] and again[1].doc_id == "n1"
    twins = await kb.add_documents("alice", base.kb_id, [{"content": "twin words", "document_id": "t1"}, {"content": "twin words"}])
    assert twins[1] == twins[0] and twins[0].doc_id == "t1"  # no id: the bytes an earlier item holds
    assert [e.type for e in events].count("knowledge.document_added") == 3  # only what was new
    before = tree_snapshot(tmp_path)
    with pytest.raises(FFConflictError):
        await kb.add_documents("alice", base.kb_id, [{"content": "fresh", "document_id": "x1"}, {"content": "other", "document_id": "n1"}])
    with pytest.raises(FFConflictError):  # the same id twice in one batch with other bytes
        await kb.add_documents("alice", base.kb_id, [{"content": "one", "document_id": "y1"}, {"content": "two", "document_id": "y1"}])
    assert tree_snapshot(tmp_path) == before


async def test_an_unknown_knowledge_base_is_not_found_and_creates_nothing(kb: FFKnowledgeBaseManager, tmp_path: Path) -> None:
    await kb.create_knowledge_base("alice", "another")
    before = tree_snapshot(tmp_path)
    with pytest.raises(FFNotFoundError):
        await kb.add_documents("alice", "kb-nope", _items(TOPICS))
    assert tree_snapshot(tmp_path) == before


def test_sync_filesystem_flushes_and_reports_a_missing_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ff_fs_sync.ff_sync_filesystem(tmp_path)
    with pytest.raises(FFNotFoundError):
        ff_fs_sync.ff_sync_filesystem(tmp_path / "missing")
    flushed: list[bool] = []
    monkeypatch.setattr(ff_fs_sync, "_syncfs", lambda: None)  # no syncfs: sync everything instead
    monkeypatch.setattr(os, "sync", lambda: flushed.append(True))
    ff_fs_sync.ff_sync_filesystem(tmp_path)
    assert flushed == [True]


def test_sync_filesystem_reports_an_io_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ctypes

    from ff_utils.ff_errors import FFStorageError

    def failing(fd: int) -> int:
        ctypes.set_errno(5)  # EIO: a writeback error since the descriptor was opened
        return -1

    monkeypatch.setattr(ff_fs_sync, "_syncfs", lambda: failing)
    with pytest.raises(FFStorageError):
        ff_fs_sync.ff_sync_filesystem(tmp_path)


async def test_the_index_built_from_memory_matches_one_built_from_disk(tmp_path: Path) -> None:
    """The first build after a batch takes the chunks just ingested from memory; a fresh process
    (and a forced rebuild, which reads every document back) ranks exactly the same."""
    config = load_config(base_path=tmp_path, environ={})
    writer = FFKnowledgeBaseManager(config)
    base = await writer.create_knowledge_base("alice", "topics")
    await writer.add_documents("alice", base.kb_id, _items(TOPICS))
    questions = ("microscopic configurations", "dough rise", "moon gravity ocean")
    first = [[(h.chunk_id, h.score, h.text) for h in await writer.search("alice", base.kb_id, q)] for q in questions]
    reader = FFKnowledgeBaseManager(config)
    stats = await reader.refresh_index("alice", base.kb_id, force=True)
    assert stats.rebuilt and stats.chunk_count == sum(d.chunk_count for d in await reader.list_documents("alice", base.kb_id))
    assert [[(h.chunk_id, h.score, h.text) for h in await reader.search("alice", base.kb_id, q)] for q in questions] == first
    assert all(first)


async def test_fresh_chunks_kept_for_the_next_build_are_bounded(kb: FFKnowledgeBaseManager, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bulk import with no search in between never piles up text: over the bound, the next
    build reads the chunks back from disk, and the answers are the same."""
    monkeypatch.setattr(documents_module, "_MAX_FRESH_CHARS", 150)
    base = await kb.create_knowledge_base("alice", "bounded")
    read_back: list[str] = []
    real = documents_module.FFKbDocuments.read_chunks

    def spy(self, user_id, kb_id, doc_id, entry):  # type: ignore[no-untyped-def]
        read_back.append(doc_id)
        return real(self, user_id, kb_id, doc_id, entry)

    monkeypatch.setattr(documents_module.FFKbDocuments, "read_chunks", spy)
    await kb.add_documents("alice", base.kb_id, _items(TOPICS))
    held = kb._documents._fresh_chars
    assert 0 < held <= 150
    hits = await kb.search("alice", base.kb_id, "moon gravity ocean")
    assert hits and hits[0].doc_id == "tides"
    assert 1 <= len(read_back) < len(TOPICS)  # the ones over the bound, and only those
    assert kb._documents._fresh_chars == 0  # the build took (or dropped) everything
