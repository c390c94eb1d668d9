"""One tokenizer for memory ranking, panel routing and knowledge search, each with its options.

The three callers tokenise for different jobs, so they keep different rules; what they share is
this one implementation, with each rule an option that says what it does. The presets reproduce
each caller's tokens exactly (the same tokens, in the same order), so switching changes no
ranking and no saved knowledge index.

=====================  ========================  =====================  =========================
option                 memory ranking            panel routing          knowledge (index/query)
=====================  ========================  =====================  =========================
``normalize``          NFKC                      --                     --
``case``               casefold                  lower                  lower
``words``              ``letters_digits``:       ``ascii``: runs of     ``words2_or_digit``: 2+
                       runs of Unicode letters   a-z and 0-9            word characters, or a
                       and digits                                       lone digit (``\\b\\d\\b``)
``stopwords``          :data:`MEMORY_STOPWORDS`  :data:`ROUTING_        none, or bm25s' English
                                                 STOPWORDS`             list; queries also drop
                                                                        :data:`QUESTION_WORDS`
``plurals``            ``ies_s``: -ies -> -y     ``s``: drop -s (words  --
                       (len > 4), drop -s (len   longer than 3, not
                       > 3, not -ss/-us/-is)     -ss)
``stemming``           --                        --                     Snowball ``english``
                                                                        (PyStemmer) or none
``cache_size``         100,000 texts             --                     --
=====================  ========================  =====================  =========================

Stop words are dropped before plurals are folded or words stemmed (``this`` is a stop word;
its folded ``thi`` is not). :meth:`FFTextTokenizer.tokens` returns the tokens in text order,
repeats kept (BM25 counts them); :meth:`FFTextTokenizer.terms` returns the distinct ones as a
frozenset (set overlap for routing).

Determinism: token lists are ordered by the text, never by a set. A vocabulary built from
tokens must be too: iterating a set of strings follows ``PYTHONHASHSEED``, so a vocabulary (term
-> column) built from a set numbers its terms differently in every process (bm25s'
``index(list_of_token_lists)`` does exactly that). :func:`build_vocabulary` numbers terms in
order of first appearance, and :func:`token_ids` turns rows into ids with it, so an index built
from them is the same in every process; bm25s accepts ``index((ids, vocabulary))``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Literal

__all__ = [
    "WordRule",
    "PluralRule",
    "MEMORY_STOPWORDS",
    "ROUTING_STOPWORDS",
    "QUESTION_WORDS",
    "english_stopwords",
    "FFTextTokenizer",
    "memory_tokenizer",
    "routing_tokenizer",
    "knowledge_tokenizer",
    "build_vocabulary",
    "token_ids",
]

WordRule = Literal["letters_digits", "ascii", "words2_or_digit"]
PluralRule = Literal["none", "s", "ies_s"]

_WORD_PATTERNS: dict[str, re.Pattern[str]] = {
    "letters_digits": re.compile(r"[^\W_]+", re.UNICODE),
    "ascii": re.compile(r"[a-z0-9]+"),
    # Words of two or more characters, and lone digits: "version 3", "guide number 2" must match.
    "words2_or_digit": re.compile(r"\w\w+|\b\d\b"),
}

MEMORY_STOPWORDS: frozenset[str] = frozenset(
    """a an and are as at be been but by can could did do does for from had has have he her his how
    i if in into is it its me my of on or our she so than that the their them then there these they
    this to was we were what when where which who whom why will with would you your""".split()
)
"""Memory ranking's short English list: function words that never tell two memories apart."""

ROUTING_STOPWORDS: frozenset[str] = frozenset(
    "a an and are as at be by can do does for from how i in is it me my of on or our so the this to us we what "
    "when where which who why with you your".split()
)
"""Panel routing's list: words of a question that name no area of expertise."""

QUESTION_WORDS: frozenset[str] = frozenset(
    # How people phrase a question, not what they ask about: interrogatives, auxiliaries,
    # pronouns. Dropped from queries only (they still count inside documents). None of them is
    # a Python keyword or a word technical text uses as a term of art.
    """how what which who whom whose why where when do does did can could should would shall
    me my mine myself we us our ours you your yours please""".split()
)


def english_stopwords() -> frozenset[str]:
    """bm25s' English stop-word list (knowledge's ``stopwords="english"``); imported on first use."""
    import bm25s.stopwords

    return frozenset(bm25s.stopwords.STOPWORDS_EN)


def _fold_s(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


@lru_cache(maxsize=200_000)
def _fold_ies_s(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


class FFTextTokenizer:
    """Text -> tokens by the options in the module docstring's table (see the presets below)."""

    def __init__(
        self,
        *,
        words: WordRule,
        case: Literal["lower", "casefold"] = "lower",
        normalize: Literal["none", "NFKC"] = "none",
        stopwords: Iterable[str] = (),
        plurals: PluralRule = "none",
        stemming: str = "none",
        cache_size: int = 0,
    ) -> None:
        self.words, self.case, self.normalize, self.plurals, self.stemming = words, case, normalize, plurals, stemming
        self.stopwords = frozenset(stopwords)
        self._pattern = _WORD_PATTERNS[words]
        self._fold = {"none": None, "s": _fold_s, "ies_s": _fold_ies_s}[plurals]
        if stemming == "none":
            self._stemmer = None
        else:
            import Stemmer  # PyStemmer: imported only by callers that stem

            self._stemmer = Stemmer.Stemmer(stemming)
        self._cached = lru_cache(maxsize=cache_size)(self._compute) if cache_size > 0 else self._compute

    def with_stopwords(self, extra: Iterable[str]) -> FFTextTokenizer:
        """The same rules with more stop words (knowledge's query side adds :data:`QUESTION_WORDS`)."""
        return FFTextTokenizer(
            words=self.words,
            case=self.case,
            normalize=self.normalize,
            stopwords=self.stopwords | frozenset(extra),
            plurals=self.plurals,
            stemming=self.stemming,
        )

    def tokens(self, text: str) -> list[str]:
        """The tokens of ``text`` in order, repeats kept."""
        return list(self._cached(text))

    def token_tuple(self, text: str) -> tuple[str, ...]:
        """:meth:`tokens` as a tuple (shared from the cache: no copy per call)."""
        return self._cached(text)

    def terms(self, text: str) -> frozenset[str]:
        """The distinct tokens of ``text``."""
        return frozenset(self._cached(text))

    def _compute(self, text: str) -> tuple[str, ...]:
        if self.normalize == "NFKC":
            text = unicodedata.normalize("NFKC", text)
        text = text.casefold() if self.case == "casefold" else text.lower()
        stop = self.stopwords
        found = [word for word in self._pattern.findall(text) if word not in stop]
        if self._fold is not None:
            fold = self._fold
            found = [fold(word) for word in found]
        if self._stemmer is not None:
            found = self._stemmer.stemWords(found)
        return tuple(found)


def memory_tokenizer() -> FFTextTokenizer:
    """Memory ranking: NFKC, casefold, Unicode letters and digits, short stop list, plurals folded."""
    return FFTextTokenizer(
        words="letters_digits",
        case="casefold",
        normalize="NFKC",
        stopwords=MEMORY_STOPWORDS,
        plurals="ies_s",
        cache_size=100_000,
    )


def routing_tokenizer() -> FFTextTokenizer:
    """Panel routing: lower-cased runs of a-z and 0-9, routing stop words, a plural -s dropped."""
    return FFTextTokenizer(words="ascii", stopwords=ROUTING_STOPWORDS, plurals="s")


def knowledge_tokenizer(*, stemming: str = "english", stopwords: str = "none") -> FFTextTokenizer:
    """Knowledge chunks: lower-cased words of 2+ characters and lone digits, optionally stemmed.

    ``stopwords`` is ``"none"`` or ``"english"`` (bm25s' list). Queries use
    ``knowledge_tokenizer(...).with_stopwords(QUESTION_WORDS)``.
    """
    return FFTextTokenizer(
        words="words2_or_digit",
        stopwords=english_stopwords() if stopwords == "english" else (),
        stemming=stemming,
    )


def build_vocabulary(rows: Iterable[Sequence[str]]) -> dict[str, int]:
    """Term -> column, numbered in order of first appearance (never by set order; see above)."""
    vocabulary: dict[str, int] = {}
    for row in rows:
        for term in row:
            if term not in vocabulary:
                vocabulary[term] = len(vocabulary)
    return vocabulary


def token_ids(rows: Iterable[Sequence[str]], vocabulary: dict[str, int]) -> list[list[int]]:
    """Each row's terms as columns of ``vocabulary`` (every term must be in it: KeyError otherwise)."""
    return [[vocabulary[term] for term in row] for row in rows]
