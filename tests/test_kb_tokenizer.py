"""The knowledge-base tokenizer keeps what tells documents apart, including lone digits."""

from __future__ import annotations

from ff_class_configs import load_config
from ff_managers import FFKnowledgeBaseManager
from ff_managers._kb_index import FFTokenizer


def test_lone_digits_are_tokens_but_single_letters_are_not():
    tokens = FFTokenizer(stemming="none").tokens("Guide number 2, version 3 of a plan")
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
