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


@pytest.mark.parametrize("long_first", [True, False])
def test_a_document_repeating_half_a_passage_does_not_hold_it(long_first):
    """Shingles are a set per document: half of a passage held twice is still half of it."""
    passage, half = " ".join(WORDS), " ".join(WORDS[:9])  # 10 shingles; the first 5 of them
    chunks = [("long", passage), ("rep", half), ("rep", half)]
    if not long_first:
        chunks = [*chunks[1:], chunks[0]]
    owners = find_passage_owners(chunks, {"long": 900, "rep": 100})
    assert owners[chunks.index(("long", passage))] == FFPassageOwnership("long", ())


def test_fold_duplicates_marks_each_row_with_its_owner_and_indexes_only_the_owners():
    from ff_managers._knowledge.index import FFChunkRecord, fold_duplicates

    text = " ".join(WORDS)
    records = [
        FFChunkRecord("c-long-0", "long", 0, 0, 500, "", "intro words of the long one only"),
        FFChunkRecord("c-long-1", "long", 1, 500, 900, "", text),
        FFChunkRecord("c-short-0", "short", 0, 0, len(text), "", text),
    ]
    tokens = [["intro"], ["w1"], ["w1"]]
    marked, indexed = fold_duplicates(records, tokens)
    assert [(r.chunk_id, r.owner, r.also_in, r.folded) for r in marked] == [
        ("c-long-0", "long", (), False),
        ("c-long-1", "short", ("long",), True),
        ("c-short-0", "short", ("long",), False),
    ]
    assert indexed == [["intro"], [], ["w1"]]
    assert [(r.chunk_index, r.char_start, r.char_end, r.heading, r.text) for r in marked] == [
        (r.chunk_index, r.char_start, r.char_end, r.heading, r.text) for r in records
    ]
