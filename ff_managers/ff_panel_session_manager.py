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
(:mod:`ff_managers._panel.analytics`) are pure modules this class feeds.

Events (payloads carry ids and counts, never content): ``panel.created``, ``panel.message_added``,
``panel.insight_recorded``, ``panel.closed``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar, get_args

from pydantic import BaseModel

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
from ff_managers._panel.analytics import ff_panel_analytics, ff_tally_decisions, ff_word_count
from ff_managers._panel.routing import ff_rank_experts
from ff_managers._panel.rules import ff_check_composition, ff_resolve_turn_order
from ff_managers._panel.writer import FFPanelMessageWriter
from ff_managers._panel.store import FFLockedPanel, FFPanelStore, PanelLog, ff_load_record
from ff_managers._panel.turns import FFRoundRobinTurnPolicy, FFTurnState, ff_turn_policy_for
from ff_managers._panel.checks import FFPanelInputChecker
from ff_managers.ff_persona_registry import FFPersonaRegistry
from ff_utils.ff_errors import FFConflictError, FFNotFoundError, FFValidationError, ff_translate_errors
from ff_utils.ff_ids import ff_new_id, ff_validate_id
from ff_utils.ff_json_utils import ff_dumps

__all__ = ["FFPanelSessionManager"]

_TURN_POLICIES: tuple[str, ...] = get_args(FFTurnPolicyName)
M = TypeVar("M", bound=BaseModel)


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
        # A registry handed in is shared with its creator, who shuts it down; ours we shut down.
        self._owns_personas = personas is None
        self.personas = personas if personas is not None else FFPersonaRegistry(config, bus=self.bus, clock=self.clock)
        storage = config.storage
        self._store = FFPanelStore(
            self.root,
            durability=storage.durability,
            batch_interval=storage.batch_fsync_interval_ms / 1000,
            max_record_bytes=storage.max_record_bytes,
            lock_timeout=storage.lock_timeout_seconds,
        )
        self._check = FFPanelInputChecker(config.panel)
        self._writer = FFPanelMessageWriter(self._store, self._check, self._io)
        self._owners: dict[str, str] = {}

    async def _on_shutdown(self) -> None:
        await self._writer.drain()  # a caller awaiting a queued append gets its answer, not a hang
        self._store.forget()
        self._owners.clear()
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
            kind = self._check.panel_type(panel_type)
            policy = self.config.panel.default_turn_policy if turn_policy is None else turn_policy
            if policy not in _TURN_POLICIES:
                raise FFValidationError(
                    f"unknown turn policy {policy!r}; use one of {', '.join(_TURN_POLICIES)}", field="turn_policy", value=policy
                )
            seats = self._check.participants(participants)
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
                    created_at=self._check.moment(created_at, "created_at", self.clock()),
                    title=self._check.text(title, "title", self.config.panel.max_title_chars, allow_empty=True),
                    turn_policy=policy,
                    turn_order=order,
                    metadata=self._check.metadata(metadata),
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
            kind = self._check.panel_type(panel_type) if panel_type is not None else None

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
                    metadata=self._check.metadata(metadata),
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
                metadata = self._check.metadata(item.metadata, field=f"messages.{index}.metadata")
                items.append(item.model_copy(update={"metadata": metadata}))  # never change the caller's object
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
            limit = self._check.count(limit, "limit")
            if after_sequence is not None:
                after_sequence = self._check.count(after_sequence, "after_sequence", minimum=0)
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
            text = self._check.text(content, "content", self.config.panel.max_insight_chars)
            sources = list(source_message_ids or [])
            owner = await self._io(self._owner, panel_id, user_id)
            with ff_translate_errors("record insight"):
                insight = FFPanelInsightDTO(
                    insight_id=ff_new_id("ins_"),
                    panel_id=panel_id,
                    content=text,
                    created_at=self.clock(),
                    participant_id=participant_id,
                    category=self._check.text(category, "category", self.config.panel.max_name_chars),
                    source_message_ids=sources,
                    confidence=confidence,
                    metadata=self._check.metadata(metadata),
                )

            def write(locked: FFLockedPanel) -> None:
                self._check.require_member(locked.panel, participant_id, "participant_id")
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
            text = self._check.text(question, "question", self.config.panel.max_insight_chars)
            choices = self._check.options(options)
            owner = await self._io(self._owner, panel_id, user_id)
            with ff_translate_errors("record decision"):
                decision = FFPanelDecisionDTO(
                    decision_id=ff_new_id("dec_"),
                    panel_id=panel_id,
                    question=text,
                    options=choices,
                    created_at=self.clock(),
                    proposed_by=proposed_by,
                    metadata=self._check.metadata(metadata),
                )

            def write(locked: FFLockedPanel) -> None:
                self._check.require_member(locked.panel, proposed_by, "proposed_by")
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
                rationale = self._check.text(rationale, "rationale", self.config.panel.max_insight_chars)
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
                self._check.require_member(locked.panel, participant_id, "participant_id")
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
            text = self._check.text(question, "question", self.config.panel.max_message_chars)
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
            try:
                ff_dumps(dict(changes))  # refuse what JSON cannot hold before locking
            except FFValidationError as exc:
                raise FFValidationError(f"changes: {exc.message}", field="changes") from exc
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
                summary = self._check.text(summary, "summary", self.config.panel.max_insight_chars)
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

    # ================================================================== internals

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

    def _mutate(self, owner: str, panel_id: str, change: Callable[[FFLockedPanel], None]) -> None:
        """Run ``change(locked)`` under the panel's lock, refusing a closed panel first."""
        with self._store.locked(owner, panel_id) as locked:
            if locked.panel.status == "closed":
                raise FFConflictError(f"panel {panel_id!r} is closed", kind="panel", key=panel_id)
            change(locked)

    async def _append(
        self, panel_id: str, items: Sequence[FFPanelMessageInputDTO], *, user_id: str | None, imported: bool
    ) -> list[FFPanelMessageDTO]:
        """Hand the messages to the group-commit writer, then announce each one."""
        owner = await self._io(self._owner, panel_id, user_id)
        stored = await self._writer.submit(owner, panel_id, items, self.clock())
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

    def _read_log(self, owner: str, panel_id: str, log: PanelLog, model: type[M]) -> list[M]:
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
