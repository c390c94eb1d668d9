"""The knowledge-base tokenizer keeps what tells documents apart, including lone digits."""

from __future__ import annotations

import pytest

from ff_class_configs import load_config
from ff_managers import FFKnowledgeBaseManager
from ff_managers._knowledge.index import FFKbTokenizer
from testing._synthetic_data import generate_synthetic_data


def test_lone_digits_are_tokens_but_single_letters_are_not():
    tokens = FFKbTokenizer.create(stemming="none").chunks.tokens("Guide number 2, version 3 of a plan")
    assert "2" in tokens and "3" in tokens
    assert "a" not in tokens


async def test_a_fact_that_differs_only_by_a_number_is_found_first(tmp_path):
    kb = FFKnowledgeBaseManager(load_config(base_path=tmp_path, environ={}))
    base = await kb.create_knowledge_base("u", "guides")
    ids = {}
    for number in range(1, 6):
        doc = await kb.add_document(
            "u", base.kb_id, title=f"Seedling guide {number}",
            content=f"# Seedling guide\n\nThe reference code for the seedling guide number {number} is code{number}x.\n\n"
            "Seedlings need light, water and compost every week in spring.",
        )
        ids[number] = doc.doc_id
    for number in range(1, 6):
        hits = await kb.search("u", base.kb_id, f"reference code seedling guide number {number}", top_k=3)
        assert hits[0].doc_id == ids[number]


@pytest.mark.parametrize("min_chunks, expected_ok", [(50, True), (0, False)])
async def test_feedback_waits_for_a_collection_large_enough(tmp_path, min_chunks, expected_ok):
    # The component suite's seeded documents: in a 3-document base RM3's "best chunks" are most
    # of the collection and its words outvoted the exact probe (measured: seeds 20250101 and 7).
    config = load_config(base_path=tmp_path, environ={}, overrides={"knowledge": {"feedback_min_chunks": min_chunks}})
    kb = FFKnowledgeBaseManager(config)
    base = await kb.create_knowledge_base("u", "tiny")
    documents = generate_synthetic_data(20_250_101).documents[:3]
    stored = [await kb.add_document("u", base.kb_id, content=d.content, title=d.title) for d in documents]
    first = [(await kb.search("u", base.kb_id, d.probe, top_k=3))[0].doc_id for d in documents]
    assert (first == [s.doc_id for s in stored]) is expected_ok
