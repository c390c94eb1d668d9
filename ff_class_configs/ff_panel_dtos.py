"""DTOs of panel sessions: personas, participants, panels, messages, insights, decisions, analytics.

Stored records and API results are the same models, so what a caller gets back is exactly what
is on disk (plus ``FFPanelDTO.message_count``, which is derived on read). Ids are checked with
the data root's id rule because every one of them can end up in a path.

Timestamps are timezone-aware: a naive datetime (the legacy layout wrote them) is taken as UTC,
so durations never mix naive and aware values.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from ff_class_configs.ff_panel_config import FFTurnPolicyName
from ff_utils.ff_ids import ff_is_valid_id

__all__ = [
    "PANEL_SCHEMA_VERSION",
    "PERSONA_SCHEMA_VERSION",
    "FFPanelType",
    "FFPanelRole",
    "FFParticipantKind",
    "FFMessageRole",
    "FFPanelStatus",
    "FFTurnPolicyName",
    "FFId",
    "FFAwareDatetime",
    "FFPersonaDTO",
    "FFPersonaImportDTO",
    "FFPanelParticipantDTO",
    "FFPanelDTO",
    "FFPanelMessageInputDTO",
    "FFPanelMessageDTO",
    "FFPanelInsightDTO",
    "FFPanelDecisionDTO",
    "FFPanelVoteDTO",
    "FFDecisionTallyDTO",
    "FFTurnStatusDTO",
    "FFExpertRouteDTO",
    "FFParticipantStatsDTO",
    "FFPanelAnalyticsDTO",
]

PANEL_SCHEMA_VERSION = 1
"""Version of every panel record (panel.json, messages, insights, decisions, votes, analytics)."""
PERSONA_SCHEMA_VERSION = 1
"""Version of a stored persona document."""


def _check_id(value: str) -> str:
    if not ff_is_valid_id(value):
        raise ValueError("use 1-128 of A-Z a-z 0-9 . _ - starting with a letter or digit, no '..'")
    return value


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


FFId = Annotated[str, AfterValidator(_check_id)]
"""An id that may become a path component (see ff_utils.ff_ids)."""
FFAwareDatetime = Annotated[datetime, AfterValidator(_aware)]
"""A datetime that is always timezone-aware; naive input is read as UTC."""


class FFPanelType(StrEnum):
    """What kind of conversation a panel is; each type has its own composition rule."""

    GENERIC = "generic"  # no rule beyond the participant count
    MULTI_AI_PANEL = "multi_ai_panel"  # at least two AI participants
    AI_DEBATE = "ai_debate"  # at least one "pro" and one "con"
    TOPIC_DELEGATION = "topic_delegation"  # at least one "expert"; questions are routed by expertise
    AI_GAME_MASTER = "ai_game_master"  # exactly one "game_master" and at least one "player"
    AUTO_TASK_AGENT = "auto_task_agent"  # at least one "agent"


class FFPanelRole(StrEnum):
    """What a participant does in the panel (independent of whether it is an AI or a person)."""

    MODERATOR = "moderator"
    EXPERT = "expert"
    PRO = "pro"
    CON = "con"
    JUDGE = "judge"
    PLAYER = "player"
    GAME_MASTER = "game_master"
    AGENT = "agent"
    PARTICIPANT = "participant"


FFParticipantKind = Literal["ai", "human"]
FFMessageRole = Literal["user", "assistant", "system", "tool"]
FFPanelStatus = Literal["open", "closed"]


class _DTO(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --------------------------------------------------------------------------- personas


class FFPersonaDTO(BaseModel):
    """A persona: who an AI participant plays. Unknown fields are kept as they are.

    The legacy layout names two fields differently (``behavioral_traits``, ``expertise_areas``);
    when the current names are absent they are filled from those, and the legacy fields stay in
    the document untouched, so nothing a legacy file held is lost.
    """

    model_config = ConfigDict(extra="allow")

    persona_id: FFId
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    system_prompt: str = ""
    traits: dict[str, Any] | list[str] = Field(
        default_factory=dict, description="personality and behaviour (free form; legacy: behavioral_traits)"
    )
    expertise: list[str] = Field(
        default_factory=list, description="topics the persona knows (legacy: expertise_areas); used for routing"
    )
    schema_version: int = PERSONA_SCHEMA_VERSION

    @model_validator(mode="before")
    @classmethod
    def _from_legacy_names(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        filled = dict(data)
        if "traits" not in filled and isinstance(filled.get("behavioral_traits"), (dict, list)):
            filled["traits"] = filled["behavioral_traits"]
        if "expertise" not in filled and isinstance(filled.get("expertise_areas"), list):
            filled["expertise"] = [str(area) for area in filled["expertise_areas"]]
        return filled


class FFPersonaImportDTO(_DTO):
    """What :meth:`FFPersonaRegistry.load_from_directory` did with a folder of persona files."""

    source: str = Field(description="the folder read")
    registered: list[str] = Field(default_factory=list, description="persona ids written for the first time")
    replaced: list[str] = Field(default_factory=list, description="persona ids overwritten (overwrite=True)")
    unchanged: list[str] = Field(default_factory=list, description="persona ids already stored identically")

    @property
    def total(self) -> int:
        return len(self.registered) + len(self.replaced) + len(self.unchanged)


# --------------------------------------------------------------------------- panels


class FFPanelParticipantDTO(_DTO):
    """One seat at the panel."""

    participant_id: FFId
    role: FFPanelRole = FFPanelRole.PARTICIPANT
    kind: FFParticipantKind = Field("ai", description="ai: a model plays it; human: a person types")
    name: str | None = Field(None, description="display name; defaults to the persona's name, then the id")
    persona_id: FFId | None = Field(None, description="the persona this participant plays, if any")
    expertise: list[str] = Field(
        default_factory=list, description="topics for routing; defaults to the persona's expertise"
    )
    metadata: dict[str, Any] = Field(default_factory=dict)


class FFPanelDTO(_DTO):
    """A panel session: who takes part, under which turn policy, and whether it is still open."""

    panel_id: FFId
    user_id: FFId = Field(description="the owner; the panel lives under users/<user_id>/panels/")
    panel_type: FFPanelType
    participants: list[FFPanelParticipantDTO]
    created_at: FFAwareDatetime
    title: str = ""
    turn_policy: FFTurnPolicyName = "free"
    turn_order: list[str] = Field(
        default_factory=list, description="round_robin: who speaks in which order (others speak freely)"
    )
    status: FFPanelStatus = "open"
    closed_at: FFAwareDatetime | None = None
    summary: str | None = Field(None, description="closing summary or verdict given to close_panel")
    metadata: dict[str, Any] = Field(default_factory=dict)
    schema_version: int = PANEL_SCHEMA_VERSION
    message_count: int = Field(0, ge=0, description="messages so far; derived on read, not stored")

    def participant(self, participant_id: str) -> FFPanelParticipantDTO | None:
        """The participant with this id, or None."""
        return next((p for p in self.participants if p.participant_id == participant_id), None)

    @property
    def moderator_id(self) -> str | None:
        """The first participant with the moderator role, if any."""
        return next((p.participant_id for p in self.participants if p.role == FFPanelRole.MODERATOR), None)


class FFPanelMessageInputDTO(_DTO):
    """One message to append, as given to ``add_message`` or in a bulk ``import_messages``."""

    participant_id: FFId
    content: str
    role: FFMessageRole | None = Field(None, description="default: assistant for AI participants, user for humans")
    reply_to: FFId | None = Field(None, description="message_id of an earlier message of the same panel")
    next_speaker: FFId | None = Field(None, description="moderated panels: the moderator gives the floor to this participant")
    message_id: FFId | None = Field(None, description="keep an existing id (imports); generated when absent")
    timestamp: FFAwareDatetime | None = Field(None, description="keep an existing time (imports); now when absent")
    metadata: dict[str, Any] = Field(default_factory=dict)


class FFPanelMessageDTO(_DTO):
    """A stored panel message. ``sequence`` runs 1, 2, 3... with no gap, in append order."""

    message_id: FFId
    panel_id: FFId
    sequence: int = Field(ge=1, description="position in the panel, gap-free from 1")
    participant_id: FFId
    role: FFMessageRole
    content: str
    timestamp: FFAwareDatetime
    reply_to: FFId | None = None
    rotation: int = Field(
        0, ge=0, description="round_robin: in-order messages so far, this one included (0 for other policies)"
    )
    floor: str | None = Field(None, description="moderated: who holds the floor after this message (None: the moderator)")
    metadata: dict[str, Any] = Field(default_factory=dict)
    schema_version: int = PANEL_SCHEMA_VERSION


class FFPanelInsightDTO(_DTO):
    """Something the panel learned, optionally tied to the messages it came from."""

    insight_id: FFId
    panel_id: FFId
    content: str
    created_at: FFAwareDatetime
    participant_id: FFId | None = Field(None, description="who produced it; None for the application")
    category: str = "insight"
    source_message_ids: list[FFId] = Field(default_factory=list)
    confidence: float | None = Field(None, ge=0, le=1)
    metadata: dict[str, Any] = Field(default_factory=dict)
    schema_version: int = PANEL_SCHEMA_VERSION


class FFPanelDecisionDTO(_DTO):
    """A question put to the panel with a fixed set of options; participants vote on it."""

    decision_id: FFId
    panel_id: FFId
    question: str
    options: list[str] = Field(min_length=2)
    created_at: FFAwareDatetime
    proposed_by: FFId | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    schema_version: int = PANEL_SCHEMA_VERSION


class FFPanelVoteDTO(_DTO):
    """One participant's vote; a later vote by the same participant on the same decision replaces it."""

    vote_id: FFId
    panel_id: FFId
    decision_id: FFId
    participant_id: FFId
    option: str
    created_at: FFAwareDatetime
    rationale: str | None = None
    schema_version: int = PANEL_SCHEMA_VERSION


class FFDecisionTallyDTO(_DTO):
    """A decision with its vote count and consensus.

    consensus_level = votes for the most-voted option / voters (each voter's latest vote counts);
    None when nobody voted. ``majority_option`` is None when the top options tie.
    """

    decision: FFPanelDecisionDTO
    counts: dict[str, int] = Field(description="votes per option, every option listed")
    voters: int = Field(ge=0)
    majority_option: str | None = None
    consensus_level: float | None = Field(None, ge=0, le=1)
    unanimous: bool = False


class FFTurnStatusDTO(_DTO):
    """Who may speak next under the panel's turn policy."""

    panel_id: FFId
    turn_policy: FFTurnPolicyName
    next_speakers: list[str] | None = Field(description="who may post now; None means anyone, [] nobody (closed)")
    rotation: int = Field(0, ge=0, description="round_robin: in-order messages so far")
    round: int = Field(0, ge=0, description="round_robin: completed rounds of the turn order")
    floor: str | None = Field(None, description="moderated: the participant holding the floor")
    last_sequence: int = Field(0, ge=0)


class FFExpertRouteDTO(_DTO):
    """The participant a question was routed to, and why."""

    participant_id: FFId
    score: float = Field(gt=0, description="sum over expertise areas of the share of the area's words in the question")
    matched: list[str] = Field(description="expertise areas that matched")


# --------------------------------------------------------------------------- analytics


class FFParticipantStatsDTO(_DTO):
    """What one participant contributed. Words are whitespace-separated tokens."""

    participant_id: FFId
    role: FFPanelRole
    messages: int = 0
    words: int = 0
    turns: int = Field(0, description="runs of consecutive messages by this participant")
    replies: int = Field(0, description="messages with reply_to set")
    first_sequence: int | None = None
    last_sequence: int | None = None


class FFPanelAnalyticsDTO(_DTO):
    """Figures of a panel, computed from its records (stored as analytics.json when it closes)."""

    panel_id: FFId
    panel_type: FFPanelType
    status: FFPanelStatus
    message_count: int
    word_count: int
    turn_count: int = Field(description="speaker changes + 1: runs of consecutive messages by one participant")
    rounds: int | None = Field(None, description="round_robin: completed rounds of the turn order; None otherwise")
    participants: list[FFParticipantStatsDTO] = Field(description="in the panel's participant order, silent ones too")
    insight_count: int
    decision_count: int
    vote_count: int = Field(description="votes counted (each voter's latest vote per decision)")
    decisions: list[FFDecisionTallyDTO]
    consensus_level: float | None = Field(
        None, description="mean consensus_level of the decisions that received votes; None when none did"
    )
    created_at: FFAwareDatetime
    first_message_at: FFAwareDatetime | None = None
    last_message_at: FFAwareDatetime | None = None
    closed_at: FFAwareDatetime | None = None
    duration_seconds: float = Field(ge=0, description="from created_at to closed_at (to computed_at while open)")
    active_seconds: float = Field(0.0, ge=0, description="from the first message to the last")
    computed_at: FFAwareDatetime
    schema_version: int = PANEL_SCHEMA_VERSION
