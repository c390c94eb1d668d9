"""Turn policies: who may post the next message of a panel. Pure logic, no I/O.

The state a policy needs is tiny and travels inside every stored message (``rotation`` and
``floor``), so the manager recovers it from the last record of the log (one tail read, under the
panel's lock) instead of keeping a second file in step with the log.

The three policies:

``free``
    Anyone may post at any time.
``round_robin``
    The participants in ``turn_order`` must post strictly in that cyclic order, starting with the
    first. Participants outside ``turn_order`` (a human asking questions, a moderator) are free
    speakers: they may post at any time and do not move the rotation. A message from the wrong
    member of the order is refused with FFConflictError naming whose turn it is.
``moderated``
    The panel has exactly one moderator, who may always post. A moderator's message may give the
    floor to one participant (``next_speaker``); that participant may then post, as often as
    needed, until the moderator posts again, which takes the floor back (or hands it on with a new
    ``next_speaker``). Everyone else is refused with FFConflictError. Only the moderator can give
    the floor; a ``next_speaker`` from anyone else is refused with FFValidationError.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from ff_class_configs.ff_panel_dtos import FFPanelDTO, FFPanelMessageDTO, FFPanelRole
from ff_utils.ff_errors import FFConflictError, FFValidationError

__all__ = [
    "FFTurnState",
    "FFTurnPolicy",
    "FFFreeTurnPolicy",
    "FFRoundRobinTurnPolicy",
    "FFModeratedTurnPolicy",
    "ff_turn_policy_for",
]


@dataclass(frozen=True, slots=True)
class FFTurnState:
    """The policy state after a message: in-order messages so far, and who holds the floor."""

    rotation: int = 0
    floor: str | None = None

    @classmethod
    def after(cls, message: FFPanelMessageDTO | None) -> FFTurnState:
        """The state stored with a message (the last one of the log), or the initial state."""
        return cls() if message is None else cls(rotation=message.rotation, floor=message.floor)


class FFTurnPolicy(Protocol):
    """Decides whether ``speaker`` may post now and what the state becomes if they do."""

    name: str

    def next_speakers(self, state: FFTurnState) -> list[str] | None:
        """Who may post now; None means anyone."""
        ...

    def advance(self, state: FFTurnState, speaker: str, next_speaker: str | None = None) -> FFTurnState:
        """The state after ``speaker`` posts. Raises FFConflictError when it is not their turn."""
        ...


def _refuse_floor_request(policy: str, next_speaker: str | None) -> None:
    if next_speaker is not None:
        raise FFValidationError(
            f"next_speaker only applies to moderated panels (this one is {policy})",
            field="next_speaker",
            value=next_speaker,
        )


@dataclass(frozen=True, slots=True)
class FFFreeTurnPolicy:
    """Anyone, any time."""

    name: str = "free"

    def next_speakers(self, state: FFTurnState) -> list[str] | None:
        return None

    def advance(self, state: FFTurnState, speaker: str, next_speaker: str | None = None) -> FFTurnState:
        _refuse_floor_request(self.name, next_speaker)
        return FFTurnState()


@dataclass(frozen=True, slots=True)
class FFRoundRobinTurnPolicy:
    """Members of ``order`` post in that cyclic order; everyone else posts freely."""

    order: tuple[str, ...]
    name: str = "round_robin"

    def __post_init__(self) -> None:
        if not self.order:
            raise FFValidationError("round_robin needs a non-empty turn order", field="turn_order")
        if len(set(self.order)) != len(self.order):
            raise FFValidationError("turn order lists a participant twice", field="turn_order", value=list(self.order))

    def expected(self, state: FFTurnState) -> str:
        """The member of the order whose turn it is."""
        return self.order[state.rotation % len(self.order)]

    def rounds(self, state: FFTurnState) -> int:
        """Completed rounds: every member of the order has spoken once per round."""
        return state.rotation // len(self.order)

    def next_speakers(self, state: FFTurnState) -> list[str] | None:
        return [self.expected(state)]

    def advance(self, state: FFTurnState, speaker: str, next_speaker: str | None = None) -> FFTurnState:
        _refuse_floor_request(self.name, next_speaker)
        if speaker not in self.order:
            return FFTurnState(rotation=state.rotation)
        expected = self.expected(state)
        if speaker != expected:
            raise FFConflictError(
                f"out of turn: it is {expected!r}'s turn (round robin, turn {state.rotation + 1}), not {speaker!r}'s",
                expected=expected,
                speaker=speaker,
            )
        return FFTurnState(rotation=state.rotation + 1)


@dataclass(frozen=True, slots=True)
class FFModeratedTurnPolicy:
    """The moderator always; others only while the moderator has given them the floor."""

    moderator: str
    participants: frozenset[str]
    name: str = "moderated"

    def next_speakers(self, state: FFTurnState) -> list[str] | None:
        return [self.moderator] + ([state.floor] if state.floor else [])

    def advance(self, state: FFTurnState, speaker: str, next_speaker: str | None = None) -> FFTurnState:
        if speaker == self.moderator:
            if next_speaker is not None and next_speaker not in self.participants:
                raise FFValidationError(
                    f"next_speaker {next_speaker!r} is not a participant of this panel",
                    field="next_speaker",
                    value=next_speaker,
                )
            # Giving the floor to oneself is the same as keeping it.
            return FFTurnState(floor=None if next_speaker == self.moderator else next_speaker)
        if next_speaker is not None:
            raise FFValidationError(
                f"only the moderator {self.moderator!r} can give the floor", field="next_speaker", value=next_speaker
            )
        if speaker != state.floor:
            holder = f"or {state.floor!r}, who holds the floor" if state.floor else "(nobody else holds the floor)"
            raise FFConflictError(
                f"out of turn: only the moderator {self.moderator!r} may speak now {holder}, not {speaker!r}",
                expected=self.next_speakers(state),
                speaker=speaker,
            )
        return state


def ff_turn_policy_for(panel: FFPanelDTO) -> FFTurnPolicy:
    """The policy object for a stored panel. Raises FFValidationError for an inconsistent panel."""
    if panel.turn_policy == "free":
        return FFFreeTurnPolicy()
    if panel.turn_policy == "round_robin":
        order: Sequence[str] = panel.turn_order or [p.participant_id for p in panel.participants]
        return FFRoundRobinTurnPolicy(tuple(order))
    moderators = [p.participant_id for p in panel.participants if p.role == FFPanelRole.MODERATOR]
    if len(moderators) != 1:
        raise FFValidationError(
            f"a moderated panel needs exactly one moderator, found {len(moderators)}", field="participants"
        )
    return FFModeratedTurnPolicy(moderators[0], frozenset(p.participant_id for p in panel.participants))
