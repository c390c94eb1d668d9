"""Route a question to the participant whose expertise covers it (topic delegation). Pure.

An expertise area ("quantum physics", "strategic_planning") matches a question by the share of its
words found in the question: "quantum physics" scores 1.0 for "explain quantum physics", 0.5 for
"what is physics". A participant's score is the sum over its areas, so broad matches add up. Words
are lower-cased runs of letters and digits (underscores and hyphens split words); a plural "s" is
dropped from words longer than three letters, and a few function words are ignored.
Ties go to the participant listed first, so routing is deterministic.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["FFExpertScore", "ff_topic_words", "ff_rank_experts"]

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    "a an and are as at be by can do does for from how i in is it me my of on or our so the this to us we what "
    "when where which who why with you your".split()
)


@dataclass(frozen=True, slots=True)
class FFExpertScore:
    """One candidate's score and the areas that matched."""

    participant_id: str
    score: float
    matched: tuple[str, ...]


def ff_topic_words(text: str) -> frozenset[str]:
    """The normalised content words of ``text``."""
    words = set()
    for word in _WORD.findall(text.lower()):
        if word in _STOP:
            continue
        words.add(word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word)
    return frozenset(words)


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
