"""The panel package wired together: one instance of each part, sharing one store and one owner check.

The façade (:class:`ff_managers.FFPanelSessionManager`) builds its parts here, so it keeps only
the public methods: each checks nothing itself, makes one call into a part and publishes at most
one kind of event. Every part is handed the same :class:`FFPanelOwners`, the check every call
into the package starts with.
"""

from __future__ import annotations

from dataclasses import dataclass

from ff_class_configs.ff_panel_config import FFPanelConfigDTO
from ff_managers._panel.checks import FFPanelInputChecker
from ff_managers._panel.closing import FFPanelClosing
from ff_managers._panel.deliberation import FFPanelDeliberation
from ff_managers._panel.messages import FFPanelMessages
from ff_managers._panel.owners import FFPanelOwners
from ff_managers._panel.panels import FFPanelCatalog, FindPersona
from ff_managers._panel.state import FFPanelStateDocument
from ff_managers._panel.store import FFPanelStore
from ff_managers._panel.writer import FFPanelMessageWriter, RunInThread
from ff_utils.ff_store import FFStore

__all__ = ["FFPanelParts"]


@dataclass(frozen=True, slots=True)
class FFPanelParts:
    """Everything a panel manager delegates to."""

    store: FFPanelStore
    owners: FFPanelOwners
    check: FFPanelInputChecker
    panels: FFPanelCatalog
    messages: FFPanelMessages
    deliberation: FFPanelDeliberation
    state: FFPanelStateDocument
    closing: FFPanelClosing

    @classmethod
    def build(cls, storage: FFStore, limits: FFPanelConfigDTO, run: RunInThread, find_persona: FindPersona) -> FFPanelParts:
        """Wire the parts; the message writer goes through ``storage.io`` (drained by the manager's shutdown)."""
        store = FFPanelStore(storage)
        check = FFPanelInputChecker(limits)
        owners = FFPanelOwners(store)
        writer = FFPanelMessageWriter(store, check, run)
        deliberation = FFPanelDeliberation(store, owners, check, run)
        return cls(
            store=store,
            owners=owners,
            check=check,
            panels=FFPanelCatalog(store, owners, check, run, find_persona),
            messages=FFPanelMessages(store, owners, writer, check, run),
            deliberation=deliberation,
            state=FFPanelStateDocument(store, owners, check, run),
            closing=FFPanelClosing(store, owners, deliberation, check, run),
        )
