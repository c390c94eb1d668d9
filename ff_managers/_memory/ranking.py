"""Relevance ranking of memories: a small, documented BM25 plus a recency/importance tie-breaker.

Pure functions, no disk: the manager loads the entries and hands them here.

Tokenising (:func:`tokenize`): the one tokenizer's memory preset
(:func:`ff_managers._core.tokenizer.memory_tokenizer`): NFKC-normalise, casefold, split on
anything that is not a letter or digit, drop a short list of English stop words, and fold
plurals (``teas`` -> ``tea``, ``berries`` -> ``berry``) so a plain query finds the singular or
plural form. No other stemming: it is easy to explain and never merges unrelated words. Terms
are cached per text: memories are searched again and again with the same texts, so a search
over thousands of entries costs the BM25 arithmetic, not the tokenising.

Scoring (:func:`bm25_scores`): Okapi BM25 over the user's memories with the non-negative IDF
Lucene uses, ``idf(t) = ln(1 + (N - df + 0.5) / (df + 0.5))``, and per-term weight
``idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len / avg_len))``. Only entries that share at
least one term with the query are returned.

Tie-breaking (:func:`rank_entries`): ``score = bm25 * (1 + wi * importance + wr * recency)``,
``recency = 0.5 ** (age / half_life)``. With the default weights of 0.1 the boost is at most
20 %, so it reorders near-ties (the same fact stored twice, the newer or more important first)
but cannot lift an entry that matches the query poorly above one that matches it well. Equal
scores fall back to newest first, then memory id, so the order is deterministic.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from ff_class_configs.ff_memory_dtos import FFMemoryEntryDTO
from ff_managers._core.tokenizer import memory_tokenizer

__all__ = ["TOKENIZER", "tokenize", "bm25_scores", "RankedEntry", "rank_entries"]

TOKENIZER = memory_tokenizer()
"""The memory preset of the one tokenizer, shared by ranking and summaries (one cache)."""


def tokenize(text: str) -> list[str]:
    """The search terms of ``text``, in order (see the module docstring for the rules)."""
    return TOKENIZER.tokens(text)


def bm25_scores(
    query_terms: Sequence[str], documents: Sequence[Sequence[str]], *, k1: float = 1.2, b: float = 0.75
) -> list[float]:
    """BM25 score of every document (a list of terms) for the query terms; 0.0 means no match.

    A query term given twice counts twice, as in the original formulation.
    """
    count = len(documents)
    if count == 0 or not query_terms:
        return [0.0] * count
    lengths = [len(doc) for doc in documents]
    average = (sum(lengths) / count) or 1.0
    wanted = set(query_terms)
    frequencies = [Counter(term for term in doc if term in wanted) for doc in documents]
    document_frequency = Counter(term for freq in frequencies for term in freq)
    idf = {
        term: math.log(1.0 + (count - df + 0.5) / (df + 0.5)) for term, df in document_frequency.items()
    }
    scores: list[float] = []
    for freq, length in zip(frequencies, lengths, strict=True):
        score = 0.0
        norm = k1 * (1.0 - b + b * length / average)
        for term in query_terms:
            tf = freq.get(term, 0)
            if tf:
                score += idf[term] * tf * (k1 + 1.0) / (tf + norm)
        scores.append(score)
    return scores


@dataclass(frozen=True, slots=True)
class RankedEntry:
    """An entry with its final score, its BM25 part and the query terms it contains."""

    entry: FFMemoryEntryDTO
    score: float
    bm25: float
    matched_terms: tuple[str, ...]


def _recency(entry: FFMemoryEntryDTO, now: datetime, half_life_hours: float) -> float:
    age_hours = max(0.0, (now - entry.created_at).total_seconds() / 3600.0)
    return 0.5 ** (age_hours / half_life_hours)


def rank_entries(
    entries: Sequence[FFMemoryEntryDTO],
    query: str,
    *,
    now: datetime,
    k1: float = 1.2,
    b: float = 0.75,
    importance_weight: float = 0.1,
    recency_weight: float = 0.1,
    recency_half_life_hours: float = 168.0,
) -> list[RankedEntry]:
    """Entries sharing a term with ``query``, best first (see the module docstring)."""
    query_terms = tokenize(query)
    terms = TOKENIZER.token_tuple
    documents = [terms(entry.content) + tuple(t for tag in entry.tags for t in terms(tag)) for entry in entries]
    scores = bm25_scores(query_terms, documents, k1=k1, b=b)
    wanted = dict.fromkeys(query_terms)
    ranked: list[RankedEntry] = []
    for entry, document, bm25 in zip(entries, documents, scores, strict=True):
        if bm25 <= 0.0:
            continue
        boost = 1.0 + importance_weight * entry.importance
        boost += recency_weight * _recency(entry, now, recency_half_life_hours)
        present = set(document)
        matched = tuple(term for term in wanted if term in present)
        ranked.append(RankedEntry(entry, bm25 * boost, bm25, matched))
    ranked.sort(key=lambda r: (-r.score, -r.entry.created_at.timestamp(), r.entry.memory_id))
    return ranked
