"""Panel figures: vote tallies, consensus, and per-participant analytics. Pure, no I/O.

Definitions (the numbers tests assert and reports show):

* words: whitespace-separated tokens of a message's content (``len(content.split())``).
* turn: a maximal run of consecutive messages by one participant; ``turn_count`` is the number of
  runs (speaker changes + 1, or 0 without messages).
* round (round_robin only): every member of the turn order spoke once in order.
* consensus of a decision: each voter's latest vote counts once; consensus_level = votes for the
  most-voted option / voters. ``majority_option`` is that option when it is unique, else None.
* panel consensus: the mean consensus_level of the decisions that received at least one vote.
* duration: created_at to closed_at (to the computation time while open); active time: first
  message to last message.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from statistics import fmean

from ff_class_configs.ff_panel_dtos import (
    FFDecisionTallyDTO,
    FFPanelAnalyticsDTO,
    FFPanelDecisionDTO,
    FFPanelDTO,
    FFPanelMessageDTO,
    FFPanelVoteDTO,
    FFParticipantStatsDTO,
)

__all__ = ["ff_word_count", "ff_tally_decision", "ff_tally_decisions", "ff_panel_consensus", "ff_panel_analytics"]


def ff_word_count(text: str) -> int:
    """Whitespace-separated tokens: the one definition of a word used in every figure."""
    return len(text.split())


def ff_tally_decision(decision: FFPanelDecisionDTO, votes: Iterable[FFPanelVoteDTO]) -> FFDecisionTallyDTO:
    """Count the latest vote of each participant on ``decision`` (votes in log order)."""
    latest: dict[str, str] = {}
    for vote in votes:
        if vote.decision_id == decision.decision_id:
            latest[vote.participant_id] = vote.option
    counts = {option: 0 for option in decision.options}
    for option in latest.values():
        counts[option] = counts.get(option, 0) + 1
    voters = len(latest)
    if voters == 0:
        return FFDecisionTallyDTO(decision=decision, counts=counts, voters=0)
    top = max(counts.values())
    leaders = [option for option, n in counts.items() if n == top]
    return FFDecisionTallyDTO(
        decision=decision,
        counts=counts,
        voters=voters,
        majority_option=leaders[0] if len(leaders) == 1 else None,
        consensus_level=top / voters,
        unanimous=top == voters,
    )


def ff_tally_decisions(
    decisions: Sequence[FFPanelDecisionDTO], votes: Sequence[FFPanelVoteDTO]
) -> list[FFDecisionTallyDTO]:
    """Tally every decision, in the order they were recorded."""
    by_decision: dict[str, list[FFPanelVoteDTO]] = {}
    for vote in votes:
        by_decision.setdefault(vote.decision_id, []).append(vote)
    return [ff_tally_decision(d, by_decision.get(d.decision_id, [])) for d in decisions]


def ff_panel_consensus(tallies: Iterable[FFDecisionTallyDTO]) -> float | None:
    """Mean consensus of the decisions that got votes; None when none did."""
    levels = [t.consensus_level for t in tallies if t.consensus_level is not None]
    return fmean(levels) if levels else None


def ff_panel_analytics(
    panel: FFPanelDTO,
    messages: Iterable[FFPanelMessageDTO],
    *,
    insight_count: int,
    tallies: Sequence[FFDecisionTallyDTO],
    computed_at: datetime,
    round_size: int | None = None,
) -> FFPanelAnalyticsDTO:
    """Every figure of a panel from one pass over its messages (constant memory per participant).

    ``round_size`` is the length of the round-robin turn order (None for other policies); the
    rounds are taken from the last message's rotation counter.
    """
    stats = {p.participant_id: FFParticipantStatsDTO(participant_id=p.participant_id, role=p.role) for p in panel.participants}
    count = words = turns = 0
    previous: str | None = None
    first_at: datetime | None = None
    last_at: datetime | None = None
    last_rotation = 0
    for message in messages:
        entry = stats.get(message.participant_id)
        if entry is None:  # a participant the panel no longer lists: count it rather than drop it
            entry = stats[message.participant_id] = FFParticipantStatsDTO(
                participant_id=message.participant_id, role="participant"
            )
        n_words = ff_word_count(message.content)
        count += 1
        words += n_words
        entry.messages += 1
        entry.words += n_words
        entry.replies += message.reply_to is not None
        if entry.first_sequence is None:
            entry.first_sequence = message.sequence
        entry.last_sequence = message.sequence
        if message.participant_id != previous:
            turns += 1
            entry.turns += 1
            previous = message.participant_id
        first_at = first_at or message.timestamp
        last_at = message.timestamp
        last_rotation = message.rotation
    end = panel.closed_at or computed_at
    return FFPanelAnalyticsDTO(
        panel_id=panel.panel_id,
        panel_type=panel.panel_type,
        status=panel.status,
        message_count=count,
        word_count=words,
        turn_count=turns,
        rounds=last_rotation // round_size if round_size else None,
        participants=list(stats.values()),
        insight_count=insight_count,
        decision_count=len(tallies),
        vote_count=sum(t.voters for t in tallies),
        decisions=list(tallies),
        consensus_level=ff_panel_consensus(tallies),
        created_at=panel.created_at,
        first_message_at=first_at,
        last_message_at=last_at,
        closed_at=panel.closed_at,
        duration_seconds=max(0.0, (end - panel.created_at).total_seconds()),
        active_seconds=max(0.0, (last_at - first_at).total_seconds()) if first_at and last_at else 0.0,
        computed_at=computed_at,
    )
