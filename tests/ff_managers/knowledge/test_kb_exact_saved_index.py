"""The saved index as a cache, exactly (issue 20, survivors of ``index.load_index`` / ``save_index``).

``load_index`` promises: the saved index is used only when its pointer names the catalog's
revision and the tokenizer signature, and a generation that is a plain folder name inside the
index folder; anything damaged is logged and rebuilt from the documents (never an error, never
another folder's index, never an index of the wrong size). An encrypted store never writes the
index in plaintext: its pointer names no generation and a restart rebuilds.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

import pytest

from ff_class_configs import load_config
from ff_managers import FFKnowledgeBaseManager
from ff_managers._knowledge.index import INDEX_POINTER_NAME
from ff_utils.ff_encryption import ff_generate_key_text

TEXT = (
    "# Optics\n\nLenses bend light; a prism splits white light into a spectrum of colours.\n\n"
    "# Acoustics\n\nSound is a pressure wave; its pitch follows the frequency of the source.\n"
)
QUERY = "prism light sound"


async def _saved(config) -> tuple[str, Path, list[Any]]:
    """A base searched once (its index saved); its index folder and the hits."""
    async with FFKnowledgeBaseManager(config) as kb:
        kb_id = (await kb.create_knowledge_base("alice", "Physics")).kb_id
        await kb.add_document("alice", kb_id, content=TEXT, format="markdown")
        hits = await kb.search("alice", kb_id, QUERY, per_document=0)
        return kb_id, kb._catalog.kb_dir("alice", kb_id) / "index", hits


async def _restart_search(config, kb_id: str) -> tuple[list[Any], int]:
    async with FFKnowledgeBaseManager(config) as kb:
        hits = await kb.search("alice", kb_id, QUERY, per_document=0)
        return hits, kb.health().details["index_rebuilds"]


def _pointer(index_dir: Path) -> dict[str, Any]:
    return json.loads((index_dir / INDEX_POINTER_NAME).read_text(encoding="utf-8"))


def _write_pointer(index_dir: Path, pointer: Any) -> None:
    (index_dir / INDEX_POINTER_NAME).write_text(json.dumps(pointer), encoding="utf-8")


async def test_the_saved_pointer_names_revision_tokenizer_generation_and_size(config) -> None:
    kb_id, index_dir, hits = await _saved(config)
    pointer = _pointer(index_dir)
    generation = pointer["generation"]
    assert set(pointer) == {"schema_version", "revision", "tokenizer", "generation", "chunk_count"}
    assert (pointer["revision"], pointer["chunk_count"]) == (1, len(hits))
    assert generation.startswith("g00000001-") and len(generation) == len("g00000001-") + 12
    assert [p.name for p in index_dir.iterdir() if p.is_dir()] == [generation]
    assert (index_dir / generation / "feedback.npz").is_file()
    again, rebuilds = await _restart_search(config, kb_id)
    assert ([h.model_dump() for h in again], rebuilds) == ([h.model_dump() for h in hits], 0)


def _hide_generation(index_dir: Path, pointer: dict[str, Any], name: str) -> dict[str, Any]:
    """Move the valid generation to ``name`` (under the index folder) and point at it."""
    target = index_dir / name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(index_dir / pointer["generation"]), str(target))
    return {**pointer, "generation": name}


DAMAGES = {
    "other_revision": lambda d, p: {**p, "revision": p["revision"] + 1},
    "other_tokenizer": lambda d, p: {**p, "tokenizer": p["tokenizer"] + "x"},
    "not_an_object": lambda d, p: [p],
    "generation_not_text": lambda d, p: {**p, "generation": 7},
    "generation_hidden": lambda d, p: _hide_generation(d, p, ".copy"),
    "generation_in_a_subfolder": lambda d, p: _hide_generation(d, p, "sub/copy"),
    "no_generation_but_chunks": lambda d, p: {**p, "generation": None},
    "no_generation_one_chunk": lambda d, p: {**p, "generation": None, "chunk_count": 1},
}


@pytest.mark.parametrize("damage", sorted(DAMAGES))
async def test_a_pointer_that_does_not_fit_is_not_used_and_the_index_is_rebuilt(config, caplog, damage: str) -> None:
    kb_id, index_dir, hits = await _saved(config)
    _write_pointer(index_dir, DAMAGES[damage](index_dir, _pointer(index_dir)))
    with caplog.at_level(logging.WARNING, logger="ff.knowledge.index"):
        again, rebuilds = await _restart_search(config, kb_id)
    assert ([h.model_dump() for h in again], rebuilds) == ([h.model_dump() for h in hits], 1)
    assert not [r for r in caplog.records if "rebuilding" in r.getMessage()], "refused silently: nothing was damaged"


def _drop_feedback(index_dir: Path, pointer: dict[str, Any]) -> str:
    (index_dir / pointer["generation"] / "feedback.npz").unlink()
    return f"index {index_dir / pointer['generation']} unreadable, rebuilding: "


def _drop_arrays(index_dir: Path, pointer: dict[str, Any]) -> str:
    for path in (index_dir / pointer["generation"]).iterdir():
        if path.suffix == ".npy":
            path.unlink()
    return f"index {index_dir / pointer['generation']} unreadable, rebuilding: "


def _miscount(index_dir: Path, pointer: dict[str, Any]) -> str:
    _write_pointer(index_dir, {**pointer, "chunk_count": pointer["chunk_count"] + 1})
    return f"index {pointer['generation']} has {pointer['chunk_count']} records for {pointer['chunk_count']} rows, rebuilding"


def _unreadable_pointer(index_dir: Path, pointer: dict[str, Any]) -> str:
    (index_dir / INDEX_POINTER_NAME).write_text("{not json", encoding="utf-8")
    return "index pointer unreadable, rebuilding: "


@pytest.mark.parametrize("damage", [_drop_feedback, _drop_arrays, _miscount, _unreadable_pointer], ids=lambda f: f.__name__)
async def test_a_damaged_index_is_logged_and_rebuilt(config, caplog, damage) -> None:
    kb_id, index_dir, hits = await _saved(config)
    expected = damage(index_dir, _pointer(index_dir))
    with caplog.at_level(logging.WARNING, logger="ff.knowledge.index"):
        again, rebuilds = await _restart_search(config, kb_id)
    assert ([h.model_dump() for h in again], rebuilds) == ([h.model_dump() for h in hits], 1)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and "rebuilding" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].startswith(expected), warnings
    assert expected.endswith("rebuilding") or not warnings[0].endswith(("None", "%s")), "the cause is named"


async def test_an_encrypted_store_never_saves_the_index_in_plaintext(tmp_path) -> None:
    key_file = tmp_path / "k.key"
    key_file.write_text(ff_generate_key_text())
    config = load_config(environ={}, overrides={"storage": {"base_path": str(tmp_path / "root"), "encryption_key_file": str(key_file)}})
    kb_id, index_dir, hits = await _saved(config)
    assert [p for p in index_dir.iterdir() if p.is_dir()] == []
    async with FFKnowledgeBaseManager(config) as kb:
        pointer = kb._catalog.store.read_json(index_dir / INDEX_POINTER_NAME)
        assert (pointer["generation"], pointer["chunk_count"], pointer["revision"]) == (None, len(hits), 1)
    again, rebuilds = await _restart_search(config, kb_id)
    assert ([h.model_dump() for h in again], rebuilds) == ([h.model_dump() for h in hits], 1)


async def test_a_first_search_finds_no_pointer_and_logs_nothing(config, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="ff.knowledge.index"):
        await _saved(config)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


async def test_a_loaded_index_keeps_its_feedback_and_its_revision(tmp_path, monkeypatch) -> None:
    """RM3 on (no minimum of chunks, every word a feedback candidate): the loaded index answers
    with the same scores as the one built; labelled with its revision, a catalog rewritten
    without a change does not load it again (an empty base's too)."""
    from ff_managers._knowledge import search as search_module

    config = load_config(base_path=tmp_path, environ={}, overrides={"knowledge": {"feedback_min_chunks": 0, "feedback_max_df_ratio": 1.0}})
    kb_id, _index_dir, hits = await _saved(config)
    async with FFKnowledgeBaseManager(config) as kb:
        empty = (await kb.create_knowledge_base("alice", "Empty")).kb_id
        await kb.refresh_index("alice", empty)
    loads: list[str] = []
    real = search_module.load_index
    monkeypatch.setattr(search_module, "load_index", lambda store, index_dir, **kw: loads.append(index_dir.parent.name) or real(store, index_dir, **kw))
    async with FFKnowledgeBaseManager(config) as kb:
        again = await kb.search("alice", kb_id, QUERY, per_document=0)
        assert [h.model_dump() for h in again] == [h.model_dump() for h in hits]
        await kb.refresh_index("alice", empty)
        for base in (kb_id, empty):
            catalog = kb._catalog.catalog_path("alice", base)
            copy = catalog.with_name("kb.copy")
            copy.write_bytes(catalog.read_bytes())
            copy.replace(catalog)
            await kb.refresh_index("alice", base)
        assert (loads, kb.health().details["index_rebuilds"]) == ([kb_id, empty], 0)
