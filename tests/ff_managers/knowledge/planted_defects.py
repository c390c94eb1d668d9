"""Planted defects inside ``ff_managers._knowledge`` (collected by ``tests/planted_defects``).

They replace one method of the private package for the length of a suite run; the component
suite's ``stray_files_ignored`` test must turn red on each.
"""

from __future__ import annotations

from typing import Any

from ff_managers._knowledge import catalog
from ff_managers._knowledge.catalog import CATALOG_NAME, FFKbCatalog
from tests._planted import PlantedDefect

__all__ = ["DEFECTS"]


def _list_bases_with_hidden_folders(self: FFKbCatalog, user_id: str) -> list[Any]:
    """list_knowledge_bases reads every folder with a catalog, hidden ones too: a staging copy
    left by a crash (``.<kb_id>.staging.tmp``) lists the knowledge base twice."""
    knowledge = self.knowledge_dir(user_id)
    if not self.store.exists(knowledge):
        return []
    bases = []
    for entry in self.store.list_dir(knowledge):
        if not entry.is_dir:
            continue
        data = self.store.read_json(entry.path / CATALOG_NAME, None)
        if data is None or data.get("deleted"):
            continue
        bases.append(self._base_dto(data, entry.path / CATALOG_NAME))
    bases.sort(key=lambda b: (b.created_at, b.kb_id))
    return bases


DEFECTS: tuple[PlantedDefect, ...] = (
    PlantedDefect(
        name="kb_listing_takes_hidden_folders", what=" ".join((_list_bases_with_hidden_folders.__doc__ or "").split()),
        origin="README", suite="component", test="stray_files_ignored",
        patches=((catalog.FFKbCatalog, "list_bases", _list_bases_with_hidden_folders),),
    ),
)
