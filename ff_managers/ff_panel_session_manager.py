"""FFPanelSessionManager: multi-persona panel sessions (panel, debate, delegation, game master...).

A panel belongs to one user and lives under ``users/<user_id>/panels/<panel_id>/`` (layout in
:mod:`ff_managers.ff_panel_store`). Methods that take only a ``panel_id`` find the owner through a
small global index; every such method also accepts ``user_id=``, and when it is given and is not
the owner the panel is reported as not found (the same answer as for an id that does not exist,
so a caller cannot probe for other users' panel ids).

Every call validates all of its input before writing: bad ids, empty or oversized text, unknown
participants, unknown ``reply_to``, duplicate participant ids, a bad panel type... raise one
FFValidationError and leave the data root unchanged. State conflicts (a closed panel, an
out-of-turn message, an existing id) raise FFConflictError, also before writing.

Messages are numbered 1, 2, 3... without gaps: the number is taken from the log's last record
while the panel's lock is held, so concurrent callers (threads, coroutines, processes) serialise
there. Turn policies (:mod:`ff_managers.ff_panel_turns`) and analytics
(:mod:`ff_managers.ff_panel_analytics`) are pure modules this class feeds.

Events (payloads carry ids and counts, never content): ``panel.created``, ``panel.message_added``,
``panel.insight_recorded``, ``panel.closed``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, get_args

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
    FFPanelRole,
    FFPanelType,
    FFPanelVoteDTO,
    FFPersonaDTO,
    FFTurnStatusDTO,
)
from ff_managers.ff_component_base import Clock, FFComponentBase
from ff_managers.ff_event_bus import FFEventBus
from ff_managers.ff_panel_analytics import ff_panel_analytics, ff_tally_decisions, ff_word_count
from ff_managers.ff_panel_routing import ff_rank_experts
from ff_managers.ff_panel_rules import ff_check_composition, ff_resolve_turn_order
from ff_managers.ff_panel_store import FFLockedPanel, FFPanelStore, ff_load_record
from ff_managers.ff_panel_turns import FFRoundRobinTurnPolicy, FFTurnState, ff_turn_policy_for
from ff_managers.ff_persona_registry import FFPersonaRegistry
from ff_utils.ff_errors import FFConflictError, FFError, FFNotFoundError, FFValidationError, ff_translate_errors
from ff_utils.ff_ids import ff_new_id, ff_validate_id
from ff_utils.ff_json_utils import ff_dumps

__all__ = ["FFPanelSessionManager"]

_TURN_POLICIES: tuple[str, ...] = get_args(FFTurnPolicyName)


@dataclass(slots=True)
class _AppendRequest:
    """One add_message / import_messages call waiting for its group commit."""

    items: list[FFPanelMessageInputDTO]
    now: datetime
    future: asyncio.Future[list[FFPanelMessageDTO]]


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
    ) -> None:
        super().__init__(config, bus=bus, clock=clock)
        self.personas = personas if personas is not None else FFPersonaRegistry(config, bus=self.bus, clock=self.clock)
        storage = config.storage
        self._store = FFPanelStore(
            self.root,
            durability=storage.durability,
            batch_interval=storage.batch_fsync_interval_ms / 1000,
            max_record_bytes=storage.max_record_bytes,
            lock_timeout=storage.lock_timeout_seconds,
        )
        self._owners: dict[str, str] = {}
        self._pending: dict[str, list[_AppendRequest]] = {}
        self._flushers: dict[str, asyncio.Task[None]] = {}

    async def _on_shutdown(self) -> None:
        await asyncio.gather(*self._flushers.values(), return_exceptions=True)
        self._store.forget()
        self._owners.clear()
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
            kind = self._panel_type(panel_type)
            policy = self.config.panel.default_turn_policy if turn_policy is None else turn_policy
            if policy not in _TURN_POLICIES:
                raise FFValidationError(
                    f"unknown turn policy {policy!r}; use one of {', '.join(_TURN_POLICIES)}", field="turn_policy", value=policy
                )
            seats = self._participants(participants)
            ff_check_composition(
                kind,
                seats,
                min_participants=self.config.panel.min_participants,
                max_participants=self.config.panel.max_participants,
            )
            order = ff_resolve_turn_order(policy, seats, turn_order)
            seats = [await self._with_persona(seat) for seat in seats]
            with ff_translate_errors("create panel"):
                panel = FFPanelDTO(
                    panel_id=ff_validate_id(panel_id, "panel_id") if panel_id is not None else ff_new_id("panel_"),
                    user_id=user_id,
                    panel_type=kind,
                    participants=seats,
                    created_at=self._time(created_at, "created_at"),
                    title=self._text(title, "title", self.config.panel.max_title_chars, allow_empty=True),
                    turn_policy=policy,
                    turn_order=order,
                    metadata=self._metadata(metadata),
                )
            await self._io(self._store.create, panel)
            self._owners[panel.panel_id] = user_id
            await self._publish(
                "panel.created",
                {
                    "panel_id": panel.panel_id,
                    "panel_type": panel.panel_type.value,
                    "turn_policy": panel.turn_policy,
                    "participants": len(panel.participants),
                },
                user_id=user_id,
            )
            return panel

    async def get_panel(self, panel_id: str, *, user_id: str | None = None) -> FFPanelDTO:
        """The panel with its current ``message_count``. Raises FFNotFoundError."""
        async with self._operation():
            owner = await self._io(self._owner, panel_id, user_id)
            return await self._io(self._store.read_panel, owner, panel_id)

    async def list_panels(
        self,
        user_id: str,
        *,
        status: str | None = None,
        panel_type: FFPanelType | str | None = None,
    ) -> list[FFPanelDTO]:
        """The user's panels, oldest first, optionally only one status ("open"/"closed") or type."""
        async with self._operation():
            ff_validate_id(user_id, "user_id")
            if status not in (None, "open", "closed"):
                raise FFValidationError(f"unknown status {status!r}; use open or closed", field="status", value=status)
            kind = self._panel_type(panel_type) if panel_type is not None else None

            def read_all() -> list[FFPanelDTO]:
                panels = []
                for pid in self._store.list_panel_ids(user_id):
                    try:
                        panel = self._store.read_panel(user_id, pid)
                    except FFNotFoundError:
                        continue  # a folder whose panel.json is not written yet (creation in progress)
                    if (status is None or panel.status == status) and (kind is None or panel.panel_type == kind):
                        panels.append(panel)
                return sorted(panels, key=lambda p: (p.created_at, p.panel_id))

            return await self._io(read_all)

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
            with ff_translate_errors("add panel message"):
                item = FFPanelMessageInputDTO(
                    participant_id=participant_id,
                    content=content,
                    role=role,
                    reply_to=reply_to,
                    next_speaker=next_speaker,
                    message_id=message_id,
                    timestamp=timestamp,
                    metadata=self._metadata(metadata),
                )
            stored = await self._append(panel_id, [item], user_id=user_id, imported=False)
            return stored[0]

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
            if isinstance(messages, (str, bytes, Mapping)) or not isinstance(messages, Sequence):
                raise FFValidationError("messages must be a list", field="messages")
            limit = self.config.panel.max_import_messages
            if not messages or len(messages) > limit:
                raise FFValidationError(f"import 1 to {limit} messages at a time, got {len(messages)}", field="messages")
            items = []
            for index, raw in enumerate(messages):
                with ff_translate_errors(f"read message {index}"):
                    item = raw if isinstance(raw, FFPanelMessageInputDTO) else FFPanelMessageInputDTO.model_validate(raw)
                item.metadata = self._metadata(item.metadata, field=f"messages.{index}.metadata")
                items.append(item)
            return await self._append(panel_id, items, user_id=user_id, imported=True)

    async def get_messages(
        self,
        panel_id: str,
        *,
        limit: int = 100,
        after_sequence: int | None = None,
        user_id: str | None = None,
    ) -> list[FFPanelMessageDTO]:
        """Messages oldest first: the last ``limit`` ones, or the first ``limit`` after ``after_sequence``.

        The default reads backwards from the end of the log, so its cost does not grow with the
        panel's length.
        """
        async with self._operation():
            limit = self._count(limit, "limit")
            if after_sequence is not None:
                after_sequence = self._count(after_sequence, "after_sequence", minimum=0)
            owner = await self._io(self._owner, panel_id, user_id)
            return await self._io(self._read_messages, owner, panel_id, limit, after_sequence)

    async def get_turn_status(self, panel_id: str, *, user_id: str | None = None) -> FFTurnStatusDTO:
        """Who may post next, from the last message's turn state."""
        async with self._operation():
            owner = await self._io(self._owner, panel_id, user_id)

            def status() -> FFTurnStatusDTO:
                panel = self._store.read_panel(owner, panel_id, with_count=False)
                tail = self._store.tail(owner, panel_id, "messages", 1)
                state = FFTurnState.from_record(tail[0] if tail else None)
                policy = ff_turn_policy_for(panel)
                return FFTurnStatusDTO(
                    panel_id=panel_id,
                    turn_policy=panel.turn_policy,
                    next_speakers=[] if panel.status == "closed" else policy.next_speakers(state),
                    rotation=state.rotation,
                    round=policy.rounds(state) if isinstance(policy, FFRoundRobinTurnPolicy) else 0,
                    floor=state.floor,
                    last_sequence=int(tail[0]["sequence"]) if tail else 0,
                )

            return await self._io(status)

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
            text = self._text(content, "content", self.config.panel.max_insight_chars)
            sources = list(source_message_ids or [])
            owner = await self._io(self._owner, panel_id, user_id)
            with ff_translate_errors("record insight"):
                insight = FFPanelInsightDTO(
                    insight_id=ff_new_id("ins_"),
                    panel_id=panel_id,
                    content=text,
                    created_at=self.clock(),
                    participant_id=participant_id,
                    category=self._text(category, "category", self.config.panel.max_name_chars),
                    source_message_ids=sources,
                    confidence=confidence,
                    metadata=self._metadata(metadata),
                )

            def write(locked: FFLockedPanel) -> None:
                self._require_member(locked.panel, participant_id, "participant_id")
                missing = locked.missing_message_ids(sources)
                if missing:
                    raise FFValidationError(
                        f"source messages not in this panel: {', '.join(sorted(missing))}", field="source_message_ids"
                    )
                locked.append("insights", [insight.model_dump(mode="json")])

            await self._io(self._mutate, owner, panel_id, write)
            await self._publish(
                "panel.insight_recorded",
                {
                    "panel_id": panel_id,
                    "insight_id": insight.insight_id,
                    "participant_id": participant_id,
                    "category": insight.category,
                    "sources": len(sources),
                },
                user_id=owner,
            )
            return insight

    async def get_insights(
        self, panel_id: str, *, category: str | None = None, user_id: str | None = None
    ) -> list[FFPanelInsightDTO]:
        """Insights in the order recorded, optionally one category only."""
        async with self._operation():
            owner = await self._io(self._owner, panel_id, user_id)
            insights = await self._io(self._read_log, owner, panel_id, "insights", FFPanelInsightDTO)
            return [i for i in insights if category is None or i.category == category]

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
            text = self._text(question, "question", self.config.panel.max_insight_chars)
            choices = self._options(options)
            owner = await self._io(self._owner, panel_id, user_id)
            with ff_translate_errors("record decision"):
                decision = FFPanelDecisionDTO(
                    decision_id=ff_new_id("dec_"),
                    panel_id=panel_id,
                    question=text,
                    options=choices,
                    created_at=self.clock(),
                    proposed_by=proposed_by,
                    metadata=self._metadata(metadata),
                )

            def write(locked: FFLockedPanel) -> None:
                self._require_member(locked.panel, proposed_by, "proposed_by")
                locked.append("decisions", [decision.model_dump(mode="json")])

            await self._io(self._mutate, owner, panel_id, write)
            return decision

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
                rationale = self._text(rationale, "rationale", self.config.panel.max_insight_chars)
            owner = await self._io(self._owner, panel_id, user_id)
            with ff_translate_errors("cast vote"):
                vote = FFPanelVoteDTO(
                    vote_id=ff_new_id("vote_"),
                    panel_id=panel_id,
                    decision_id=decision_id,
                    participant_id=participant_id,
                    option=option,
                    created_at=self.clock(),
                    rationale=rationale,
                )

            def write(locked: FFLockedPanel) -> None:
                self._require_member(locked.panel, participant_id, "participant_id")
                path = self._store.log_path(owner, panel_id, "decisions")
                decision = next(
                    (
                        ff_load_record(FFPanelDecisionDTO, record, path)
                        for record in self._store.read_log(owner, panel_id, "decisions")
                        if record.get("decision_id") == decision_id
                    ),
                    None,
                )
                if decision is None:
                    raise FFNotFoundError(f"no decision {decision_id!r} in panel {panel_id!r}", kind="decision", key=decision_id)
                if option not in decision.options:
                    raise FFValidationError(
                        f"option {option!r} is not one of {decision.options}", field="option", value=option
                    )
                locked.append("votes", [vote.model_dump(mode="json")])

            await self._io(self._mutate, owner, panel_id, write)
            return vote

    async def get_decisions(self, panel_id: str, *, user_id: str | None = None) -> list[FFDecisionTallyDTO]:
        """Every decision with its current tally and consensus, in the order recorded."""
        async with self._operation():
            owner = await self._io(self._owner, panel_id, user_id)
            return await self._io(self._tallies, owner, panel_id)

    # ================================================================== routing and state

    async def route_question(self, panel_id: str, question: str, *, user_id: str | None = None) -> FFExpertRouteDTO:
        """The participant whose expertise best covers ``question`` (topic delegation).

        Candidates are the panel's experts, or every AI participant when it has none. Raises
        FFNotFoundError(kind="expert") when no candidate's expertise matches.
        """
        async with self._operation():
            text = self._text(question, "question", self.config.panel.max_message_chars)
            owner = await self._io(self._owner, panel_id, user_id)
            panel = await self._io(self._store.read_panel, owner, panel_id, with_count=False)
            experts = [p for p in panel.participants if p.role == FFPanelRole.EXPERT] or [
                p for p in panel.participants if p.kind == "ai"
            ]
            ranked = ff_rank_experts(text, [(p.participant_id, p.expertise) for p in experts])
            if not ranked:
                raise FFNotFoundError("no participant's expertise matches the question", kind="expert", key=panel_id)
            best = ranked[0]
            return FFExpertRouteDTO(participant_id=best.participant_id, score=best.score, matched=list(best.matched))

    async def update_state(
        self, panel_id: str, changes: Mapping[str, Any], *, user_id: str | None = None
    ) -> dict[str, Any]:
        """Merge ``changes`` into the panel's state document (a key set to None is removed); return it.

        For what a panel carries between sessions: a game's world, a task agent's plan. Raises
        FFValidationError (not a mapping, oversized result), FFConflictError (closed panel).
        """
        async with self._operation():
            if not isinstance(changes, Mapping) or not changes or not all(isinstance(k, str) for k in changes):
                raise FFValidationError("changes must be a non-empty mapping with string keys", field="changes")
            ff_dumps(dict(changes))  # refuse what JSON cannot hold before locking
            owner = await self._io(self._owner, panel_id, user_id)
            limit = self.config.panel.max_state_bytes
            result: dict[str, Any] = {}

            def write(locked: FFLockedPanel) -> None:
                current = self._store.read_document(owner, panel_id, "state", default={})
                merged = {**current, **changes}
                merged = {key: value for key, value in merged.items() if value is not None}
                size = len(ff_dumps(merged))
                if size > limit:
                    raise FFValidationError(f"panel state of {size:,} bytes exceeds {limit:,}", field="changes")
                locked.write_document("state", merged)
                result.update(merged)

            await self._io(self._mutate, owner, panel_id, write)
            return result

    async def get_state(self, panel_id: str, *, user_id: str | None = None) -> dict[str, Any]:
        """The panel's state document ({} when nothing was stored)."""
        async with self._operation():
            owner = await self._io(self._owner, panel_id, user_id)
            return await self._io(self._store.read_document, owner, panel_id, "state", {})

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
                summary = self._text(summary, "summary", self.config.panel.max_insight_chars)
            owner = await self._io(self._owner, panel_id, user_id)
            closed_at = self.clock()
            analytics: list[FFPanelAnalyticsDTO] = []

            def close(locked: FFLockedPanel) -> None:
                panel = locked.panel.model_copy(update={"status": "closed", "closed_at": closed_at, "summary": summary})
                figures = self._analytics(owner, panel, closed_at)
                # analytics.json first: if we crash before panel.json, the panel is still open and
                # the next close rewrites it; the reverse would leave a closed panel without figures.
                locked.write_document("analytics", figures.model_dump(mode="json"))
                locked.write_panel(panel)
                analytics.append(figures)

            await self._io(self._mutate, owner, panel_id, close)
            figures = analytics[0]
            await self._publish(
                "panel.closed",
                {
                    "panel_id": panel_id,
                    "panel_type": figures.panel_type.value,
                    "messages": figures.message_count,
                    "words": figures.word_count,
                    "turns": figures.turn_count,
                    "insights": figures.insight_count,
                    "decisions": figures.decision_count,
                    "votes": figures.vote_count,
                    "consensus_level": figures.consensus_level,
                    "duration_seconds": figures.duration_seconds,
                },
                user_id=owner,
            )
            return figures

    async def get_analytics(self, panel_id: str, *, user_id: str | None = None) -> FFPanelAnalyticsDTO:
        """The stored final analytics of a closed panel, or live figures of an open one."""
        async with self._operation():
            owner = await self._io(self._owner, panel_id, user_id)
            now = self.clock()

            def read() -> FFPanelAnalyticsDTO:
                panel = self._store.read_panel(owner, panel_id, with_count=False)
                if panel.status == "closed":
                    stored = self._store.read_document(owner, panel_id, "analytics", default=None)
                    if stored is not None:
                        path = self._store.document_path(owner, panel_id, "analytics")
                        return ff_load_record(FFPanelAnalyticsDTO, stored, path)
                return self._analytics(owner, panel, now)

            return await self._io(read)

    # ================================================================== internals: validation (pure)

    @staticmethod
    def _panel_type(value: FFPanelType | str) -> FFPanelType:
        try:
            return FFPanelType(value)
        except ValueError:
            allowed = ", ".join(t.value for t in FFPanelType)
            raise FFValidationError(f"unknown panel type {value!r}; use one of {allowed}", field="panel_type", value=value) from None

    def _participants(self, participants: Any) -> list[FFPanelParticipantDTO]:
        if isinstance(participants, (str, bytes, Mapping)) or not isinstance(participants, Sequence):
            raise FFValidationError("participants must be a list", field="participants")
        seats = []
        for index, raw in enumerate(participants):
            with ff_translate_errors(f"read participant {index}"):
                seat = raw if isinstance(raw, FFPanelParticipantDTO) else FFPanelParticipantDTO.model_validate(raw)
                seat = FFPanelParticipantDTO.model_validate(seat.model_dump())  # a DTO built elsewhere is re-checked too
            if seat.name is not None:
                self._text(seat.name, f"participants.{index}.name", self.config.panel.max_name_chars)
            for area in seat.expertise:
                self._text(area, f"participants.{index}.expertise", self.config.panel.max_name_chars)
            seat.metadata = self._metadata(seat.metadata, field=f"participants.{index}.metadata")
            seats.append(seat)
        return seats

    async def _with_persona(self, seat: FFPanelParticipantDTO) -> FFPanelParticipantDTO:
        """Fill name and expertise from the persona; FFNotFoundError for an unregistered one."""
        persona: FFPersonaDTO | None = None
        if seat.persona_id is not None:
            try:
                persona = await self.personas.get_persona(seat.persona_id)
            except FFNotFoundError:
                if self.config.panel.require_registered_personas:
                    raise
        name = seat.name or (persona.name if persona else None) or seat.participant_id
        expertise = seat.expertise or (list(persona.expertise) if persona else [])
        return seat.model_copy(update={"name": name, "expertise": expertise})

    def _text(self, value: Any, field: str, max_chars: int, *, allow_empty: bool = False) -> str:
        if not isinstance(value, str):
            raise FFValidationError(f"{field} must be text, not {type(value).__name__}", field=field)
        if not allow_empty and not value.strip():
            raise FFValidationError(f"{field} is empty", field=field)
        if len(value) > max_chars:
            raise FFValidationError(f"{field} has {len(value):,} characters (at most {max_chars:,})", field=field)
        if "\x00" in value:
            raise FFValidationError(f"{field} contains a NUL character", field=field)
        return value

    def _metadata(self, metadata: Mapping[str, Any] | None, *, field: str = "metadata") -> dict[str, Any]:
        if metadata is None:
            return {}
        if not isinstance(metadata, Mapping) or not all(isinstance(k, str) for k in metadata):
            raise FFValidationError(f"{field} must be a mapping with string keys", field=field)
        data = dict(metadata)
        size = len(ff_dumps(data))
        limit = self.config.panel.max_metadata_bytes
        if size > limit:
            raise FFValidationError(f"{field} of {size:,} bytes exceeds {limit:,}", field=field)
        return data

    def _options(self, options: Any) -> list[str]:
        if isinstance(options, (str, bytes)) or not isinstance(options, Sequence):
            raise FFValidationError("options must be a list of text", field="options")
        limit = self.config.panel.max_decision_options
        if not 2 <= len(options) <= limit:
            raise FFValidationError(f"a decision needs 2 to {limit} options, got {len(options)}", field="options")
        choices = [self._text(o, "options", self.config.panel.max_name_chars) for o in options]
        if len(set(choices)) != len(choices):
            raise FFValidationError("options must be distinct", field="options", value=choices)
        return choices

    def _time(self, value: datetime | None, field: str) -> datetime:
        if value is None:
            return self.clock()
        if not isinstance(value, datetime):
            raise FFValidationError(f"{field} must be a datetime", field=field, value=value)
        return value

    @staticmethod
    def _count(value: Any, field: str, *, minimum: int = 1) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise FFValidationError(f"{field} must be an integer >= {minimum}", field=field, value=value)
        return value

    @staticmethod
    def _require_member(panel: FFPanelDTO, participant_id: str | None, field: str) -> None:
        if participant_id is not None and panel.participant(participant_id) is None:
            raise FFValidationError(
                f"{participant_id!r} is not a participant of panel {panel.panel_id!r}", field=field, value=participant_id
            )

    def _drafts(self, panel: FFPanelDTO, items: Sequence[FFPanelMessageInputDTO]) -> list[FFPanelMessageInputDTO]:
        """Check messages against the panel's (immutable) participants; fill the role."""
        max_chars = self.config.panel.max_message_chars
        batch_ids: set[str] = set()
        drafts = []
        for index, item in enumerate(items):
            where = f"messages.{index}" if len(items) > 1 else "message"
            self._text(item.content, f"{where}.content", max_chars)
            seat = panel.participant(item.participant_id)
            if seat is None:
                raise FFValidationError(
                    f"{where}: {item.participant_id!r} is not a participant of panel {panel.panel_id!r}",
                    field="participant_id",
                    value=item.participant_id,
                )
            if item.next_speaker is not None and panel.participant(item.next_speaker) is None:
                raise FFValidationError(
                    f"{where}: next_speaker {item.next_speaker!r} is not a participant", field="next_speaker"
                )
            if item.message_id is not None:
                if item.message_id in batch_ids:
                    raise FFValidationError(f"{where}: message_id {item.message_id!r} repeats", field="message_id")
                batch_ids.add(item.message_id)
            if item.reply_to is not None and item.reply_to == item.message_id:
                raise FFValidationError(f"{where}: a message cannot reply to itself", field="reply_to")
            role = item.role or ("user" if seat.kind == "human" else "assistant")
            drafts.append(item.model_copy(update={"role": role}))
        return drafts

    # ================================================================== internals: storage (threads)

    def _owner(self, panel_id: str, user_id: str | None) -> str:
        """Resolve ``panel_id`` to its owner, checking ``user_id`` when given.

        A mismatch reads exactly like a missing panel: FFNotFoundError, no hint that it exists.
        """
        ff_validate_id(panel_id, "panel_id")
        if user_id is not None:
            ff_validate_id(user_id, "user_id")
        owner = self._owners.get(panel_id)
        if owner is None:
            # Owners never change, so the index is read once per panel; panel.json (read under
            # the lock for every change) must agree with it, or the read fails as corrupt.
            owner = self._owners[panel_id] = self._store.owner_of(panel_id)
        if user_id is not None and user_id != owner:
            raise FFNotFoundError(f"no panel {panel_id!r}", kind="panel", key=panel_id)
        return owner

    def _mutate(self, owner: str, panel_id: str, change: Any) -> None:
        """Run ``change(locked)`` under the panel's lock, refusing a closed panel first."""
        with self._store.locked(owner, panel_id) as locked:
            if locked.panel.status == "closed":
                raise FFConflictError(f"panel {panel_id!r} is closed", kind="panel", key=panel_id)
            change(locked)

    async def _append(
        self, panel_id: str, items: Sequence[FFPanelMessageInputDTO], *, user_id: str | None, imported: bool
    ) -> list[FFPanelMessageDTO]:
        """Queue one append request and wait for the group commit that numbers and writes it."""
        owner = await self._io(self._owner, panel_id, user_id)
        request = _AppendRequest(list(items), self.clock(), asyncio.get_running_loop().create_future())
        self._pending.setdefault(panel_id, []).append(request)
        flusher = self._flushers.get(panel_id)
        if flusher is None or flusher.done():
            self._flushers[panel_id] = asyncio.create_task(self._flush(owner, panel_id))
        stored = await request.future
        for message in stored:
            await self._publish(
                "panel.message_added",
                {
                    "panel_id": panel_id,
                    "message_id": message.message_id,
                    "participant_id": message.participant_id,
                    "sequence": message.sequence,
                    "chars": len(message.content),
                    "words": ff_word_count(message.content),
                    "imported": imported,
                },
                user_id=owner,
            )
        return stored

    async def _flush(self, owner: str, panel_id: str) -> None:
        """Write queued requests of one panel, a group at a time, until the queue is empty.

        Like the JSONL group commit below it: requests that arrive while a group is being written
        form the next group, so N concurrent callers cost a few lock holds and fsyncs, not N.
        Each request still succeeds or fails on its own.
        """
        while True:
            batch = self._pending.pop(panel_id, None)
            if not batch:
                # No await between the empty check and this removal, so no request is stranded.
                if self._flushers.get(panel_id) is asyncio.current_task():
                    del self._flushers[panel_id]
                return
            try:
                outcomes = await self._io(self._write_batch, owner, panel_id, batch)
            except asyncio.CancelledError:
                for request in batch + self._pending.pop(panel_id, []):
                    request.future.cancel()
                raise
            except Exception as exc:  # a storage failure fails the whole group; each caller gets it
                for request in batch:
                    if not request.future.done():
                        request.future.set_exception(exc)
                continue
            for request, outcome in zip(batch, outcomes, strict=True):
                if request.future.done():  # the caller was cancelled while we wrote
                    continue
                if isinstance(outcome, FFError):
                    request.future.set_exception(outcome)
                else:
                    request.future.set_result(outcome)

    def _write_batch(self, owner: str, panel_id: str, batch: list[_AppendRequest]) -> list[list[FFPanelMessageDTO] | FFError]:
        """Under one hold of the panel's lock: number each request in arrival order, then append all.

        A request that fails validation or its turn check gets its error and leaves no trace; the
        ones after it are checked against the state without it.
        """
        outcomes: list[list[FFPanelMessageDTO] | FFError] = []
        with self._store.locked(owner, panel_id) as locked:
            if locked.panel.status == "closed":
                return [FFConflictError(f"panel {panel_id!r} is closed", kind="panel", key=panel_id) for _ in batch]
            policy = ff_turn_policy_for(locked.panel)
            state = FFTurnState.from_record(locked.last_message)
            sequence = locked.last_sequence
            grouped_ids: set[str] = set()
            records: list[FFPanelMessageDTO] = []
            for request in batch:
                try:
                    messages = self._number(locked, policy, state, sequence, grouped_ids, request)
                except FFError as exc:
                    outcomes.append(exc)
                    continue
                state = FFTurnState(messages[-1].rotation, messages[-1].floor)
                sequence = messages[-1].sequence
                grouped_ids.update(m.message_id for m in messages)
                records.extend(messages)
                outcomes.append(messages)
            if records:
                locked.append_messages([m.model_dump(mode="json") for m in records])
        return outcomes

    def _number(
        self,
        locked: FFLockedPanel,
        policy: Any,
        state: FFTurnState,
        sequence: int,
        grouped_ids: set[str],
        request: _AppendRequest,
    ) -> list[FFPanelMessageDTO]:
        """Validate one request against the panel and the log, and number its messages."""
        drafts = self._drafts(locked.panel, request.items)
        explicit = {d.message_id for d in drafts if d.message_id is not None}
        earlier: set[str] = set()
        outside: set[str] = set()
        for draft in drafts:
            if draft.reply_to is not None and draft.reply_to not in earlier:
                outside.add(draft.reply_to)
            if draft.message_id is not None:
                earlier.add(draft.message_id)
        outside -= grouped_ids  # replies to messages queued just before this request are fine
        missing = locked.missing_message_ids(explicit | outside)
        taken = sorted((explicit - missing) | (explicit & grouped_ids))
        if taken:
            raise FFConflictError(f"message ids already used in this panel: {', '.join(taken)}", field="message_id")
        unknown = sorted(outside & missing)
        if unknown:
            raise FFValidationError(
                f"reply_to names messages not in this panel (or later in the batch): {', '.join(unknown)}",
                field="reply_to",
            )
        messages = []
        for draft in drafts:
            state = policy.advance(state, draft.participant_id, draft.next_speaker)
            sequence += 1
            messages.append(
                FFPanelMessageDTO(
                    message_id=draft.message_id or ff_new_id("msg_"),
                    panel_id=locked.panel_id,
                    sequence=sequence,
                    participant_id=draft.participant_id,
                    role=draft.role,  # type: ignore[arg-type]
                    content=draft.content,
                    timestamp=draft.timestamp or request.now,
                    reply_to=draft.reply_to,
                    rotation=state.rotation,
                    floor=state.floor,
                    metadata=draft.metadata,
                )
            )
        return messages

    def _read_messages(self, owner: str, panel_id: str, limit: int, after: int | None) -> list[FFPanelMessageDTO]:
        path = self._store.log_path(owner, panel_id, "messages")
        if after is None:
            records: Iterable[Any] = self._store.tail(owner, panel_id, "messages", limit)
        else:
            last = self._store.last_sequence(owner, panel_id)
            remaining = last - after
            if remaining <= 0:
                return []
            # Sequences are gap-free, so the records after ``after`` are the last ``remaining``:
            # read them backwards when that is shorter than streaming from the start.
            if remaining <= after + limit:
                records = self._store.tail(owner, panel_id, "messages", remaining)
            else:
                records = self._store.read_log(owner, panel_id, "messages")
        result = []
        for record in records:
            message = ff_load_record(FFPanelMessageDTO, record, path)
            if after is not None and message.sequence <= after:
                continue
            result.append(message)
            if after is not None and len(result) == limit:
                break
        return result

    def _read_log(self, owner: str, panel_id: str, log: Any, model: Any) -> list[Any]:
        path = self._store.log_path(owner, panel_id, log)
        return [ff_load_record(model, record, path) for record in self._store.read_log(owner, panel_id, log)]

    def _tallies(self, owner: str, panel_id: str) -> list[FFDecisionTallyDTO]:
        decisions = self._read_log(owner, panel_id, "decisions", FFPanelDecisionDTO)
        votes = self._read_log(owner, panel_id, "votes", FFPanelVoteDTO)
        return ff_tally_decisions(decisions, votes)

    def _analytics(self, owner: str, panel: FFPanelDTO, now: datetime) -> FFPanelAnalyticsDTO:
        path = self._store.log_path(owner, panel.panel_id, "messages")
        messages = (ff_load_record(FFPanelMessageDTO, r, path) for r in self._store.read_log(owner, panel.panel_id, "messages"))
        policy = ff_turn_policy_for(panel)
        return ff_panel_analytics(
            panel,
            messages,
            insight_count=sum(1 for _ in self._store.read_log(owner, panel.panel_id, "insights")),
            tallies=self._tallies(owner, panel.panel_id),
            computed_at=now,
            round_size=len(policy.order) if isinstance(policy, FFRoundRobinTurnPolicy) else None,
        )
