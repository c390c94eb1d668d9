"""An index rebuilt from the stored documents, exactly (issue 20, survivors of ``FFKbDocuments.read_chunks``).

A manager that did not ingest a document (a restart) rebuilds its index from each document's
``text.txt`` and ``chunks.json``: every hit must come back field for field as the ingesting
manager returned it (ids, index, offsets, heading, text), and files that disagree with the
catalog are an FFCorruptionError naming the file, never chunks cut from the wrong text.
"""

from __future__ import annotations

import json

import pytest

from ff_class_configs.ff_knowledge_dtos import FFKnowledgeChunkDTO
from ff_managers import FFKnowledgeBaseManager
from ff_utils.ff_errors import FFCorruptionError

TEXT = (
    "# Thermodynamics\n\n## Entropy\n\nEntropy measures the number of microscopic configurations of a state. "
    "It never decreases in an isolated system.\n\n## Enthalpy\n\nEnthalpy adds pressure times volume to the "
    "internal energy; chemists use it for reactions at constant pressure.\n\n"
) * 6
QUERY = "entropy enthalpy pressure configurations"


async def _ingested(config) -> tuple[str, str, list]:
    async with FFKnowledgeBaseManager(config) as kb:
        base = await kb.create_knowledge_base("alice", "Physics")
        doc = await kb.add_document("alice", base.kb_id, content=TEXT, title="Heat", format="markdown")
        assert doc.chunk_count >= 3
        hits = await kb.search("alice", base.kb_id, QUERY, top_k=50, per_document=0)
        assert len(hits) == doc.chunk_count
        return base.kb_id, doc.doc_id, hits


async def test_a_restarted_manager_rebuilds_every_chunk_field_for_field(config) -> None:
    kb_id, _doc_id, hits = await _ingested(config)
    async with FFKnowledgeBaseManager(config) as kb:
        await kb.refresh_index("alice", kb_id, force=True)
        again = await kb.search("alice", kb_id, QUERY, top_k=50, per_document=0)
        assert [h.model_dump() for h in again] == [h.model_dump() for h in hits]
        for hit in hits:
            chunk = await kb.get_chunk("alice", kb_id, hit.chunk_id)
            assert chunk.model_dump() == {name: getattr(hit, name) for name in FFKnowledgeChunkDTO.model_fields}
            assert TEXT[hit.char_start : hit.char_end] == hit.text
    assert {h.heading for h in hits} >= {"Thermodynamics > Entropy", "Thermodynamics > Enthalpy"}


async def test_a_text_file_that_does_not_match_its_checksum_is_corruption(config) -> None:
    kb_id, doc_id, _hits = await _ingested(config)
    async with FFKnowledgeBaseManager(config) as kb:
        doc_dir = config.storage.base_path / "users" / "alice" / "knowledge" / kb_id / "documents" / doc_id
        (doc_dir / "text.txt").write_text(TEXT.replace("Entropy", "Entrop!"), encoding="utf-8")
        with pytest.raises(FFCorruptionError) as caught:
            await kb.refresh_index("alice", kb_id, force=True)
        assert caught.value.message == f"text of document {doc_id!r} does not match its checksum"
        assert caught.value.path == doc_dir / "text.txt"


@pytest.mark.parametrize("damage", ["no_heading", "bad_start", "not_a_list"])
async def test_malformed_chunks_are_corruption_naming_the_file(config, damage: str) -> None:
    kb_id, doc_id, _hits = await _ingested(config)
    async with FFKnowledgeBaseManager(config) as kb:
        doc_dir = config.storage.base_path / "users" / "alice" / "knowledge" / kb_id / "documents" / doc_id
        stored = json.loads((doc_dir / "chunks.json").read_text(encoding="utf-8"))
        if damage == "no_heading":
            del stored["chunks"][1]["heading"]
        elif damage == "bad_start":
            stored["chunks"][0]["char_start"] = "first"
        else:
            stored["chunks"] = [1, 2]
        (doc_dir / "chunks.json").write_text(json.dumps(stored), encoding="utf-8")
        with pytest.raises(FFCorruptionError) as caught:
            await kb.refresh_index("alice", kb_id, force=True)
        assert caught.value.message.startswith(f"chunks of document {doc_id!r} are malformed: ")
        assert caught.value.path == doc_dir / "chunks.json"


async def test_a_text_file_that_is_not_utf8_is_corruption_naming_the_action(config) -> None:
    kb_id, doc_id, _hits = await _ingested(config)
    async with FFKnowledgeBaseManager(config) as kb:
        doc_dir = config.storage.base_path / "users" / "alice" / "knowledge" / kb_id / "documents" / doc_id
        (doc_dir / "text.txt").write_bytes(b"\xff" + TEXT.encode("utf-8"))
        with pytest.raises(FFCorruptionError) as caught:
            await kb.refresh_index("alice", kb_id, force=True)
        assert caught.value.message == "cannot read document text: not UTF-8: invalid start byte"
        assert caught.value.path == doc_dir / "text.txt"


async def test_health_counts_rebuilds_and_reports_the_last_and_slowest(config) -> None:
    kb_id, _doc_id, _hits = await _ingested(config)
    async with FFKnowledgeBaseManager(config) as kb:
        assert kb.health().details == {"cached_knowledge_bases": 0, "index_rebuilds": 0, "last_rebuild_ms": None, "max_rebuild_ms": None}
        other = await kb.create_knowledge_base("alice", "Other")
        await kb.add_document("alice", other.kb_id, content="Optics bends light through lenses.", title="Optics")
        for _ in range(3):
            await kb.refresh_index("alice", kb_id, force=True)
        await kb.refresh_index("alice", other.kb_id, force=True)
        details = kb.health().details
        assert (details["cached_knowledge_bases"], details["index_rebuilds"]) == (2, 4)
        kb._search._rebuild_ms[:] = [5.0001234, 9.50049, 2.25]  # durations pinned: the figures are exact
        assert kb.health().details == {"cached_knowledge_bases": 2, "index_rebuilds": 4, "last_rebuild_ms": 2.25, "max_rebuild_ms": 9.5}


async def test_a_restarted_manager_loads_the_saved_index_instead_of_rebuilding(config) -> None:
    """The saved index is a cache: a restart must use it (no rebuild) and answer the same hits."""
    kb_id, _doc_id, hits = await _ingested(config)
    async with FFKnowledgeBaseManager(config) as kb:
        again = await kb.search("alice", kb_id, QUERY, top_k=50, per_document=0)
        assert [h.model_dump() for h in again] == [h.model_dump() for h in hits]
        assert kb.health().details["index_rebuilds"] == 0
        empty = await kb.create_knowledge_base("alice", "Empty")
        await kb.refresh_index("alice", empty.kb_id)
    async with FFKnowledgeBaseManager(config) as kb:  # an empty base's saved index loads too
        stats = await kb.refresh_index("alice", empty.kb_id)
        assert kb.health().details["index_rebuilds"] == 0, stats
