"""The extractive summary pinned exactly (issue 20: 33 survivors of ``summary`` in the run at
13dc191): the character budget at its edge (separators counted, nothing over, nothing lost under),
the cut of a first pick that is too long, SumBasic's picks against an independent computation
(term probabilities over the whole group, the mean per sentence, covered terms squared, ties to
the earlier sentence), sentences without terms, and the refusal's text."""

from __future__ import annotations

import random
import re
from collections import Counter

import pytest

from ff_managers._memory.ranking import tokenize
from ff_managers._memory.summary import extractive_summary, split_sentences


def reference_summary(texts: list[str], max_sentences: int, max_chars: int) -> str:
    """SumBasic as its docstring states it, written out step by step (no budget pressure here)."""
    sentences: list[str] = []
    for text in texts:
        for sentence in split_sentences(text):
            if " ".join(sentence.casefold().split()) not in {" ".join(s.casefold().split()) for s in sentences}:
                sentences.append(sentence)
    words = [tokenize(s) for s in sentences]
    counts = Counter(w for ws in words for w in ws)
    p = {w: c / sum(counts.values()) for w, c in counts.items()}
    picked: list[int] = []
    while len(picked) < min(max_sentences, len(sentences)):
        best, best_mean = -1, -1.0
        for i, ws in enumerate(words):
            if i in picked:
                continue
            mean = sum(p[w] for w in ws) / len(ws) if ws else 0.0
            if mean > best_mean:  # strictly greater: a tie keeps the earlier sentence
                best, best_mean = i, mean
        picked.append(best)
        for w in set(words[best]):
            p[w] = p[w] * p[w]
    result = " ".join(sentences[i] for i in sorted(picked))
    assert len(result) <= max_chars, "the reference is only used where the budget does not bind"
    return result


VOCABULARY = ["tea", "chess", "kettle", "office", "alice", "bob", "honey", "friday", "launch", "verbs", "garden", "train"]


def generated_texts(seed: int) -> list[str]:
    rng = random.Random(seed)
    texts = []
    for _ in range(rng.randint(2, 4)):
        sentences = []
        for _ in range(rng.randint(1, 4)):
            words = [rng.choice(VOCABULARY[: rng.randint(3, len(VOCABULARY))]) for _ in range(rng.randint(1, 6))]
            sentences.append(" ".join(words).capitalize() + ".")
        texts.append(" ".join(sentences))
    return texts


@pytest.mark.parametrize("seed", range(40))
def test_picks_match_an_independent_sumbasic(seed: int) -> None:
    texts = generated_texts(seed)
    for k in (1, 2, 3):
        assert extractive_summary(texts, max_sentences=k, max_chars=10_000) == reference_summary(texts, k, 10_000), (seed, k)


def test_hand_computed_picks_square_the_covered_terms() -> None:
    # p(tea)=3/8, p(alice)=2/8, p(bob)=p(chess)=p(kettle)=1/8.
    # First pick: "Alice tea." (mean 5/16) over "Tea tea." (3/8? no: its terms are tea, tea: mean 3/8).
    texts = ["Alice tea.", "Tea tea.", "Bob chess.", "Alice kettle."]
    # means: "Alice tea." (2/8+3/8)/2 = .3125; "Tea tea." .375; "Bob chess." .125; "Alice kettle." .1875
    assert extractive_summary(texts, max_sentences=1, max_chars=100) == "Tea tea."
    # after squaring p(tea)=9/64: "Alice tea." (.25+.140625)/2 = .1953 > "Alice kettle." .1875 > .125
    assert extractive_summary(texts, max_sentences=2, max_chars=100) == "Alice tea. Tea tea."
    # then p(alice)=1/16, p(tea)=81/4096: "Bob chess." .125 beats "Alice kettle." (.0625+.125)/2 = .09375
    assert extractive_summary(texts, max_sentences=3, max_chars=100) == "Alice tea. Tea tea. Bob chess."
    # mean, not sum: a long sentence of rare words does not beat a short one of a frequent word
    assert extractive_summary(["Tea.", "Tea bob chess kettle honey.", "Tea."], max_sentences=1, max_chars=100) == "Tea."


def test_ties_go_to_the_earlier_sentence_and_termless_sentences_come_last() -> None:
    assert extractive_summary(["Alpha beta.", "Gamma delta."], max_sentences=1, max_chars=100) == "Alpha beta."
    assert extractive_summary(["Gamma delta.", "Alpha beta."], max_sentences=1, max_chars=100) == "Gamma delta."
    assert [tokenize(s) for s in ("...", "?!")] == [[], []]
    # a sentence without terms scores 0.0: it is picked only when nothing else is left
    assert extractive_summary(["... Alpha beta."], max_sentences=1, max_chars=100) == "Alpha beta."
    assert extractive_summary(["... Alpha beta."], max_sentences=2, max_chars=100) == "... Alpha beta."
    assert extractive_summary(["...", "?!"], max_sentences=2, max_chars=100) == "... ?!"


def test_the_budget_counts_each_separator_and_holds_at_its_edge() -> None:
    texts = ["Aa bb.", "Cc dd.", "Ee ff."]  # 6 characters each, equal scores: picked in order
    assert extractive_summary(texts, max_sentences=1, max_chars=6) == "Aa bb."
    assert extractive_summary(texts, max_sentences=3, max_chars=13) == "Aa bb. Cc dd."
    assert extractive_summary(texts, max_sentences=3, max_chars=12) == "Aa bb."
    assert extractive_summary(texts, max_sentences=3, max_chars=19) == "Aa bb. Cc dd."
    assert extractive_summary(texts, max_sentences=3, max_chars=20) == "Aa bb. Cc dd. Ee ff."


def test_a_pick_that_does_not_fit_is_skipped_and_a_later_one_still_taken() -> None:
    texts = ["Tea tea.", "Tea honey honey kettle.", "Bob."]
    # p: tea 3/7, honey 2/7, kettle 1/7, bob 1/7. Picks: "Tea tea." (8), then the second (its
    # mean .2245 after tea is squared beats "Bob." .1429) which does not fit 15, then "Bob." (8 + 1 + 4)
    assert extractive_summary(texts, max_sentences=3, max_chars=15) == "Tea tea. Bob."
    assert extractive_summary(texts, max_sentences=2, max_chars=100) == "Tea tea. Tea honey honey kettle."


def test_a_first_pick_too_long_is_cut_with_an_ellipsis_exactly() -> None:
    text = "word " * 100
    assert extractive_summary([text], max_sentences=1, max_chars=20) == "word word word word…"
    assert extractive_summary([text], max_sentences=1, max_chars=21) == "word word word word…"  # trailing space dropped
    assert extractive_summary(["  Hello there world."], max_sentences=1, max_chars=8) == "Hello t…"
    # max_chars=1 is allowed: no room for an ellipsis, so the first character alone
    assert extractive_summary(["Hello."], max_sentences=1, max_chars=1) == "H"


def test_limits_below_one_are_refused_with_the_documented_text() -> None:
    for kwargs in ({"max_sentences": 0, "max_chars": 10}, {"max_sentences": 1, "max_chars": 0}):
        with pytest.raises(ValueError, match=f"^{re.escape('max_sentences and max_chars must be positive')}$"):
            extractive_summary(["Hello."], **kwargs)


def test_split_sentences_drops_blank_pieces() -> None:
    assert split_sentences("One\n \nTwo") == ["One", "Two"]
    assert split_sentences(" \n\t\n") == []
