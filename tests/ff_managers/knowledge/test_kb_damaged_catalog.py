"""A hand-damaged ``kb.json`` gets one typed error from every call that reads it, and nothing is written.

Found while reviewing the survivors of the 2026-12-08 ``_knowledge`` sample (issue 20): a catalog
without its ``revision`` counter made ``add_document`` raise a raw KeyError, and a catalog of
another layout was refused by ``get_knowledge_base`` (FFCorruptionError) but listed by
``list_knowledge_bases`` as a base with no documents. Deleting a damaged base stays possible
(``test_knowledge_fresh8_kills.py``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ff_class_configs import FFConfigurationManagerConfigDTO
from ff_managers import FFKnowledgeBaseManager
from ff_utils.ff_errors import FFCorruptionError

TEXT = "# Optics\n\nLenses bend light; a prism splits white light into a spectrum of colours.\n"


def _without(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda catalog: catalog.pop(key)


async def _damaged_base(kb: FFKnowledgeBaseManager, damage: Callable[[dict[str, Any]], None]) -> tuple[str, Path]:
    """A new base of alice's whose kb.json was then edited by hand with ``damage``: its id and kb.json."""
    kb_id = (await kb.create_knowledge_base("alice", "Physics")).kb_id
    path = kb._catalog.catalog_path("alice", kb_id)
    catalog = json.loads(path.read_text(encoding="utf-8"))
    damage(catalog)
    path.write_text(json.dumps(catalog), encoding="utf-8")
    return kb_id, path


@pytest.mark.parametrize("damage", [_without("revision"), _without("kb"), lambda c: c.update(revision="seven")],
                         ids=["no_revision", "no_kb_record", "revision_not_a_number"])
async def test_adding_to_a_damaged_catalog_is_refused_naming_the_file_and_writes_nothing(
    config: FFConfigurationManagerConfigDTO, damage: Callable[[dict[str, Any]], None]
) -> None:
    async with FFKnowledgeBaseManager(config) as kb:
        kb_id, path = await _damaged_base(kb, damage)
        before = path.read_bytes()

        with pytest.raises(FFCorruptionError) as caught:
            await kb.add_document("alice", kb_id, content=TEXT, format="markdown")

        assert caught.value.path == path
        assert path.read_bytes() == before
        assert not (path.parent / "documents").exists() or not any((path.parent / "documents").iterdir())


@pytest.mark.parametrize("damage", [_without("documents"), lambda c: c.update(schema_version=99)],
                         ids=["no_documents", "another_layout"])
async def test_list_and_get_refuse_the_same_damaged_catalog(
    config: FFConfigurationManagerConfigDTO, damage: Callable[[dict[str, Any]], None]
) -> None:
    async with FFKnowledgeBaseManager(config) as kb:
        kb_id, path = await _damaged_base(kb, damage)

        with pytest.raises(FFCorruptionError):
            await kb.get_knowledge_base("alice", kb_id)
        with pytest.raises(FFCorruptionError) as caught:
            await kb.list_knowledge_bases("alice")
        assert caught.value.path == path
