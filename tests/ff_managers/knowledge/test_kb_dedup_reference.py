"""The vectorised passage ownership agrees with the rule written out plainly, on random
collections built to share passages, and its shingles never span two texts."""

from __future__ import annotations

import random
import re

import pytest

from ff_managers._knowledge.dedup import _all_shingles, _shingles, find_passage_owners

_WORD = re.compile(r"\w+")


def _reference(chunks: list[tuple[str, str]], lengths: dict[str, int], threshold: float = 0.9, min_shingles: int = 10) -> list[tuple[str, tuple[str, ...]]]:
    """The module docstring's rule with Python sets of word tuples (slow, obviously right)."""

    def shingles(text: str) -> set[tuple[str, ...]]:
        words = _WORD.findall(text.lower())
        if len(words) < 5:
            return {("<short>", *words)} if words else set()
        return set(zip(*(words[i:] for i in range(5))))

    order: dict[str, int] = {}
    for doc, _ in chunks:
        order.setdefault(doc, len(order))
    per_chunk = [shingles(text) for _, text in chunks]
    per_doc: dict[str, set[tuple[str, ...]]] = {}
    for (doc, _), found in zip(chunks, per_chunk, strict=True):
        per_doc.setdefault(doc, set()).update(found)
    out = []
    for (doc, _), found in zip(chunks, per_chunk, strict=True):
        holders = {doc}
        if len(found) >= min_shingles:
            holders |= {d for d, held in per_doc.items() if len(found & held) >= threshold * len(found)}
        ranked = sorted(holders, key=lambda d: (lengths.get(d, 0), order[d]))
        out.append((ranked[0], tuple(ranked[1:])))
    return out


def _collection(rng: random.Random) -> tuple[list[tuple[str, str]], dict[str, int]]:
    vocabulary = [f"w{i}" for i in range(60)]
    passages = [" ".join(rng.choice(vocabulary) for _ in range(rng.randint(1, 40))) for _ in range(12)]
    chunks: list[tuple[str, str]] = []
    lengths: dict[str, int] = {}
    for d in range(rng.randint(1, 8)):
        doc = f"doc{d}"
        for _ in range(rng.randint(1, 5)):
            text = rng.choice(passages)
            if rng.random() < 0.4:  # a copy with a few words changed or added
                words = text.split()
                words[rng.randrange(len(words))] = rng.choice(vocabulary)
                text = " ".join(words + [rng.choice(vocabulary)] * rng.randint(0, 2))
            chunks.append((doc, text))
        lengths[doc] = rng.choice([100, 200, 300])  # ties happen: catalog order decides
    return chunks, lengths


@pytest.mark.parametrize("seed", range(40))
def test_the_vectorised_rule_matches_the_plain_one(seed: int) -> None:
    chunks, lengths = _collection(random.Random(seed))
    found = [(o.owner, o.also_in) for o in find_passage_owners(chunks, lengths)]
    assert found == _reference(chunks, lengths)


def test_shingles_never_span_two_texts_and_match_one_text_at_a_time() -> None:
    texts = ["a b c d", "e f g h i", "", "j", "k l m n o p q", "a b c d"]
    together = _all_shingles(texts)
    assert [len(s) for s in together] == [1, 1, 0, 1, 3, 1]  # 5-grams: 0+1, 1, 0, 0+1, 3, 0+1
    assert all((t == _shingles(text)).all() for t, text in zip(together, texts, strict=True))
    assert (together[0] == together[5]).all() and not (together[0] == together[1]).all()
    assert _shingles("x y z") != _shingles("x y z w v")  # a short text is not a 5-gram's prefix


def test_each_texts_shingles_are_sorted_and_distinct() -> None:
    """A passage repeated inside one text counts once: shingle counts are distinct 5-grams."""
    texts = ["a b c d e " * 4, "x y z w v x y z w v", "a b c d e " * 4, "q r s t u v"]
    together = _all_shingles(texts)
    # "a b c d e" x4: 16 windows, 5 distinct; "x y z w v" x2: 6 windows, 5 distinct; 2 in the last
    assert [len(s) for s in together] == [5, 5, 5, 2]
    for shingles in together:
        assert (shingles[1:] > shingles[:-1]).all()  # strictly increasing: sorted, no repeats
    assert (together[0] == together[2]).all()
