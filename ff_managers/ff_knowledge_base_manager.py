"""Per-user knowledge bases: ingest documents, chunk them, rank chunks with BM25 for RAG.

Layout of one knowledge base (every path built from validated ids)::

    users/<user_id>/knowledge/<kb_id>/kb.json                       the catalog (see below)
    users/<user_id>/knowledge/<kb_id>/documents/<doc_id>/source.<ext> the bytes as given
    users/<user_id>/knowledge/<kb_id>/documents/<doc_id>/text.txt     the extracted text
    users/<user_id>/knowledge/<kb_id>/documents/<doc_id>/chunks.json  chunk ids and offsets
    users/<user_id>/knowledge/<kb_id>/index/current.json + g<rev>-*/  the BM25 index (a cache)

The catalog ``kb.json`` is the commit point. Adding a document writes the document's files
first and then registers it in the catalog with one atomic replace; deleting unregisters it
first and then removes the files. A crash in between leaves an unregistered folder that nothing
reads, never a catalog entry without its files. Every change bumps the catalog's ``revision``.
Writers of one knowledge base serialise on a cross-process lock kept beside its folder.

A search always sees every document added or deleted before it began: a query costs one ``stat``
of ``kb.json``, and when the catalog changed the in-memory index is loaded or rebuilt first.

Re-adding a document is idempotent. Without ``document_id`` the id is derived from the SHA-256
of the source bytes and a document whose checksum the knowledge base already holds is returned
as it is (title and metadata of the first copy are kept; nothing is written, no event). With an
explicit ``document_id`` (the legacy import keeps its ids) the same id with the same bytes
returns the stored document, the same id with other bytes is a conflict. Chunk ids derive from
the document id, chunk position and chunk text, so they are the same every time the same bytes
are ingested (also after a delete and re-add).

This module is the public door: each method checks its input, makes one call into the private
package :mod:`ff_managers._knowledge` (catalog: bases and ``kb.json``; documents: ingest and
files; search: the index in memory and its answers) and publishes one event.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from ff_class_configs.ff_configuration_manager_config import FFConfigurationManagerConfigDTO
from ff_class_configs.ff_knowledge_dtos import (
    FFKnowledgeBaseDTO,
    FFKnowledgeChunkDTO,
    FFKnowledgeDocumentDTO,
    FFKnowledgeIndexStatsDTO,
    FFKnowledgeSearchHitDTO,
)
from ff_managers._knowledge import checks
from ff_managers._knowledge.catalog import FFKbCatalog
from ff_managers._knowledge.chunking import FFChunkSpan
from ff_managers._knowledge.documents import FFDocumentInput, FFKbDocuments
from ff_managers._knowledge.index import FFKbTokenizer
from ff_managers._knowledge.search import FFKbSearch
from ff_managers.ff_component_base import Clock, FFComponentBase
from ff_managers.ff_event_bus import FFEventBus
from ff_utils.ff_errors import FFValidationError
from ff_utils.ff_ids import ff_new_id, ff_validate_id
from ff_utils.ff_store import FFStore

__all__ = ["FFKnowledgeBaseManager", "FFChunkSpan"]

_MAX_SOURCE_CHARS = 1_000
_MAX_BATCH_DOCUMENTS = 1_000  # one add_documents call: bounded memory (each item up to max_document_bytes)
_DOCUMENT_KEYS = frozenset({"content", "data", "title", "format", "mime_type", "source", "metadata", "document_id"})
_MAX_DESCRIPTION_CHARS = 4_000


class FFKnowledgeBaseManager(FFComponentBase):
    """Knowledge bases of many users; see the module docstring for layout and guarantees."""

    component_name = "knowledge"

    def __init__(
        self,
        config: FFConfigurationManagerConfigDTO,
        *,
        bus: FFEventBus | None = None,
        clock: Clock | None = None,
        store: FFStore | None = None,
    ) -> None:
        super().__init__(config, bus=bus, clock=clock, store=store)
        self._settings = config.knowledge
        tokenizer = FFKbTokenizer.create(
            stemming=self._settings.stemming,
            stopwords=self._settings.stopwords,
            question_words=self._settings.drop_question_words,
        )
        self._catalog = FFKbCatalog(self.store)
        # The package reads the time through the manager, so a clock swapped later still counts.
        self._documents = FFKbDocuments(self._catalog, self._settings, tokenizer, lambda: self.clock())
        self._search = FFKbSearch(self._catalog, self._documents, self._settings, tokenizer, self._io)

    def chunk_text(self, text: str) -> list[FFChunkSpan]:
        """The chunks ``text`` is cut into with this manager's configured size and overlap.

        The spans ``add_document`` indexes (it cuts the extracted text, whose newlines are
        normalised to ``\\n``): ``text[span.start:span.end]`` is a chunk, ``span.heading`` its
        heading path. For tools that must index exactly the same chunks, such as a benchmark
        comparing other rankers with this one. Pure: no disk, no event.
        """
        return self._documents.chunk(text)

    # ------------------------------------------------------------------ knowledge bases

    async def create_knowledge_base(
        self, user_id: str, name: str, *, description: str = "", kb_id: str | None = None
    ) -> FFKnowledgeBaseDTO:
        """Create an empty knowledge base for ``user_id``.

        ``kb_id`` defaults to a fresh random id; give one to keep an id from elsewhere (import).
        Raises FFValidationError for bad ids, names or descriptions, FFConflictError when
        ``kb_id`` is taken.
        """
        async with self._operation():
            ff_validate_id(user_id, "user_id")
            clean_name = checks.check_label(name, "name", self._settings.max_name_chars)
            clean_description = checks.check_label(
                description, "description", _MAX_DESCRIPTION_CHARS, allow_empty=True
            )
            new_id = ff_validate_id(kb_id, "kb_id") if kb_id is not None else ff_new_id("kb-")
            base = await self._io(self._catalog.create, user_id, new_id, clean_name, clean_description, self.clock())
            await self._publish("knowledge.base_created", {"kb_id": new_id}, user_id=user_id)
            return base

    async def list_knowledge_bases(self, user_id: str) -> list[FFKnowledgeBaseDTO]:
        """The user's knowledge bases, oldest first (an unknown user has none)."""
        async with self._operation():
            ff_validate_id(user_id, "user_id")
            return await self._io(self._catalog.list_bases, user_id)

    async def get_knowledge_base(self, user_id: str, kb_id: str) -> FFKnowledgeBaseDTO:
        """One knowledge base with its document and chunk counts. Raises FFNotFoundError."""
        async with self._operation():
            checks.check_ids(user_id, kb_id)
            return await self._io(self._catalog.base, user_id, kb_id)

    async def delete_knowledge_base(self, user_id: str, kb_id: str) -> None:
        """Delete a knowledge base with all its documents and index. Raises FFNotFoundError.

        The catalog is marked deleted first (the commit point: from then on every call treats the
        base as gone), then the folder is removed.
        """
        async with self._operation():
            checks.check_ids(user_id, kb_id)
            counts = await self._io(self._catalog.delete, user_id, kb_id)
            self._search.forget(user_id, kb_id)
            await self._publish("knowledge.base_deleted", {"kb_id": kb_id, **counts}, user_id=user_id)

    # ------------------------------------------------------------------ documents

    async def add_document(
        self,
        user_id: str,
        kb_id: str,
        *,
        content: str | None = None,
        data: bytes | None = None,
        title: str | None = None,
        format: str | None = None,  # noqa: A002 - the API's word for it
        mime_type: str | None = None,
        source: str | None = None,
        metadata: dict[str, Any] | None = None,
        document_id: str | None = None,
    ) -> FFKnowledgeDocumentDTO:
        """Ingest one document (text or Markdown as ``content=``/``data=``, PDF as ``data=``).

        ``format`` (or ``mime_type``) names the format: text, markdown, pdf or their MIME types;
        text given as ``content=`` defaults to plain text. ``title`` defaults to ``source`` or the
        text's first line. ``metadata`` is any JSON object kept with the document.

        Returns the stored document; see the module docstring for what re-adding does. Raises
        FFValidationError (bad ids, empty, oversized, unsupported or corrupt input; nothing is
        written), FFNotFoundError (no such knowledge base), FFConflictError (``document_id``
        already holds other bytes).
        """
        async with self._operation():
            started = time.perf_counter()
            checks.check_ids(user_id, kb_id, document_id=document_id)
            fmt = checks.check_format(format, mime_type)
            clean_source = checks.check_label(source, "source", _MAX_SOURCE_CHARS) if source is not None else None
            clean_metadata = checks.check_metadata(metadata, self._settings.max_metadata_bytes)
            clean_title = (
                checks.check_label(title, "title", self._settings.max_title_chars) if title is not None else None
            )
            document, created = await self._io(
                self._documents.add,
                user_id,
                kb_id,
                content=content,
                data=data,
                fmt=fmt,
                title=clean_title or clean_source,
                document_id=document_id,
                source=clean_source,
                metadata=clean_metadata,
            )
            if created:
                await self._document_added(user_id, kb_id, document, round((time.perf_counter() - started) * 1000, 3))
            return document

    async def add_documents(self, user_id: str, kb_id: str, documents: Sequence[Mapping[str, Any]]) -> list[FFKnowledgeDocumentDTO]:
        """Ingest many documents with one durable commit; one stored document per item, in order.

        Each item is a mapping of ``add_document``'s keyword arguments (``content`` or ``data``,
        ``title``, ``format``, ``mime_type``, ``source``, ``metadata``, ``document_id``) and
        means what that call would: repeats (of a stored document or of an earlier item) return
        the stored copy. Instead of eight fsyncs per document, every file is written first, one
        filesystem flush makes them all durable and one catalog replace registers them, so a
        bulk import costs about one ``add_document``. Search sees the whole batch or none of it.

        Raises FFValidationError (bad ids, an unknown key, an empty batch or one of more than
        1,000 items, any item ``add_document`` would refuse: named
        ``documents[i]``) and FFConflictError (an id already holding other bytes), before
        anything is written; FFNotFoundError for an unknown knowledge base.
        """
        async with self._operation():
            started = time.perf_counter()
            checks.check_ids(user_id, kb_id)
            items = [self._document_input(index, item) for index, item in enumerate(checks.check_batch(documents, _MAX_BATCH_DOCUMENTS))]
            results = await self._io(self._documents.add_many, user_id, kb_id, items)
            duration_ms = round((time.perf_counter() - started) * 1000, 3)
            for document, created in results:
                if created:
                    await self._document_added(user_id, kb_id, document, duration_ms, batch=len(results))
            return [document for document, _ in results]

    async def _document_added(
        self, user_id: str, kb_id: str, document: FFKnowledgeDocumentDTO, duration_ms: float, **extra: Any
    ) -> None:
        """Publish ``knowledge.document_added`` (metrics counts ingests and their duration from it)."""
        payload = {"kb_id": kb_id, "doc_id": document.doc_id, "format": document.format, "size_bytes": document.size_bytes}
        payload.update(chunk_count=document.chunk_count, duration_ms=duration_ms, **extra)
        await self._publish("knowledge.document_added", payload, user_id=user_id)

    def _document_input(self, index: int, item: Mapping[str, Any]) -> FFDocumentInput:
        """One batch item checked as ``add_document`` checks its arguments (errors name ``documents[i]``)."""
        where = f"documents[{index}]"
        if not isinstance(item, Mapping):
            raise FFValidationError(f"{where} must be a mapping of add_document's arguments", field=where)
        unknown = sorted(set(item) - _DOCUMENT_KEYS, key=str)
        if unknown:
            raise FFValidationError(f"{where}: unknown key(s) {', '.join(map(str, unknown))}", field=where)
        try:
            document_id, source, title = item.get("document_id"), item.get("source"), item.get("title")
            if document_id is not None:
                ff_validate_id(document_id, "document_id")
            clean_source = checks.check_label(source, "source", _MAX_SOURCE_CHARS) if source is not None else None
            clean_title = checks.check_label(title, "title", self._settings.max_title_chars) if title is not None else None
            return FFDocumentInput(
                content=item.get("content"),
                data=item.get("data"),
                fmt=checks.check_format(item.get("format"), item.get("mime_type")),
                title=clean_title or clean_source,
                document_id=document_id,
                source=clean_source,
                metadata=checks.check_metadata(item.get("metadata"), self._settings.max_metadata_bytes),
            )
        except FFValidationError as exc:
            field = f"{where}.{exc.field}" if exc.field else where
            raise FFValidationError(f"{where}: {exc.message}", field=field, value=exc.value) from exc

    async def list_documents(self, user_id: str, kb_id: str) -> list[FFKnowledgeDocumentDTO]:
        """The documents of a knowledge base in the order they were added. Raises FFNotFoundError."""
        async with self._operation():
            checks.check_ids(user_id, kb_id)
            return await self._io(self._documents.list_documents, user_id, kb_id)

    async def get_document(self, user_id: str, kb_id: str, doc_id: str) -> FFKnowledgeDocumentDTO:
        """One document's record. Raises FFValidationError (bad ids), FFNotFoundError."""
        async with self._operation():
            checks.check_ids(user_id, kb_id, doc_id=doc_id)
            return await self._io(self._documents.get_document, user_id, kb_id, doc_id)

    async def get_document_text(self, user_id: str, kb_id: str, doc_id: str) -> str:
        """The extracted text that chunk offsets index (``text[hit.char_start:hit.char_end]``)."""
        async with self._operation():
            checks.check_ids(user_id, kb_id, doc_id=doc_id)
            return await self._io(self._documents.read_text, user_id, kb_id, doc_id)

    async def delete_document(self, user_id: str, kb_id: str, doc_id: str) -> FFKnowledgeDocumentDTO:
        """Remove a document; its chunks leave search results from the next search on.

        Returns the deleted record. Raises FFValidationError (bad ids), FFNotFoundError.
        """
        async with self._operation():
            checks.check_ids(user_id, kb_id, doc_id=doc_id)
            document = await self._io(self._documents.delete, user_id, kb_id, doc_id)
            await self._publish(
                "knowledge.document_deleted",
                {"kb_id": kb_id, "doc_id": doc_id, "chunk_count": document.chunk_count},
                user_id=user_id,
            )
            return document

    # ------------------------------------------------------------------ retrieval

    async def search(
        self,
        user_id: str,
        kb_id: str,
        query: str,
        top_k: int | None = None,
        *,
        per_document: int | None = None,
    ) -> list[FFKnowledgeSearchHitDTO]:
        """The chunks of this knowledge base that best match ``query``, best first.

        Each hit carries its chunk and document ids, the document title, the heading path, the
        chunk text and its offsets in the document text, its BM25 score and rank. A query with
        no word the knowledge base contains returns ``[]``. ``per_document`` caps the chunks of
        one document in the answer (None: the configured ``max_chunks_per_document``; 0: no cap).

        Raises FFValidationError for bad ids, an empty or overlong query, a ``top_k`` outside
        1..max_top_k or a negative ``per_document``; FFNotFoundError for an unknown knowledge base.
        """
        async with self._operation():
            started = time.perf_counter()
            checks.check_ids(user_id, kb_id)
            k = checks.check_top_k(top_k, default=self._settings.default_top_k, maximum=self._settings.max_top_k)
            cap = checks.check_per_document(per_document, default=self._settings.max_chunks_per_document)
            checks.check_query(query, self._settings.max_query_chars)
            hits, rebuilt = await self._search.search(user_id, kb_id, query, k, cap)
            await self._publish(
                "knowledge.searched",
                {
                    "kb_id": kb_id,
                    "top_k": k,
                    "hits": len(hits),
                    "index_rebuilt": rebuilt,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                },
                user_id=user_id,
            )
            return hits

    async def get_chunk(self, user_id: str, kb_id: str, chunk_id: str) -> FFKnowledgeChunkDTO:
        """One chunk by id (to resolve a citation). Raises FFValidationError, FFNotFoundError."""
        async with self._operation():
            checks.check_ids(user_id, kb_id, chunk_id=chunk_id)
            return await self._search.chunk(user_id, kb_id, chunk_id)

    async def refresh_index(self, user_id: str, kb_id: str, *, force: bool = False) -> FFKnowledgeIndexStatsDTO:
        """Bring the index up to date now (search does it lazily); ``force`` rebuilds from scratch.

        Useful after a bulk import, so the first search does not pay for the rebuild.
        """
        async with self._operation():
            checks.check_ids(user_id, kb_id)
            return await self._search.refresh(user_id, kb_id, force=force)

    def _health_details(self) -> dict[str, Any]:
        return self._search.health_details()
