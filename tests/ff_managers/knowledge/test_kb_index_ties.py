"""Equal scores are cut by a stated rule: the earlier row (catalog order, then chunk order) first."""

from __future__ import annotations

import pytest

from ff_managers._knowledge.index import FFChunkRecord, FFKbTokenizer, build_index

SAME = "The harbour ferry leaves at dawn with crates of lemons."


@pytest.mark.parametrize("top_k", [2, 3, 5, 7])
def test_a_cut_inside_a_group_of_equal_scores_keeps_the_earliest_rows(top_k: int) -> None:
    tokenizer = FFKbTokenizer.create()
    texts = [SAME] * 8 + ["Ferry lemons."]  # the best row comes last, after eight tied ones
    records = [FFChunkRecord(f"ck-{i}", f"doc-{i}", 0, 0, len(t), "", t) for i, t in enumerate(texts)]
    index = build_index(1, "sig", records, [tokenizer.chunks.tokens(t) for t in texts], k1=1.5, b=0.75, fold=False)
    found = index.search(tokenizer.queries.tokens("ferry lemons"), top_k)
    assert found[0][0].chunk_id == "ck-8"
    assert len({score for _, score in found[1:]}) == 1
    # A bare argpartition kept an arbitrary subset of the tied rows (ck-0, ck-2 for top_k=3).
    assert [record.chunk_id for record, _ in found[1:]] == [f"ck-{i}" for i in range(top_k - 1)]


def test_every_tied_row_is_a_candidate_and_the_rest_are_not() -> None:
    tokenizer = FFKbTokenizer.create()
    texts = ["ferry ferry lemons", SAME, SAME, SAME, "nothing relevant here at all"]
    records = [FFChunkRecord(f"ck-{i}", f"doc-{i}", 0, 0, len(t), "", t) for i, t in enumerate(texts)]
    index = build_index(1, "sig", records, [tokenizer.chunks.tokens(t) for t in texts], k1=1.5, b=0.75, fold=False)
    ranked = [record.chunk_id for record, _ in index.search(tokenizer.queries.tokens("ferry lemons"), 10)]
    assert ranked == ["ck-0", "ck-1", "ck-2", "ck-3"]
