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

Writers of one knowledge base serialise on a cross-process lock named after the base and kept
beside its folder (``knowledge/.<kb_id>.lock``), not on the catalog's own lock, which
``ff_update_json`` takes itself. Living outside the folder, the lock file survives the folder's
deletion, so no two writers ever hold different inodes of it. Every writer reads the catalog
before taking the lock, so a call naming an unknown knowledge base creates nothing.

Search is built to be cheap per query: the index, chunk texts and titles live in memory per
knowledge base; a query costs one ``stat`` of ``kb.json`` (to notice changes made by another
instance or process), one tokenisation and one bm25s scoring. When the catalog changed the index
is brought up to date before answering: loaded from disk when a saved index matches the revision,
else rebuilt from the documents (token lists are cached per document, so a rebuild after one
added document only tokenises that document) and saved. So a search always sees every document
added or deleted before it began.

Re-adding a document is idempotent. Without ``document_id`` the id is derived from the SHA-256
of the source bytes and a document whose checksum the knowledge base already holds is returned
as it is (title and metadata of the first copy are kept; nothing is written, no event). With an
explicit ``document_id`` (the legacy import keeps its ids) the same id with the same bytes
returns the stored document, the same id with other bytes is a conflict. Chunk ids derive from
the document id, chunk position and chunk text, so they are the same every time the same bytes
are ingested (also after a delete and re-add).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ff_class_configs.ff_configuration_manager_config import FFConfigurationManagerConfigDTO
from ff_class_configs.ff_knowledge_dtos import (
    KB_SCHEMA_VERSION,
    FFKnowledgeBaseDTO,
    FFKnowledgeChunkDTO,
    FFKnowledgeDocumentDTO,
    FFKnowledgeIndexStatsDTO,
    FFKnowledgeSearchHitDTO,
)
from ff_managers._knowledge.chunking import chunk_text
from ff_managers._knowledge.extract import FFExtractedText, extract_text, resolve_format
from ff_managers._knowledge.index import (
    FFChunkRecord,
    FFFeedbackSettings,
    FFKbIndex,
    FFTokenizer,
    build_index,
    load_index,
    save_index,
)
from ff_managers.ff_component_base import Clock, FFComponentBase
from ff_managers.ff_event_bus import FFEventBus
from ff_utils.ff_errors import FFConflictError, FFCorruptionError, FFNotFoundError, FFValidationError, ff_translate_errors
from ff_utils.ff_file_ops import ff_atomic_write, ff_remove_tree
from ff_utils.ff_hashing import ff_sha256_bytes
from ff_utils.ff_ids import ff_new_id, ff_validate_id
from ff_utils.ff_json_utils import ff_dumps, ff_loads, ff_read_json, ff_update_json, ff_write_json
from ff_utils.ff_locks import ff_file_lock
from ff_utils.ff_logging import get_logger

__all__ = ["FFKnowledgeBaseManager"]

_CATALOG = "kb.json"
_SOURCE_EXTENSIONS = {"text": "txt", "markdown": "md", "pdf": "pdf"}
_MAX_SOURCE_CHARS = 1_000
_log = get_logger("knowledge")

StatKey = tuple[int, int, int]


@dataclass(slots=True)
class _KbState:
    """What one knowledge base keeps in memory between searches."""

    catalog_path: Path
    stat_key: StatKey
    revision: int
    titles: dict[str, str]
    index: FFKbIndex


@dataclass(slots=True)
class _TokenCache:
    """Token lists per document of one knowledge base, keyed by the text's checksum."""

    by_doc: dict[str, tuple[str, list[list[str]]]] = field(default_factory=dict)


def _stat_key(path: Path) -> StatKey:
    # Every catalog write is an atomic replace (a new inode), so inode + mtime + size change
    # on every commit, even two within one clock tick.
    info = os.stat(path)
    return (info.st_ino, info.st_mtime_ns, info.st_size)


def _chunk_id(doc_id: str, index: int, text: str) -> str:
    digest = hashlib.sha256(f"{doc_id}\x00{index}\x00{text}".encode("utf-8", "surrogatepass")).hexdigest()
    return f"ck-{digest[:32]}"


def _check_text_field(value: object, name: str, max_chars: int, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise FFValidationError(f"{name} must be a string", field=name, value=type(value).__name__)
    cleaned = value.strip()
    if not cleaned and not allow_empty:
        raise FFValidationError(f"{name} must not be empty", field=name)
    if len(cleaned) > max_chars:
        raise FFValidationError(f"{name} longer than {max_chars} characters", field=name, value=len(cleaned))
    if any(ord(ch) < 32 and ch not in "\t\n" for ch in cleaned) or "\x7f" in cleaned:
        raise FFValidationError(f"{name} contains control characters", field=name)
    return cleaned


class FFKnowledgeBaseManager(FFComponentBase):
    """Knowledge bases of many users; see the module docstring for layout and guarantees."""

    component_name = "knowledge"

    def __init__(
        self,
        config: FFConfigurationManagerConfigDTO,
        *,
        bus: FFEventBus | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(config, bus=bus, clock=clock)
        self._settings = config.knowledge
        self._durability = config.storage.durability
        self._tokenizer = FFTokenizer(
            stemming=self._settings.stemming,
            stopwords=self._settings.stopwords,
            question_words=self._settings.drop_question_words,
        )
        # What a saved index was built with: a change of any of these rebuilds it.
        self._index_signature = (
            f"{self._tokenizer.signature}:fold={int(self._settings.fold_duplicates)}"
            f":fbdf={self._settings.feedback_max_df_ratio}:k1={self._settings.bm25_k1}:b={self._settings.bm25_b}"
        )
        self._feedback = (
            FFFeedbackSettings(
                docs=self._settings.feedback_docs,
                terms=self._settings.feedback_terms,
                original_weight=self._settings.feedback_query_weight,
                max_df_ratio=self._settings.feedback_max_df_ratio,
                min_rows=self._settings.feedback_min_chunks,
            )
            if self._settings.feedback_docs > 0 and self._settings.feedback_query_weight < 1
            else None
        )
        self._states: dict[tuple[str, str], _KbState] = {}
        self._tokens: dict[tuple[str, str], _TokenCache] = {}
        self._refresh_locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._rebuilds = 0
        self._rebuild_ms: list[float] = []

    # ------------------------------------------------------------------ paths

    def _kb_dir(self, user_id: str, kb_id: str) -> Path:
        return self._path("users", user_id, "knowledge", kb_id)

    def _knowledge_dir(self, user_id: str) -> Path:
        return self._path("users", user_id, "knowledge")

    def _write_lock(self, user_id: str, kb_id: str) -> Any:
        """The writers' lock of one knowledge base (see the module docstring)."""
        return ff_file_lock(self._kb_dir(user_id, kb_id))

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
            clean_name = _check_text_field(name, "name", self._settings.max_name_chars)
            clean_description = _check_text_field(description, "description", 4_000, allow_empty=True)
            new_id = ff_validate_id(kb_id, "kb_id") if kb_id is not None else ff_new_id("kb-")
            now = self.clock()
            base = FFKnowledgeBaseDTO(
                kb_id=new_id, user_id=user_id, name=clean_name, description=clean_description, created_at=now, updated_at=now
            )
            await self._io(self._create_catalog, user_id, base)
            await self._publish("knowledge.base_created", {"kb_id": new_id}, user_id=user_id)
            return base

    def _create_catalog(self, user_id: str, base: FFKnowledgeBaseDTO) -> None:
        kb_dir = self._kb_dir(user_id, base.kb_id)
        catalog = {
            "schema_version": KB_SCHEMA_VERSION,
            "kb": base.model_dump(mode="json", exclude={"document_count", "chunk_count"}),
            "revision": 0,
            "deleted": False,
            "documents": {},
        }

        def create(current: dict[str, Any] | None) -> dict[str, Any]:
            if current is not None:
                raise FFConflictError(f"knowledge base {base.kb_id!r} already exists", kb_id=base.kb_id)
            return catalog

        ff_update_json(kb_dir / _CATALOG, create, default=None, durability=self._durability)

    async def list_knowledge_bases(self, user_id: str) -> list[FFKnowledgeBaseDTO]:
        """The user's knowledge bases, oldest first (an unknown user has none)."""
        async with self._operation():
            ff_validate_id(user_id, "user_id")
            return await self._io(self._list_bases, user_id)

    def _list_bases(self, user_id: str) -> list[FFKnowledgeBaseDTO]:
        knowledge = self._knowledge_dir(user_id)
        if not knowledge.is_dir():
            return []
        bases: list[FFKnowledgeBaseDTO] = []
        for entry in sorted(knowledge.iterdir()):
            if entry.name.startswith(".") or entry.is_symlink() or not entry.is_dir():
                continue
            catalog = ff_read_json(entry / _CATALOG, default=None)
            if catalog is None or catalog.get("deleted"):
                continue  # a folder left by a crash before its catalog was written, or a deletion
            bases.append(self._base_dto(catalog, entry / _CATALOG))
        bases.sort(key=lambda b: (b.created_at, b.kb_id))
        return bases

    async def get_knowledge_base(self, user_id: str, kb_id: str) -> FFKnowledgeBaseDTO:
        """One knowledge base with its document and chunk counts. Raises FFNotFoundError."""
        async with self._operation():
            self._check_ids(user_id, kb_id)
            path = self._kb_dir(user_id, kb_id) / _CATALOG
            catalog = await self._io(self._read_catalog, user_id, kb_id)
            return self._base_dto(catalog, path)

    async def delete_knowledge_base(self, user_id: str, kb_id: str) -> None:
        """Delete a knowledge base with all its documents and index. Raises FFNotFoundError.

        The catalog is marked deleted first (the commit point: from then on every call treats the
        base as gone), then the folder is removed.
        """
        async with self._operation():
            self._check_ids(user_id, kb_id)
            counts = await self._io(self._delete_base, user_id, kb_id)
            self._forget(user_id, kb_id)
            await self._publish("knowledge.base_deleted", {"kb_id": kb_id, **counts}, user_id=user_id)

    def _delete_base(self, user_id: str, kb_id: str) -> dict[str, int]:
        kb_dir = self._kb_dir(user_id, kb_id)
        counts: dict[str, int] = {}
        self._read_catalog(user_id, kb_id)  # FFNotFoundError before any lock file is created
        with self._write_lock(user_id, kb_id):

            def mark(current: dict[str, Any] | None) -> dict[str, Any]:
                if current is None or current.get("deleted"):
                    raise FFNotFoundError(f"no knowledge base {kb_id!r}", kind="knowledge_base", key=kb_id)
                documents = current.get("documents", {})
                counts["documents"] = len(documents)
                counts["chunks"] = sum(int(d.get("chunk_count", 0)) for d in documents.values())
                return {**current, "deleted": True, "revision": int(current.get("revision", 0)) + 1}

            ff_update_json(kb_dir / _CATALOG, mark, default=None, durability=self._durability)
        ff_remove_tree(kb_dir)
        return counts

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
            self._check_ids(user_id, kb_id)
            if document_id is not None:
                ff_validate_id(document_id, "document_id")
            if format is not None and mime_type is not None and resolve_format(format, has_bytes=True) != resolve_format(
                mime_type, has_bytes=True
            ):
                raise FFValidationError("format and mime_type disagree", field="format", value=(format, mime_type))
            clean_source = _check_text_field(source, "source", _MAX_SOURCE_CHARS) if source is not None else None
            clean_metadata = self._check_metadata(metadata)
            clean_title = (
                _check_text_field(title, "title", self._settings.max_title_chars) if title is not None else None
            )
            prepared = await self._io(
                self._prepare_document, content, data, format or mime_type, clean_title or clean_source, document_id
            )
            document, created = await self._io(
                self._store_document, user_id, kb_id, prepared, clean_source, clean_metadata
            )
            if created:
                self._tokens.setdefault((user_id, kb_id), _TokenCache()).by_doc[document.doc_id] = (
                    document.text_sha256,
                    prepared.tokens,
                )
                await self._publish(
                    "knowledge.document_added",
                    {
                        "kb_id": kb_id,
                        "doc_id": document.doc_id,
                        "format": document.format,
                        "size_bytes": document.size_bytes,
                        "chunk_count": document.chunk_count,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                    },
                    user_id=user_id,
                )
            return document

    def _check_metadata(self, metadata: dict[str, Any] | None) -> dict[str, Any]:
        if metadata is None:
            return {}
        if not isinstance(metadata, dict) or not all(isinstance(k, str) for k in metadata):
            raise FFValidationError("metadata must be a JSON object with string keys", field="metadata")
        encoded = ff_dumps(metadata)  # FFValidationError for anything JSON cannot hold
        if len(encoded) > self._settings.max_metadata_bytes:
            raise FFValidationError(
                f"metadata of {len(encoded):,} bytes exceeds {self._settings.max_metadata_bytes:,}", field="metadata"
            )
        # Round-tripping through JSON stores exactly what a reader will get back.
        return dict(ff_loads(encoded))

    def _prepare_document(
        self, content: str | None, data: bytes | None, fmt: str | None, title: str | None, document_id: str | None
    ) -> _Prepared:
        """Extract, chunk and tokenise (CPU work, no writes); raises FFValidationError."""
        extracted = extract_text(content=content, data=data, fmt=fmt, max_bytes=self._settings.max_document_bytes)
        checksum = ff_sha256_bytes(extracted.source_bytes)
        doc_id = document_id or f"doc-{checksum[:32]}"
        spans = chunk_text(
            extracted.text, size=self._settings.chunk_size_chars, overlap=self._settings.chunk_overlap_chars
        )
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
        tokens = [self._tokenizer.tokens(_indexed_text(resolved_title, r)) for r in records]
        return _Prepared(extracted, checksum, doc_id, resolved_title, records, tokens, explicit_id=document_id is not None)

    def _store_document(
        self,
        user_id: str,
        kb_id: str,
        prepared: _Prepared,
        source: str | None,
        metadata: dict[str, Any],
    ) -> tuple[FFKnowledgeDocumentDTO, bool]:
        kb_dir = self._kb_dir(user_id, kb_id)
        extracted = prepared.extracted
        self._read_catalog(user_id, kb_id)  # FFNotFoundError before any lock file is created
        with self._write_lock(user_id, kb_id):
            catalog = self._read_catalog(user_id, kb_id)
            documents: dict[str, Any] = catalog["documents"]
            existing = documents.get(prepared.doc_id)
            if existing is not None:
                if existing["checksum_sha256"] == prepared.checksum:
                    return FFKnowledgeDocumentDTO.model_validate(existing), False
                raise FFConflictError(
                    f"document {prepared.doc_id!r} already holds other content; delete it first",
                    kb_id=kb_id,
                    doc_id=prepared.doc_id,
                )
            if not prepared.explicit_id:
                for stored in documents.values():
                    if stored["checksum_sha256"] == prepared.checksum:
                        return FFKnowledgeDocumentDTO.model_validate(stored), False
            text_bytes = extracted.text.encode("utf-8")
            document = FFKnowledgeDocumentDTO(
                doc_id=prepared.doc_id,
                kb_id=kb_id,
                user_id=user_id,
                title=prepared.title,
                format=extracted.format,
                mime_type=extracted.mime_type,
                checksum_sha256=prepared.checksum,
                text_sha256=ff_sha256_bytes(text_bytes),
                size_bytes=len(extracted.source_bytes),
                text_chars=len(extracted.text),
                chunk_count=len(prepared.records),
                added_at=self.clock(),
                source=source,
                page_count=extracted.page_count,
                metadata=metadata,
            )
            doc_dir = self._path("users", user_id, "knowledge", kb_id, "documents", prepared.doc_id)
            fsync = self._durability != "never"
            ext = _SOURCE_EXTENSIONS[extracted.format]
            ff_atomic_write(doc_dir / f"source.{ext}", extracted.source_bytes, fsync=fsync)
            ff_atomic_write(doc_dir / "text.txt", text_bytes, fsync=fsync)
            ff_write_json(
                doc_dir / "chunks.json",
                {
                    "schema_version": KB_SCHEMA_VERSION,
                    "doc_id": prepared.doc_id,
                    "text_sha256": document.text_sha256,
                    "chunks": [
                        {k: v for k, v in r.to_json().items() if k not in ("text", "doc_id")} for r in prepared.records
                    ],
                },
                durability=self._durability,
            )
            entry = document.model_dump(mode="json")

            def register(current: dict[str, Any]) -> dict[str, Any]:
                current = self._live_catalog(current, kb_id)
                return {
                    **current,
                    "kb": {**current["kb"], "updated_at": entry["added_at"]},
                    "revision": int(current["revision"]) + 1,
                    "documents": {**current["documents"], prepared.doc_id: entry},
                }

            ff_update_json(kb_dir / _CATALOG, register, durability=self._durability)
        return document, True

    async def list_documents(self, user_id: str, kb_id: str) -> list[FFKnowledgeDocumentDTO]:
        """The documents of a knowledge base in the order they were added. Raises FFNotFoundError."""
        async with self._operation():
            self._check_ids(user_id, kb_id)
            catalog = await self._io(self._read_catalog, user_id, kb_id)
            return [FFKnowledgeDocumentDTO.model_validate(d) for d in catalog["documents"].values()]

    async def get_document(self, user_id: str, kb_id: str, doc_id: str) -> FFKnowledgeDocumentDTO:
        """One document's record. Raises FFValidationError (bad ids), FFNotFoundError."""
        async with self._operation():
            self._check_ids(user_id, kb_id)
            ff_validate_id(doc_id, "doc_id")
            catalog = await self._io(self._read_catalog, user_id, kb_id)
            return FFKnowledgeDocumentDTO.model_validate(self._catalog_document(catalog, kb_id, doc_id))

    async def get_document_text(self, user_id: str, kb_id: str, doc_id: str) -> str:
        """The extracted text that chunk offsets index (``text[hit.char_start:hit.char_end]``)."""
        async with self._operation():
            self._check_ids(user_id, kb_id)
            ff_validate_id(doc_id, "doc_id")
            return await self._io(self._read_text, user_id, kb_id, doc_id)

    def _read_text(self, user_id: str, kb_id: str, doc_id: str) -> str:
        catalog = self._read_catalog(user_id, kb_id)
        self._catalog_document(catalog, kb_id, doc_id)
        path = self._path("users", user_id, "knowledge", kb_id, "documents", doc_id, "text.txt")
        with ff_translate_errors("read document text", path):
            return path.read_bytes().decode("utf-8")

    async def delete_document(self, user_id: str, kb_id: str, doc_id: str) -> FFKnowledgeDocumentDTO:
        """Remove a document; its chunks leave search results from the next search on.

        Returns the deleted record. Raises FFValidationError (bad ids), FFNotFoundError.
        """
        async with self._operation():
            self._check_ids(user_id, kb_id)
            ff_validate_id(doc_id, "doc_id")
            document = await self._io(self._delete_document, user_id, kb_id, doc_id)
            cache = self._tokens.get((user_id, kb_id))
            if cache is not None:
                cache.by_doc.pop(doc_id, None)
            await self._publish(
                "knowledge.document_deleted",
                {"kb_id": kb_id, "doc_id": doc_id, "chunk_count": document.chunk_count},
                user_id=user_id,
            )
            return document

    def _delete_document(self, user_id: str, kb_id: str, doc_id: str) -> FFKnowledgeDocumentDTO:
        kb_dir = self._kb_dir(user_id, kb_id)
        removed: list[dict[str, Any]] = []
        self._catalog_document(self._read_catalog(user_id, kb_id), kb_id, doc_id)  # before any lock file
        with self._write_lock(user_id, kb_id):

            def unregister(current: dict[str, Any]) -> dict[str, Any]:
                current = self._live_catalog(current, kb_id)
                documents = dict(current["documents"])
                removed.append(self._catalog_document(current, kb_id, doc_id))
                del documents[doc_id]
                return {
                    **current,
                    "kb": {**current["kb"], "updated_at": self.clock().isoformat()},
                    "revision": int(current["revision"]) + 1,
                    "documents": documents,
                }

            ff_update_json(kb_dir / _CATALOG, unregister, durability=self._durability)
            ff_remove_tree(self._path("users", user_id, "knowledge", kb_id, "documents", doc_id))
        return FFKnowledgeDocumentDTO.model_validate(removed[0])

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
            self._check_ids(user_id, kb_id)
            k = self._settings.default_top_k if top_k is None else top_k
            if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= self._settings.max_top_k:
                raise FFValidationError(f"top_k must be an integer in 1..{self._settings.max_top_k}", field="top_k", value=k)
            if per_document is None:
                per_document = self._settings.max_chunks_per_document
            elif isinstance(per_document, bool) or not isinstance(per_document, int) or per_document < 0:
                raise FFValidationError("per_document must be an integer >= 0", field="per_document", value=per_document)
            else:
                per_document = per_document or None
            if not isinstance(query, str) or not query.strip():
                raise FFValidationError("query must be a non-empty string", field="query")
            if len(query) > self._settings.max_query_chars:
                raise FFValidationError(
                    f"query longer than {self._settings.max_query_chars} characters", field="query", value=len(query)
                )
            state, rebuilt = await self._current_state(user_id, kb_id)
            # Scoring a few hundred chunks takes microseconds of numpy work: cheaper on the loop
            # than a thread hop, so the fast path never leaves it.
            found = state.index.search(
                self._tokenizer.query_tokens(query), k, per_document=per_document, feedback=self._feedback
            )
            hits = [
                FFKnowledgeSearchHitDTO(
                    chunk_id=record.chunk_id,
                    doc_id=record.doc_id,
                    kb_id=kb_id,
                    document_title=state.titles.get(record.doc_id, ""),
                    chunk_index=record.chunk_index,
                    char_start=record.char_start,
                    char_end=record.char_end,
                    text=record.text,
                    heading=record.heading,
                    rank=rank,
                    score=score,
                    also_in_doc_ids=[d for d in record.also_in if d in state.titles],
                )
                for rank, (record, score) in enumerate(found, start=1)
            ]
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
            self._check_ids(user_id, kb_id)
            ff_validate_id(chunk_id, "chunk_id")
            state, _ = await self._current_state(user_id, kb_id)
            row = state.index.row_of.get(chunk_id)
            if row is None:
                raise FFNotFoundError(f"no chunk {chunk_id!r} in knowledge base {kb_id!r}", kind="chunk", key=chunk_id)
            record = state.index.records[row]
            return FFKnowledgeChunkDTO(
                chunk_id=record.chunk_id,
                doc_id=record.doc_id,
                kb_id=kb_id,
                document_title=state.titles.get(record.doc_id, ""),
                chunk_index=record.chunk_index,
                char_start=record.char_start,
                char_end=record.char_end,
                text=record.text,
                heading=record.heading,
            )

    async def refresh_index(self, user_id: str, kb_id: str, *, force: bool = False) -> FFKnowledgeIndexStatsDTO:
        """Bring the index up to date now (search does it lazily); ``force`` rebuilds from scratch.

        Useful after a bulk import, so the first search does not pay for the rebuild.
        """
        async with self._operation():
            self._check_ids(user_id, kb_id)
            started = time.perf_counter()
            if force:
                self._states.pop((user_id, kb_id), None)
                self._tokens.pop((user_id, kb_id), None)
            state, rebuilt = await self._current_state(user_id, kb_id, force=force)
            return FFKnowledgeIndexStatsDTO(
                kb_id=kb_id,
                revision=state.revision,
                chunk_count=len(state.index),
                rebuilt=rebuilt,
                duration_ms=(time.perf_counter() - started) * 1000,
            )

    async def _current_state(self, user_id: str, kb_id: str, *, force: bool = False) -> tuple[_KbState, bool]:
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
                return await self._io(self._refresh_state, user_id, kb_id, force)
            except FFNotFoundError:
                self._forget(user_id, kb_id)
                raise

    def _refresh_state(self, user_id: str, kb_id: str, force: bool) -> tuple[_KbState, bool]:
        key = (user_id, kb_id)
        kb_dir = self._kb_dir(user_id, kb_id)
        catalog_path = kb_dir / _CATALOG
        try:
            with ff_translate_errors("stat catalog", catalog_path):
                stat_key = _stat_key(catalog_path)
        except FFNotFoundError:
            self._forget(user_id, kb_id)
            raise FFNotFoundError(f"no knowledge base {kb_id!r}", kind="knowledge_base", key=kb_id) from None
        previous = self._states.get(key)
        if previous is not None and previous.stat_key == stat_key and not force:
            return previous, False  # another task refreshed it while we waited for the lock
        catalog = self._read_catalog(user_id, kb_id)
        revision = int(catalog["revision"])
        titles = {doc_id: str(d["title"]) for doc_id, d in catalog["documents"].items()}
        if previous is not None and previous.index.revision == revision and not force:
            state = _KbState(catalog_path, stat_key, revision, titles, previous.index)
            self._states[key] = state
            return state, False
        index_dir = kb_dir / "index"
        index = None if force else load_index(index_dir, revision=revision, signature=self._index_signature)
        rebuilt = index is None
        if index is None:
            with self._write_lock(user_id, kb_id):
                # Re-read under the writers' lock: the documents we read now are the ones the
                # catalog names, and the saved index is labelled with that revision.
                catalog = self._read_catalog(user_id, kb_id)
                stat_key = _stat_key(catalog_path)
                revision = int(catalog["revision"])
                titles = {doc_id: str(d["title"]) for doc_id, d in catalog["documents"].items()}
                index = self._build(user_id, kb_id, catalog, previous.index if previous else None)
                save_index(index_dir, index, durability=self._durability)
        state = _KbState(catalog_path, stat_key, revision, titles, index)
        self._states[key] = state
        return state, rebuilt

    def _build(self, user_id: str, kb_id: str, catalog: dict[str, Any], previous: FFKbIndex | None) -> FFKbIndex:
        started = time.perf_counter()
        cache = self._tokens.setdefault((user_id, kb_id), _TokenCache())
        known: dict[str, list[FFChunkRecord]] = {}
        if previous is not None:
            for record in previous.records:
                known.setdefault(record.doc_id, []).append(record)
        records: list[FFChunkRecord] = []
        tokens: list[list[str]] = []
        live: set[str] = set()
        for doc_id, document in catalog["documents"].items():
            live.add(doc_id)
            doc_records = known.get(doc_id) or self._read_chunks(user_id, kb_id, doc_id, document)
            cached = cache.by_doc.get(doc_id)
            if cached is None or cached[0] != document["text_sha256"] or len(cached[1]) != len(doc_records):
                cached = (
                    document["text_sha256"],
                    [self._tokenizer.tokens(_indexed_text(document["title"], r)) for r in doc_records],
                )
                cache.by_doc[doc_id] = cached
            records.extend(doc_records)
            tokens.extend(cached[1])
        for stale in set(cache.by_doc) - live:
            del cache.by_doc[stale]
        index = build_index(
            int(catalog["revision"]),
            self._index_signature,
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

    def _read_chunks(self, user_id: str, kb_id: str, doc_id: str, document: dict[str, Any]) -> list[FFChunkRecord]:
        doc_dir = self._path("users", user_id, "knowledge", kb_id, "documents", doc_id)
        stored = ff_read_json(doc_dir / "chunks.json")
        with ff_translate_errors("read document text", doc_dir / "text.txt"):
            text = (doc_dir / "text.txt").read_bytes().decode("utf-8")
        if ff_sha256_bytes(text.encode("utf-8")) != document["text_sha256"]:
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

    # ------------------------------------------------------------------ catalog helpers

    @staticmethod
    def _check_ids(user_id: str, kb_id: str) -> None:
        ff_validate_id(user_id, "user_id")
        ff_validate_id(kb_id, "kb_id")

    @staticmethod
    def _live_catalog(catalog: Any, kb_id: str) -> dict[str, Any]:
        if not isinstance(catalog, dict) or catalog.get("deleted"):
            raise FFNotFoundError(f"no knowledge base {kb_id!r}", kind="knowledge_base", key=kb_id)
        if catalog.get("schema_version") != KB_SCHEMA_VERSION or not isinstance(catalog.get("documents"), dict):
            raise FFCorruptionError(f"catalog of knowledge base {kb_id!r} has an unknown layout")
        return catalog

    def _read_catalog(self, user_id: str, kb_id: str) -> dict[str, Any]:
        path = self._kb_dir(user_id, kb_id) / _CATALOG
        catalog = ff_read_json(path, default=None)
        if catalog is None:
            raise FFNotFoundError(f"no knowledge base {kb_id!r}", kind="knowledge_base", key=kb_id)
        return self._live_catalog(catalog, kb_id)

    @staticmethod
    def _catalog_document(catalog: dict[str, Any], kb_id: str, doc_id: str) -> dict[str, Any]:
        document = catalog["documents"].get(doc_id)
        if document is None:
            raise FFNotFoundError(f"no document {doc_id!r} in knowledge base {kb_id!r}", kind="document", key=doc_id)
        return document

    @staticmethod
    def _base_dto(catalog: dict[str, Any], path: Path) -> FFKnowledgeBaseDTO:
        documents = catalog.get("documents", {})
        with ff_translate_errors("read knowledge base", path):
            return FFKnowledgeBaseDTO.model_validate(
                {
                    **catalog["kb"],
                    "document_count": len(documents),
                    "chunk_count": sum(int(d["chunk_count"]) for d in documents.values()),
                }
            )

    def _forget(self, user_id: str, kb_id: str) -> None:
        self._states.pop((user_id, kb_id), None)
        self._tokens.pop((user_id, kb_id), None)

    def _health_details(self) -> dict[str, Any]:
        rebuilds = sorted(self._rebuild_ms)
        return {
            "cached_knowledge_bases": len(self._states),
            "index_rebuilds": self._rebuilds,
            "last_rebuild_ms": round(self._rebuild_ms[-1], 3) if self._rebuild_ms else None,
            "max_rebuild_ms": round(rebuilds[-1], 3) if rebuilds else None,
        }


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A validated document ready to store: text, ids, chunks and their tokens."""

    extracted: FFExtractedText
    checksum: str
    doc_id: str
    title: str
    records: list[FFChunkRecord]
    tokens: list[list[str]]
    explicit_id: bool


def _indexed_text(title: str, record: FFChunkRecord) -> str:
    # Title and heading path are indexed with every chunk (a poor man's BM25F): the third
    # chunk of "Mutable Sequence Types" is still about mutable sequences.
    return f"{title}\n{record.heading}\n{record.text}"


def _first_line(text: str, max_chars: int) -> str:
    for line in text.split("\n"):
        stripped = " ".join(line.split())
        if stripped:
            return stripped[:max_chars]
    return "Untitled"

