"""FFPanelSessionManager: multi-persona panel sessions (panel, debate, delegation, game master...).

A panel belongs to one user and lives under ``users/<user_id>/panels/<panel_id>/`` (layout in
:mod:`ff_managers._panel.store`). Methods that take only a ``panel_id`` find the owner through a
small global index; every such method also accepts ``user_id=``, and when it is given and is not
the owner the panel is reported as not found (the same answer as for an id that does not exist,
so a caller cannot probe for other users' panel ids).

Every call validates all of its input before writing: bad ids, empty or oversized text, unknown
participants, unknown ``reply_to``, duplicate participant ids, a bad panel type... raise one
FFValidationError and leave the data root unchanged. State conflicts (a closed panel, an
out-of-turn message, an existing id) raise FFConflictError, also before writing.

Messages are numbered 1, 2, 3... without gaps: the number is taken from the log's last record
while the panel's lock is held, so concurrent callers (threads, coroutines, processes) serialise
there. Turn policies (:mod:`ff_managers._panel.turns`) and analytics
(:mod:`ff_managers._panel.analytics`) are pure modules the package feeds.

This class is the façade: each method checks its input, makes one call into the private package
:mod:`ff_managers._panel` (panels, messages, deliberation, state, closing) and publishes at most
one kind of event. Events (payloads carry ids and counts, never content): ``panel.created``,
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
from ff_managers._panel.checks import FFPanelInputChecker
from ff_managers._panel.closing import FFPanelClosing
from ff_managers._panel.deliberation import FFPanelDeliberation
from ff_managers._panel.messages import FFPanelMessages
from ff_managers._panel.owners import FFPanelOwners
from ff_managers._panel.panels import FFPanelCatalog
from ff_managers._panel.state import FFPanelStateDocument
from ff_managers._panel.store import FFPanelStore
from ff_managers._panel.writer import FFPanelMessageWriter
from ff_managers.ff_component_base import Clock, FFComponentBase
from ff_managers.ff_event_bus import FFEventBus
from ff_managers.ff_persona_registry import FFPersonaRegistry
from ff_utils.ff_ids import ff_validate_id
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
        self._store = FFPanelStore(self.store)
        self._check = check = FFPanelInputChecker(config.panel)
        self._owners = owners = FFPanelOwners(self._store)
        writer = FFPanelMessageWriter(self._store, check, self._io, self._batcher)  # drained by shutdown()
        self._panels = FFPanelCatalog(self._store, owners, check, self._io, self.personas.get_persona)
        self._messages = FFPanelMessages(self._store, owners, writer, self._io)
        self._deliberation = FFPanelDeliberation(self._store, owners, check, self._io)
        self._state = FFPanelStateDocument(self._store, owners, config.panel.max_state_bytes, self._io)
        self._closing = FFPanelClosing(self._store, owners, self._deliberation, self._io)

    async def _on_shutdown(self) -> None:
        # The base class has drained the message writer's batcher: every queued append is answered.
        self._store.forget()
        self._owners.forget()
        if self._owns_personas:
            await self.personas.shutdown()

    def _health_details(self) -> dict[str, Any]:
        return {"cached_panels": self._store.cached_panels}

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
            ff_validate_id(user_id, "user_id")
            panel = await self._panels.create(
                user_id, participants, panel_type, title, turn_policy=turn_policy, turn_order=turn_order,
                panel_id=panel_id, created_at=created_at, metadata=metadata, now=self.clock(),
            )
            await self._publish("panel.created", events.created(panel), user_id=user_id)
            return panel

    async def get_panel(self, panel_id: str, *, user_id: str | None = None) -> FFPanelDTO:
        """The panel with its current ``message_count``. Raises FFNotFoundError."""
        async with self._operation():
            return await self._panels.get(panel_id, user_id)

    async def list_panels(
        self, user_id: str, *, status: str | None = None, panel_type: FFPanelType | str | None = None
    ) -> list[FFPanelDTO]:
        """The user's panels, oldest first, optionally only one status ("open"/"closed") or type."""
        async with self._operation():
            ff_validate_id(user_id, "user_id")
            return await self._panels.list_panels(user_id, status, panel_type)

    # ================================================================== messages

    async def add_message(
        self,
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
        user_id: str | None = None,
    ) -> FFPanelMessageDTO:
        """Append one message and return it with its sequence number.

        ``role`` defaults to "assistant" for AI participants and "user" for humans; ``reply_to``
        must name an earlier message of this panel; ``next_speaker`` is how a moderator gives the
        floor (moderated panels). ``message_id`` and ``timestamp`` keep an imported message's.

        Raises FFValidationError (bad input), FFNotFoundError (no such panel for this user), or
        FFConflictError (closed panel, out of turn, ``message_id`` already used).
        """
        async with self._operation():
            item = self._check.message(
                metadata, participant_id=participant_id, content=content, role=role, reply_to=reply_to,
                next_speaker=next_speaker, message_id=message_id, timestamp=timestamp,
            )
            return (await self._append(panel_id, [item], user_id, imported=False))[0]

    async def import_messages(
        self,
        panel_id: str,
        messages: Sequence[FFPanelMessageInputDTO | Mapping[str, Any]],
        *,
        user_id: str | None = None,
    ) -> list[FFPanelMessageDTO]:
        """Append many messages in one write (migrations, replays), in the order given.

        Every message is validated, and the turn policy applied to the whole run, before anything
        is written: one bad message refuses the batch. ``reply_to`` may name a message earlier in
        the batch. Raises like :meth:`add_message`.
        """
        async with self._operation():
            return await self._append(panel_id, self._check.messages(messages), user_id, imported=True)

    async def _append(
        self, panel_id: str, items: list[FFPanelMessageInputDTO], user_id: str | None, *, imported: bool
    ) -> list[FFPanelMessageDTO]:
        """Hand the messages to the group-commit writer, then announce each one."""
        owner, stored = await self._messages.append(panel_id, items, user_id, self.clock())
        for message in stored:
            await self._publish("panel.message_added", events.message_added(message, imported=imported), user_id=owner)
        return stored

    async def get_messages(
        self, panel_id: str, *, limit: int = 100, after_sequence: int | None = None, user_id: str | None = None
    ) -> list[FFPanelMessageDTO]:
        """Messages oldest first: the last ``limit`` ones, or the first ``limit`` after ``after_sequence``.

        The default reads backwards from the end of the log, so its cost does not grow with the
        panel's length.
        """
        async with self._operation():
            limit = self._check.count(limit, "limit")
            if after_sequence is not None:
                after_sequence = self._check.count(after_sequence, "after_sequence", minimum=0)
            return await self._messages.read(panel_id, user_id, limit, after_sequence)

    async def get_turn_status(self, panel_id: str, *, user_id: str | None = None) -> FFTurnStatusDTO:
        """Who may post next, from the last message's turn state."""
        async with self._operation():
            return await self._messages.turn_status(panel_id, user_id)

    # ================================================================== insights, decisions, votes

    async def record_insight(
        self,
        panel_id: str,
        content: str,
        *,
        participant_id: str | None = None,
        category: str = "insight",
        source_message_ids: Sequence[str] | None = None,
        confidence: float | None = None,
        metadata: Mapping[str, Any] | None = None,
        user_id: str | None = None,
    ) -> FFPanelInsightDTO:
        """Record something the panel learned, optionally citing the messages it came from.

        Raises FFValidationError (empty/oversized content, unknown participant or source message,
        confidence outside 0..1), FFNotFoundError, FFConflictError (closed panel).
        """
        async with self._operation():
            text = self._check.content(content, "content", self.config.panel.max_insight_chars)
            owner, insight = await self._deliberation.record_insight(
                panel_id, text, participant_id=participant_id, category=category,
                source_message_ids=list(source_message_ids or []), confidence=confidence, metadata=metadata,
                user_id=user_id, now=self.clock(),
            )
            await self._publish("panel.insight_recorded", events.insight_recorded(insight), user_id=owner)
            return insight

    async def get_insights(
        self, panel_id: str, *, category: str | None = None, user_id: str | None = None
    ) -> list[FFPanelInsightDTO]:
        """Insights in the order recorded, optionally one category only."""
        async with self._operation():
            return await self._deliberation.insights(panel_id, category, user_id)

    async def record_decision(
        self,
        panel_id: str,
        question: str,
        options: Sequence[str],
        *,
        proposed_by: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        user_id: str | None = None,
    ) -> FFPanelDecisionDTO:
        """Put a question with 2 or more distinct options to the panel; participants then vote."""
        async with self._operation():
            text = self._check.text(question, "question", self.config.panel.max_insight_chars)
            choices = self._check.options(options)
            return await self._deliberation.record_decision(
                panel_id, text, choices, proposed_by=proposed_by, metadata=metadata, user_id=user_id, now=self.clock()
            )

    async def cast_vote(
        self,
        panel_id: str,
        decision_id: str,
        participant_id: str,
        option: str,
        *,
        rationale: str | None = None,
        user_id: str | None = None,
    ) -> FFPanelVoteDTO:
        """Record ``participant_id``'s vote for ``option``; a later vote by them replaces it in the tally.

        Raises FFValidationError (unknown participant or option), FFNotFoundError (no such
        decision or panel), FFConflictError (closed panel).
        """
        async with self._operation():
            ff_validate_id(decision_id, "decision_id")
            if rationale is not None:
                rationale = self._check.content(rationale, "rationale", self.config.panel.max_insight_chars)
            return await self._deliberation.cast_vote(
                panel_id, decision_id, participant_id, option, rationale=rationale, user_id=user_id, now=self.clock()
            )

    async def get_decisions(self, panel_id: str, *, user_id: str | None = None) -> list[FFDecisionTallyDTO]:
        """Every decision with its current tally and consensus, in the order recorded."""
        async with self._operation():
            return await self._deliberation.tallies(panel_id, user_id)

    # ================================================================== routing and state

    async def route_question(self, panel_id: str, question: str, *, user_id: str | None = None) -> FFExpertRouteDTO:
        """The participant whose expertise best covers ``question`` (topic delegation).

        Candidates are the panel's experts, or every AI participant when it has none. Raises
        FFNotFoundError(kind="expert") when no candidate's expertise matches.
        """
        async with self._operation():
            text = self._check.text(question, "question", self.config.panel.max_message_chars)
            return await self._panels.route(panel_id, text, user_id)

    async def update_state(
        self, panel_id: str, changes: Mapping[str, Any], *, user_id: str | None = None
    ) -> dict[str, Any]:
        """Merge ``changes`` into the panel's state document (a key set to None is removed); return it.

        For what a panel carries between sessions: a game's world, a task agent's plan. Raises
        FFValidationError (not a mapping, oversized result), FFConflictError (closed panel).
        """
        async with self._operation():
            return await self._state.update(panel_id, self._check.state_changes(changes), user_id)

    async def get_state(self, panel_id: str, *, user_id: str | None = None) -> dict[str, Any]:
        """The panel's state document ({} when nothing was stored)."""
        async with self._operation():
            return await self._state.get(panel_id, user_id)

    # ================================================================== closing and analytics

    async def close_panel(
        self, panel_id: str, *, summary: str | None = None, user_id: str | None = None
    ) -> FFPanelAnalyticsDTO:
        """Close the panel and return its final analytics (also stored as analytics.json).

        A closed panel refuses messages, insights, decisions, votes and state changes
        (FFConflictError). ``summary`` keeps a closing summary or verdict with the panel.
        Raises FFConflictError when the panel is already closed.
        """
        async with self._operation():
            if summary is not None:
                summary = self._check.content(summary, "summary", self.config.panel.max_insight_chars)
            owner, figures = await self._closing.close(panel_id, summary, user_id, self.clock())
            await self._publish("panel.closed", events.closed(figures), user_id=owner)
            return figures

    async def get_analytics(self, panel_id: str, *, user_id: str | None = None) -> FFPanelAnalyticsDTO:
        """The stored final analytics of a closed panel, or live figures of an open one."""
        async with self._operation():
            return await self._closing.analytics(panel_id, user_id, self.clock())
