"""Panels themselves: creating one (composition, turn order, personas), reading and listing them,
and routing a question to the expert whose expertise covers it.

Creation checks everything before the first write: the type and its composition rule
(:mod:`ff_managers._panel.rules`), the turn policy and order, every participant, and each
persona a participant names. Only then is the id claimed in the owner index and ``panel.json``
written (:meth:`FFPanelStore.create`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, get_args

from ff_class_configs.ff_panel_config import FFTurnPolicyName
from ff_class_configs.ff_panel_dtos import (
    FFExpertRouteDTO,
    FFPanelDTO,
    FFPanelParticipantDTO,
    FFPanelRole,
    FFPanelType,
    FFPersonaDTO,
)
from ff_managers._core.errors import input_errors
from ff_managers._panel.checks import FFPanelInputChecker
from ff_managers._panel.owners import FFPanelOwners
from ff_managers._panel.routing import ff_rank_experts
from ff_managers._panel.rules import ff_check_composition, ff_resolve_turn_order
from ff_managers._panel.store import FFPanelStore
from ff_managers._panel.writer import RunInThread
from ff_utils.ff_errors import FFNotFoundError, FFValidationError
from ff_utils.ff_ids import ff_new_id, ff_validate_id

__all__ = ["FFPanelCatalog", "FindPersona"]

FindPersona = Callable[[str], Awaitable[FFPersonaDTO]]
"""Looks a persona up by id (the registry's ``get_persona``); FFNotFoundError when unregistered."""

_TURN_POLICIES: tuple[str, ...] = get_args(FFTurnPolicyName)


class FFPanelCatalog:
    """Creates, reads, lists and routes panels."""

    def __init__(
        self,
        store: FFPanelStore,
        owners: FFPanelOwners,
        checker: FFPanelInputChecker,
        run: RunInThread,
        find_persona: FindPersona,
    ) -> None:
        self._store = store
        self._owners = owners
        self._check = checker
        self._limits = checker.limits
        self._run = run
        self._find_persona = find_persona

    async def create(
        self,
        user_id: str,
        participants: Sequence[FFPanelParticipantDTO | Mapping[str, Any]],
        panel_type: FFPanelType | str,
        title: str,
        *,
        turn_policy: FFTurnPolicyName | None,
        turn_order: Sequence[str] | None,
        panel_id: str | None,
        created_at: datetime | None,
        metadata: Mapping[str, Any] | None,
        now: datetime,
    ) -> FFPanelDTO:
        """Check everything, then write the panel (see FFPanelSessionManager.create_panel)."""
        ff_validate_id(user_id, "user_id")
        kind = self._check.panel_type(panel_type)
        policy = self._limits.default_turn_policy if turn_policy is None else turn_policy
        if policy not in _TURN_POLICIES:
            raise FFValidationError(
                f"unknown turn policy {policy!r}; use one of {', '.join(_TURN_POLICIES)}", field="turn_policy", value=policy
            )
        seats = self._check.participants(participants)
        ff_check_composition(
            kind,
            seats,
            min_participants=self._limits.min_participants,
            max_participants=self._limits.max_participants,
        )
        order = ff_resolve_turn_order(policy, seats, turn_order)
        seats = [await self._with_persona(seat) for seat in seats]
        with input_errors(action="create panel"):
            panel = FFPanelDTO(
                panel_id=ff_validate_id(panel_id, "panel_id") if panel_id is not None else ff_new_id("panel_"),
                user_id=user_id,
                panel_type=kind,
                participants=seats,
                created_at=self._check.moment(created_at, "created_at", now),
                title=self._check.text(title, "title", self._limits.max_title_chars, allow_empty=True),
                turn_policy=policy,
                turn_order=order,
                metadata=self._check.metadata(metadata),
            )
        await self._run(self._store.create, panel)
        self._owners.remember(panel.panel_id, user_id)
        return panel

    async def get(self, user_id: str, panel_id: str) -> FFPanelDTO:
        """The panel with its current ``message_count``. Raises FFNotFoundError."""
        return await self._run(self._get, user_id, panel_id)

    async def list_panels(self, user_id: str, status: str | None, panel_type: FFPanelType | str | None) -> list[FFPanelDTO]:
        """The user's panels, oldest first, optionally only one status or type."""
        ff_validate_id(user_id, "user_id")
        if status not in (None, "open", "closed"):
            raise FFValidationError(f"unknown status {status!r}; use open or closed", field="status", value=status)
        kind = self._check.panel_type(panel_type) if panel_type is not None else None
        return await self._run(self._list, user_id, status, kind)

    async def route(self, user_id: str, panel_id: str, question: str) -> FFExpertRouteDTO:
        """The expert (or, without experts, the AI participant) whose expertise best covers ``question``.

        Raises FFNotFoundError(kind="expert") when no candidate's expertise matches.
        """
        question = self._check.text(question, "question", self._limits.max_message_chars)
        panel = await self._run(self._get, user_id, panel_id, with_count=False)
        experts = [p for p in panel.participants if p.role == FFPanelRole.EXPERT] or [
            p for p in panel.participants if p.kind == "ai"
        ]
        ranked = ff_rank_experts(question, [(p.participant_id, p.expertise) for p in experts])
        if not ranked:
            raise FFNotFoundError("no participant's expertise matches the question", kind="expert", key=panel_id)
        best = ranked[0]
        return FFExpertRouteDTO(participant_id=best.participant_id, score=best.score, matched=list(best.matched))

    # ------------------------------------------------------------------ internals

    async def _with_persona(self, seat: FFPanelParticipantDTO) -> FFPanelParticipantDTO:
        """Fill name and expertise from the persona; FFNotFoundError for an unregistered one."""
        persona: FFPersonaDTO | None = None
        if seat.persona_id is not None:
            try:
                persona = await self._find_persona(seat.persona_id)
            except FFNotFoundError:
                if self._limits.require_registered_personas:
                    raise
        name = seat.name or (persona.name if persona else None) or seat.participant_id
        expertise = seat.expertise or (list(persona.expertise) if persona else [])
        return seat.model_copy(update={"name": name, "expertise": expertise})

    def _get(self, user_id: str, panel_id: str, *, with_count: bool = True) -> FFPanelDTO:
        owner = self._owners.resolve(user_id, panel_id)
        return self._store.read_panel(owner, panel_id, with_count=with_count)

    def _list(self, user_id: str, status: str | None, kind: FFPanelType | None) -> list[FFPanelDTO]:
        panels = []
        for pid in self._store.list_panel_ids(user_id):
            try:
                panel = self._store.read_panel(user_id, pid)
            except FFNotFoundError:
                continue  # a folder whose panel.json is not written yet (creation in progress)
            if (status is None or panel.status == status) and (kind is None or panel.panel_type == kind):
                panels.append(panel)
        return sorted(panels, key=lambda p: (p.created_at, p.panel_id))
