"""The BM25 index of one knowledge base: its tokenizers, building, scoring, saving and loading.

Term weights are bm25s's (Lucene's BM25 variant over a sparse score matrix); this module feeds it
tokens and keeps, beside it, the chunk each row stands for so a hit can cite its document and
offsets without touching the disk. Two things sit on top of plain BM25, each measured on the
pydoc benchmark (tests/ff_managers/knowledge/test_kb_retrieval_quality.py):

* near-duplicate folding (:mod:`.dedup`): a passage several documents hold verbatim is
  indexed once, in its most specific document, and the hit names the others (``also_in``);
* pseudo-relevance feedback (:mod:`.feedback`, RM3) against vocabulary mismatch.

On disk the index is a cache derived from the documents, kept per knowledge base as
``index/current.json`` (the pointer, written atomically) plus one generation directory of
bm25s files per build. bm25s writes the generation directory itself; nothing reads it until the
pointer names it, so a crash mid-save leaves the previous index in force. Older generations are
removed after the pointer moves. An index that is missing, stale (built from an older catalog
revision or another tokenizer) or unreadable is rebuilt from the documents.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import bm25s
import numpy as np

from ff_class_configs.ff_knowledge_dtos import KB_SCHEMA_VERSION
from ff_managers._core.tokenizer import (
    QUESTION_WORDS,
    FFTextTokenizer,
    build_vocabulary,
    knowledge_tokenizer,
    token_ids,
)
from ff_managers._knowledge.dedup import find_passage_owners
from ff_managers._knowledge.feedback import FFFeedbackRows, FFFeedbackSettings, expand_query, weighted_scores
from ff_utils.ff_errors import FFError
from ff_utils.ff_logging import get_logger
from ff_utils.ff_store import FFStore

__all__ = [
    "FFKbTokenizer",
    "FFChunkRecord",
    "FFKbIndex",
    "FFFeedbackSettings",
    "build_index",
    "save_index",
    "load_index",
    "INDEX_POINTER_NAME",
]

INDEX_POINTER_NAME = "current.json"
_FEEDBACK_FILE = "feedback.npz"
# Bump when what a row indexes changes (token rule, folding rule): saved indexes then rebuild.
# v2: near-duplicate passages are folded into their most specific document.
_TOKENIZER_VERSION = 3
_log = get_logger("knowledge.index")


@dataclass(frozen=True, slots=True)
class FFKbTokenizer:
    """The knowledge base's tokenizers (:func:`ff_managers._core.tokenizer.knowledge_tokenizer`).

    Chunks and queries follow the same rule, so both sides agree: lower-cased words of two or
    more word characters and lone digits, optionally stemmed and stop-filtered; queries also
    drop :data:`~ff_managers._core.tokenizer.QUESTION_WORDS`. A query costs one regex scan and
    one call into the Snowball stemmer (C), a few microseconds for a sentence.
    """

    chunks: FFTextTokenizer
    """Tokens of a chunk as indexed."""
    queries: FFTextTokenizer
    """Tokens of a query: the chunk rule, less the words that only shape a question."""
    signature: str
    """What changes the indexed tokens (query-side filtering does not); saved with the index."""

    @classmethod
    def create(cls, *, stemming: str = "english", stopwords: str = "none", question_words: bool = True) -> FFKbTokenizer:
        chunks = knowledge_tokenizer(stemming=stemming, stopwords=stopwords)
        queries = chunks.with_stopwords(QUESTION_WORDS) if question_words else chunks
        return cls(chunks, queries, f"v{_TOKENIZER_VERSION}:stem={stemming}:stop={stopwords}")


@dataclass(frozen=True, slots=True)
class FFChunkRecord:
    """What the index keeps per row: enough to answer a hit without reading a file."""

    chunk_id: str
    doc_id: str
    chunk_index: int
    char_start: int
    char_end: int
    heading: str
    text: str
    owner: str = ""
    """The document that carries this passage in the index; "" or ``doc_id`` when it is this one."""
    also_in: tuple[str, ...] = field(default=())
    """Other documents holding this passage verbatim (for an indexed row: folded into it)."""

    @property
    def folded(self) -> bool:
        """True when another document carries this passage in the index (this row scores 0)."""
        return bool(self.owner) and self.owner != self.doc_id

    def to_json(self) -> dict[str, Any]:
        return {
            "chunk_id": self.chunk_id,
            "doc_id": self.doc_id,
            "chunk_index": self.chunk_index,
            "char_start": self.char_start,
            "char_end": self.char_end,
            "heading": self.heading,
            "text": self.text,
            "owner": self.owner,
            "also_in": list(self.also_in),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FFChunkRecord:
        return cls(
            str(data["chunk_id"]),
            str(data["doc_id"]),
            int(data["chunk_index"]),
            int(data["char_start"]),
            int(data["char_end"]),
            str(data["heading"]),
            str(data["text"]),
            str(data.get("owner", "")),
            tuple(str(d) for d in data.get("also_in", ())),
        )


class FFKbIndex:
    """A built BM25 index over the chunks of one knowledge base, held in memory.

    ``feedback`` holds the per-row term frequencies RM3 expands from; without it (None) search
    is plain BM25.
    """

    def __init__(
        self,
        revision: int,
        signature: str,
        records: list[FFChunkRecord],
        retriever: bm25s.BM25 | None,
        feedback: FFFeedbackRows | None = None,
    ) -> None:
        self.revision = revision
        self.signature = signature
        self.records = records
        self.retriever = retriever
        self.feedback = feedback
        self.row_of = {record.chunk_id: row for row, record in enumerate(records)}
        self._vocab: dict[str, int] = retriever.vocab_dict if retriever is not None else {}
        if retriever is not None:
            matrix = retriever.scores
            self._data, self._indices, self._indptr = matrix["data"], matrix["indices"], matrix["indptr"]

    def __len__(self) -> int:
        return len(self.records)

    def search(
        self,
        query_tokens: list[str],
        top_k: int,
        *,
        per_document: int | None = None,
        feedback: FFFeedbackSettings | None = None,
    ) -> list[tuple[FFChunkRecord, float]]:
        """The best ``top_k`` chunks with a positive score, best first (ties: document order).

        ``per_document`` caps how many chunks of one document the answer holds, so one long
        document cannot fill every slot with near-copies of the same passage; None means no cap.
        ``feedback`` turns on RM3 query expansion (see :mod:`.feedback`); it needs the
        index's feedback rows and is skipped without them.
        """
        if self.retriever is None or top_k <= 0:
            return []
        query: dict[int, float] = {}
        for token in query_tokens:
            term = self._vocab.get(token)
            if term is not None:
                query[term] = query.get(term, 0.0) + 1.0
        if not query:
            return []
        rows = len(self.records)
        scores = weighted_scores(self._data, self._indices, self._indptr, rows, query)
        if feedback is not None and self.feedback is not None and rows >= feedback.min_rows:
            expanded = expand_query(query, scores, self.feedback, len(self._indptr) - 1, feedback)
            if expanded is not query:
                scores = weighted_scores(self._data, self._indices, self._indptr, rows, expanded)
        candidates = np.flatnonzero(scores > 0)
        # Only the best few rows are sorted: a partition finds them in linear time. With a cap
        # per document more may be needed, so the window doubles until the answer is full.
        window = top_k if per_document is None else 4 * top_k
        while True:
            part = _best_rows(candidates, scores, window)
            chosen = self._pick(part, scores, top_k, per_document)
            if len(chosen) == top_k or part.size == candidates.size:
                return chosen
            window *= 2

    def _pick(
        self, rows: np.ndarray, scores: np.ndarray, top_k: int, per_document: int | None
    ) -> list[tuple[FFChunkRecord, float]]:
        """The best of ``rows`` (ascending) within the per-document cap; equal scores keep row order
        (the catalog's document order, then chunk order), so the ranking is a total order."""
        order = rows[np.argsort(-scores[rows], kind="stable")].tolist()
        chosen: list[tuple[FFChunkRecord, float]] = []
        taken: dict[str, int] = {}
        for row in order:
            record = self.records[row]
            if per_document is not None:
                if taken.get(record.doc_id, 0) >= per_document:
                    continue
                taken[record.doc_id] = taken.get(record.doc_id, 0) + 1
            chosen.append((record, float(scores[row])))
            if len(chosen) == top_k:
                break
        return chosen


def _best_rows(candidates: np.ndarray, scores: np.ndarray, window: int) -> np.ndarray:
    """The ``window`` best of ``candidates`` (ascending rows) *and every row tied with the last*, ascending.

    A bare ``argpartition`` keeps an arbitrary subset of the rows tied at the cut, so which of
    several equally scored chunks made the answer depended on the partition's internals rather
    than on a stated rule. Keeping every tied row lets :meth:`FFKbIndex._pick` break the tie by
    row order.
    """
    if candidates.size <= window:
        return candidates
    values = scores[candidates]
    cut = -np.partition(-values, window - 1)[window - 1]  # the window-th best score
    return candidates[values >= cut]


def fold_duplicates(records: list[FFChunkRecord], tokens: list[list[str]]) -> tuple[list[FFChunkRecord], list[list[str]]]:
    """Mark each record's owner and ``also_in``; folded rows index no tokens (see :mod:`.dedup`)."""
    doc_lengths: dict[str, int] = {}
    for record in records:
        doc_lengths[record.doc_id] = max(doc_lengths.get(record.doc_id, 0), record.char_end)
    owners = find_passage_owners([(r.doc_id, r.text) for r in records], doc_lengths)
    marked: list[FFChunkRecord] = []
    indexed: list[list[str]] = []
    for record, row_tokens, ownership in zip(records, tokens, owners, strict=True):
        marked.append(
            FFChunkRecord(
                record.chunk_id,
                record.doc_id,
                record.chunk_index,
                record.char_start,
                record.char_end,
                record.heading,
                record.text,
                ownership.owner,
                ownership.also_in,
            )
        )
        indexed.append(row_tokens if ownership.owner == record.doc_id else [])
    return marked, indexed


def build_index(
    revision: int,
    signature: str,
    records: list[FFChunkRecord],
    tokens: list[list[str]],
    *,
    k1: float,
    b: float,
    fold: bool = True,
    feedback_max_df_ratio: float = 0.1,
) -> FFKbIndex:
    """Index ``records`` (row i has tokens ``tokens[i]``) with bm25s; an empty list is allowed.

    ``fold`` collapses near-duplicate passages into their most specific document first.
    """
    if len(records) != len(tokens):
        raise ValueError("records and tokens must align")
    if not records:
        return FFKbIndex(revision, signature, [], None)
    if fold:
        records, tokens = fold_duplicates(records, tokens)
    else:
        records = [replace(r, owner="", also_in=()) if r.owner or r.also_in else r for r in records]
    # Terms are numbered in order of first appearance, not in bm25s's own set order (which follows
    # PYTHONHASHSEED), so the same documents give the same index, and break ties between equal
    # scores the same way, in every process.
    vocab = build_vocabulary(tokens)
    ids = token_ids(tokens, vocab)
    retriever = bm25s.BM25(k1=k1, b=b)
    retriever.index((ids, vocab), show_progress=False)  # adds the empty term "" last
    feedback = FFFeedbackRows.build(ids, len(retriever.vocab_dict), max_df_ratio=feedback_max_df_ratio)
    return FFKbIndex(revision, signature, records, retriever, feedback)


def save_index(store: FFStore, index_dir: Path, index: FFKbIndex) -> str:
    """Write ``index`` as a new generation under ``index_dir``, point at it, drop older ones.

    Callers hold the knowledge base's write lock, so two builders never interleave their
    pointer writes and clean-ups. Returns the generation's directory name.
    """
    generation = f"g{index.revision:08d}-{uuid.uuid4().hex[:12]}"
    if index.retriever is not None and not store.encrypted:  # encrypted: rebuilt per process, never plaintext
        # bm25s writes its own files (numpy arrays, vocab, corpus) into the fresh directory.
        index.retriever.save(
            str(index_dir / generation),
            corpus=[record.to_json() for record in index.records],
            show_progress=False,
            raise_on_serialization_error=True,
        )
        if index.feedback is not None:
            store.write_bytes(index_dir / generation / _FEEDBACK_FILE, index.feedback.to_bytes())
    pointer = {
        "schema_version": KB_SCHEMA_VERSION,
        "revision": index.revision,
        "tokenizer": index.signature,
        "generation": generation if index.retriever is not None and not store.encrypted else None,
        "chunk_count": len(index.records),
    }
    store.write_json(index_dir / INDEX_POINTER_NAME, pointer)
    for entry in store.list_dir(index_dir):
        if entry.is_dir and entry.name != generation:
            store.remove_tree(entry.path)
    return generation


def load_index(store: FFStore, index_dir: Path, *, revision: int, signature: str) -> FFKbIndex | None:
    """The saved index if it matches ``revision`` and ``signature``; None means "rebuild it".

    A damaged index is not an error worth failing a search for: it is derived data, so it is
    logged and rebuilt from the documents, which are the source of truth.
    """
    try:
        pointer = store.read_json(index_dir / INDEX_POINTER_NAME, None)
    except FFError as exc:
        _log.warning("index pointer unreadable, rebuilding: %s", exc)
        return None
    if not isinstance(pointer, dict):
        return None
    if pointer.get("revision") != revision or pointer.get("tokenizer") != signature:
        return None
    generation = pointer.get("generation")
    if generation is None:
        return FFKbIndex(revision, signature, [], None) if pointer.get("chunk_count") == 0 else None
    if not isinstance(generation, str) or "/" in generation or generation.startswith("."):
        return None
    try:
        retriever = bm25s.BM25.load(str(index_dir / generation), load_corpus=True, show_progress=False)
        records = [FFChunkRecord.from_json(item) for item in retriever.corpus or []]
        feedback = FFFeedbackRows.from_bytes(store.read_bytes(index_dir / generation / _FEEDBACK_FILE), rows=len(records))
    except (OSError, ValueError, KeyError, TypeError, FFError) as exc:
        # Unreadable numpy arrays, JSON, corpus lines or feedback file: rebuilt from the documents.
        _log.warning("index %s unreadable, rebuilding: %s", index_dir / generation, exc)
        return None
    if len(records) != retriever.scores["num_docs"] or len(records) != pointer.get("chunk_count"):
        _log.warning("index %s has %d records for %s rows, rebuilding", generation, len(records), retriever.scores["num_docs"])
        return None
    retriever.corpus = None  # the records hold the text; keep one copy in memory
    return FFKbIndex(revision, signature, records, retriever, feedback)
