"""The documents of the knowledge bases: ingest, read back, delete, and their chunks and tokens.

Preparing and writing a document (one, or a batch with one durable commit) is :mod:`.ingest`'s
job; this module is the door to it and keeps what outlives a call: the token lists in memory per
document (keyed by the text's checksum): ingest puts the tokens it computed there, so an index
rebuild after one added document only tokenises that one; and the chunks of documents ingested
since the last index build, so that build need not read them back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ff_class_configs.ff_knowledge_config import FFKnowledgeConfigDTO
from ff_class_configs.ff_knowledge_dtos import FFKnowledgeDocumentDTO
from ff_managers._core.errors import translate_errors
from ff_managers._knowledge.catalog import FFKbCatalog
from ff_managers._knowledge.chunking import FFChunkSpan
from ff_managers._knowledge.index import FFChunkRecord, FFKbTokenizer
from ff_managers._knowledge.ingest import (
    FFDocumentInput,
    FFKbIngest,
    FFPreparedDocument,
    TokenLists,
    indexed_text,
)
from ff_utils.ff_errors import FFCorruptionError, FFValidationError
from ff_utils.ff_hashing import ff_sha256_bytes

__all__ = ["FFKbDocuments", "FFPreparedDocument", "FFDocumentInput"]

_MAX_FRESH_CHARS = 32 * 1024 * 1024  # chunk text kept for the next index build, all bases together


class FFKbDocuments:
    """Documents of every knowledge base under one catalog, and their token lists in memory."""

    def __init__(
        self,
        catalog: FFKbCatalog,
        settings: FFKnowledgeConfigDTO,
        tokenizer: FFKbTokenizer,
        clock: Callable[[], datetime],
    ) -> None:
        self._catalog = catalog
        self._store = catalog.store
        self._tokenizer = tokenizer
        self._clock = clock
        # (user_id, kb_id) -> doc_id -> (text_sha256, token list per chunk)
        self._tokens: dict[tuple[str, str], dict[str, tuple[str, TokenLists]]] = {}
        # (user_id, kb_id) -> doc_id -> (text_sha256, chunk records) of documents ingested since
        # the last index build: the next build takes them from here instead of reading them back.
        self._fresh: dict[tuple[str, str], dict[str, tuple[str, list[FFChunkRecord], int]]] = {}
        self._fresh_chars = 0  # text held there, bounded by _MAX_FRESH_CHARS (then read back from disk)
        self._fresh_lock = threading.Lock()  # ingest and index builds run in different worker threads
        self._ingest = FFKbIngest(catalog, settings, tokenizer, clock)

    def chunk(self, text: str) -> list[FFChunkSpan]:
        """``text`` cut with the configured chunk size and overlap."""
        return self._ingest.chunk(text)

    # ------------------------------------------------------------------ ingest

    def add(
        self,
        user_id: str,
        kb_id: str,
        *,
        content: str | None,
        data: bytes | None,
        fmt: str | None,
        title: str | None,
        document_id: str | None,
        source: str | None,
        metadata: dict[str, Any],
    ) -> tuple[FFKnowledgeDocumentDTO, bool]:
        """Ingest one document; return it and whether it was new (False: the stored copy)."""
        prepared = self._ingest.prepare(content, data, fmt, title, document_id)
        document, created = self._ingest.write(user_id, kb_id, prepared, source, metadata)
        if created:
            self._remember(user_id, kb_id, document, prepared)
        return document, created

    def add_many(self, user_id: str, kb_id: str, items: list[FFDocumentInput]) -> list[tuple[FFKnowledgeDocumentDTO, bool]]:
        """Ingest a batch with one durable commit; per item, the document and whether it was new.

        Every item is extracted, chunked and tokenised first, so a bad one (FFValidationError
        naming ``documents[i]``) or a conflicting id (FFConflictError) writes nothing. Items mean
        what the same ``add`` calls in order would: a repeat of an earlier item or of a stored
        document is returned, not written again. See :meth:`.ingest.FFKbIngest.write_many` for the
        durability.
        """
        prepared: list[FFPreparedDocument] = []
        for index, item in enumerate(items):
            try:
                prepared.append(self._ingest.prepare(item.content, item.data, item.fmt, item.title, item.document_id))
            except FFValidationError as exc:
                where = f"documents[{index}]" + (f".{exc.field}" if exc.field else "")
                raise FFValidationError(f"{where}: {exc.message}", field=where, value=exc.value) from exc
        results = self._ingest.write_many(user_id, kb_id, prepared, items)
        for (document, created), ready in zip(results, prepared, strict=True):
            if created:
                self._remember(user_id, kb_id, document, ready)
        return results

    def _remember(self, user_id: str, kb_id: str, document: FFKnowledgeDocumentDTO, prepared: FFPreparedDocument) -> None:
        """Keep a new document's tokens (for every rebuild) and chunks (for the next one)."""
        key = (user_id, kb_id)
        self._tokens.setdefault(key, {})[document.doc_id] = (document.text_sha256, prepared.tokens)
        with self._fresh_lock:
            if self._fresh_chars + document.text_chars <= _MAX_FRESH_CHARS:  # a bulk import never piles up text
                self._fresh.setdefault(key, {})[document.doc_id] = (document.text_sha256, prepared.records, document.text_chars)
                self._fresh_chars += document.text_chars

    # ------------------------------------------------------------------ reading and deleting

    def list_documents(self, user_id: str, kb_id: str) -> list[FFKnowledgeDocumentDTO]:
        """The documents in the order they were added."""
        catalog = self._catalog.read(user_id, kb_id)
        return [self._catalog.document(user_id, kb_id, d) for d in catalog["documents"].values()]

    def get_document(self, user_id: str, kb_id: str, doc_id: str) -> FFKnowledgeDocumentDTO:
        catalog = self._catalog.read(user_id, kb_id)
        return self._catalog.document(user_id, kb_id, self._catalog.entry(catalog, kb_id, doc_id))

    def read_text(self, user_id: str, kb_id: str, doc_id: str) -> str:
        """The extracted text that chunk offsets index."""
        self._catalog.entry(self._catalog.read(user_id, kb_id), kb_id, doc_id)
        path = self._catalog.document_dir(user_id, kb_id, doc_id) / "text.txt"
        with translate_errors("read document text", path):
            return self._store.read_bytes(path).decode("utf-8")

    def delete(self, user_id: str, kb_id: str, doc_id: str) -> FFKnowledgeDocumentDTO:
        """Unregister the document (the commit point), then remove its files; return its record."""
        self._catalog.entry(self._catalog.read(user_id, kb_id), kb_id, doc_id)  # before any lock file
        with self._catalog.write_lock(user_id, kb_id):
            removed = self._catalog.unregister(user_id, kb_id, doc_id, self._clock())
            self._store.remove_tree(self._catalog.document_dir(user_id, kb_id, doc_id))
        cache = self._tokens.get((user_id, kb_id))
        if cache is not None:
            cache.pop(doc_id, None)
        self._drop_fresh(user_id, kb_id, doc_id)
        return self._catalog.document(user_id, kb_id, removed)

    # ------------------------------------------------------------------ for the index builder

    def take_fresh_chunks(self, user_id: str, kb_id: str, doc_id: str, entry: dict[str, Any]) -> list[FFChunkRecord] | None:
        """The chunks of a document this process just ingested (once: the index keeps them), or None."""
        fresh = self._drop_fresh(user_id, kb_id, doc_id)
        if fresh is None or fresh[0] != entry["text_sha256"]:
            return None
        return fresh[1]

    def _drop_fresh(self, user_id: str, kb_id: str, doc_id: str | None = None) -> tuple[str, list[FFChunkRecord], int] | None:
        """Forget one document's fresh chunks and return them (``doc_id=None``: the whole base's)."""
        with self._fresh_lock:
            cache = self._fresh.get((user_id, kb_id))
            if cache is None:
                return None
            if doc_id is None:
                del self._fresh[(user_id, kb_id)]
                self._fresh_chars -= sum(chars for _, _, chars in cache.values())
                return None
            fresh = cache.pop(doc_id, None)
            if fresh is not None:
                self._fresh_chars -= fresh[2]
            return fresh

    def read_chunks(self, user_id: str, kb_id: str, doc_id: str, entry: dict[str, Any]) -> list[FFChunkRecord]:
        """A stored document's chunks with their text; FFCorruptionError when files and catalog disagree."""
        doc_dir = self._catalog.document_dir(user_id, kb_id, doc_id)
        stored = self._store.read_json(doc_dir / "chunks.json")
        with translate_errors("read document text", doc_dir / "text.txt"):
            text = self._store.read_bytes(doc_dir / "text.txt").decode("utf-8")
        if ff_sha256_bytes(text.encode("utf-8")) != entry["text_sha256"]:
            raise FFCorruptionError(f"text of document {doc_id!r} does not match its checksum", path=doc_dir / "text.txt")
        try:
            return [
                FFChunkRecord(
                    str(c["chunk_id"]),
                    doc_id,
                    int(c["chunk_index"]),
                    int(c["char_start"]),
                    int(c["char_end"]),
                    str(c["heading"]),
                    text[int(c["char_start"]) : int(c["char_end"])],
                )
                for c in stored["chunks"]
            ]
        except (KeyError, TypeError, ValueError) as exc:
            raise FFCorruptionError(f"chunks of document {doc_id!r} are malformed: {exc}", path=doc_dir / "chunks.json") from exc

    def tokens(
        self, user_id: str, kb_id: str, doc_id: str, entry: dict[str, Any], records: list[FFChunkRecord]
    ) -> TokenLists:
        """The token list of each of ``records`` (one document's chunks), from memory when still valid."""
        cache = self._tokens.setdefault((user_id, kb_id), {})
        cached = cache.get(doc_id)
        if cached is None or cached[0] != entry["text_sha256"] or len(cached[1]) != len(records):
            title = entry["title"]
            cached = (entry["text_sha256"], [self._tokenizer.chunks.tokens(indexed_text(title, r)) for r in records])
            cache[doc_id] = cached
        return cached[1]

    def keep_tokens(self, user_id: str, kb_id: str, live: set[str]) -> None:
        """Drop the token lists of documents no longer in the catalog."""
        cache = self._tokens.setdefault((user_id, kb_id), {})
        for stale in set(cache) - live:
            del cache[stale]
        self._drop_fresh(user_id, kb_id)  # what a build did not take is read from disk next time

    def forget_tokens(self, user_id: str, kb_id: str) -> None:
        self._tokens.pop((user_id, kb_id), None)
        self._drop_fresh(user_id, kb_id)
