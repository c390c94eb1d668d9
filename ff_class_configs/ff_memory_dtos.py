"""DTOs of the memory manager: conversations (sessions, messages, attachments, profiles) and
layered memories (entries, search hits, contexts, archive records, retention reports).

Every record written to disk carries ``schema_version``. Fields a legacy store wrote that this
schema does not name are kept verbatim in ``extra`` (top level of a message, session or profile)
or, for attachments, as extra keys of the attachment itself; ``metadata`` is the caller's own
free-form dict and is stored exactly as given.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ff_class_configs.ff_memory_config import MemoryLayer

__all__ = [
    "MEMORY_SCHEMA_VERSION",
    "CONVERSATION_SCHEMA_VERSION",
    "FFAttachmentDTO",
    "FFChatMessageDTO",
    "FFChatSessionDTO",
    "FFUserProfileDTO",
    "FFMemoryEntryDTO",
    "FFMemorySearchHitDTO",
    "FFMemoryContextDTO",
    "FFArchivedMemoryDTO",
    "FFMemoryMoveDTO",
    "FFMemoryCompressionDTO",
    "FFUserRetentionReportDTO",
    "FFRetentionReportDTO",
    "FFMemoryStatsDTO",
]

CONVERSATION_SCHEMA_VERSION = 1
"""Version of session.json, messages.jsonl records and profile.json."""
MEMORY_SCHEMA_VERSION = 1
"""Version of memory layer records and archive records."""

_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
_SHA256 = r"^[0-9a-f]{64}$"


def _as_utc(value: datetime) -> datetime:
    """Memories are compared by time, so a naive timestamp is taken to be UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


# --------------------------------------------------------------------------- conversations


class FFAttachmentDTO(BaseModel):
    """What a message records about one attachment. Unknown (legacy) keys are kept as extras."""

    model_config = ConfigDict(extra="allow")

    attachment_id: str = Field(pattern=_ID, description="names the stored bytes: attachments/<attachment_id>")
    name: str = Field("", max_length=255, description="the caller's file name, for display only; never a path")
    mime_type: str = Field("application/octet-stream", max_length=255)
    size_bytes: int | None = Field(None, ge=0, description="size of the content, when known")
    sha256: str | None = Field(None, pattern=_SHA256, description="hex SHA-256 of the content, when known")
    stored: bool = Field(False, description="True when the bytes are stored and readable with get_attachment")
    metadata: dict[str, Any] = Field(default_factory=dict)


class FFChatMessageDTO(BaseModel):
    """One message of a chat session, as stored in ``messages.jsonl`` (one record a line)."""

    message_id: str = Field(pattern=_ID)
    session_id: str = Field(pattern=_ID)
    role: str = Field(min_length=1, max_length=64)
    content: str
    timestamp: datetime = Field(description="when the message was added (legacy imports keep theirs, naive or not)")
    attachments: list[FFAttachmentDTO] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)
    extra: dict[str, Any] = Field(
        default_factory=dict, description="top-level fields of an imported record this schema does not name"
    )
    schema_version: int = CONVERSATION_SCHEMA_VERSION


class FFChatSessionDTO(BaseModel):
    """A chat session. ``message_count`` and ``last_message_at`` are derived when read, not stored,
    so adding a message never rewrites ``session.json``."""

    session_id: str = Field(pattern=_ID)
    user_id: str = Field(pattern=_ID)
    title: str = ""
    created_at: datetime
    updated_at: datetime = Field(description="last change of the session document itself (title, metadata)")
    metadata: dict[str, Any] = Field(default_factory=dict)
    extra: dict[str, Any] = Field(default_factory=dict, description="imported fields this schema does not name")
    schema_version: int = CONVERSATION_SCHEMA_VERSION
    message_count: int | None = Field(None, description="derived on read: complete lines of messages.jsonl")
    last_message_at: datetime | None = Field(None, description="derived on read: timestamp of the last message")

    def to_record(self) -> dict[str, Any]:
        """The stored form: derived fields left out."""
        return self.model_dump(mode="json", exclude={"message_count", "last_message_at"})


class FFUserProfileDTO(BaseModel):
    """A user's profile, ``users/<user_id>/profile.json``."""

    user_id: str = Field(pattern=_ID)
    created_at: datetime
    updated_at: datetime
    username: str = ""
    preferences: dict[str, Any] = Field(default_factory=dict)
    metadata: dict[str, Any] = Field(default_factory=dict)
    extra: dict[str, Any] = Field(default_factory=dict, description="imported fields this schema does not name")
    schema_version: int = CONVERSATION_SCHEMA_VERSION


# --------------------------------------------------------------------------- memories


class FFMemoryEntryDTO(BaseModel):
    """One memory in one layer (a line of ``memory/<layer>.jsonl``)."""

    memory_id: str = Field(pattern=_ID)
    user_id: str = Field(pattern=_ID)
    layer: MemoryLayer
    content: str
    importance: float = Field(ge=0, le=1)
    created_at: datetime = Field(description="when the memory was stored (a summary: when it was made)")
    layer_entered_at: datetime = Field(
        description="when the entry entered its current layer; retention counts from here"
    )
    kind: Literal["memory", "summary"] = "memory"
    source_ids: list[str] = Field(default_factory=list, description="a summary: the ids of the entries it replaced")
    tags: list[str] = Field(default_factory=list)
    session_id: str | None = Field(None, description="the session the memory came from, if any")
    message_id: str | None = Field(None, description="the message the memory came from, if any")
    metadata: dict[str, Any] = Field(default_factory=dict)
    schema_version: int = MEMORY_SCHEMA_VERSION

    _utc = field_validator("created_at", "layer_entered_at")(_as_utc)


class FFMemorySearchHitDTO(BaseModel):
    """One ranked search result."""

    entry: FFMemoryEntryDTO
    score: float = Field(description="BM25 times the small importance/recency boost; higher is better")
    bm25: float = Field(description="the BM25 relevance alone")
    matched_terms: list[str] = Field(default_factory=list, description="query terms found in the entry")


class FFMemoryContextDTO(BaseModel):
    """Memories for a prompt: the most relevant first, within a size budget."""

    query: str
    text: str = Field(description="one line per memory, ready to paste into a prompt")
    hits: list[FFMemorySearchHitDTO] = Field(description="the memories in ``text``, in the same order")
    budget_chars: int
    used_chars: int
    omitted: int = Field(0, description="relevant memories left out because they did not fit")


class FFArchivedMemoryDTO(BaseModel):
    """A memory that left the active layers (a line of ``memory/archive.jsonl``)."""

    entry: FFMemoryEntryDTO = Field(description="the entry exactly as it was when archived")
    archived_at: datetime
    reason: Literal["expired", "compressed"]
    from_layer: MemoryLayer
    summary_id: str | None = Field(None, description="compressed: the summary entry that replaced it")
    schema_version: int = MEMORY_SCHEMA_VERSION


class FFMemoryMoveDTO(BaseModel):
    """An entry moved one step down the retention chain."""

    memory_id: str
    from_layer: MemoryLayer
    to_layer: MemoryLayer
    moved_at: datetime = Field(description="the moment its retention in from_layer ended")


class FFMemoryCompressionDTO(BaseModel):
    """Old entries of an overfull layer merged into one summary entry."""

    layer: MemoryLayer
    summary_id: str
    source_ids: list[str]


class FFUserRetentionReportDTO(BaseModel):
    """What one retention pass did to one user's memories."""

    user_id: str
    moved: list[FFMemoryMoveDTO] = Field(default_factory=list)
    archived: list[FFArchivedMemoryDTO] = Field(default_factory=list)
    compressed: list[FFMemoryCompressionDTO] = Field(default_factory=list)
    duplicates_removed: int = Field(0, description="copies left in two layers by an interrupted earlier pass")
    counts_before: dict[str, int] = Field(default_factory=dict, description="entries per layer before")
    counts_after: dict[str, int] = Field(default_factory=dict, description="entries per layer after")


class FFRetentionReportDTO(BaseModel):
    """The result of :meth:`FFMemoryLayerManager.process_retention`."""

    now: datetime
    users: list[FFUserRetentionReportDTO] = Field(default_factory=list)
    moved_count: int = 0
    archived_count: int = 0
    compressed_count: int = Field(0, description="summary entries created")
    failed_users: dict[str, str] = Field(
        default_factory=dict, description="users skipped because a layer file is damaged, with the error"
    )
    duration_ms: float = 0.0


class FFMemoryStatsDTO(BaseModel):
    """How many memories a user has, per layer and in the archive."""

    user_id: str
    layers: dict[str, int]
    active: int
    archived: int = Field(description="distinct archived entries (summaries included)")
