"""The BM25 index of one knowledge base: tokenising, building, scoring, saving and loading.

Ranking is bm25s's (Lucene's BM25 variant over a sparse score matrix); this module only feeds it
tokens and keeps, beside it, the chunk each row stands for so a hit can cite its document and
offsets without touching the disk.

On disk the index is a cache derived from the documents, kept per knowledge base as
``index/current.json`` (the pointer, written atomically) plus one generation directory of
bm25s files per build. bm25s writes the generation directory itself; nothing reads it until the
pointer names it, so a crash mid-save leaves the previous index in force. Older generations are
removed after the pointer moves. An index that is missing, stale (built from an older catalog
revision or another tokenizer) or unreadable is rebuilt from the documents.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bm25s
import bm25s.stopwords
import numpy as np
import Stemmer

from ff_class_configs.ff_knowledge_dtos import KB_SCHEMA_VERSION
from ff_utils.ff_errors import FFError
from ff_utils.ff_file_ops import ff_remove_tree
from ff_utils.ff_json_utils import ff_read_json, ff_write_json
from ff_utils.ff_logging import get_logger

__all__ = [
    "QUESTION_WORDS",
    "FFTokenizer",
    "FFChunkRecord",
    "FFKbIndex",
    "build_index",
    "save_index",
    "load_index",
    "INDEX_POINTER_NAME",
]

INDEX_POINTER_NAME = "current.json"
_TOKENIZER_VERSION = 1  # bump when the token rule changes: saved indexes then rebuild
_WORD = re.compile(r"\w\w+")

QUESTION_WORDS: frozenset[str] = frozenset(
    # How people phrase a question, not what they ask about: interrogatives, auxiliaries,
    # pronouns. Dropped from queries only (they still count inside documents). None of them is
    # a Python keyword or a word technical text uses as a term of art.
    """how what which who whom whose why where when do does did can could should would shall
    me my mine myself we us our ours you your yours please""".split()
)
_log = get_logger("knowledge.index")


class FFTokenizer:
    """Lowercase words of two or more word characters, optionally stemmed and stop-filtered.

    The same instance tokenises chunks and queries, so both sides agree. A query costs one regex
    scan and one call into the Snowball stemmer (C), a few microseconds for a sentence.
    """

    def __init__(self, *, stemming: str = "english", stopwords: str = "none", question_words: bool = True) -> None:
        self._stemmer = Stemmer.Stemmer(stemming) if stemming != "none" else None
        self._stopwords = frozenset(bm25s.stopwords.STOPWORDS_EN) if stopwords == "english" else frozenset()
        self._query_stopwords = self._stopwords | (QUESTION_WORDS if question_words else frozenset())
        # The signature names what changes the indexed tokens (query-side filtering does not).
        self.signature = f"v{_TOKENIZER_VERSION}:stem={stemming}:stop={stopwords}"

    def tokens(self, text: str) -> list[str]:
        """Tokens of a chunk as indexed."""
        return self._finish([w for w in _WORD.findall(text.lower()) if w not in self._stopwords])

    def query_tokens(self, text: str) -> list[str]:
        """Tokens of a query: the chunk rule, less the words that only shape a question."""
        return self._finish([w for w in _WORD.findall(text.lower()) if w not in self._query_stopwords])

    def _finish(self, words: list[str]) -> list[str]:
        return self._stemmer.stemWords(words) if self._stemmer is not None else words


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

    def to_json(self) -> dict[str, Any]:
        return {
            "chunk_id": self.chunk_id,
            "doc_id": self.doc_id,
            "chunk_index": self.chunk_index,
            "char_start": self.char_start,
            "char_end": self.char_end,
            "heading": self.heading,
            "text": self.text,
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
        )


class FFKbIndex:
    """A built BM25 index over the chunks of one knowledge base, held in memory."""

    def __init__(self, revision: int, signature: str, records: list[FFChunkRecord], retriever: bm25s.BM25 | None) -> None:
        self.revision = revision
        self.signature = signature
        self.records = records
        self.retriever = retriever
        self.row_of = {record.chunk_id: row for row, record in enumerate(records)}
        self._vocab: dict[str, int] = retriever.vocab_dict if retriever is not None else {}

    def __len__(self) -> int:
        return len(self.records)

    def search(
        self, query_tokens: list[str], top_k: int, *, per_document: int | None = None
    ) -> list[tuple[FFChunkRecord, float]]:
        """The best ``top_k`` chunks with a positive score, best first (ties: document order).

        ``per_document`` caps how many chunks of one document the answer holds, so one long
        document cannot fill every slot with near-copies of the same passage; None means no cap.
        """
        known = [token for token in query_tokens if token in self._vocab]
        if not known or self.retriever is None or top_k <= 0:
            return []
        scores = self.retriever.get_scores(known)
        candidates = np.flatnonzero(scores > 0)
        if per_document is None and candidates.size > top_k:
            # argpartition picks the best k in linear time; only those are sorted. (With a cap
            # per document any candidate may be needed, so then all positive rows are sorted.)
            part = np.argpartition(-scores[candidates], top_k - 1)[:top_k]
            candidates = np.sort(candidates[part])
        order = candidates[np.argsort(-scores[candidates], kind="stable")].tolist()
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


def build_index(
    revision: int,
    signature: str,
    records: list[FFChunkRecord],
    tokens: list[list[str]],
    *,
    k1: float,
    b: float,
) -> FFKbIndex:
    """Index ``records`` (row i has tokens ``tokens[i]``) with bm25s; an empty list is allowed."""
    if len(records) != len(tokens):
        raise ValueError("records and tokens must align")
    if not records:
        return FFKbIndex(revision, signature, [], None)
    retriever = bm25s.BM25(k1=k1, b=b)
    retriever.index(tokens, show_progress=False)
    return FFKbIndex(revision, signature, records, retriever)


def save_index(index_dir: Path, index: FFKbIndex, *, durability: str = "always") -> str:
    """Write ``index`` as a new generation under ``index_dir``, point at it, drop older ones.

    Callers hold the knowledge base's write lock, so two builders never interleave their
    pointer writes and clean-ups. Returns the generation's directory name.
    """
    generation = f"g{index.revision:08d}-{uuid.uuid4().hex[:12]}"
    if index.retriever is not None:
        # bm25s writes its own files (numpy arrays, vocab, corpus) into the fresh directory.
        index.retriever.save(
            str(index_dir / generation),
            corpus=[record.to_json() for record in index.records],
            show_progress=False,
            raise_on_serialization_error=True,
        )
    pointer = {
        "schema_version": KB_SCHEMA_VERSION,
        "revision": index.revision,
        "tokenizer": index.signature,
        "generation": generation if index.retriever is not None else None,
        "chunk_count": len(index.records),
    }
    ff_write_json(index_dir / INDEX_POINTER_NAME, pointer, durability=durability)  # type: ignore[arg-type]
    for entry in index_dir.iterdir():
        if entry.is_dir() and entry.name != generation and not entry.is_symlink():
            ff_remove_tree(entry)
    return generation


def load_index(index_dir: Path, *, revision: int, signature: str) -> FFKbIndex | None:
    """The saved index if it matches ``revision`` and ``signature``; None means "rebuild it".

    A damaged index is not an error worth failing a search for: it is derived data, so it is
    logged and rebuilt from the documents, which are the source of truth.
    """
    try:
        pointer = ff_read_json(index_dir / INDEX_POINTER_NAME, default=None)
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
    except (OSError, ValueError, KeyError, TypeError) as exc:
        # Unreadable numpy arrays, JSON or corpus lines: the index is rebuilt from the documents.
        _log.warning("index %s unreadable, rebuilding: %s", index_dir / generation, exc)
        return None
    if len(records) != retriever.scores["num_docs"] or len(records) != pointer.get("chunk_count"):
        _log.warning("index %s has %d records for %s rows, rebuilding", generation, len(records), retriever.scores["num_docs"])
        return None
    retriever.corpus = None  # the records hold the text; keep one copy in memory
    return FFKbIndex(revision, signature, records, retriever)
