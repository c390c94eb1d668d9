"""Closing a panel and its figures: the final analytics written once at close, live ones before.

Closing holds the panel's lock, so no message lands after it. ``analytics.json`` is written
before ``panel.json`` turns closed: a crash between the two leaves an open panel whose next close
rewrites the figures, never a closed panel without them. The figures themselves are computed by
the pure :mod:`ff_managers._panel.analytics` from one pass over the logs.
"""

from __future__ import annotations

from datetime import datetime

from ff_class_configs.ff_panel_dtos import FFPanelAnalyticsDTO, FFPanelDTO, FFPanelInsightDTO, FFPanelMessageDTO
from ff_managers._panel.analytics import ff_panel_analytics
from ff_managers._panel.checks import FFPanelInputChecker
from ff_managers._panel.deliberation import FFPanelDeliberation
from ff_managers._panel.owners import FFPanelOwners
from ff_managers._panel.store import FFLockedPanel, FFPanelStore
from ff_managers._panel.turns import FFRoundRobinTurnPolicy, ff_turn_policy_for
from ff_managers._panel.writer import RunInThread

__all__ = ["FFPanelClosing"]


class FFPanelClosing:
    """Closes panels and computes (or reads back) their analytics."""

    def __init__(
        self,
        store: FFPanelStore,
        owners: FFPanelOwners,
        deliberation: FFPanelDeliberation,
        checker: FFPanelInputChecker,
        run: RunInThread,
    ) -> None:
        self._store = store
        self._owners = owners
        self._deliberation = deliberation
        self._check = checker
        self._run = run

    async def close(self, user_id: str, panel_id: str, summary: str | None, closed_at: datetime) -> FFPanelAnalyticsDTO:
        """Close the panel, store its final figures and return them.

        Raises FFValidationError (an oversized summary), FFNotFoundError, FFConflictError (already closed).
        """
        if summary is not None:
            summary = self._check.content(summary, "summary", self._check.limits.max_insight_chars)
        owner = await self._run(self._owners.resolve, user_id, panel_id)

        def close(locked: FFLockedPanel) -> FFPanelAnalyticsDTO:
            panel = locked.panel.model_copy(update={"status": "closed", "closed_at": closed_at, "summary": summary})
            figures = self._figures(owner, panel, closed_at)
            locked.write_document("analytics", figures.model_dump(mode="json"))
            locked.write_panel(panel)
            return figures

        return await self._run(self._store.change_open, owner, panel_id, close)

    async def analytics(self, user_id: str, panel_id: str, now: datetime) -> FFPanelAnalyticsDTO:
        """The stored final analytics of a closed panel, or live figures of an open one."""
        return await self._run(self._analytics, user_id, panel_id, now)

    def _analytics(self, user_id: str, panel_id: str, now: datetime) -> FFPanelAnalyticsDTO:
        owner = self._owners.resolve(user_id, panel_id)
        panel = self._store.read_panel(owner, panel_id, with_count=False)
        if panel.status == "closed":
            stored = self._store.read_document(owner, panel_id, "analytics", default=None)
            if stored is not None:
                path = self._store.document_path(owner, panel_id, "analytics")
                return self._store.storage.load(FFPanelAnalyticsDTO, stored, path)
        return self._figures(owner, panel, now)

    def _figures(self, owner: str, panel: FFPanelDTO, now: datetime) -> FFPanelAnalyticsDTO:
        policy = ff_turn_policy_for(panel)
        return ff_panel_analytics(
            panel,
            self._store.records(owner, panel.panel_id, "messages", FFPanelMessageDTO),
            insight_count=sum(1 for _ in self._store.records(owner, panel.panel_id, "insights", FFPanelInsightDTO)),
            tallies=self._deliberation.read_tallies(owner, panel.panel_id),
            computed_at=now,
            round_size=len(policy.order) if isinstance(policy, FFRoundRobinTurnPolicy) else None,
        )
