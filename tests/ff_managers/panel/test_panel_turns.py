"""Turn policies (pure): free, round robin with free speakers, moderated floor."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ff_class_configs.ff_panel_dtos import FFPanelDTO, FFPanelMessageDTO
from ff_managers._panel.turns import (
    FFFreeTurnPolicy,
    FFModeratedTurnPolicy,
    FFRoundRobinTurnPolicy,
    FFTurnState,
    ff_turn_policy_for,
)
from ff_utils.ff_errors import FFConflictError, FFValidationError


def test_free_policy_lets_anyone_speak_and_refuses_floor_requests():
    policy = FFFreeTurnPolicy()
    assert policy.next_speakers(FFTurnState()) is None
    assert policy.advance(FFTurnState(), "anyone") == FFTurnState()
    with pytest.raises(FFValidationError):
        policy.advance(FFTurnState(), "a", next_speaker="b")


def test_round_robin_cycles_through_the_order_and_counts_rounds():
    policy = FFRoundRobinTurnPolicy(("a", "b", "c"))
    state = FFTurnState()
    for expected in ["a", "b", "c", "a", "b"]:
        assert policy.next_speakers(state) == [expected]
        state = policy.advance(state, expected)
    assert state.rotation == 5 and policy.rounds(state) == 1


def test_round_robin_refuses_out_of_turn_with_the_expected_speaker():
    policy = FFRoundRobinTurnPolicy(("a", "b"))
    with pytest.raises(FFConflictError) as caught:
        policy.advance(FFTurnState(rotation=1), "a")
    assert caught.value.context == {"expected": "b", "speaker": "a"}
    assert "turn 2" in str(caught.value)


def test_round_robin_outsiders_speak_without_moving_the_rotation():
    policy = FFRoundRobinTurnPolicy(("a", "b"))
    assert policy.advance(FFTurnState(rotation=3), "host") == FFTurnState(rotation=3)


@pytest.mark.parametrize("order", [(), ("a", "a")])
def test_round_robin_needs_a_proper_order(order):
    with pytest.raises(FFValidationError):
        FFRoundRobinTurnPolicy(order)


def test_moderated_floor_is_given_kept_and_taken_back():
    policy = FFModeratedTurnPolicy("mod", frozenset({"mod", "x", "y"}))
    state = FFTurnState()
    with pytest.raises(FFConflictError):
        policy.advance(state, "x")
    state = policy.advance(state, "mod", next_speaker="x")
    assert state.floor == "x" and policy.next_speakers(state) == ["mod", "x"]
    assert policy.advance(state, "x") == state  # the holder may speak again and again
    with pytest.raises(FFConflictError):
        policy.advance(state, "y")
    with pytest.raises(FFValidationError):  # only the moderator hands the floor on
        policy.advance(state, "x", next_speaker="y")
    assert policy.advance(state, "mod").floor is None
    assert policy.advance(state, "mod", next_speaker="mod").floor is None
    with pytest.raises(FFValidationError):
        policy.advance(state, "mod", next_speaker="stranger")


def test_state_is_read_back_from_a_stored_record():
    assert FFTurnState.after(None) == FFTurnState()
    stored = {"message_id": "m1", "panel_id": "p", "sequence": 1, "participant_id": "a", "role": "user", "content": "hi", "timestamp": "2025-01-01T00:00:00Z"}
    assert FFTurnState.after(FFPanelMessageDTO.model_validate({**stored, "rotation": 4, "floor": "x"})) == FFTurnState(4, "x")
    assert FFTurnState.after(FFPanelMessageDTO.model_validate(stored)) == FFTurnState()


def _panel(policy: str, roles: list[str], order: list[str] | None = None) -> FFPanelDTO:
    return FFPanelDTO(
        panel_id="p1",
        user_id="u1",
        panel_type="generic",
        participants=[{"participant_id": f"p{i}", "role": role} for i, role in enumerate(roles)],
        created_at=datetime(2025, 1, 1, tzinfo=UTC),
        turn_policy=policy,
        turn_order=order or [],
    )


def test_policy_for_a_panel():
    assert isinstance(ff_turn_policy_for(_panel("free", ["participant"] * 2)), FFFreeTurnPolicy)
    robin = ff_turn_policy_for(_panel("round_robin", ["pro", "con", "judge"], ["p1", "p0"]))
    assert isinstance(robin, FFRoundRobinTurnPolicy) and robin.order == ("p1", "p0")
    assert ff_turn_policy_for(_panel("round_robin", ["pro", "con"])).order == ("p0", "p1")  # type: ignore[attr-defined]
    moderated = ff_turn_policy_for(_panel("moderated", ["expert", "moderator"]))
    assert isinstance(moderated, FFModeratedTurnPolicy) and moderated.moderator == "p1"
    with pytest.raises(FFValidationError):
        ff_turn_policy_for(_panel("moderated", ["moderator", "moderator"]))
