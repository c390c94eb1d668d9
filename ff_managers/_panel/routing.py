"""Route a question to the participant whose expertise covers it (topic delegation). Pure.

An expertise area ("quantum physics", "strategic_planning") matches a question by the share of its
words found in the question: "quantum physics" scores 1.0 for "explain quantum physics", 0.5 for
"what is physics". A participant's score is the sum over its areas, so broad matches add up. Words
are lower-cased runs of letters and digits (underscores and hyphens split words); a plural "s" is
dropped from words longer than three letters, and a few function words are ignored: the
routing preset of the one tokenizer, :func:`ff_managers._core.tokenizer.routing_tokenizer`.
Ties go to the participant listed first, so routing is deterministic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ff_managers._core.tokenizer import routing_tokenizer

__all__ = ["FFExpertScore", "ff_topic_words", "ff_rank_experts"]

_TOKENIZER = routing_tokenizer()


@dataclass(frozen=True, slots=True)
class FFExpertScore:
    """One candidate's score and the areas that matched."""

    participant_id: str
    score: float
    matched: tuple[str, ...]


def ff_topic_words(text: str) -> frozenset[str]:
    """The normalised content words of ``text``."""
    return _TOKENIZER.terms(text)


def ff_rank_experts(question: str, candidates: Sequence[tuple[str, Sequence[str]]]) -> list[FFExpertScore]:
    """Candidates ``(participant_id, expertise areas)`` with a positive score, best first."""
    asked = ff_topic_words(question)
    scored: list[tuple[float, int, FFExpertScore]] = []
    for index, (participant_id, areas) in enumerate(candidates):
        score = 0.0
        matched: list[str] = []
        for area in areas:
            area_words = ff_topic_words(area)
            if not area_words:
                continue
            share = len(area_words & asked) / len(area_words)
            if share > 0:
                score += share
                matched.append(area)
        if score > 0:
            scored.append((-score, index, FFExpertScore(participant_id, score, tuple(matched))))
    scored.sort(key=lambda item: (item[0], item[1]))
    return [entry for _, _, entry in scored]
