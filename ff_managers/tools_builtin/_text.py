"""Text helpers shared by the built-in tools (stdlib only): words, sentences, stop words."""

from __future__ import annotations

import re

__all__ = ["STOP_WORDS", "WORD_RE", "split_sentences", "words"]

WORD_RE = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*|\d+(?:[.,]\d+)*", re.UNICODE)
# A sentence ends at . ! or ? (possibly repeated, possibly followed by a closing quote) before
# whitespace and an upper-case letter, digit or quote; abbreviations like "e.g." rarely meet that.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")

STOP_WORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers herself him himself his how i if in into is it its itself
    just me more most my myself no nor not now of off on once only or other our ours ourselves out
    over own same she should so some such than that the their theirs them themselves then there
    these they this those through to too under until up very was we were what when where which
    while who whom why will with would you your yours yourself yourselves also may might must shall
    us""".split()
)


def words(text: str) -> list[str]:
    """The words (and numbers) of ``text`` in order."""
    return WORD_RE.findall(text)


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text``, paragraphs first, then sentence ends; empty pieces dropped."""
    sentences: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        flat = " ".join(paragraph.split())
        if flat:
            sentences.extend(s.strip() for s in _SENTENCE_END.split(flat) if s.strip())
    return sentences
