"""Near-duplicate passages: who holds a chunk, who owns it, and what the manager shows for it."""

from __future__ import annotations

from pathlib import Path

import pytest

from ff_class_configs import load_config
from ff_managers import FFKnowledgeBaseManager
from ff_managers._knowledge.dedup import find_passage_owners

PAGE = (
    "The with statement wraps the execution of a block with methods defined by a context manager, "
    "so that setup and cleanup code runs around the block every single time it is entered."
)
OTHER = "Dictionaries map hashable keys to arbitrary values and keep the order in which keys were inserted."


def test_a_passage_held_by_a_longer_document_belongs_to_the_shorter_one() -> None:
    chunks = [("chapter", "Intro words before the section. " + PAGE), ("page", PAGE), ("dicts", OTHER)]
    owners = find_passage_owners(chunks, {"chapter": 5_000, "page": 200, "dicts": 100})
    assert owners[0].owner == "chapter", "the chapter chunk has words the page lacks (below 90%)"
    assert owners[1].owner == "page" and owners[1].also_in == ("chapter",)
    assert owners[2].owner == "dicts" and owners[2].also_in == ()


def test_a_copy_in_an_umbrella_document_is_folded_into_the_page() -> None:
    chunks = [("chapter", PAGE), ("page", PAGE)]
    owners = find_passage_owners(chunks, {"chapter": 5_000, "page": 200})
    assert [o.owner for o in owners] == ["page", "page"]
    assert owners[0].also_in == ("chapter",)


def test_equal_length_copies_go_to_the_earlier_document_and_short_text_is_never_folded() -> None:
    owners = find_passage_owners([("b", PAGE), ("a", PAGE)], {"a": 200, "b": 200})
    assert [o.owner for o in owners] == ["b", "b"], "ties: catalog order, not the id"
    short = find_passage_owners([("x", "Note: see above."), ("y", "Note: see above.")], {"x": 900, "y": 20})
    assert [o.owner for o in short] == ["x", "y"]


def test_bad_threshold_is_refused() -> None:
    with pytest.raises(ValueError):
        find_passage_owners([("a", PAGE)], {"a": 1}, threshold=0)


async def test_search_shows_one_hit_for_a_duplicated_passage_and_names_every_holder(tmp_path: Path) -> None:
    kb = FFKnowledgeBaseManager(load_config(base_path=tmp_path, environ={}))
    base = await kb.create_knowledge_base("alice", "docs")
    # A page published on its own and again as a section of a chapter, as in CPython's help topics.
    page_text = "## The with statement\n\n" + PAGE
    chapter_text = "# Compound statements\n\n" + "Unrelated loop material about iteration. " * 30 + "\n\n" + page_text
    chapter = await kb.add_document("alice", base.kb_id, content=chapter_text, title="Chapter", format="markdown")
    page = await kb.add_document("alice", base.kb_id, content=page_text, title="Page", format="markdown")
    hits = await kb.search("alice", base.kb_id, "context manager cleanup block", top_k=5, per_document=0)
    holders = [h for h in hits if "context manager" in h.text]
    assert len(holders) == 1, "the copy in the chapter is folded into the page's chunk"
    assert holders[0].doc_id == page.doc_id and holders[0].also_in_doc_ids == [chapter.doc_id]
    await kb.delete_document("alice", base.kb_id, page.doc_id)
    hits = await kb.search("alice", base.kb_id, "context manager cleanup block", top_k=5)
    assert hits[0].doc_id == chapter.doc_id and hits[0].also_in_doc_ids == [], "with the page gone the chapter owns it"
