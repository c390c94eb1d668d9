"""Search over the knowledge bases: the in-memory index of each base, kept up to date, and its answers.

Search is built to be cheap per query: the index, chunk texts and titles live in memory per
knowledge base; a query costs one ``stat`` of ``kb.json`` (to notice changes made by another
instance or process), one tokenisation and one bm25s scoring. When the catalog changed the index
is brought up to date before answering: loaded from disk when a saved index matches the revision,
else rebuilt from the documents (token lists are cached per document by :mod:`.documents`, so a
rebuild after one added document only tokenises that document) and saved. So a search always
sees every document added or deleted before it began.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ff_class_configs.ff_knowledge_config import FFKnowledgeConfigDTO
from ff_class_configs.ff_knowledge_dtos import FFKnowledgeChunkDTO, FFKnowledgeIndexStatsDTO, FFKnowledgeSearchHitDTO
from ff_managers._core.errors import translate_errors
from ff_managers._knowledge.catalog import FFKbCatalog
from ff_managers._knowledge.documents import FFKbDocuments
from ff_managers._knowledge.index import (
    FFChunkRecord,
    FFFeedbackSettings,
    FFKbIndex,
    FFKbTokenizer,
    build_index,
    load_index,
    save_index,
)
from ff_utils.ff_errors import FFNotFoundError
from ff_utils.ff_logging import get_logger

__all__ = ["FFKbSearch", "FFKbState"]

_log = get_logger("knowledge")

StatKey = tuple[int, int, int]
RunIO = Callable[..., Awaitable[Any]]


@dataclass(slots=True)
class FFKbState:
    """What one knowledge base keeps in memory between searches."""

    catalog_path: Path
    stat_key: StatKey
    revision: int
    titles: dict[str, str]
    index: FFKbIndex
    text_shas: dict[str, str]
    """Document id -> ``text_sha256`` of the catalog the index answers for (a rebuild reuses a
    document's rows only while its text is the same: an id deleted and added again with other
    bytes must not keep its old chunks)."""


def _stat_key(path: Path) -> StatKey:
    # Every catalog write is an atomic replace (a new inode), so inode + mtime + size change
    # on every commit, even two within one clock tick.
    info = os.stat(path)
    return (info.st_ino, info.st_mtime_ns, info.st_size)


def _text_shas(catalog: dict[str, Any]) -> dict[str, str]:
    return {doc_id: str(entry["text_sha256"]) for doc_id, entry in catalog["documents"].items()}


def _feedback_settings(settings: FFKnowledgeConfigDTO) -> FFFeedbackSettings | None:
    """RM3's parameters, or None when the configuration turns it off."""
    if settings.feedback_docs <= 0 or settings.feedback_query_weight >= 1:
        return None
    return FFFeedbackSettings(
        docs=settings.feedback_docs,
        terms=settings.feedback_terms,
        original_weight=settings.feedback_query_weight,
        max_df_ratio=settings.feedback_max_df_ratio,
        min_rows=settings.feedback_min_chunks,
    )


class FFKbSearch:
    """The index of every knowledge base this manager has searched, and the searches themselves.

    ``run_io`` runs blocking work in a worker thread (the owning component's ``_io``): refreshing
    reads and may rebuild; scoring stays on the event loop.
    """

    def __init__(
        self,
        catalog: FFKbCatalog,
        documents: FFKbDocuments,
        settings: FFKnowledgeConfigDTO,
        tokenizer: FFKbTokenizer,
        run_io: RunIO,
    ) -> None:
        self._catalog = catalog
        self._store = catalog.store
        self._documents = documents
        self._settings = settings
        self._tokenizer = tokenizer
        self._run_io = run_io
        # What a saved index was built with: a change of any of these rebuilds it.
        self._signature = (
            f"{tokenizer.signature}:fold={int(settings.fold_duplicates)}"
            f":fbdf={settings.feedback_max_df_ratio}:k1={settings.bm25_k1}:b={settings.bm25_b}"
        )
        self._feedback = _feedback_settings(settings)
        self._states: dict[tuple[str, str], FFKbState] = {}
        self._refresh_locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._rebuilds = 0
        self._rebuild_ms: list[float] = []

    # ------------------------------------------------------------------ answers

    async def search(
        self, user_id: str, kb_id: str, query: str, top_k: int, per_document: int | None
    ) -> tuple[list[FFKnowledgeSearchHitDTO], bool]:
        """The best chunks for ``query``, best first, and whether the index was rebuilt for it."""
        state, rebuilt = await self._current(user_id, kb_id)
        # Scoring a few hundred chunks takes microseconds of numpy work: cheaper on the loop
        # than a thread hop, so the fast path never leaves it.
        found = state.index.search(
            self._tokenizer.queries.tokens(query), top_k, per_document=per_document, feedback=self._feedback
        )
        hits = [
            FFKnowledgeSearchHitDTO(
                **self._chunk_fields(state, kb_id, record),
                rank=rank,
                score=score,
                also_in_doc_ids=[d for d in record.also_in if d in state.titles],
            )
            for rank, (record, score) in enumerate(found, start=1)
        ]
        return hits, rebuilt

    async def chunk(self, user_id: str, kb_id: str, chunk_id: str) -> FFKnowledgeChunkDTO:
        """One chunk by id; FFNotFoundError when the knowledge base has none."""
        state, _ = await self._current(user_id, kb_id)
        row = state.index.row_of.get(chunk_id)
        if row is None:
            raise FFNotFoundError(f"no chunk {chunk_id!r} in knowledge base {kb_id!r}", kind="chunk", key=chunk_id)
        return FFKnowledgeChunkDTO(**self._chunk_fields(state, kb_id, state.index.records[row]))

    async def refresh(self, user_id: str, kb_id: str, *, force: bool) -> FFKnowledgeIndexStatsDTO:
        """Bring the index up to date now; ``force`` drops what is cached and rebuilds."""
        started = time.perf_counter()
        if force:
            self.forget(user_id, kb_id)
        state, rebuilt = await self._current(user_id, kb_id, force=force)
        return FFKnowledgeIndexStatsDTO(
            kb_id=kb_id,
            revision=state.revision,
            chunk_count=len(state.index),
            rebuilt=rebuilt,
            duration_ms=(time.perf_counter() - started) * 1000,
        )

    @staticmethod
    def _chunk_fields(state: FFKbState, kb_id: str, record: FFChunkRecord) -> dict[str, Any]:
        return {
            "chunk_id": record.chunk_id,
            "doc_id": record.doc_id,
            "kb_id": kb_id,
            "document_title": state.titles.get(record.doc_id, ""),
            "chunk_index": record.chunk_index,
            "char_start": record.char_start,
            "char_end": record.char_end,
            "text": record.text,
            "heading": record.heading,
        }

    # ------------------------------------------------------------------ keeping the index current

    def forget(self, user_id: str, kb_id: str) -> None:
        """Drop what is cached for one knowledge base (after its deletion, or to force a rebuild)."""
        self._states.pop((user_id, kb_id), None)
        self._documents.forget_tokens(user_id, kb_id)

    def health_details(self) -> dict[str, Any]:
        rebuilds = sorted(self._rebuild_ms)
        return {
            "cached_knowledge_bases": len(self._states),
            "index_rebuilds": self._rebuilds,
            "last_rebuild_ms": round(self._rebuild_ms[-1], 3) if self._rebuild_ms else None,
            "max_rebuild_ms": round(rebuilds[-1], 3) if rebuilds else None,
        }

    async def _current(self, user_id: str, kb_id: str, *, force: bool = False) -> tuple[FFKbState, bool]:
        """The in-memory state of a knowledge base, refreshed if its catalog changed on disk."""
        key = (user_id, kb_id)
        state = self._states.get(key)
        if state is not None and not force:
            try:
                if _stat_key(state.catalog_path) == state.stat_key:
                    return state, False
            except FileNotFoundError:
                pass  # deleted meanwhile: the slow path reports it
        lock = self._refresh_locks.setdefault(key, asyncio.Lock())
        async with lock:
            try:
                return await self._run_io(self._refresh, user_id, kb_id, force)
            except FFNotFoundError:
                self.forget(user_id, kb_id)
                raise

    def _refresh(self, user_id: str, kb_id: str, force: bool) -> tuple[FFKbState, bool]:
        key = (user_id, kb_id)
        catalog_path = self._catalog.catalog_path(user_id, kb_id)
        try:
            with translate_errors("stat catalog", catalog_path):
                stat_key = _stat_key(catalog_path)
        except FFNotFoundError:
            self.forget(user_id, kb_id)
            raise FFNotFoundError(f"no knowledge base {kb_id!r}", kind="knowledge_base", key=kb_id) from None
        previous = self._states.get(key)
        if previous is not None and previous.stat_key == stat_key and not force:
            return previous, False  # another task refreshed it while we waited for the lock
        catalog = self._catalog.read(user_id, kb_id)
        revision = int(catalog["revision"])
        titles = self._catalog.titles(catalog)
        if previous is not None and previous.index.revision == revision and not force:
            state = FFKbState(catalog_path, stat_key, revision, titles, previous.index, _text_shas(catalog))
            self._states[key] = state
            return state, False
        index_dir = self._catalog.kb_dir(user_id, kb_id) / "index"
        index = None if force else load_index(self._store, index_dir, revision=revision, signature=self._signature)
        rebuilt = index is None
        if index is None:
            with self._catalog.write_lock(user_id, kb_id):
                # Re-read under the writers' lock: the documents we read now are the ones the
                # catalog names, and the saved index is labelled with that revision.
                catalog = self._catalog.read(user_id, kb_id)
                stat_key = _stat_key(catalog_path)
                revision = int(catalog["revision"])
                titles = self._catalog.titles(catalog)
                index = self._build(user_id, kb_id, catalog, previous)
                # The saved index is a cache that load_index checks and rebuilds when unreadable,
                # so it is written without fsync: losing it to a power cut costs one rebuild.
                save_index(self._store.with_settings(durability="never"), index_dir, index)
        state = FFKbState(catalog_path, stat_key, revision, titles, index, _text_shas(catalog))
        self._states[key] = state
        return state, rebuilt

    def _build(self, user_id: str, kb_id: str, catalog: dict[str, Any], previous: FFKbState | None) -> FFKbIndex:
        started = time.perf_counter()
        known: dict[str, list[FFChunkRecord]] = {}
        if previous is not None:
            current = _text_shas(catalog)
            for record in previous.index.records:
                if previous.text_shas.get(record.doc_id) == current.get(record.doc_id):
                    known.setdefault(record.doc_id, []).append(record)
        records: list[FFChunkRecord] = []
        tokens: list[list[str]] = []
        for doc_id, entry in catalog["documents"].items():
            doc_records = (
                known.get(doc_id)
                or self._documents.take_fresh_chunks(user_id, kb_id, doc_id, entry)
                or self._documents.read_chunks(user_id, kb_id, doc_id, entry)
            )
            records.extend(doc_records)
            tokens.extend(self._documents.tokens(user_id, kb_id, doc_id, entry, doc_records))
        self._documents.keep_tokens(user_id, kb_id, set(catalog["documents"]))
        index = build_index(
            int(catalog["revision"]),
            self._signature,
            records,
            tokens,
            k1=self._settings.bm25_k1,
            b=self._settings.bm25_b,
            fold=self._settings.fold_duplicates,
            feedback_max_df_ratio=self._settings.feedback_max_df_ratio,
        )
        elapsed = (time.perf_counter() - started) * 1000
        self._rebuilds += 1
        self._rebuild_ms.append(elapsed)
        del self._rebuild_ms[:-100]
        _log.debug("rebuilt index of %s/%s: %d chunks in %.1f ms", user_id, kb_id, len(records), elapsed)
        return index
