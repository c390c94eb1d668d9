"""Configuration of knowledge bases."""

from __future__ import annotations

from pydantic import Field

from ff_class_configs._section import FFConfigSection

__all__ = ["FFKnowledgeConfigDTO"]


class FFKnowledgeConfigDTO(FFConfigSection):
    """Knowledge bases: chunking and retrieval."""

    chunk_size_chars: int = Field(1_000, ge=100)
    chunk_overlap_chars: int = Field(150, ge=0)
    max_document_bytes: int = Field(20 * 1024 * 1024, ge=1)
    default_top_k: int = Field(5, ge=1, le=100)
