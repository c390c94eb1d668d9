"""Composition rules of a panel: how many participants, which roles each panel type needs.

Pure checks, run before anything is written. Each panel type's rule is one small function in
one table, so adding a type means adding one entry. Every failure is an FFValidationError that
names the rule.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

from ff_class_configs.ff_panel_config import FFTurnPolicyName
from ff_class_configs.ff_panel_dtos import FFPanelParticipantDTO, FFPanelRole, FFPanelType
from ff_utils.ff_errors import FFValidationError

__all__ = ["ff_check_composition", "ff_resolve_turn_order", "PANEL_TYPE_RULES"]


def _count(participants: Sequence[FFPanelParticipantDTO], role: FFPanelRole) -> int:
    return sum(1 for p in participants if p.role == role)


def _need(condition: bool, panel_type: FFPanelType, rule: str) -> None:
    if not condition:
        raise FFValidationError(f"a {panel_type.value} panel needs {rule}", field="participants")


def _generic(participants: Sequence[FFPanelParticipantDTO]) -> None:
    return None


def _multi_ai(participants: Sequence[FFPanelParticipantDTO]) -> None:
    _need(sum(1 for p in participants if p.kind == "ai") >= 2, FFPanelType.MULTI_AI_PANEL, "at least two AI participants")


def _debate(participants: Sequence[FFPanelParticipantDTO]) -> None:
    _need(
        _count(participants, FFPanelRole.PRO) >= 1 and _count(participants, FFPanelRole.CON) >= 1,
        FFPanelType.AI_DEBATE,
        "at least one 'pro' and one 'con' participant",
    )


def _delegation(participants: Sequence[FFPanelParticipantDTO]) -> None:
    _need(_count(participants, FFPanelRole.EXPERT) >= 1, FFPanelType.TOPIC_DELEGATION, "at least one 'expert'")


def _game_master(participants: Sequence[FFPanelParticipantDTO]) -> None:
    _need(
        _count(participants, FFPanelRole.GAME_MASTER) == 1 and _count(participants, FFPanelRole.PLAYER) >= 1,
        FFPanelType.AI_GAME_MASTER,
        "exactly one 'game_master' and at least one 'player'",
    )


def _task_agent(participants: Sequence[FFPanelParticipantDTO]) -> None:
    _need(_count(participants, FFPanelRole.AGENT) >= 1, FFPanelType.AUTO_TASK_AGENT, "at least one 'agent'")


PANEL_TYPE_RULES: dict[FFPanelType, Callable[[Sequence[FFPanelParticipantDTO]], None]] = {
    FFPanelType.GENERIC: _generic,
    FFPanelType.MULTI_AI_PANEL: _multi_ai,
    FFPanelType.AI_DEBATE: _debate,
    FFPanelType.TOPIC_DELEGATION: _delegation,
    FFPanelType.AI_GAME_MASTER: _game_master,
    FFPanelType.AUTO_TASK_AGENT: _task_agent,
}


def ff_check_composition(
    panel_type: FFPanelType,
    participants: Sequence[FFPanelParticipantDTO],
    *,
    min_participants: int,
    max_participants: int,
) -> None:
    """Refuse a participant list that is too small, too large, has duplicate ids or breaks the type's rule."""
    if len(participants) < min_participants:
        raise FFValidationError(
            f"a panel needs at least {min_participants} participants, got {len(participants)}", field="participants"
        )
    if len(participants) > max_participants:
        raise FFValidationError(
            f"too many participants: {len(participants)} (at most {max_participants})", field="participants"
        )
    duplicates = sorted(pid for pid, n in Counter(p.participant_id for p in participants).items() if n > 1)
    if duplicates:
        raise FFValidationError(f"duplicate participant ids: {', '.join(duplicates)}", field="participants", value=duplicates)
    PANEL_TYPE_RULES[panel_type](participants)


def ff_resolve_turn_order(
    turn_policy: FFTurnPolicyName,
    participants: Sequence[FFPanelParticipantDTO],
    turn_order: Sequence[str] | None,
) -> list[str]:
    """The turn order to store: given for round_robin (default: every participant), empty otherwise.

    Raises FFValidationError for a turn order given to another policy, an unknown or repeated id,
    or a moderated panel without exactly one moderator.
    """
    ids = [p.participant_id for p in participants]
    if turn_policy == "moderated":
        moderators = _count(participants, FFPanelRole.MODERATOR)
        if moderators != 1:
            raise FFValidationError(
                f"a moderated panel needs exactly one 'moderator', got {moderators}", field="participants"
            )
    if turn_policy != "round_robin":
        if turn_order:
            raise FFValidationError(
                f"turn_order only applies to round_robin panels (this one is {turn_policy})", field="turn_order"
            )
        return []
    if turn_order is None:
        return ids
    order = list(turn_order)
    if not order:
        raise FFValidationError("turn_order is empty", field="turn_order")
    unknown = [pid for pid in order if pid not in ids]
    if unknown:
        raise FFValidationError(f"turn_order names unknown participants: {', '.join(map(str, unknown))}", field="turn_order")
    if len(set(order)) != len(order):
        raise FFValidationError("turn_order lists a participant twice", field="turn_order", value=order)
    return order
