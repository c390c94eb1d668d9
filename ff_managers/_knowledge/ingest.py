"""Ingest of one document or a batch: extract, chunk and tokenise first, then write and register.

Split from :mod:`.documents` (which keeps the reading, deleting and the token lists in memory) so
each module has one job. Ingest is extract (:mod:`.extract`) -> chunk (:mod:`.chunking`) ->
tokenise, all before anything is written; then, under the knowledge base's writers' lock, the
document's files are written and its entry is registered in the catalog (the commit point,
:mod:`.catalog`). Per document::

    documents/<doc_id>/source.<ext>   the bytes as given
    documents/<doc_id>/text.txt       the extracted text (chunk offsets index it)
    documents/<doc_id>/chunks.json    chunk ids, offsets and heading paths

Ids make re-adding idempotent: without ``document_id`` the id derives from the SHA-256 of the
source bytes, and a chunk id from the document id, the chunk's position and its text, so the
same bytes always get the same ids (also after a delete and re-add).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ff_class_configs.ff_knowledge_config import FFKnowledgeConfigDTO
from ff_class_configs.ff_knowledge_dtos import KB_SCHEMA_VERSION, FFKnowledgeDocumentDTO
from ff_managers._knowledge.catalog import FFKbCatalog
from ff_managers._knowledge.chunking import FFChunkSpan, chunk_text
from ff_managers._knowledge.extract import (
    FFExtractedText,
    FFExtractLimits,
    extract_text,
)
from ff_managers._knowledge.index import FFChunkRecord, FFKbTokenizer
from ff_utils.ff_errors import FFConflictError, FFValidationError
from ff_utils.ff_fs_sync import ff_sync_filesystem
from ff_utils.ff_hashing import ff_sha256_bytes
from ff_utils.ff_store import FFStore

__all__ = ["FFDocumentInput", "FFKbIngest", "FFPreparedDocument", "TokenLists", "indexed_text"]

_SOURCE_EXTENSIONS = {"text": "txt", "markdown": "md", "pdf": "pdf"}

TokenLists = list[list[str]]


@dataclass(frozen=True, slots=True)
class FFDocumentInput:
    """One document of a batch, its fields checked by the façade (as ``add_document``'s are)."""

    content: str | None = None
    data: bytes | None = None
    fmt: str | None = None
    title: str | None = None
    document_id: str | None = None
    source: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FFPreparedDocument:
    """A validated document ready to store: text, ids, chunks and their tokens."""

    extracted: FFExtractedText
    checksum: str
    doc_id: str
    title: str
    records: list[FFChunkRecord]
    tokens: TokenLists
    explicit_id: bool


def _chunk_id(doc_id: str, index: int, text: str) -> str:
    digest = hashlib.sha256(f"{doc_id}\x00{index}\x00{text}".encode("utf-8", "surrogatepass")).hexdigest()
    return f"ck-{digest[:32]}"


def indexed_text(title: str, record: FFChunkRecord) -> str:
    """What is tokenised for a chunk: its document's title, its heading path, its text.

    Title and heading path are indexed with every chunk (a poor man's BM25F): the third
    chunk of "Mutable Sequence Types" is still about mutable sequences.
    """
    return f"{title}\n{record.heading}\n{record.text}"


def _checksums(documents: dict[str, Any]) -> dict[str, Any]:
    """Source checksum -> the first catalog entry holding those bytes (catalog order)."""
    found: dict[str, Any] = {}
    for entry in documents.values():
        found.setdefault(entry["checksum_sha256"], entry)
    return found


def _first_line(text: str, max_chars: int) -> str:
    for line in text.split("\n"):
        stripped = " ".join(line.split())
        if stripped:
            return stripped[:max_chars]
    return "Untitled"


class FFKbIngest:
    """Prepares documents (CPU work, no writes) and writes them, one or a batch, under the writers' lock."""

    def __init__(
        self,
        catalog: FFKbCatalog,
        settings: FFKnowledgeConfigDTO,
        tokenizer: FFKbTokenizer,
        clock: Callable[[], datetime],
    ) -> None:
        self._catalog = catalog
        self._store = catalog.store
        self._settings = settings
        self._tokenizer = tokenizer
        self._clock = clock

    def chunk(self, text: str) -> list[FFChunkSpan]:
        """``text`` cut with the configured chunk size and overlap."""
        return chunk_text(text, size=self._settings.chunk_size_chars, overlap=self._settings.chunk_overlap_chars)

    def prepare(
        self, content: str | None, data: bytes | None, fmt: str | None, title: str | None, document_id: str | None
    ) -> FFPreparedDocument:
        """Extract, chunk and tokenise (CPU work, no writes); raises FFValidationError."""
        extracted = extract_text(
            content=content, data=data, fmt=fmt, max_bytes=self._settings.max_document_bytes,
            limits=FFExtractLimits.from_settings(self._settings),
        )  # fmt: skip
        checksum = ff_sha256_bytes(extracted.source_bytes)
        doc_id = document_id or f"doc-{checksum[:32]}"
        spans = self.chunk(extracted.text)
        if not spans:
            raise FFValidationError("document has no text to index", field="content")
        resolved_title = title or _first_line(extracted.text, self._settings.max_title_chars)
        records = [
            FFChunkRecord(
                _chunk_id(doc_id, span.index, extracted.text[span.start : span.end]),
                doc_id,
                span.index,
                span.start,
                span.end,
                span.heading,
                extracted.text[span.start : span.end],
            )
            for span in spans
        ]
        tokens = [self._tokenizer.chunks.tokens(indexed_text(resolved_title, r)) for r in records]
        return FFPreparedDocument(
            extracted, checksum, doc_id, resolved_title, records, tokens, explicit_id=document_id is not None
        )

    def write(
        self, user_id: str, kb_id: str, prepared: FFPreparedDocument, source: str | None, metadata: dict[str, Any]
    ) -> tuple[FFKnowledgeDocumentDTO, bool]:
        """Write the document's files, then register it; or return the copy the catalog already holds."""
        self._catalog.read(user_id, kb_id)  # FFNotFoundError before any lock file is created
        with self._catalog.write_lock(user_id, kb_id):
            documents: dict[str, Any] = self._catalog.read(user_id, kb_id)["documents"]
            stored = self._stored_copy(kb_id, prepared, documents, _checksums(documents))
            if stored is not None:
                return self._catalog.document(user_id, kb_id, stored), False
            document = self._new_document(kb_id, user_id, prepared, source, metadata)
            self._write_files(self._store, user_id, kb_id, prepared, document)
            self._catalog.register(user_id, kb_id, document.model_dump(mode="json"))
        return document, True

    def write_many(
        self, user_id: str, kb_id: str, prepared: list[FFPreparedDocument], items: list[FFDocumentInput]
    ) -> list[tuple[FFKnowledgeDocumentDTO, bool]]:
        """Write every new document's files, make them durable at once, then register them all.

        Per document, ``add`` costs eight fsyncs (three files and the catalog, each file and its
        directory): 60 times FTS5's time to ingest CPython's help topics. Here the files are
        written without fsync, one ``syncfs`` (:func:`ff_sync_filesystem`) makes all of them
        durable, and one catalog replace registers them: the commit point is still a catalog
        that only names files already on disk, so a crash leaves unregistered folders, never an
        entry without its files.
        """
        self._catalog.read(user_id, kb_id)  # FFNotFoundError before any lock file is created
        with self._catalog.write_lock(user_id, kb_id):
            documents: dict[str, Any] = dict(self._catalog.read(user_id, kb_id)["documents"])
            checksums = _checksums(documents)
            results: list[tuple[FFKnowledgeDocumentDTO, bool]] = []
            planned: dict[str, FFKnowledgeDocumentDTO] = {}
            to_write: list[tuple[FFPreparedDocument, FFKnowledgeDocumentDTO]] = []
            for ready, item in zip(prepared, items, strict=True):  # all checked before anything is written
                stored = self._stored_copy(kb_id, ready, documents, checksums)
                if stored is not None:
                    copy = planned.get(stored["doc_id"])
                    results.append((copy if copy is not None else self._catalog.document(user_id, kb_id, stored), False))
                    continue
                document = self._new_document(kb_id, user_id, ready, item.source, item.metadata)
                entry = document.model_dump(mode="json")
                documents[document.doc_id] = entry
                checksums.setdefault(document.checksum_sha256, entry)
                planned[document.doc_id] = document
                to_write.append((ready, document))
                results.append((document, True))
            if to_write:
                unsynced = self._store.with_settings(durability="never")
                for ready, document in to_write:
                    self._write_files(unsynced, user_id, kb_id, ready, document)
                if self._store.durability != "never":
                    ff_sync_filesystem(self._catalog.kb_dir(user_id, kb_id))
                self._catalog.register_many(user_id, kb_id, [d.model_dump(mode="json") for _, d in to_write])
        return results

    @staticmethod
    def _stored_copy(
        kb_id: str, prepared: FFPreparedDocument, documents: dict[str, Any], checksums: dict[str, Any]
    ) -> dict[str, Any] | None:
        """The catalog entry ``prepared`` repeats (same id and bytes; same bytes without an id), or None.

        FFConflictError when its explicit id already holds other bytes.
        """
        existing = documents.get(prepared.doc_id)
        if existing is not None:
            if existing["checksum_sha256"] == prepared.checksum:
                return existing  # type: ignore[no-any-return]
            raise FFConflictError(
                f"document {prepared.doc_id!r} already holds other content; delete it first",
                kb_id=kb_id,
                doc_id=prepared.doc_id,
            )
        if not prepared.explicit_id:
            return checksums.get(prepared.checksum)  # type: ignore[no-any-return]
        return None

    def _new_document(
        self, kb_id: str, user_id: str, prepared: FFPreparedDocument, source: str | None, metadata: dict[str, Any]
    ) -> FFKnowledgeDocumentDTO:
        extracted = prepared.extracted
        return FFKnowledgeDocumentDTO(
            doc_id=prepared.doc_id,
            kb_id=kb_id,
            user_id=user_id,
            title=prepared.title,
            format=extracted.format,
            mime_type=extracted.mime_type,
            checksum_sha256=prepared.checksum,
            text_sha256=ff_sha256_bytes(extracted.text.encode("utf-8")),
            size_bytes=len(extracted.source_bytes),
            text_chars=len(extracted.text),
            chunk_count=len(prepared.records),
            added_at=self._clock(),
            source=source,
            page_count=extracted.page_count,
            metadata=metadata,
        )

    def _write_files(
        self, store: FFStore, user_id: str, kb_id: str, prepared: FFPreparedDocument, document: FFKnowledgeDocumentDTO
    ) -> None:
        """The document's three files (source, text, chunks), each replaced atomically through ``store``."""
        extracted = prepared.extracted
        doc_dir = self._catalog.document_dir(user_id, kb_id, prepared.doc_id)
        store.write_bytes(doc_dir / f"source.{_SOURCE_EXTENSIONS[extracted.format]}", extracted.source_bytes)
        store.write_bytes(doc_dir / "text.txt", extracted.text.encode("utf-8"))
        store.write_json(
            doc_dir / "chunks.json",
            {
                "schema_version": KB_SCHEMA_VERSION,
                "doc_id": prepared.doc_id,
                "text_sha256": document.text_sha256,
                "chunks": [
                    {k: v for k, v in r.to_json().items() if k not in ("text", "doc_id")} for r in prepared.records
                ],
            },
        )

