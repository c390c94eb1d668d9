"""The in-memory index of a knowledge base, exactly (issue 20, survivors of ``FFKbSearch``'s refresh).

What ``ff_managers/_knowledge/search.py`` and ``documents.py`` promise about cost, pinned here
with counters: a search of an unchanged base costs one ``stat`` and never leaves the event loop
(no worker-thread hop); a changed catalog is brought up to date once, however many searches wait
for it; a catalog replaced without a change keeps the index in memory (no load, no rebuild); a
rebuild reuses the chunks and token lists of the documents it already had, and the ones this
process just ingested, so a rebuild after one added document reads and tokenises only that one.
Errors name what is missing.
"""

from __future__ import annotations

import asyncio
import os
from types import SimpleNamespace
from typing import Any

import pytest

from ff_managers import FFEvent, FFEventBus, FFKnowledgeBaseManager
from ff_managers._knowledge import search as search_module
from ff_managers._knowledge.catalog import FFKbCatalog
from ff_managers._knowledge.documents import FFKbDocuments
from ff_managers._knowledge.index import FFKbTokenizer
from ff_utils.ff_errors import FFNotFoundError, FFPermissionError

DOCS = {
    "Optics": "# Optics\n\nLenses bend light; a prism splits white light into a spectrum of colours.\n",
    "Acoustics": "# Acoustics\n\nSound is a pressure wave; its pitch follows the frequency of the source.\n",
    "Mechanics": "# Mechanics\n\nA lever multiplies force; torque is force times the length of the arm.\n",
}
QUERY = "light sound force"


class _CountingTokens:
    """Stands in for the chunk tokenizer of the index builder and counts what it tokenises."""

    def __init__(self, inner: Any, probe: SimpleNamespace) -> None:
        self._inner, self._probe = inner, probe

    def tokens(self, text: str) -> list[str]:
        self._probe.tokenised += 1
        return self._inner.tokens(text)


def _probe(kb: FFKnowledgeBaseManager, monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """Counters of the manager's thread hops, catalog reads, index loads, chunk reads and tokenisations."""
    probe = SimpleNamespace(io=0, reads=0, loads=0, chunk_reads=[], tokenised=0)
    run_io = kb._search._run_io

    async def counting_io(fn: Any, *args: Any, **kwargs: Any) -> Any:
        probe.io += 1
        return await run_io(fn, *args, **kwargs)

    kb._search._run_io = counting_io
    read, load, read_chunks = FFKbCatalog.read, search_module.load_index, FFKbDocuments.read_chunks

    def counting_read(self: FFKbCatalog, *args: Any) -> Any:
        probe.reads += 1
        return read(self, *args)

    def counting_load(*args: Any, **kwargs: Any) -> Any:
        probe.loads += 1
        return load(*args, **kwargs)

    def counting_chunks(self: FFKbDocuments, user_id: str, kb_id: str, doc_id: str, entry: Any) -> Any:
        probe.chunk_reads.append(doc_id)
        return read_chunks(self, user_id, kb_id, doc_id, entry)

    monkeypatch.setattr(FFKbCatalog, "read", counting_read)
    monkeypatch.setattr(search_module, "load_index", counting_load)
    monkeypatch.setattr(FFKbDocuments, "read_chunks", counting_chunks)
    tokenizer = kb._documents._tokenizer
    kb._documents._tokenizer = FFKbTokenizer(_CountingTokens(tokenizer.chunks, probe), tokenizer.queries, tokenizer.signature)
    return probe


def _rebuilds(kb: FFKnowledgeBaseManager) -> int:
    return kb.health().details["index_rebuilds"]


async def _base(kb: FFKnowledgeBaseManager, *titles: str) -> tuple[str, dict[str, Any]]:
    base = await kb.create_knowledge_base("alice", "Physics")
    docs = {t: await kb.add_document("alice", base.kb_id, content=DOCS[t], title=t, format="markdown") for t in titles}
    return base.kb_id, docs


async def test_an_unchanged_base_is_searched_without_a_thread_hop(config, monkeypatch) -> None:
    async with FFKnowledgeBaseManager(config) as kb:
        kb_id, docs = await _base(kb, "Optics", "Acoustics")
        first = await kb.search("alice", kb_id, QUERY)
        probe = _probe(kb, monkeypatch)
        for _ in range(3):
            assert [h.model_dump() for h in await kb.search("alice", kb_id, QUERY)] == [h.model_dump() for h in first]
        stats = await kb.refresh_index("alice", kb_id)
        assert (probe.io, probe.reads, probe.loads, _rebuilds(kb)) == (0, 0, 0, 1)
        assert (stats.kb_id, stats.revision, stats.rebuilt) == (kb_id, 2, False)
        assert stats.chunk_count == sum(d.chunk_count for d in docs.values())
        assert 0 <= stats.duration_ms < 60_000
    async with FFKnowledgeBaseManager(config) as kb:  # a restart loads the saved index, then stays in memory
        probe = _probe(kb, monkeypatch)
        await kb.search("alice", kb_id, QUERY)
        assert (probe.io, probe.loads, _rebuilds(kb)) == (1, 1, 0)
        await kb.search("alice", kb_id, QUERY)
        await kb.get_chunk("alice", kb_id, first[0].chunk_id)
        assert (probe.io, probe.loads, _rebuilds(kb)) == (1, 1, 0)


async def test_searches_waiting_for_one_refresh_neither_rebuild_nor_report_a_rebuild(config, monkeypatch) -> None:
    events: list[FFEvent] = []
    bus = FFEventBus()
    bus.subscribe("knowledge.searched", events.append)
    async with FFKnowledgeBaseManager(config, bus=bus) as kb:
        kb_id, _docs = await _base(kb, "Optics")
        probe = _probe(kb, monkeypatch)
        await asyncio.gather(*(kb.search("alice", kb_id, QUERY) for _ in range(3)))
        assert sorted(e.payload["index_rebuilt"] for e in events) == [False, False, True]
        assert _rebuilds(kb) == 1
        assert probe.reads == 2, "the refreshing task reads the catalog twice (before and under the lock); the waiting ones not at all"


async def test_a_catalog_replaced_by_an_identical_copy_keeps_the_index_in_memory(config, monkeypatch) -> None:
    async with FFKnowledgeBaseManager(config) as kb:
        kb_id, _docs = await _base(kb, "Optics", "Mechanics")
        hits = await kb.search("alice", kb_id, QUERY)
        catalog = kb._catalog.catalog_path("alice", kb_id)
        copy = catalog.with_name("kb.copy")
        copy.write_bytes(catalog.read_bytes())
        os.replace(copy, catalog)  # a new inode: the stat key changes, the revision does not
        probe = _probe(kb, monkeypatch)
        stats = await kb.refresh_index("alice", kb_id)
        assert (stats.revision, stats.rebuilt, stats.chunk_count) == (2, False, len(kb._search._states[("alice", kb_id)].index))
        assert (probe.io, probe.loads, probe.chunk_reads, _rebuilds(kb)) == (1, 0, [], 1)
        again = await kb.search("alice", kb_id, QUERY)
        assert [h.model_dump() for h in again] == [h.model_dump() for h in hits]
        assert probe.io == 1, "the state remembers the new stat key"
        added = await kb.add_document("alice", kb_id, content=DOCS["Acoustics"], title="Acoustics", format="markdown")
        assert (await kb.search("alice", kb_id, "pitch frequency"))[0].doc_id == added.doc_id, "and rebuilds from it later"


async def test_a_rebuild_reads_and_tokenises_only_the_documents_it_did_not_have(config, monkeypatch) -> None:
    async with FFKnowledgeBaseManager(config) as kb:
        kb_id, docs = await _base(kb, "Optics", "Acoustics")
        probe = _probe(kb, monkeypatch)
        await kb.search("alice", kb_id, QUERY)
        assert (probe.chunk_reads, probe.tokenised) == ([], 0), "ingest's chunks and tokens serve the first build"
        async with FFKnowledgeBaseManager(config) as other:  # another process adds a document
            added = await other.add_document("alice", kb_id, content=DOCS["Mechanics"], title="Mechanics", format="markdown")
        hits = await kb.search("alice", kb_id, "lever torque")
        assert hits[0].doc_id == added.doc_id and hits[0].document_title == "Mechanics"
        assert probe.chunk_reads == [added.doc_id]
        assert probe.tokenised == added.chunk_count
        assert _rebuilds(kb) == 2
        await kb.delete_document("alice", kb_id, docs["Optics"].doc_id)
        await kb.search("alice", kb_id, QUERY)
        assert (probe.chunk_reads, probe.tokenised) == ([added.doc_id], added.chunk_count), "a deletion reuses the rest"
        late = await kb.add_document("alice", kb_id, content="Prisms are cut from glass.", title="Glass")  # held fresh...
        async with FFKnowledgeBaseManager(config) as other:  # ...then deleted by another process with one more
            await other.delete_document("alice", kb_id, late.doc_id)
            await other.delete_document("alice", kb_id, docs["Acoustics"].doc_id)
        await kb.search("alice", kb_id, QUERY)
        assert set(kb._documents._tokens[("alice", kb_id)]) == {added.doc_id}, "token lists of deleted documents are dropped"
        assert (kb._documents._fresh, kb._documents._fresh_chars) == ({}, 0), "so are chunks never indexed"


async def test_a_forced_refresh_rebuilds_from_the_stored_documents(config, monkeypatch) -> None:
    async with FFKnowledgeBaseManager(config) as kb:
        kb_id, docs = await _base(kb, "Optics", "Acoustics")
        await kb.add_document("alice", kb_id, content="Lenses grind slowly.", title="Zoology")  # a title word found nowhere else
        before = [h.model_dump() for h in await kb.search("alice", kb_id, "zoology lenses", per_document=0)]
        probe = _probe(kb, monkeypatch)
        stats = await kb.refresh_index("alice", kb_id, force=True)
        after = [h.model_dump() for h in await kb.search("alice", kb_id, "zoology lenses", per_document=0)]
        assert after == before and before[0]["document_title"] == "Zoology", "titles are indexed with every chunk, rebuilt or not"
        docs = {d.title: d for d in await kb.list_documents("alice", kb_id)}
        assert (stats.rebuilt, stats.revision, _rebuilds(kb), probe.loads) == (True, 3, 2, 0)
        assert sorted(probe.chunk_reads) == sorted(d.doc_id for d in docs.values())
        assert probe.tokenised == sum(d.chunk_count for d in docs.values()), "forced: the token lists are computed again"
        await kb.search("alice", kb_id, QUERY)
        assert (probe.io, _rebuilds(kb)) == (1, 2)


async def test_a_base_deleted_elsewhere_leaves_the_cache(config) -> None:
    async with FFKnowledgeBaseManager(config) as kb, FFKnowledgeBaseManager(config) as other:
        kb_id, _docs = await _base(kb, "Optics")
        kept, _ = await _base(kb, "Acoustics")
        await kb.search("alice", kb_id, QUERY)
        await kb.search("alice", kept, QUERY)
        assert kb.health().details["cached_knowledge_bases"] == 2
        # Marked deleted (the commit point) but its folder not yet removed: the catalog read refuses it.
        catalog = kb._catalog.catalog_path("alice", kb_id)
        kb._catalog.store.update_json(catalog, lambda current: {**current, "deleted": True, "revision": current["revision"] + 1})
        with pytest.raises(FFNotFoundError):
            await kb.search("alice", kb_id, QUERY)
        assert kb.health().details["cached_knowledge_bases"] == 1
        assert ("alice", kb_id) not in kb._documents._tokens and ("alice", kept) in kb._documents._tokens
        await other.delete_knowledge_base("alice", kept)  # folder gone: the stat fails
        with pytest.raises(FFNotFoundError) as caught:
            await kb.search("alice", kept, QUERY)
        assert (caught.value.message, caught.value.kind, caught.value.key) == (f"no knowledge base {kept!r}", "knowledge_base", kept)
        assert kb.health().details["cached_knowledge_bases"] == 0
        assert ("alice", kept) not in kb._documents._tokens


async def test_deleting_a_base_forgets_its_index_and_token_lists(config) -> None:
    async with FFKnowledgeBaseManager(config) as kb:
        kb_id, _docs = await _base(kb, "Optics", "Acoustics")
        await kb.search("alice", kb_id, QUERY)
        assert ("alice", kb_id) in kb._documents._tokens
        await kb.delete_knowledge_base("alice", kb_id)
        assert kb.health().details["cached_knowledge_bases"] == 0
        assert ("alice", kb_id) not in kb._documents._tokens


async def test_a_catalog_that_cannot_be_stat_ed_names_the_action_and_the_file(config, monkeypatch) -> None:
    async with FFKnowledgeBaseManager(config) as kb:
        kb_id, _docs = await _base(kb, "Optics")
        catalog = kb._catalog.catalog_path("alice", kb_id)

        def denied(path: Any) -> Any:
            raise PermissionError(13, "Permission denied", str(path))

        monkeypatch.setattr(search_module, "_stat_key", denied)
        with pytest.raises(FFPermissionError) as caught:
            await kb.search("alice", kb_id, QUERY)
        assert (caught.value.message, caught.value.path) == ("cannot stat catalog: permission denied", catalog)


async def test_an_unknown_chunk_is_not_found_naming_it(config) -> None:
    async with FFKnowledgeBaseManager(config) as kb:
        kb_id, _docs = await _base(kb, "Optics")
        with pytest.raises(FFNotFoundError) as caught:
            await kb.get_chunk("alice", kb_id, "chunk-nothere")
        assert (caught.value.message, caught.value.kind, caught.value.key) == (
            f"no chunk 'chunk-nothere' in knowledge base {kb_id!r}",
            "chunk",
            "chunk-nothere",
        )


async def test_fresh_chunks_are_kept_in_order_while_they_fit_and_counted_exactly(config, monkeypatch) -> None:
    """Ingested chunks wait for the next build while the text held stays within the bound; the
    count of held characters follows every document kept, taken, or dropped with its base."""
    from ff_managers._knowledge import documents as documents_module

    sizes = [len(DOCS[t]) for t in ("Optics", "Acoustics", "Mechanics")]
    monkeypatch.setattr(documents_module, "_MAX_FRESH_CHARS", sizes[0] + sizes[2])
    async with FFKnowledgeBaseManager(config) as kb:
        probe = _probe(kb, monkeypatch)
        kb_id, docs = await _base(kb, "Optics", "Acoustics", "Mechanics")  # Acoustics does not fit, Mechanics does
        held = [d.text_chars for d in docs.values()]
        assert held == sizes, "the bound is met exactly: a document that just fits is kept"
        assert kb._documents._fresh_chars == held[0] + held[2]
        await kb.search("alice", kb_id, QUERY)
        assert probe.chunk_reads == [docs["Acoustics"].doc_id]
        assert kb._documents._fresh_chars == 0
        other, more = await _base(kb, "Optics")  # held for a base never searched...
        assert kb._documents._fresh_chars == more["Optics"].text_chars
        await kb.refresh_index("alice", kb_id, force=True)  # ...is still counted after another base's build
        assert kb._documents._fresh_chars == more["Optics"].text_chars
        await kb.delete_knowledge_base("alice", other)  # and released with its base
        assert kb._documents._fresh_chars == 0


async def test_rebuild_and_refresh_durations_are_milliseconds_and_the_history_keeps_100(config, monkeypatch) -> None:
    ticks = iter(range(1_000))
    monkeypatch.setattr(search_module, "time", SimpleNamespace(perf_counter=lambda: 100 + next(ticks) / 4))  # 250 ms a call
    async with FFKnowledgeBaseManager(config) as kb:
        kb_id, _docs = await _base(kb, "Optics")
        kb._search._rebuild_ms[:] = [float(i) for i in range(100)]
        stats = await kb.refresh_index("alice", kb_id, force=True)
        assert stats.duration_ms == 750.0, "refresh's start, the build's start and end, refresh's end"
        assert kb._search._rebuild_ms[-1] == 250.0 and kb._search._rebuild_ms[0] == 1.0
        assert len(kb._search._rebuild_ms) == 100
        assert kb.health().details["last_rebuild_ms"] == 250.0
        kb._search._rebuild_ms.append(1.23456)
        assert (kb.health().details["last_rebuild_ms"], kb.health().details["max_rebuild_ms"]) == (1.235, 250.0), "3 decimals"


@pytest.mark.parametrize("fold", [True, False])
async def test_duplicate_passages_are_folded_only_when_configured(tmp_path, fold: bool) -> None:
    from ff_class_configs import load_config

    config = load_config(base_path=tmp_path, environ={}, overrides={"knowledge": {"fold_duplicates": fold}})
    shared = "Lenses bend light and a prism splits white light into a spectrum of many colours today."
    async with FFKnowledgeBaseManager(config) as kb:
        kb_id = (await kb.create_knowledge_base("alice", "Physics")).kb_id
        short = await kb.add_document("alice", kb_id, content=shared, title="Short")
        long = await kb.add_document("alice", kb_id, content=shared + "\n\n" + DOCS["Mechanics"], title="Long")
        hits = await kb.search("alice", kb_id, "prism spectrum", per_document=0)
        found = [(h.doc_id, h.also_in_doc_ids) for h in hits if "prism" in h.text]
        if fold:
            assert found == [(short.doc_id, [long.doc_id])]
        else:
            assert sorted(found) == sorted([(short.doc_id, []), (long.doc_id, [])])


async def test_the_configured_feedback_df_bound_reaches_the_index(tmp_path) -> None:
    """With RM3 on a tiny base, the default bound (0.1 of the chunks) leaves no feedback word (the
    query keeps its share of the weight, nothing is added); a bound of 1 lets feedback words in."""
    from ff_class_configs import load_config

    scores = {}
    for name, knowledge in {
        "default": {"feedback_min_chunks": 0},
        "open": {"feedback_min_chunks": 0, "feedback_max_df_ratio": 1.0},
    }.items():
        config = load_config(base_path=tmp_path / name, environ={}, overrides={"knowledge": knowledge})
        async with FFKnowledgeBaseManager(config) as kb:
            kb_id, _docs = await _base(kb, "Optics", "Acoustics", "Mechanics")
            scores[name] = [(h.chunk_id, round(h.score, 9)) for h in await kb.search("alice", kb_id, "light prism")]
    assert [c for c, _ in scores["open"]][:1] == [c for c, _ in scores["default"]][:1]
    assert scores["open"] != scores["default"]


@pytest.mark.parametrize("elsewhere", [False, True])
async def test_a_document_replaced_under_its_id_is_searched_with_its_new_text(config, elsewhere: bool) -> None:
    """Delete and add again under the same explicit id with other bytes (here or by another
    process): the next search answers from the new text, never the old chunks (a rebuild reuses
    a document's rows only while its text_sha256 is unchanged)."""
    async with FFKnowledgeBaseManager(config) as kb, FFKnowledgeBaseManager(config) as other:
        kb_id = (await kb.create_knowledge_base("alice", "Physics")).kb_id
        await kb.add_document("alice", kb_id, content="Lenses bend light through glass.", document_id="doc-x")
        assert [h.text for h in await kb.search("alice", kb_id, "lenses")] == ["Lenses bend light through glass."]
        writer = other if elsewhere else kb
        await writer.delete_document("alice", kb_id, "doc-x")
        await writer.add_document("alice", kb_id, content="Violins resonate with wooden bodies.", document_id="doc-x")
        assert [h.text for h in await kb.search("alice", kb_id, "violins")] == ["Violins resonate with wooden bodies."]
        assert await kb.search("alice", kb_id, "lenses") == []


async def test_the_saved_index_is_a_cache_written_without_fsync(config, monkeypatch) -> None:
    """Losing the saved index to a power cut costs one rebuild, so saving it never fsyncs."""
    async with FFKnowledgeBaseManager(config) as kb:
        kb_id, _docs = await _base(kb, "Optics", "Acoustics")
        fsyncs: list[int] = []
        real_fsync = os.fsync
        monkeypatch.setattr(os, "fsync", lambda fd: fsyncs.append(fd) or real_fsync(fd))
        stats = await kb.refresh_index("alice", kb_id)
        assert stats.rebuilt and (kb._catalog.kb_dir("alice", kb_id) / "index" / "current.json").is_file()
        assert fsyncs == []
