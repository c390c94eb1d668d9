"""Survivors of the 2026-12-08 uniform sample of ``_knowledge`` (issue 20), pinned by behaviour.

A taken base id is named by the conflict; a base whose catalog lost its ``revision`` can still be
deleted; a name or title that is not text is refused naming its field; RM3 feeds back the best
scored chunk, also when hundreds of chunks matched; feedback rows of no rows are empty and round-
trip; chunk ids are stable across releases; ``chunks.json`` records the checksum of the text its
offsets index; a rebuild logs its base, chunk count and time at debug level.
The equivalent survivors of the same sample are listed in
docs/mutation/equivalent/_knowledge/sample-20261208.toml.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re

import numpy as np
import pytest

from ff_class_configs import FFConfigurationManagerConfigDTO
from ff_managers import FFEvent, FFEventBus, FFKnowledgeBaseManager
from ff_managers._knowledge.feedback import FFFeedbackRows, FFFeedbackSettings, expand_query
from ff_utils.ff_errors import FFConflictError, FFNotFoundError, FFValidationError

TEXT = "# Optics\n\nLenses bend light; a prism splits white light into a spectrum of colours.\n"


# ---------------------------------------------------------------- catalog


async def test_a_taken_base_id_is_named_by_the_conflict(config: FFConfigurationManagerConfigDTO) -> None:
    """``FFKbCatalog.create`` 39 (the conflict's context said ``kb_id=None``)."""
    async with FFKnowledgeBaseManager(config) as kb:
        await kb.create_knowledge_base("alice", "Physics", kb_id="kb-physics")
        with pytest.raises(FFConflictError) as caught:
            await kb.create_knowledge_base("alice", "Other", kb_id="kb-physics")
        assert caught.value.message == "knowledge base 'kb-physics' already exists"
        assert caught.value.context == {"kb_id": "kb-physics"}


async def test_a_base_whose_catalog_lost_its_revision_can_still_be_deleted(config: FFConfigurationManagerConfigDTO) -> None:
    """``FFKbCatalog.delete`` 48 (``current.get("revision")`` without its default 0: a raw TypeError).

    ``delete`` reads the catalog with defaults for everything but the live mark, so a damaged base
    can be removed; a catalog without its revision counter is deleted as revision 0 was.
    """
    bus = FFEventBus()
    seen: list[FFEvent] = []
    bus.subscribe("knowledge.base_deleted", seen.append)
    async with FFKnowledgeBaseManager(config, bus=bus) as kb:
        kb_id = (await kb.create_knowledge_base("alice", "Physics")).kb_id
        doc = await kb.add_document("alice", kb_id, content=TEXT, format="markdown")
        path = kb._catalog.catalog_path("alice", kb_id)
        catalog = json.loads(path.read_text(encoding="utf-8"))
        del catalog["revision"]
        path.write_text(json.dumps(catalog), encoding="utf-8")

        await kb.delete_knowledge_base("alice", kb_id)

        assert [e.payload for e in seen] == [{"kb_id": kb_id, "documents": 1, "chunks": doc.chunk_count}]
        assert not path.parent.exists()
        assert await kb.list_knowledge_bases("alice") == []
        with pytest.raises(FFNotFoundError):
            await kb.get_knowledge_base("alice", kb_id)


# ---------------------------------------------------------------- checks


@pytest.mark.parametrize("value", [42, None, b"Physics"], ids=["int", "none", "bytes"])
async def test_a_name_or_title_that_is_not_text_is_refused_naming_its_field(
    config: FFConfigurationManagerConfigDTO, value: object
) -> None:
    """``check_label`` 11 (``.strip()`` called on any value: AttributeError for a non-text one)."""
    async with FFKnowledgeBaseManager(config) as kb:
        with pytest.raises(FFValidationError) as caught:
            await kb.create_knowledge_base("alice", value)  # type: ignore[arg-type]
        assert (caught.value.field, caught.value.message) == ("name", f"name must be text, not {type(value).__name__}")
        assert await kb.list_knowledge_bases("alice") == []

        kb_id = (await kb.create_knowledge_base("alice", "Physics")).kb_id
        with pytest.raises(FFValidationError) as caught:
            await kb.create_knowledge_base("alice", "Other", description=value)  # type: ignore[arg-type]
        assert caught.value.field == "description"
        if value is not None:  # None means "no title" / "no source"
            for field in ("title", "source"):
                with pytest.raises(FFValidationError) as caught:
                    await kb.add_document("alice", kb_id, content=TEXT, **{field: value})  # type: ignore[arg-type]
                assert (caught.value.field, caught.value.message) == (field, f"{field} must be text, not {type(value).__name__}")
        assert await kb.list_documents("alice", kb_id) == []


# ---------------------------------------------------------------- feedback


def test_feedback_comes_from_the_best_scored_chunk_among_hundreds() -> None:
    """``expand_query`` 22 (``argpartition(+scores)``: the worst matches fed back) and 24 (the
    partition at ``docs - 2``: with ``docs`` 1 an arbitrary match fed back once the matches are
    many, here 300; numpy's selection leaves a lesser one first)."""
    rows = 300
    scores = (np.arange(rows) * 7 % rows + 1).astype(np.float64)  # a permutation of 1..300
    best = int(np.argmax(scores))  # row 257
    # Row i uses only term i; the query's own term (300) is in no row.
    feedback = FFFeedbackRows.build([[i] for i in range(rows)], vocab_size=rows + 1, max_df_ratio=1.0)
    settings = FFFeedbackSettings(docs=1, terms=5, original_weight=0.5)
    expanded = expand_query({rows: 1.0}, scores, feedback, rows + 1, settings)
    assert expanded == {rows: 0.5, best: 0.5}


def test_feedback_rows_of_no_rows_are_empty_and_round_trip() -> None:
    """``FFFeedbackRows.build`` 76 (the empty weights of an index without rows had one element)."""
    rows = FFFeedbackRows.build([], vocab_size=4, max_df_ratio=0.5)
    assert (rows.indptr.tolist(), rows.term_ids.tolist(), rows.weights.tolist()) == ([0], [], [])
    assert (rows.term_ids.dtype, rows.weights.dtype) == (np.int32, np.float32)
    again = FFFeedbackRows.from_bytes(rows.to_bytes(), rows=0)
    assert (again.indptr.tolist(), again.term_ids.tolist(), again.weights.tolist()) == ([0], [], [])


# ---------------------------------------------------------------- ingest


async def test_chunk_ids_are_stable_across_releases(config: FFConfigurationManagerConfigDTO) -> None:
    """``_chunk_id`` 11 (33 hex digits): callers keep chunk ids (citations), so the same document
    id, position and text must give the same id in every release: ``ck-`` and 32 hex digits of the
    SHA-256 of ``doc_id NUL index NUL text``."""
    async with FFKnowledgeBaseManager(config) as kb:
        kb_id = (await kb.create_knowledge_base("alice", "Physics")).kb_id
        await kb.add_document("alice", kb_id, content=TEXT, format="markdown", document_id="doc-optics")
        [hit] = await kb.search("alice", kb_id, "prism light")
        assert hit.chunk_id == "ck-9c77b3ca9cd90120aeffc797dc12b9f1"
        text = TEXT[hit.char_start : hit.char_end]
        assert hit.chunk_id == "ck-" + hashlib.sha256(f"doc-optics\x000\x00{text}".encode()).hexdigest()[:32]
        assert (await kb.get_chunk("alice", kb_id, hit.chunk_id)).text == text


async def test_chunks_json_records_the_checksum_of_the_text_its_offsets_index(config: FFConfigurationManagerConfigDTO) -> None:
    """``FFKbIngest._write_files`` 36 (the checksum stored under ``TEXT_SHA256``): the file names
    the text its offsets index, for single adds and batches alike."""
    async with FFKnowledgeBaseManager(config) as kb:
        kb_id = (await kb.create_knowledge_base("alice", "Physics")).kb_id
        single = await kb.add_document("alice", kb_id, content=TEXT, format="markdown")
        [batched] = await kb.add_documents("alice", kb_id, [{"content": "Prisms split white light.", "title": "Prisms"}])
        for doc in (single, batched):
            doc_dir = kb._catalog.document_dir("alice", kb_id, doc.doc_id)
            stored = json.loads((doc_dir / "chunks.json").read_text(encoding="utf-8"))
            assert set(stored) == {"schema_version", "doc_id", "text_sha256", "chunks"}
            assert stored["doc_id"] == doc.doc_id
            assert stored["text_sha256"] == doc.text_sha256 == hashlib.sha256((doc_dir / "text.txt").read_bytes()).hexdigest()


# ---------------------------------------------------------------- search


async def test_a_rebuild_logs_its_base_chunk_count_and_time_at_debug(
    config: FFConfigurationManagerConfigDTO, caplog: pytest.LogCaptureFixture
) -> None:
    """``FFKbSearch._build`` 91 (the base logged as None) and 95 (an argument dropped: a record
    that cannot be formatted)."""
    async with FFKnowledgeBaseManager(config) as kb:
        kb_id = (await kb.create_knowledge_base("alice", "Physics")).kb_id
        await kb.add_document("alice", kb_id, content=TEXT, format="markdown")
        with caplog.at_level(logging.DEBUG, logger="ff.knowledge"):
            await kb.search("alice", kb_id, "prism light")
    lines = [r.getMessage() for r in caplog.records if r.name == "ff.knowledge" and "rebuilt index" in r.msg]
    assert len(lines) == 1
    assert re.fullmatch(rf"rebuilt index of alice/{re.escape(kb_id)}: 1 chunks in \d+\.\d ms", lines[0]), lines
