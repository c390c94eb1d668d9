"""Vote tallies, consensus and panel analytics (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ff_class_configs.ff_panel_dtos import FFPanelDecisionDTO, FFPanelDTO, FFPanelMessageDTO, FFPanelVoteDTO
from ff_managers._panel.analytics import (
    ff_panel_analytics,
    ff_panel_consensus,
    ff_tally_decision,
    ff_tally_decisions,
    ff_word_count,
)

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def decision(decision_id: str = "d1", options: tuple[str, ...] = ("yes", "no")) -> FFPanelDecisionDTO:
    return FFPanelDecisionDTO(decision_id=decision_id, panel_id="p", question="?", options=list(options), created_at=T0)


def vote(who: str, option: str, decision_id: str = "d1") -> FFPanelVoteDTO:
    return FFPanelVoteDTO(vote_id=f"v_{who}_{option}", panel_id="p", decision_id=decision_id, participant_id=who, option=option, created_at=T0)


def test_word_count_is_whitespace_tokens():
    assert ff_word_count("  one two\tthree\nfour ") == 4
    assert ff_word_count("") == 0


def test_tally_counts_each_voters_latest_vote():
    tally = ff_tally_decision(decision(), [vote("a", "yes"), vote("b", "no"), vote("a", "no"), vote("c", "no")])
    assert tally.counts == {"yes": 0, "no": 3}
    assert (tally.voters, tally.majority_option, tally.consensus_level, tally.unanimous) == (3, "no", 1.0, True)


def test_tie_has_no_majority_and_no_votes_no_consensus():
    tie = ff_tally_decision(decision(), [vote("a", "yes"), vote("b", "no")])
    assert (tie.majority_option, tie.consensus_level, tie.unanimous) == (None, 0.5, False)
    empty = ff_tally_decision(decision(), [])
    assert (empty.voters, empty.consensus_level, empty.majority_option) == (0, None, None)
    assert empty.counts == {"yes": 0, "no": 0}


def test_votes_of_other_decisions_are_ignored_and_panel_consensus_is_a_mean():
    tallies = ff_tally_decisions(
        [decision("d1"), decision("d2", ("x", "y", "z")), decision("d3")],
        [vote("a", "yes"), vote("b", "yes"), vote("a", "x", "d2"), vote("b", "y", "d2"), vote("c", "y", "d2"), vote("d", "z", "d2")],
    )
    assert [t.consensus_level for t in tallies] == [1.0, 0.5, None]
    assert ff_panel_consensus(tallies) == pytest.approx(0.75)
    assert ff_panel_consensus([tallies[2]]) is None


def test_analytics_from_messages():
    panel = FFPanelDTO(
        panel_id="p",
        user_id="u",
        panel_type="ai_debate",
        participants=[{"participant_id": "pro", "role": "pro"}, {"participant_id": "con", "role": "con"}, {"participant_id": "judge", "role": "judge"}],
        created_at=T0,
        turn_policy="round_robin",
        turn_order=["pro", "con"],
    )
    script = [("pro", "a b c", 1), ("pro", "d", 1), ("con", "e f", 2), ("pro", "g h i j", 3)]
    messages = [
        FFPanelMessageDTO(
            message_id=f"m{i}", panel_id="p", sequence=i, participant_id=who, role="assistant", content=text,
            timestamp=T0 + timedelta(seconds=10 * i), rotation=rotation, reply_to="m1" if i == 3 else None,
        )
        for i, (who, text, rotation) in enumerate(script, start=1)
    ]
    figures = ff_panel_analytics(panel, messages, insight_count=2, tallies=[], computed_at=T0 + timedelta(minutes=5), round_size=2)
    assert (figures.message_count, figures.word_count, figures.turn_count, figures.rounds) == (4, 10, 3, 1)
    by_id = {p.participant_id: p for p in figures.participants}
    assert (by_id["pro"].messages, by_id["pro"].words, by_id["pro"].turns) == (3, 8, 2)
    assert (by_id["con"].replies, by_id["judge"].messages) == (1, 0)
    assert figures.duration_seconds == 300.0 and figures.active_seconds == 30.0
    assert figures.consensus_level is None and figures.insight_count == 2
    empty = ff_panel_analytics(panel, [], insight_count=0, tallies=[], computed_at=T0)
    assert (empty.turn_count, empty.first_message_at, empty.active_seconds, empty.rounds) == (0, None, 0.0, None)
