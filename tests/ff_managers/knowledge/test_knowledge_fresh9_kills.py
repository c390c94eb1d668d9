"""Survivors of the 2026-12-09 uniform sample of ``_knowledge`` (issue 20), pinned by behaviour.

Deleting a base whose ``kb.json`` lost its document table reports zero documents and chunks under
the event's usual keys; a new base's catalog carries its ``deleted`` mark (False) beside the other
parts the catalog module documents; a passage holder whose length is not given counts as the
shortest; an invalid user or base id is refused naming which one; a
deleted document's chunks held for the next index build are released at once, so they no longer
take the room other new documents need.
The equivalent survivors of the same sample are listed in
docs/mutation/equivalent/_knowledge/sample-20261209.toml.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from ff_class_configs import FFConfigurationManagerConfigDTO
from ff_class_configs.ff_knowledge_dtos import KB_SCHEMA_VERSION
from ff_managers import FFEvent, FFEventBus, FFKnowledgeBaseManager
from ff_managers._knowledge import documents as documents_module
from ff_managers._knowledge.dedup import find_passage_owners
from ff_managers._knowledge.documents import FFKbDocuments
from ff_utils.ff_errors import FFValidationError

OPTICS = "# Optics\n\nLenses bend light; a prism splits white light into a spectrum of colours.\n"
PAGE = (
    "The with statement wraps the execution of a block with methods defined by a context manager, "
    "so that setup and cleanup code runs around the block every single time it is entered."
)
MECHANICS = "# Mechanics\n\nA lever multiplies force; torque is force times the length of the arm.\n"


# ---------------------------------------------------------------- catalog


@pytest.mark.parametrize(
    "damage",
    [lambda c: c.pop("documents"), lambda c: c.update(documents=["doc-1"])],
    ids=["no_document_table", "document_table_not_a_mapping"],
)
async def test_deleting_a_base_whose_document_table_is_damaged_reports_zero_documents_and_chunks(
    config: FFConfigurationManagerConfigDTO, damage: Callable[[dict[str, Any]], None]
) -> None:
    """``_what_it_held`` 7 (a damaged table's counts were reported under the key ``DOCUMENTS``)."""
    bus = FFEventBus()
    seen: list[FFEvent] = []
    bus.subscribe("knowledge.base_deleted", seen.append)
    async with FFKnowledgeBaseManager(config, bus=bus) as kb:
        kb_id = (await kb.create_knowledge_base("alice", "Physics")).kb_id
        await kb.add_document("alice", kb_id, content=OPTICS, format="markdown")
        path = kb._catalog.catalog_path("alice", kb_id)
        catalog = json.loads(path.read_text(encoding="utf-8"))
        damage(catalog)
        path.write_text(json.dumps(catalog), encoding="utf-8")

        await kb.delete_knowledge_base("alice", kb_id)

        assert [e.payload for e in seen] == [{"kb_id": kb_id, "documents": 0, "chunks": 0}]
        assert not path.parent.exists()
        assert await kb.list_knowledge_bases("alice") == []


async def test_a_new_base_catalog_holds_exactly_the_documented_parts_with_its_deleted_mark_false(
    config: FFConfigurationManagerConfigDTO,
) -> None:
    """``FFKbCatalog.create`` 32 (the mark was written as ``XXdeletedXX``).

    ``catalog.py``'s docstring: the catalog holds the base's own record, a ``revision``, a
    ``deleted`` mark and one entry per document.
    """
    async with FFKnowledgeBaseManager(config) as kb:
        base = await kb.create_knowledge_base("alice", "Physics", description="light and levers")
        catalog = json.loads(kb._catalog.catalog_path("alice", base.kb_id).read_text(encoding="utf-8"))

    assert set(catalog) == {"schema_version", "kb", "revision", "deleted", "documents"}
    assert catalog["deleted"] is False
    assert (catalog["schema_version"], catalog["revision"], catalog["documents"]) == (KB_SCHEMA_VERSION, 0, {})
    assert {k: catalog["kb"][k] for k in ("kb_id", "user_id", "name", "description")} == {
        "kb_id": base.kb_id, "user_id": "alice", "name": "Physics", "description": "light and levers",
    }


# ---------------------------------------------------------------- checks


@pytest.mark.parametrize(
    ("user_id", "kb_id", "field"),
    [("../alice", "kb-physics", "user_id"), ("alice", "kb/physics", "kb_id"), ("", "", "user_id")],
    ids=["bad_user", "bad_base", "both_bad_user_first"],
)
async def test_an_invalid_user_or_base_id_is_refused_naming_which_one(
    config: FFConfigurationManagerConfigDTO, user_id: str, kb_id: str, field: str
) -> None:
    """``check_ids`` 5 and 11 (the error named ``XXuser_idXX`` / ``XXkb_idXX``)."""
    async with FFKnowledgeBaseManager(config) as kb:
        calls = [
            kb.get_knowledge_base(user_id, kb_id),
            kb.delete_knowledge_base(user_id, kb_id),
            kb.list_documents(user_id, kb_id),
            kb.add_document(user_id, kb_id, content=OPTICS),
            kb.search(user_id, kb_id, "light"),
        ]
        for call in calls:
            with pytest.raises(FFValidationError) as caught:
                await call
            assert caught.value.field == field
            assert caught.value.message.startswith(f"invalid {field} ")
        assert not (config.storage.base_path / "users").exists() or not any((config.storage.base_path / "users").iterdir())


# ---------------------------------------------------------------- dedup


def test_a_holder_without_a_given_length_counts_as_the_shortest() -> None:
    """``find_passage_owners`` 73 (a length missing from ``doc_lengths`` was None: TypeError in the sort).

    ``doc_lengths.get(d, 0)``: a document whose length is not given is taken as length 0, the
    most specific holder; ties still go to the earlier document.
    """
    owners = find_passage_owners([("chapter", PAGE), ("page", PAGE)], {"chapter": 5_000})
    assert [(o.owner, o.also_in) for o in owners] == [("page", ("chapter",)), ("page", ("chapter",))]
    owners = find_passage_owners([("b", PAGE), ("a", PAGE)], {})
    assert [(o.owner, o.also_in) for o in owners] == [("b", ("a",)), ("b", ("a",))]


# ---------------------------------------------------------------- documents


async def test_a_deleted_document_releases_its_held_chunks_so_the_next_new_one_is_held_instead(
    config: FFConfigurationManagerConfigDTO, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``FFKbDocuments.delete`` 40 (the held chunks were looked up under the wrong base, so kept).

    Chunks of documents ingested since the last index build wait in memory, within a bound, for
    the next build. Deleting a document in this process must give its share of the bound back:
    with room for one document, a document added after a deletion is still held, and the next
    build reads no chunks from disk.
    """
    monkeypatch.setattr(documents_module, "_MAX_FRESH_CHARS", max(len(OPTICS), len(MECHANICS)))
    chunk_reads: list[str] = []
    read_chunks = FFKbDocuments.read_chunks

    def counting(self: FFKbDocuments, user_id: str, kb_id: str, doc_id: str, entry: Any) -> Any:
        chunk_reads.append(doc_id)
        return read_chunks(self, user_id, kb_id, doc_id, entry)

    monkeypatch.setattr(FFKbDocuments, "read_chunks", counting)
    async with FFKnowledgeBaseManager(config) as kb:
        kb_id = (await kb.create_knowledge_base("alice", "Physics")).kb_id
        optics = await kb.add_document("alice", kb_id, content=OPTICS, format="markdown")
        assert kb._documents._fresh_chars == optics.text_chars
        await kb.delete_document("alice", kb_id, optics.doc_id)
        assert kb._documents._fresh_chars == 0
        mechanics = await kb.add_document("alice", kb_id, content=MECHANICS, format="markdown")
        assert kb._documents._fresh_chars == mechanics.text_chars

        hits = await kb.search("alice", kb_id, "lever torque")

        assert [h.doc_id for h in hits] == [mechanics.doc_id] * len(hits) and hits
        assert chunk_reads == [], "the new document's chunks came from memory"
        assert (kb._documents._fresh, kb._documents._fresh_chars) == ({}, 0)
