"""The records a knowledge base hands out: bases, documents, chunks and search hits.

Offsets (``char_start``/``char_end``) index the document's extracted text (what
``get_document_text`` returns), half-open like a Python slice, so a citation can quote exactly
``text[char_start:char_end]``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "KB_SCHEMA_VERSION",
    "FFDocumentFormat",
    "FFKnowledgeBaseDTO",
    "FFKnowledgeDocumentDTO",
    "FFKnowledgeChunkDTO",
    "FFKnowledgeSearchHitDTO",
    "FFKnowledgeIndexStatsDTO",
]

KB_SCHEMA_VERSION = 1
"""Version of the on-disk knowledge base layout (kb.json, chunks.json, index/current.json)."""

FFDocumentFormat = Literal["text", "markdown", "pdf"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FFKnowledgeBaseDTO(_Frozen):
    """One knowledge base of one user."""

    kb_id: str
    user_id: str
    name: str
    created_at: datetime
    updated_at: datetime = Field(description="last time a document was added or deleted")
    description: str = ""
    document_count: int = Field(0, ge=0)
    chunk_count: int = Field(0, ge=0)


class FFKnowledgeDocumentDTO(_Frozen):
    """A document as stored: where it came from, what it hashed to, how it was chunked."""

    doc_id: str = Field(
        description="the caller's document_id, or 'doc-' + the first 32 hex digits of checksum_sha256, "
        "so the same bytes added twice get the same id"
    )
    kb_id: str
    user_id: str
    title: str
    format: FFDocumentFormat
    mime_type: str
    checksum_sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the source bytes as given")
    text_sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the extracted text (UTF-8)")
    size_bytes: int = Field(ge=1, description="size of the source bytes")
    text_chars: int = Field(ge=1, description="length of the extracted text")
    chunk_count: int = Field(ge=1)
    added_at: datetime
    source: str | None = Field(None, description="where the document came from: file name, URL, tool name")
    page_count: int | None = Field(None, description="pages of a PDF; None for text formats")
    metadata: dict[str, Any] = Field(default_factory=dict, description="the caller's own JSON metadata")


class FFKnowledgeChunkDTO(_Frozen):
    """One chunk of a document, with the span of the document text it covers."""

    chunk_id: str = Field(description="stable: derived from doc_id, chunk index and the chunk's text")
    doc_id: str
    kb_id: str
    document_title: str
    chunk_index: int = Field(ge=0, description="position of the chunk in its document")
    char_start: int = Field(ge=0, description="first character of the chunk in the document text")
    char_end: int = Field(ge=1, description="one past the last character (a slice end)")
    text: str
    heading: str = Field("", description="the headings above the chunk, outermost first, joined by ' > '")


class FFKnowledgeSearchHitDTO(FFKnowledgeChunkDTO):
    """A chunk that matched a query, ranked by BM25 score (higher is better)."""

    rank: int = Field(ge=1, description="1 for the best hit")
    score: float = Field(
        gt=0,
        description="BM25 score of the query (expanded by pseudo-relevance feedback when that is on); "
        "only chunks sharing a term with it appear",
    )
    also_in_doc_ids: list[str] = Field(
        default_factory=list,
        description="other documents of this knowledge base that hold this passage verbatim (near-"
        "duplicates folded into this hit, e.g. a chapter that embeds this page); cite them too",
    )


class FFKnowledgeIndexStatsDTO(_Frozen):
    """What :meth:`FFKnowledgeBaseManager.refresh_index` did."""

    kb_id: str
    revision: int = Field(ge=0, description="catalog revision the index reflects")
    chunk_count: int = Field(ge=0)
    rebuilt: bool = Field(description="False when the index on disk or in memory was already current")
    duration_ms: float = Field(ge=0)
