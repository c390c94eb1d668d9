"""Planted defects inside ``ff_managers._panel`` (collected by ``tests/planted_defects``).

They replace one method of the private package for the length of a suite run; the component
suite's ``stray_files_ignored`` test must turn red on each.
"""

from __future__ import annotations

from ff_managers._panel.store import FFPanelStore
from tests._planted import PlantedDefect

__all__ = ["DEFECTS"]


def _panel_ids_of_every_folder(self: FFPanelStore, user_id: str) -> list[str]:
    """Panel ids are the names of every sub-folder (no id check): a leftover staging folder
    (``.<panel_id>.staging.tmp``) is listed as a panel."""
    folder = self.user_panels_dir(user_id)
    if not self.storage.exists(folder):
        return []
    return [entry.name for entry in self.storage.list_dir(folder) if entry.is_dir]


DEFECTS: tuple[PlantedDefect, ...] = (
    PlantedDefect(
        name="panel_listing_takes_any_folder", what=" ".join((_panel_ids_of_every_folder.__doc__ or "").split()),
        origin="README", suite="component", test="stray_files_ignored",
        patches=((FFPanelStore, "list_panel_ids", _panel_ids_of_every_folder),),
    ),
)
