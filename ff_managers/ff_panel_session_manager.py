"""FFPanelSessionManager: multi-persona panel sessions (panel, debate, delegation, game master...).

A panel belongs to one user and lives under ``users/<user_id>/panels/<panel_id>/`` (layout in
:mod:`ff_managers._panel.store`). Every method takes the caller's ``user_id`` first, as the other
managers' methods do, and checks it against the panel's owner before anything else
(:mod:`ff_managers._panel.owners`): another user's panel answers exactly like a missing one
(FFNotFoundError "no panel '<id>'"), so a caller cannot probe for other users' panel ids, and
there is no way to skip the check.

Every call validates all of its input before writing: bad ids, empty or oversized text, unknown
participants, unknown ``reply_to``, duplicate participant ids, a bad panel type... raise one
FFValidationError and leave the data root unchanged. State conflicts (a closed panel, an
out-of-turn message, an id taken by a different message) raise FFConflictError, also before writing.

Messages are numbered 1, 2, 3... without gaps: the number is taken from the log's last record
while the panel's lock is held, so concurrent callers (threads, coroutines, processes) serialise
there. ``add_message`` is idempotent by ``message_id``: a retry of a stored message returns it
and appends nothing. One bad line in a log is skipped and reported, never fatal to a read or a
write (:mod:`ff_managers._panel.reading`). Turn policies (:mod:`ff_managers._panel.turns`) and
analytics (:mod:`ff_managers._panel.analytics`) are pure modules the package feeds.

This class is the façade: each method makes one call into a part of the private package
:mod:`ff_managers._panel` (wired in :mod:`ff_managers._panel.parts`: panels, messages,
deliberation, state, closing), which checks the input and the owner, and publishes at most one
kind of event. Events (payloads carry ids and counts, never content): ``panel.created``,
``panel.message_added``, ``panel.insight_recorded``, ``panel.closed``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from ff_class_configs.ff_configuration_manager_config import FFConfigurationManagerConfigDTO
from ff_class_configs.ff_panel_config import FFTurnPolicyName
from ff_class_configs.ff_panel_dtos import (
    FFDecisionTallyDTO,
    FFExpertRouteDTO,
    FFPanelAnalyticsDTO,
    FFPanelDecisionDTO,
    FFPanelDTO,
    FFPanelInsightDTO,
    FFPanelMessageDTO,
    FFPanelMessageInputDTO,
    FFPanelParticipantDTO,
    FFPanelType,
    FFPanelVoteDTO,
    FFTurnStatusDTO,
)
from ff_managers._panel import events
from ff_managers._panel.parts import FFPanelParts
from ff_managers.ff_component_base import Clock, FFComponentBase
from ff_managers.ff_event_bus import FFEventBus
from ff_managers.ff_persona_registry import FFPersonaRegistry
from ff_utils.ff_store import FFStore

__all__ = ["FFPanelSessionManager"]


class FFPanelSessionManager(FFComponentBase):
    """Panels: participants and roles, turn-ordered messages, insights, decisions, analytics."""

    component_name = "panel"

    def __init__(
        self,
        config: FFConfigurationManagerConfigDTO,
        *,
        bus: FFEventBus | None = None,
        clock: Clock | None = None,
        personas: FFPersonaRegistry | None = None,
        store: FFStore | None = None,
    ) -> None:
        super().__init__(config, bus=bus, clock=clock, store=store)
        # A registry handed in is shared with its creator, who shuts it down; ours we shut down.
        self._owns_personas = personas is None
        if personas is None:
            personas = FFPersonaRegistry(config, bus=self.bus, clock=self.clock, store=self.store)
        self.personas = personas
        parts = FFPanelParts.build(self.store, config.panel, self._io, personas.get_persona)
        self._parts, self._store, self._messages, self._closing = parts, parts.store, parts.messages, parts.closing
        self._panels, self._deliberation, self._state = parts.panels, parts.deliberation, parts.state

    async def _on_shutdown(self) -> None:
        # The base class has drained the store's I/O thread: every queued append is answered.
        self._store.forget()
        self._parts.owners.forget()
        if self._owns_personas:
            await self.personas.shutdown()

    def _health_details(self) -> dict[str, Any]:
        return {"cached_panels": self._store.cached_panels, "skipped_records": self._store.reader.skipped}

    # ================================================================== panels

    async def create_panel(
        self,
        user_id: str,
        participants: Sequence[FFPanelParticipantDTO | Mapping[str, Any]],
        panel_type: FFPanelType | str = FFPanelType.GENERIC,
        title: str = "",
        *,
        turn_policy: FFTurnPolicyName | None = None,
        turn_order: Sequence[str] | None = None,
        panel_id: str | None = None,
        created_at: datetime | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> FFPanelDTO:
        """Create a panel owned by ``user_id`` and return it.

        ``participants`` are FFPanelParticipantDTO or mappings of its fields (participant_id, role,
        kind, name, persona_id, expertise, metadata). A participant with a persona takes the
        persona's name and expertise unless given its own. ``turn_policy`` defaults to the
        configured one; ``turn_order`` (round_robin only) defaults to every participant in order.
        ``panel_id`` and ``created_at`` keep an imported panel's identity and time.

        Raises FFValidationError (bad ids, type, policy, composition, sizes), FFNotFoundError (an
        unregistered persona) or FFConflictError (``panel_id`` taken); nothing is written then.
        """
        async with self._operation():
            panel = await self._panels.create(
                user_id, participants, panel_type, title, turn_policy=turn_policy, turn_order=turn_order,
                panel_id=panel_id, created_at=created_at, metadata=metadata, now=self.clock(),
            )
            await self._publish("panel.created", events.created(panel), user_id=user_id)
            return panel

    async def get_panel(self, user_id: str, panel_id: str) -> FFPanelDTO:
        """The panel with its current ``message_count``. Raises FFNotFoundError."""
        async with self._operation():
            return await self._panels.get(user_id, panel_id)

    async def list_panels(
        self, user_id: str, *, status: str | None = None, panel_type: FFPanelType | str | None = None
    ) -> list[FFPanelDTO]:
        """The user's panels, oldest first, optionally only one status ("open"/"closed") or type."""
        async with self._operation():
            return await self._panels.list_panels(user_id, status, panel_type)

    # ================================================================== messages

    async def add_message(
        self,
        user_id: str,
        panel_id: str,
        participant_id: str,
        content: str,
        *,
        role: str | None = None,
        reply_to: str | None = None,
        next_speaker: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        message_id: str | None = None,
        timestamp: datetime | None = None,
    ) -> FFPanelMessageDTO:
        """Append one message and return it with its sequence number.

        ``role`` defaults to "assistant" for AI participants and "user" for humans; ``reply_to``
        must name an earlier message of this panel; ``next_speaker`` is how a moderator gives the
        floor (moderated panels). ``message_id`` and ``timestamp`` keep an imported message's.
        Sending a stored ``message_id`` again with the same participant, role and content (a
        retry) returns the stored message and appends nothing.

        Raises FFValidationError (bad input), FFNotFoundError (no such panel for this user), or
        FFConflictError (closed panel, out of turn, ``message_id`` used by a different message).
        """
        async with self._operation():
            item = self._parts.check.message(
                metadata, participant_id=participant_id, content=content, role=role, reply_to=reply_to,
                next_speaker=next_speaker, message_id=message_id, timestamp=timestamp,
            )
            return (await self._append(user_id, panel_id, [item], imported=False))[0]

    async def import_messages(
        self, user_id: str, panel_id: str, messages: Sequence[FFPanelMessageInputDTO | Mapping[str, Any]]
    ) -> list[FFPanelMessageDTO]:
        """Append many messages in one write (migrations, replays), in the order given.

        Every message is validated, and the turn policy applied to the whole run, before anything
        is written: one bad message refuses the batch. ``reply_to`` may name a message earlier in
        the batch. Re-importing a stored batch (same ids, same messages) returns it unchanged.
        Raises like :meth:`add_message`.
        """
        async with self._operation():
            return await self._append(user_id, panel_id, self._parts.check.messages(messages), imported=True)

    async def _append(self, user_id: str, panel_id: str, items: list[FFPanelMessageInputDTO], *, imported: bool) -> list[FFPanelMessageDTO]:
        """Append through the group-commit writer; announce each new message (none for a replayed retry)."""
        appended = await self._messages.append(user_id, panel_id, items, self.clock())
        for message in appended.new:
            await self._publish("panel.message_added", events.message_added(message, imported=imported), user_id=user_id)
        return appended.messages

    async def get_messages(
        self, user_id: str, panel_id: str, *, limit: int = 100, after_sequence: int | None = None
    ) -> list[FFPanelMessageDTO]:
        """Messages oldest first: the last ``limit`` ones, or the first ``limit`` after ``after_sequence``.

        The default reads backwards from the end of the log, so its cost does not grow with the
        panel's length. A bad line in the log is skipped (and reported), never fatal.
        """
        async with self._operation():
            return await self._messages.read(user_id, panel_id, limit, after_sequence)

    async def get_turn_status(self, user_id: str, panel_id: str) -> FFTurnStatusDTO:
        """Who may post next, from the last message's turn state."""
        async with self._operation():
            return await self._messages.turn_status(user_id, panel_id)

    # ================================================================== insights, decisions, votes

    async def record_insight(
        self,
        user_id: str,
        panel_id: str,
        content: str,
        *,
        participant_id: str | None = None,
        category: str = "insight",
        source_message_ids: Sequence[str] | None = None,
        confidence: float | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> FFPanelInsightDTO:
        """Record something the panel learned, optionally citing the messages it came from.

        Raises FFValidationError (empty/oversized content, unknown participant or source message,
        confidence outside 0..1), FFNotFoundError, FFConflictError (closed panel).
        """
        async with self._operation():
            insight = await self._deliberation.record_insight(
                user_id, panel_id, content, participant_id=participant_id, category=category,
                source_message_ids=source_message_ids, confidence=confidence, metadata=metadata, now=self.clock(),
            )
            await self._publish("panel.insight_recorded", events.insight_recorded(insight), user_id=user_id)
            return insight

    async def get_insights(self, user_id: str, panel_id: str, *, category: str | None = None) -> list[FFPanelInsightDTO]:
        """Insights in the order recorded, optionally one category only."""
        async with self._operation():
            return await self._deliberation.insights(user_id, panel_id, category)

    async def record_decision(
        self,
        user_id: str,
        panel_id: str,
        question: str,
        options: Sequence[str],
        *,
        proposed_by: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> FFPanelDecisionDTO:
        """Put a question with 2 or more distinct options to the panel; participants then vote."""
        async with self._operation():
            return await self._deliberation.record_decision(
                user_id, panel_id, question, options, proposed_by=proposed_by, metadata=metadata, now=self.clock()
            )

    async def cast_vote(
        self, user_id: str, panel_id: str, decision_id: str, participant_id: str, option: str, *, rationale: str | None = None
    ) -> FFPanelVoteDTO:
        """Record ``participant_id``'s vote for ``option``; a later vote by them replaces it in the tally.

        Raises FFValidationError (unknown participant or option), FFNotFoundError (no such
        decision or panel), FFConflictError (closed panel).
        """
        async with self._operation():
            return await self._deliberation.cast_vote(
                user_id, panel_id, decision_id, participant_id, option, rationale=rationale, now=self.clock()
            )

    async def get_decisions(self, user_id: str, panel_id: str) -> list[FFDecisionTallyDTO]:
        """Every decision with its current tally and consensus, in the order recorded."""
        async with self._operation():
            return await self._deliberation.tallies(user_id, panel_id)

    # ================================================================== routing and state

    async def route_question(self, user_id: str, panel_id: str, question: str) -> FFExpertRouteDTO:
        """The participant whose expertise best covers ``question`` (topic delegation).

        Candidates are the panel's experts, or every AI participant when it has none. Raises
        FFNotFoundError(kind="expert") when no candidate's expertise matches.
        """
        async with self._operation():
            return await self._panels.route(user_id, panel_id, question)

    async def update_state(self, user_id: str, panel_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Merge ``changes`` into the panel's state document (a key set to None is removed); return it.

        For what a panel carries between sessions: a game's world, a task agent's plan. Raises
        FFValidationError (not a mapping, oversized result), FFConflictError (closed panel).
        """
        async with self._operation():
            return await self._state.update(user_id, panel_id, changes)

    async def get_state(self, user_id: str, panel_id: str) -> dict[str, Any]:
        """The panel's state document ({} when nothing was stored)."""
        async with self._operation():
            return await self._state.get(user_id, panel_id)

    # ================================================================== closing and analytics

    async def close_panel(self, user_id: str, panel_id: str, *, summary: str | None = None) -> FFPanelAnalyticsDTO:
        """Close the panel and return its final analytics (also stored as analytics.json).

        A closed panel refuses messages, insights, decisions, votes and state changes
        (FFConflictError). ``summary`` keeps a closing summary or verdict with the panel.
        Raises FFConflictError when the panel is already closed.
        """
        async with self._operation():
            figures = await self._closing.close(user_id, panel_id, summary, self.clock())
            await self._publish("panel.closed", events.closed(figures), user_id=user_id)
            return figures

    async def get_analytics(self, user_id: str, panel_id: str) -> FFPanelAnalyticsDTO:
        """The stored final analytics of a closed panel, or live figures of an open one."""
        async with self._operation():
            return await self._closing.analytics(user_id, panel_id, self.clock())
