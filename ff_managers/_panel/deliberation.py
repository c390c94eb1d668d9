"""What a panel concludes: insights (citing the messages they came from), decisions put to the
panel, and the participants' votes with their tallies.

Each record is one line appended to its log (``insights.jsonl``, ``decisions.jsonl``,
``votes.jsonl``) under the panel's lock, after the checks that need the panel as it is now (the
participant exists, the cited messages exist, the decision and its option exist). A later vote
by the same participant replaces the earlier one in the tally, not in the log
(:func:`ff_managers._panel.analytics.ff_tally_decisions`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from ff_class_configs.ff_panel_dtos import FFDecisionTallyDTO, FFPanelDecisionDTO, FFPanelInsightDTO, FFPanelVoteDTO
from ff_managers._core.errors import input_errors
from ff_managers._panel.analytics import ff_tally_decisions
from ff_managers._panel.checks import FFPanelInputChecker
from ff_managers._panel.owners import FFPanelOwners
from ff_managers._panel.store import FFLockedPanel, FFPanelStore
from ff_managers._panel.writer import RunInThread
from ff_utils.ff_errors import FFNotFoundError, FFValidationError
from ff_utils.ff_ids import ff_new_id, ff_validate_id

__all__ = ["FFPanelDeliberation"]


class FFPanelDeliberation:
    """Records and reads insights, decisions and votes; tallies the votes."""

    def __init__(self, store: FFPanelStore, owners: FFPanelOwners, checker: FFPanelInputChecker, run: RunInThread) -> None:
        self._store = store
        self._owners = owners
        self._check = checker
        self._limits = checker.limits
        self._run = run

    # ------------------------------------------------------------------ insights

    async def record_insight(
        self,
        user_id: str,
        panel_id: str,
        content: str,
        *,
        participant_id: str | None,
        category: str,
        source_message_ids: Sequence[str] | None,
        confidence: float | None,
        metadata: Mapping[str, Any] | None,
        now: datetime,
    ) -> FFPanelInsightDTO:
        """Append an insight whose participant and cited messages exist, and return it."""
        text = self._check.content(content, "content", self._limits.max_insight_chars)
        owner = await self._run(self._owners.resolve, user_id, panel_id)
        with input_errors(action="record insight"):
            insight = FFPanelInsightDTO(
                insight_id=ff_new_id("ins_"),
                panel_id=panel_id,
                content=text,
                created_at=now,
                participant_id=participant_id,
                category=self._check.text(category, "category", self._limits.max_name_chars),
                source_message_ids=list(source_message_ids or []),
                confidence=confidence,
                metadata=self._check.metadata(metadata),
            )

        def write(locked: FFLockedPanel) -> None:
            self._check.require_member(locked.panel, participant_id, "participant_id")
            missing = locked.missing_message_ids(insight.source_message_ids)
            if missing:
                raise FFValidationError(
                    f"source messages not in this panel: {', '.join(sorted(missing))}", field="source_message_ids"
                )
            locked.append("insights", [insight.model_dump(mode="json")])

        await self._run(self._store.change_open, owner, panel_id, write)
        return insight

    async def insights(self, user_id: str, panel_id: str, category: str | None) -> list[FFPanelInsightDTO]:
        """Insights in the order recorded, optionally one category only."""
        insights = await self._run(self._insights, user_id, panel_id)
        return [i for i in insights if category is None or i.category == category]

    # ------------------------------------------------------------------ decisions and votes

    async def record_decision(
        self,
        user_id: str,
        panel_id: str,
        question: str,
        options: Sequence[str],
        *,
        proposed_by: str | None,
        metadata: Mapping[str, Any] | None,
        now: datetime,
    ) -> FFPanelDecisionDTO:
        """Append a decision proposed by a participant of the panel (or by nobody in particular)."""
        text = self._check.text(question, "question", self._limits.max_insight_chars)
        choices = self._check.options(options)
        owner = await self._run(self._owners.resolve, user_id, panel_id)
        with input_errors(action="record decision"):
            decision = FFPanelDecisionDTO(
                decision_id=ff_new_id("dec_"),
                panel_id=panel_id,
                question=text,
                options=choices,
                created_at=now,
                proposed_by=proposed_by,
                metadata=self._check.metadata(metadata),
            )

        def write(locked: FFLockedPanel) -> None:
            self._check.require_member(locked.panel, proposed_by, "proposed_by")
            locked.append("decisions", [decision.model_dump(mode="json")])

        await self._run(self._store.change_open, owner, panel_id, write)
        return decision

    async def cast_vote(
        self,
        user_id: str,
        panel_id: str,
        decision_id: str,
        participant_id: str,
        option: str,
        *,
        rationale: str | None,
        now: datetime,
    ) -> FFPanelVoteDTO:
        """Append a participant's vote for one option of an existing decision."""
        ff_validate_id(decision_id, "decision_id")
        if rationale is not None:
            rationale = self._check.content(rationale, "rationale", self._limits.max_insight_chars)
        owner = await self._run(self._owners.resolve, user_id, panel_id)
        with input_errors(action="cast vote"):
            vote = FFPanelVoteDTO(
                vote_id=ff_new_id("vote_"),
                panel_id=panel_id,
                decision_id=decision_id,
                participant_id=participant_id,
                option=option,
                created_at=now,
                rationale=rationale,
            )

        def write(locked: FFLockedPanel) -> None:
            self._check.require_member(locked.panel, participant_id, "participant_id")
            decisions = self._store.records(owner, panel_id, "decisions", FFPanelDecisionDTO)
            decision = next((d for d in decisions if d.decision_id == decision_id), None)
            if decision is None:
                raise FFNotFoundError(f"no decision {decision_id!r} in panel {panel_id!r}", kind="decision", key=decision_id)
            if option not in decision.options:
                raise FFValidationError(f"option {option!r} is not one of {decision.options}", field="option", value=option)
            locked.append("votes", [vote.model_dump(mode="json")])

        await self._run(self._store.change_open, owner, panel_id, write)
        return vote

    async def tallies(self, user_id: str, panel_id: str) -> list[FFDecisionTallyDTO]:
        """Every decision with its current tally and consensus, in the order recorded."""
        return await self._run(self._tallies_of, user_id, panel_id)

    def read_tallies(self, owner: str, panel_id: str) -> list[FFDecisionTallyDTO]:
        """The tallies of a panel whose owner is known (blocking)."""
        decisions = list(self._store.records(owner, panel_id, "decisions", FFPanelDecisionDTO))
        votes = list(self._store.records(owner, panel_id, "votes", FFPanelVoteDTO))
        return ff_tally_decisions(decisions, votes)

    # ------------------------------------------------------------------ blocking work (threads)

    def _insights(self, user_id: str, panel_id: str) -> list[FFPanelInsightDTO]:
        owner = self._owners.resolve(user_id, panel_id)
        return list(self._store.records(owner, panel_id, "insights", FFPanelInsightDTO))

    def _tallies_of(self, user_id: str, panel_id: str) -> list[FFDecisionTallyDTO]:
        return self.read_tallies(self._owners.resolve(user_id, panel_id), panel_id)
