"""RM3 feedback: scoring matches bm25s, expansion adds the feedback chunks' typical words."""

from __future__ import annotations

import bm25s
import numpy as np
import pytest

from ff_managers._knowledge.feedback import FFFeedbackRows, FFFeedbackSettings, expand_query, weighted_scores

ROWS = [
    ["with", "statement", "context", "manager", "enter", "exit"],
    ["context", "manager", "close", "file", "automat", "resourc"],
    ["dict", "key", "valu", "hashabl"],
    ["list", "append", "insert", "revers"],
    ["file", "open", "read", "write"],
]


def _index() -> tuple[bm25s.BM25, FFFeedbackRows]:
    retriever = bm25s.BM25()
    retriever.index(ROWS, show_progress=False)
    vocab = retriever.vocab_dict
    feedback = FFFeedbackRows.build([[vocab[t] for t in row] for row in ROWS], len(vocab), max_df_ratio=0.5)
    return retriever, feedback


def test_weighted_scores_equal_bm25s_scores_for_an_unweighted_query() -> None:
    retriever, _ = _index()
    m, vocab = retriever.scores, retriever.vocab_dict
    query = {vocab["file"]: 1.0, vocab["context"]: 1.0, vocab["dict"]: 2.0}
    ours = weighted_scores(m["data"], m["indices"], m["indptr"], len(ROWS), query)
    expected = retriever.get_scores(["file", "context", "dict", "dict"])
    assert np.allclose(ours, expected, atol=1e-6)


def test_expansion_brings_in_the_words_of_the_matching_chunks() -> None:
    retriever, feedback = _index()
    m, vocab = retriever.scores, retriever.vocab_dict
    query = {vocab["close"]: 1.0, vocab["automat"]: 1.0}
    first = weighted_scores(m["data"], m["indices"], m["indptr"], len(ROWS), query)
    assert first[0] == 0, "the with-statement row shares no word with the question"
    # The feedback chunk's six words weigh the same (tf/|row| = 1/6), so all six are asked for:
    # with five, which one is left out depends on bm25s's vocabulary ids, i.e. on the hash seed.
    settings = FFFeedbackSettings(docs=1, terms=len(ROWS[1]), original_weight=0.5, max_df_ratio=0.5)
    expanded = expand_query(query, first, feedback, len(vocab), settings)
    assert vocab["manager"] in expanded and abs(sum(expanded.values()) - 1.0) < 1e-6
    second = weighted_scores(m["data"], m["indices"], m["indptr"], len(ROWS), expanded)
    assert second[0] > 0 and second[2] == 0
    assert expand_query(query, np.zeros(len(ROWS)), feedback, len(vocab), settings) is query


def test_feedback_rows_round_trip_and_refuse_garbage() -> None:
    _, feedback = _index()
    again = FFFeedbackRows.from_bytes(feedback.to_bytes(), rows=len(ROWS))
    assert np.array_equal(again.indptr, feedback.indptr) and np.array_equal(again.term_ids, feedback.term_ids)
    with pytest.raises(ValueError):
        FFFeedbackRows.from_bytes(feedback.to_bytes(), rows=len(ROWS) + 1)
    with pytest.raises(ValueError):
        FFFeedbackRows.from_bytes(b"PK\x03\x04 not really a zip", rows=len(ROWS))
    with pytest.raises(ValueError):
        FFFeedbackRows.from_bytes(b"garbage", rows=len(ROWS))
