"""Refusals and defaults of the knowledge base, exactly (issue 20, survivors of checks, catalog, ingest, documents).

Each error names what it refuses (field, knowledge base, document, file); a document without a
title is titled by its first non-blank line; re-adding bytes stored under another id returns that
copy; hidden or stray entries of a user's knowledge folder are not knowledge bases.
"""

from __future__ import annotations

import io
import json
import sys

import numpy as np
import pytest

from ff_managers import FFKnowledgeBaseManager
from ff_managers._knowledge.feedback import FFFeedbackRows
from ff_utils.ff_errors import FFConflictError, FFCorruptionError, FFNotFoundError, FFValidationError
from tests._fakes import FakeClock

TEXT = "# Optics\n\nLenses bend light; a prism splits white light into a spectrum of colours.\n"


async def _base(kb: FFKnowledgeBaseManager) -> str:
    return (await kb.create_knowledge_base("alice", "Physics")).kb_id


@pytest.mark.parametrize(
    ("arguments", "field", "message"),
    [
        ({"top_k": 0}, "top_k", "top_k must be an integer in [1, {max_top_k}], not 0"),
        ({"per_document": -1}, "per_document", f"per_document must be an integer in [0, {sys.maxsize}], not -1"),
        ({"query": "   "}, "query", "query is empty"),
    ],
)
async def test_search_arguments_are_refused_naming_the_field(config, arguments, field, message) -> None:
    async with FFKnowledgeBaseManager(config) as kb:
        kb_id = await _base(kb)
        call = {"query": "light", **arguments}
        with pytest.raises(FFValidationError) as caught:
            await kb.search("alice", kb_id, call.pop("query"), **call)
        assert caught.value.field == field
        assert caught.value.message == message.format(max_top_k=config.knowledge.max_top_k)


async def test_unknown_documents_are_not_found_naming_document_and_base(config) -> None:
    async with FFKnowledgeBaseManager(config) as kb:
        kb_id = await _base(kb)
        for call in (kb.get_document_text, kb.delete_document, kb.get_document):
            with pytest.raises(FFNotFoundError) as caught:
                await call("alice", kb_id, "doc-nothere")
            assert (caught.value.message, caught.value.kind, caught.value.key) == (
                f"no document 'doc-nothere' in knowledge base {kb_id!r}",
                "document",
                "doc-nothere",
            ), call.__name__


async def test_a_text_file_that_is_not_utf8_names_the_action_and_the_file(config) -> None:
    async with FFKnowledgeBaseManager(config) as kb:
        kb_id = await _base(kb)
        doc = await kb.add_document("alice", kb_id, content=TEXT, format="markdown")
        path = kb._catalog.document_dir("alice", kb_id, doc.doc_id) / "text.txt"
        assert await kb.get_document_text("alice", kb_id, doc.doc_id) == TEXT
        path.write_bytes(b"\xff\xfe broken")
        with pytest.raises(FFCorruptionError) as caught:
            await kb.get_document_text("alice", kb_id, doc.doc_id)
        assert caught.value.message.startswith("cannot read document text: not UTF-8")
        assert caught.value.path == path


async def test_an_explicit_id_that_holds_other_bytes_is_a_conflict_naming_base_and_document(config) -> None:
    async with FFKnowledgeBaseManager(config) as kb:
        kb_id = await _base(kb)
        await kb.add_document("alice", kb_id, content=TEXT, document_id="doc-optics")
        for add in (
            kb.add_document("alice", kb_id, content=TEXT + "More.", document_id="doc-optics"),
            kb.add_documents("alice", kb_id, [{"content": TEXT + "More.", "document_id": "doc-optics"}]),
        ):
            with pytest.raises(FFConflictError) as caught:
                await add
            assert caught.value.message == "document 'doc-optics' already holds other content; delete it first"
            assert caught.value.context == {"kb_id": kb_id, "doc_id": "doc-optics"}


async def test_bytes_stored_under_an_explicit_id_are_returned_when_added_again_without_one(config) -> None:
    async with FFKnowledgeBaseManager(config) as kb:
        kb_id = await _base(kb)
        first = await kb.add_document("alice", kb_id, content=TEXT, document_id="doc-first")
        await kb.add_document("alice", kb_id, content=TEXT, document_id="doc-second")
        again = await kb.add_document("alice", kb_id, content=TEXT)
        batch = await kb.add_documents("alice", kb_id, [{"content": TEXT}])
        assert again == first and batch == [first], "the first entry holding those bytes, in catalog order"
        assert [d.doc_id for d in await kb.list_documents("alice", kb_id)] == ["doc-first", "doc-second"]


@pytest.mark.parametrize(
    ("content", "title"),
    [
        ("\n  \n   Lenses \t and   prisms  \nsecond line", "Lenses and prisms"),
        ("one\ntwo", "one"),
    ],
)
async def test_a_document_without_a_title_is_titled_by_its_first_non_blank_line(config, content, title) -> None:
    async with FFKnowledgeBaseManager(config) as kb:
        kb_id = await _base(kb)
        doc = await kb.add_document("alice", kb_id, content=content)
        assert doc.title == title


async def test_deleting_a_document_stamps_the_base_updated_at(config) -> None:
    clock = FakeClock()
    async with FFKnowledgeBaseManager(config, clock=clock) as kb:
        kb_id = await _base(kb)
        doc = await kb.add_document("alice", kb_id, content=TEXT)
        deleted_at = clock.advance(60)
        await kb.delete_document("alice", kb_id, doc.doc_id)
        base = await kb.get_knowledge_base("alice", kb_id)
        assert (base.updated_at, base.document_count, base.chunk_count) == (deleted_at, 0, 0)


async def test_hidden_and_stray_entries_of_the_knowledge_folder_are_not_bases(config) -> None:
    async with FFKnowledgeBaseManager(config) as kb:
        kb_id = await _base(kb)
        folder = kb._catalog.knowledge_dir("alice")
        (folder / ".hidden").mkdir()
        (folder / ".hidden" / "kb.json").write_bytes(kb._catalog.catalog_path("alice", kb_id).read_bytes())
        (folder / "notes.txt").write_text("not a base", encoding="utf-8")
        (folder / "a-crashed").mkdir()  # a folder left by a crash before its catalog was written, listed first
        assert [b.kb_id for b in await kb.list_knowledge_bases("alice")] == [kb_id]


async def test_a_catalog_that_does_not_fit_its_layout_is_corruption_naming_it(config) -> None:
    async with FFKnowledgeBaseManager(config) as kb:
        kb_id = await _base(kb)
        path = kb._catalog.catalog_path("alice", kb_id)
        catalog = json.loads(path.read_text(encoding="utf-8"))
        del catalog["kb"]
        path.write_text(json.dumps(catalog), encoding="utf-8")
        with pytest.raises(FFCorruptionError) as caught:
            await kb.get_knowledge_base("alice", kb_id)
        assert (caught.value.message, caught.value.path) == (f"catalog of knowledge base {kb_id!r} has an unknown layout", path)


def _npz(**arrays: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def test_feedback_arrays_are_checked_against_the_index() -> None:
    good = {"indptr": np.array([0, 2, 3]), "term_ids": np.array([4, 5, 6]), "weights": np.array([0.5, 0.25, 1.0])}
    rows = FFFeedbackRows.from_bytes(_npz(**good), rows=2)
    assert rows.term_ids.tolist() == [4, 5, 6]
    bad = [
        ({**good, "weights": np.array([0.5, 0.25])}, 2),  # weights do not match the terms
        ({**good, "indptr": np.array([0, 2, 2])}, 2),  # the last row ends before the terms do
        (good, 3),  # built for another number of rows
    ]
    for arrays, count in bad:
        with pytest.raises(ValueError, match=r"^feedback arrays do not match the index$"):
            FFFeedbackRows.from_bytes(_npz(**arrays), rows=count)
    with pytest.raises(ValueError, match=r"^feedback arrays unreadable: "):
        FFFeedbackRows.from_bytes(_npz(**good)[:40], rows=2)  # cut short
    with pytest.raises(ValueError, match=r"^feedback arrays unreadable: "):
        FFFeedbackRows.from_bytes(_npz(indptr=good["indptr"]), rows=2)
