"""Pseudo-relevance feedback (RM3) for the knowledge-base ranker: bridge the words people ask in.

A question often shares few words with the passage that answers it ("make sure a file is closed
automatically" vs. the "with" statement). RM3 (Lavrenko & Croft's relevance model, interpolated
with the query as in Anserini/Lucene) runs the query once, assumes its best ``docs`` chunks are
relevant, and adds the ``terms`` words most typical of them, weighted by how well each chunk
matched and how often it uses the word (P(w|D) = tf/|D|). The query keeps ``original_weight`` of
the mass. Words in more than ``max_df_ratio`` of the chunks are not feedback words: they are
this collection's own stopwords and would only drag every chunk along.

All of it is numpy over arrays built once per index: the BM25 weights term-major (bm25s' CSC
matrix, for scoring) and term frequencies row-major (:class:`FFFeedbackRows`, for expansion).
A feedback search is two scorings plus one ``bincount``, tens of microseconds on a few thousand
chunks.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["FFFeedbackRows", "FFFeedbackSettings", "weighted_scores", "expand_query"]


@dataclass(frozen=True, slots=True)
class FFFeedbackSettings:
    """RM3 parameters (defaults are Anserini's: 10 feedback chunks, 10 terms, half the weight)."""

    docs: int = 10
    terms: int = 10
    original_weight: float = 0.5
    max_df_ratio: float = 0.1
    min_rows: int = 50
    """Below this many indexed rows no expansion happens (the feedback set would be most of them)."""


@dataclass(frozen=True, slots=True)
class FFFeedbackRows:
    """Per indexed row, its feedback-eligible term ids and tf/|row| (CSR layout)."""

    indptr: np.ndarray  # int64, rows + 1
    term_ids: np.ndarray  # int32
    weights: np.ndarray  # float32, tf / row length

    @classmethod
    def build(cls, token_ids: Sequence[Sequence[int]], vocab_size: int, *, max_df_ratio: float) -> FFFeedbackRows:
        """From each row's token ids (as indexed); terms in over ``max_df_ratio`` of the rows are left out."""
        rows = len(token_ids)
        indexed_rows = sum(1 for ids in token_ids if len(ids))  # folded rows index nothing
        document_frequency = np.zeros(vocab_size, dtype=np.int64)
        uniques: list[tuple[np.ndarray, np.ndarray, int]] = []
        for ids in token_ids:
            unique, counts = np.unique(np.asarray(ids, dtype=np.int64), return_counts=True)
            document_frequency[unique] += 1
            uniques.append((unique, counts, len(ids)))
        eligible = document_frequency <= max(1.0, max_df_ratio * indexed_rows)
        indptr = np.zeros(rows + 1, dtype=np.int64)
        term_parts: list[np.ndarray] = []
        weight_parts: list[np.ndarray] = []
        for row, (unique, counts, length) in enumerate(uniques):
            keep = eligible[unique] if unique.size else np.zeros(0, dtype=bool)
            term_parts.append(unique[keep].astype(np.int32))
            weight_parts.append((counts[keep] / max(length, 1)).astype(np.float32))
            indptr[row + 1] = indptr[row] + int(keep.sum())
        empty_i, empty_f = np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32)
        return cls(
            indptr,
            np.concatenate(term_parts) if term_parts else empty_i,
            np.concatenate(weight_parts) if weight_parts else empty_f,
        )

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        np.savez(buffer, indptr=self.indptr, term_ids=self.term_ids, weights=self.weights)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes, *, rows: int) -> FFFeedbackRows:
        """Raises ValueError when the arrays are malformed or do not fit ``rows``."""
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
                feedback = cls(arrays["indptr"], arrays["term_ids"], arrays["weights"])
        except (zipfile.BadZipFile, EOFError, KeyError, OSError) as exc:
            raise ValueError(f"feedback arrays unreadable: {exc}") from exc
        if (
            feedback.indptr.shape != (rows + 1,)
            or feedback.term_ids.shape != feedback.weights.shape
            or int(feedback.indptr[-1]) != feedback.term_ids.size
        ):
            raise ValueError("feedback arrays do not match the index")
        return feedback


def weighted_scores(
    data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, rows: int, weights: dict[int, float]
) -> np.ndarray:
    """BM25 score of every row for a weighted query ``{term id: weight}`` (CSC weights)."""
    if not weights:
        return np.zeros(rows, dtype=np.float64)
    term_ids = np.fromiter(weights, dtype=np.int64, count=len(weights))
    starts, ends = indptr[term_ids], indptr[term_ids + 1]
    lengths = ends - starts
    positions = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(int(lengths.sum()))
    term_weight = np.repeat(np.fromiter(weights.values(), dtype=np.float64, count=len(weights)), lengths)
    return np.bincount(indices[positions], weights=data[positions] * term_weight, minlength=rows)


def expand_query(
    query: dict[int, float], scores: np.ndarray, feedback: FFFeedbackRows, vocab_size: int, settings: FFFeedbackSettings
) -> dict[int, float]:
    """The RM3 query: ``query`` (term id -> count) interpolated with the feedback terms.

    Returns ``query`` unchanged when nothing matched or no feedback word is eligible.
    """
    positive = np.flatnonzero(scores > 0)
    if positive.size == 0 or settings.docs <= 0 or settings.terms <= 0 or settings.original_weight >= 1:
        return query
    if positive.size > settings.docs:
        positive = positive[np.argpartition(-scores[positive], settings.docs - 1)[: settings.docs]]
    relevance = scores[positive] / scores[positive].sum()
    starts, ends = feedback.indptr[positive], feedback.indptr[positive + 1]
    lengths = ends - starts
    if not lengths.any():
        return query
    positions = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(int(lengths.sum()))
    model = np.bincount(
        feedback.term_ids[positions],
        weights=feedback.weights[positions] * np.repeat(relevance, lengths),
        minlength=vocab_size,
    )
    candidates = np.flatnonzero(model)
    if candidates.size > settings.terms:
        candidates = candidates[np.argpartition(-model[candidates], settings.terms - 1)[: settings.terms]]
    model_total = float(model[candidates].sum())
    query_total = float(sum(query.values()))
    keep = settings.original_weight
    expanded = {term: keep * weight / query_total for term, weight in query.items()}
    for term in candidates.tolist():
        expanded[term] = expanded.get(term, 0.0) + (1 - keep) * float(model[term]) / model_total
    return expanded
