"""Configuration of knowledge bases: limits on input, chunking, and the BM25 ranker.

The defaults suit the sizes the platform is built for (hundreds to a few thousand chunks per
knowledge base): chunks of about a thousand characters keep a citation short enough to quote
while holding a whole paragraph or two, and BM25's usual k1/b values are kept because nothing
measured here argues for others.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ff_class_configs._section import FFConfigSection

__all__ = ["FFKnowledgeConfigDTO"]


class FFKnowledgeConfigDTO(FFConfigSection):
    """Knowledge bases: input limits, chunking and retrieval."""

    chunk_size_chars: int = Field(
        1_000, ge=100, description="largest chunk, in characters of the extracted text"
    )
    chunk_overlap_chars: int = Field(
        150,
        ge=0,
        description="characters a chunk repeats from the end of the previous chunk of the same "
        "section, so a sentence cut at a boundary is still found whole in one of them",
    )
    max_document_bytes: int = Field(
        20 * 1024 * 1024, ge=1, description="largest document accepted (source bytes: text as UTF-8, or the PDF)"
    )
    extract_max_pages: int = Field(2_000, ge=1, description="most pages a PDF may have (refused above)")
    extract_max_chars: int = Field(
        2_000_000, ge=1, description="most characters a document's extracted text may have (refused above)"
    )
    extract_max_page_content_mb: int = Field(
        16, ge=1, le=1024, description="most decoded content-stream bytes of one PDF page (refused above, before parsing)"
    )
    extract_cpu_seconds: int = Field(20, ge=1, le=3600, description="CPU time of the child that extracts a PDF")
    extract_memory_mb: int = Field(768, ge=128, le=65536, description="address space of the child that extracts a PDF")
    extract_wall_seconds: float = Field(60.0, gt=0, le=3600, description="wall time of the child that extracts a PDF")
    extract_bwrap_path: str = Field("/usr/bin/bwrap", description="bubblewrap for the extraction child (absolute, or looked up on PATH)")
    extract_require_sandbox: bool = Field(
        False, description="refuse PDFs when bubblewrap cannot sandbox (otherwise the child runs with its rlimits only)"
    )
    max_title_chars: int = Field(300, ge=1, description="longest document title")
    max_name_chars: int = Field(200, ge=1, description="longest knowledge base name")
    max_metadata_bytes: int = Field(
        64 * 1024, ge=2, description="largest document metadata, measured as JSON"
    )
    max_query_chars: int = Field(2_000, ge=1, description="longest search query")
    default_top_k: int = Field(5, ge=1, le=100, description="results returned when search() gets no top_k")
    max_top_k: int = Field(100, ge=1, le=10_000, description="largest top_k a search may ask for")
    bm25_k1: float = Field(1.5, gt=0, description="BM25 term-frequency saturation")
    bm25_b: float = Field(0.75, ge=0, le=1, description="BM25 length normalisation")
    stemming: Literal["english", "none"] = Field(
        "english",
        description="Snowball stemmer applied to chunks and queries, so 'functions' finds 'function'",
    )
    stopwords: Literal["none", "english"] = Field(
        "none",
        description="none keeps every word: in technical text 'with', 'for', 'if', 'in' are content "
        "(Python keywords, SQL clauses) and BM25's idf already discounts words that are everywhere",
    )

    drop_question_words: bool = Field(
        True,
        description="drop words that only shape a question (how, what, do, can, my...) from queries, "
        "so 'how do I...' does not favour chunks that happen to say 'how'",
    )
    max_chunks_per_document: int | None = Field(
        1,
        ge=1,
        description="most chunks of one document in one result list, so a long document cannot fill "
        "every slot with overlapping passages and the top k names k sources; None for no cap "
        "(a caller wanting more of one document passes per_document to search)",
    )
    fold_duplicates: bool = Field(
        True,
        description="index a passage that several documents hold verbatim once, in the shortest "
        "(most specific) of them; its hits list the others in also_in_doc_ids",
    )
    feedback_docs: int = Field(
        10,
        ge=0,
        le=1_000,
        description="RM3 pseudo-relevance feedback: best chunks of a first pass that expand the "
        "query with their typical words (bridges questions worded unlike the text); 0 turns it off",
    )
    feedback_terms: int = Field(10, ge=1, le=1_000, description="RM3: words added to the query")
    feedback_min_chunks: int = Field(
        50,
        ge=0,
        description="RM3 only runs on knowledge bases with at least this many indexed chunks: in a "
        "small one the 'best chunks' are most of the collection, feedback is noise, and it measurably "
        "sank exact matches (3 documents: 1 of 3 exact probes first)",
    )
    feedback_query_weight: float = Field(
        0.5, gt=0, le=1, description="RM3: share of the weight the original query keeps (1: no expansion)"
    )
    feedback_max_df_ratio: float = Field(
        0.1,
        gt=0,
        le=1,
        description="RM3: words in more than this share of the chunks are never feedback words "
        "(the collection's own stopwords)",
    )

    @model_validator(mode="after")
    def _overlap_below_half_a_chunk(self) -> FFKnowledgeConfigDTO:
        # An overlap of half a chunk or more would make every chunk mostly a copy of the last.
        if self.chunk_overlap_chars * 2 > self.chunk_size_chars:
            raise ValueError("chunk_overlap_chars must be at most half of chunk_size_chars")
        if self.default_top_k > self.max_top_k:
            raise ValueError("default_top_k must not exceed max_top_k")
        return self
