"""The shared tokenizer: each preset reproduces, token for token, the tokenizer its caller had.

The reference functions below are the three tokenizers as they stood before they were merged
here (memory ranking's ``tokenize``, panel routing's ``ff_topic_words`` and knowledge's
``FFTokenizer``, at commit 062e0a7), frozen as the oracle the presets must match on any text.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import unicodedata

import bm25s.stopwords
import pytest
import Stemmer
from hypothesis import given, settings
from hypothesis import strategies as st

from ff_managers._core import tokenizer as tok

# --------------------------------------------------------------------------- the old rules


def old_memory_tokens(text: str) -> list[str]:
    stop = tok.MEMORY_STOPWORDS

    def fold(word: str) -> str:
        if len(word) > 4 and word.endswith("ies"):
            return word[:-3] + "y"
        keep = not word.endswith("s") or word.endswith(("ss", "us", "is")) or len(word) <= 3
        return word if keep else word[:-1]

    normalised = unicodedata.normalize("NFKC", text).casefold()
    return [fold(w) for w in re.findall(r"[^\W_]+", normalised) if w not in stop]


def old_routing_words(text: str) -> frozenset[str]:
    found = (w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in tok.ROUTING_STOPWORDS)
    return frozenset(w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in found)


def old_knowledge_tokens(text: str, *, stemming: str, stopwords: str, query: bool) -> list[str]:
    stop = frozenset(bm25s.stopwords.STOPWORDS_EN) if stopwords == "english" else frozenset()
    if query:
        stop |= tok.QUESTION_WORDS
    words = [w for w in re.findall(r"\w\w+|\b\d\b", text.lower()) if w not in stop]
    return Stemmer.Stemmer(stemming).stemWords(words) if stemming != "none" else words


# Text that exercises the rules: stop words, plurals, digits, underscores, case, compatibility
# characters (NFKC), and arbitrary Unicode.
_vocabulary = st.sampled_from(
    "the This berries teas class status axis glass cats Process processes Running 2 3 42 version_3 "
    "ﬁle Ⅻ ÉCOLE Straße İstanbul how what please we our quantum-physics strategic_planning ,.;!? \n\t".split(" ")
)
_texts = st.lists(_vocabulary | st.text(max_size=8), max_size=30).map(" ".join) | st.text(max_size=80)


@given(_texts)
def test_memory_preset_matches_the_old_memory_tokenizer(text):
    tokens = tok.memory_tokenizer().tokens(text)
    assert tokens == old_memory_tokens(text)


@given(_texts)
def test_routing_preset_matches_the_old_routing_words(text):
    assert tok.routing_tokenizer().terms(text) == old_routing_words(text)


@pytest.mark.parametrize("stemming", ["english", "none"])
@pytest.mark.parametrize("stopwords", ["none", "english"])
@settings(max_examples=60)
@given(text=_texts)
def test_knowledge_preset_matches_the_old_knowledge_tokenizer(text, stemming, stopwords):
    chunks = tok.knowledge_tokenizer(stemming=stemming, stopwords=stopwords)
    queries = chunks.with_stopwords(tok.QUESTION_WORDS)
    assert chunks.tokens(text) == old_knowledge_tokens(text, stemming=stemming, stopwords=stopwords, query=False)
    assert queries.tokens(text) == old_knowledge_tokens(text, stemming=stemming, stopwords=stopwords, query=True)


def test_documented_examples():
    assert tok.memory_tokenizer().tokens("The berries and teas, the class's status") == ["berry", "tea", "class", "s", "status"]
    assert tok.routing_tokenizer().terms("Explain quantum physics, please") == {"explain", "quantum", "physic", "please"}
    assert tok.knowledge_tokenizer(stemming="none").tokens("Guide number 2, version 3 of a plan") == [
        "guide", "number", "2", "version", "3", "of", "plan"
    ]
    assert "what" not in tok.knowledge_tokenizer().with_stopwords(tok.QUESTION_WORDS).tokens("what is running")


def test_cache_returns_equal_but_independent_lists():
    memory = tok.memory_tokenizer()
    first = memory.tokens("teas and berries")
    first.append("mutated")
    assert memory.tokens("teas and berries") == ["tea", "berry"]
    assert memory.token_tuple("teas and berries") == ("tea", "berry")


def test_vocabulary_numbers_terms_by_first_appearance():
    rows = [["b", "a", "b"], [], ["c", "a"]]
    vocabulary = tok.build_vocabulary(rows)
    assert vocabulary == {"b": 0, "a": 1, "c": 2}
    assert tok.token_ids(rows, vocabulary) == [[0, 1, 0], [], [2, 1]]
    with pytest.raises(KeyError):
        tok.token_ids([["z"]], vocabulary)


def test_vocabulary_is_the_same_under_any_hash_seed():
    script = (
        "from ff_managers._core.tokenizer import build_vocabulary, knowledge_tokenizer;"
        "t = knowledge_tokenizer();"
        "rows = [t.tokens(s) for s in ['alpha beta gamma delta', 'epsilon zeta eta theta', 'beta iota kappa']];"
        "print(list(build_vocabulary(rows).items()))"
    )
    outputs = set()
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
        outputs.add(run.stdout)
    assert len(outputs) == 1
