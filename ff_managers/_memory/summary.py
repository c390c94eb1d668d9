"""Deterministic extractive summaries for memory compression (no model involved).

The algorithm is SumBasic (Nenkova & Vanderwende, 2005): every term gets the probability it has
in the whole group of texts; a sentence scores the mean probability of its terms; the best
sentence is picked, and the probabilities of the terms it covered are squared, so the next pick
prefers a sentence about something else. Picked sentences are returned in their original order.
Ties go to the earlier sentence, so the same input always gives the same summary.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from ff_managers._memory.ranking import tokenize

__all__ = ["split_sentences", "extractive_summary"]

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text``: split after ``.``, ``!``, ``?`` followed by space, and at newlines."""
    return [piece.strip() for piece in _SENTENCE_END.split(text) if piece and piece.strip()]


def extractive_summary(texts: Sequence[str], *, max_sentences: int, max_chars: int) -> str:
    """A summary made of at most ``max_sentences`` sentences taken verbatim from ``texts``.

    Duplicate sentences count once. The result is at most ``max_chars`` long: sentences that
    would overflow are skipped, and if even the first pick is too long it is cut with an
    ellipsis. Raises ValueError if ``max_sentences`` or ``max_chars`` is not positive.
    """
    if max_sentences < 1 or max_chars < 1:
        raise ValueError("max_sentences and max_chars must be positive")
    sentences: list[str] = []
    seen: set[str] = set()
    for text in texts:
        for sentence in split_sentences(text):
            key = " ".join(sentence.casefold().split())
            if key not in seen:
                seen.add(key)
                sentences.append(sentence)
    if not sentences:
        return ""
    terms = [tokenize(sentence) for sentence in sentences]
    counts = Counter(term for sentence_terms in terms for term in sentence_terms)
    total = sum(counts.values()) or 1
    probability = {term: count / total for term, count in counts.items()}

    chosen: list[int] = []
    used = 0
    remaining = set(range(len(sentences)))
    while remaining and len(chosen) < max_sentences:

        def score(index: int) -> tuple[float, int]:
            words = terms[index]
            mean = sum(probability[w] for w in words) / len(words) if words else 0.0
            return (mean, -index)

        best = max(remaining, key=score)
        remaining.discard(best)
        extra = len(sentences[best]) + (1 if chosen else 0)
        if used + extra > max_chars:
            if not chosen:
                cut = sentences[best][: max_chars - 1].rstrip()
                return cut + "…" if cut else sentences[best][:max_chars]
            continue
        chosen.append(best)
        used += extra
        for word in set(terms[best]):
            probability[word] = probability[word] ** 2
    return " ".join(sentences[i] for i in sorted(chosen))
