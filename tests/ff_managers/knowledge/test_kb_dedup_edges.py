"""Passage ownership at its documented edges (issue 20, surviving mutants of ``dedup``): a document
holding exactly ``threshold`` of a passage's shingles holds it; a passage of exactly
``min_shingles`` shingles (14 distinct words: 10 word 5-grams) is considered; the threshold is
refused outside (0, 1], 1 included."""

from __future__ import annotations

import pytest

from ff_managers._knowledge.dedup import FFPassageOwnership, find_passage_owners

WORDS = [f"w{i}" for i in range(1, 15)]  # 14 distinct words: 10 shingles


def test_a_passage_of_exactly_min_shingles_is_folded_into_the_shorter_holder():
    text = " ".join(WORDS)
    owners = find_passage_owners([("long", text), ("short", text)], {"long": 900, "short": 100})
    assert owners == [FFPassageOwnership("short", ("long",)), FFPassageOwnership("short", ("long",))]


def test_holding_exactly_the_threshold_share_counts():
    # "short" holds 9 of the 10 shingles of "long"'s passage: exactly 0.9 of them.
    owners = find_passage_owners([("long", " ".join(WORDS)), ("short", " ".join([*WORDS[:13], "other"]))],
                                 {"long": 900, "short": 100}, threshold=0.9)
    assert owners[0] == FFPassageOwnership("short", ("long",))


@pytest.mark.parametrize("threshold", [0, -0.5, 1.0001, 2])
def test_a_threshold_outside_zero_one_is_refused(threshold):
    with pytest.raises(ValueError, match=r"threshold must be in \(0, 1\]: "):
        find_passage_owners([("a", "x")], {"a": 1}, threshold=threshold)


def test_a_threshold_of_one_is_allowed():
    text = " ".join(WORDS)
    assert find_passage_owners([("a", text), ("b", text)], {"a": 5, "b": 9}, threshold=1)[1] == FFPassageOwnership("a", ("b",))
