"""Panel composition rules (pure)."""

from __future__ import annotations

import pytest

from ff_class_configs.ff_panel_dtos import FFPanelParticipantDTO, FFPanelType
from ff_managers._panel.rules import PANEL_TYPE_RULES, ff_check_composition, ff_resolve_turn_order
from ff_utils.ff_errors import FFValidationError


def seats(*specs: str) -> list[FFPanelParticipantDTO]:
    """'role' or 'role:human' per participant, ids p0, p1..."""
    result = []
    for i, spec in enumerate(specs):
        role, _, kind = spec.partition(":")
        result.append(FFPanelParticipantDTO(participant_id=f"p{i}", role=role, kind=kind or "ai"))
    return result


def check(panel_type: str, participants: list[FFPanelParticipantDTO]) -> None:
    ff_check_composition(FFPanelType(panel_type), participants, min_participants=2, max_participants=4)


def test_every_panel_type_has_a_rule():
    assert set(PANEL_TYPE_RULES) == set(FFPanelType)


@pytest.mark.parametrize(
    ("panel_type", "ok", "bad"),
    [
        ("generic", ("participant", "participant:human"), None),
        ("multi_ai_panel", ("expert", "expert"), ("expert", "participant:human")),
        ("ai_debate", ("pro", "con", "judge"), ("pro", "pro")),
        ("topic_delegation", ("moderator", "expert"), ("moderator", "participant")),
        ("ai_game_master", ("game_master", "player:human", "player"), ("game_master", "game_master", "player")),
        ("auto_task_agent", ("agent", "participant:human"), ("participant", "participant")),
    ],
)
def test_type_rules(panel_type, ok, bad):
    check(panel_type, seats(*ok))
    if bad is not None:
        with pytest.raises(FFValidationError, match=panel_type):
            check(panel_type, seats(*bad))


def test_counts_and_duplicates():
    with pytest.raises(FFValidationError, match="at least 2"):
        check("generic", seats("participant"))
    with pytest.raises(FFValidationError, match="too many"):
        check("generic", seats(*["participant"] * 5))
    twins = [FFPanelParticipantDTO(participant_id="x"), FFPanelParticipantDTO(participant_id="x")]
    with pytest.raises(FFValidationError, match="duplicate participant ids: x"):
        check("generic", twins)


def test_turn_order_resolution():
    people = seats("pro", "con", "moderator")
    assert ff_resolve_turn_order("round_robin", people, None) == ["p0", "p1", "p2"]
    assert ff_resolve_turn_order("round_robin", people, ["p1", "p0"]) == ["p1", "p0"]
    assert ff_resolve_turn_order("free", people, None) == []
    assert ff_resolve_turn_order("moderated", people, None) == []
    for order in (["p0", "ghost"], ["p0", "p0"], []):
        with pytest.raises(FFValidationError):
            ff_resolve_turn_order("round_robin", people, order)
    with pytest.raises(FFValidationError, match="only applies to round_robin"):
        ff_resolve_turn_order("free", people, ["p0"])
    with pytest.raises(FFValidationError, match="exactly one 'moderator'"):
        ff_resolve_turn_order("moderated", seats("pro", "con"), None)


def test_turn_order_refusals_exactly():
    """Every turn-order refusal's message, field and value (issue 20: only the type, or a fragment of
    two messages, was read; mutants reviewed ahead of a run)."""
    people = seats("pro", "con", "moderator")
    cases = [
        (("round_robin", people, ["p0", "ghost", "nobody"]), "turn_order names unknown participants: ghost, nobody", "turn_order", None),
        (("round_robin", people, ["p0", "p1", "p0"]), "turn_order lists a participant twice", "turn_order", ["p0", "p1", "p0"]),
        (("round_robin", people, []), "turn_order is empty", "turn_order", None),
        (("free", people, ["p0"]), "turn_order only applies to round_robin panels (this one is free)", "turn_order", None),
        (("moderated", people, ["p0"]), "turn_order only applies to round_robin panels (this one is moderated)", "turn_order", None),
        (("moderated", seats("pro", "con"), None), "a moderated panel needs exactly one 'moderator', got 0", "participants", None),
        (("moderated", seats("moderator", "moderator"), None), "a moderated panel needs exactly one 'moderator', got 2",
         "participants", None),
    ]
    for arguments, message, field, value in cases:
        with pytest.raises(FFValidationError) as caught:
            ff_resolve_turn_order(*arguments)
        assert (caught.value.message, caught.value.field, caught.value.value) == (message, field, value), arguments
    assert ff_resolve_turn_order("free", people, []) == []  # an empty order is no order
    assert ff_resolve_turn_order("round_robin", people, ("p2", "p0")) == ["p2", "p0"]  # a list, whatever was given


def test_composition_bounds_and_duplicates_exactly():
    """The size and duplicate refusals of ``ff_check_composition``: message, field, value, each bound at
    its edge (issue 20: mutants reviewed ahead of a run)."""
    cases = [
        (seats("pro"), "a panel needs at least 2 participants, got 1", None),
        (seats(*["pro"] * 5), "too many participants: 5 (at most 4)", None),
    ]
    dup = [FFPanelParticipantDTO(participant_id=i) for i in ("y", "x", "y", "x", "z")][:4]
    cases.append((dup, "duplicate participant ids: x, y", ["x", "y"]))
    for participants, message, value in cases:
        with pytest.raises(FFValidationError) as caught:
            check("generic", participants)
        assert (caught.value.message, caught.value.field, caught.value.value) == (message, "participants", value)
    check("generic", seats("pro", "con"))  # the lower edge
    check("generic", seats(*["pro"] * 4))  # the upper edge


def test_a_stored_moderated_panel_without_one_moderator_is_refused_exactly():
    from datetime import UTC, datetime

    from ff_class_configs.ff_panel_dtos import FFPanelDTO
    from ff_managers._panel.turns import ff_turn_policy_for

    def stored(*roles: str) -> FFPanelDTO:
        return FFPanelDTO(panel_id="p", user_id="u", panel_type="generic", participants=seats(*roles),
                          turn_policy="moderated", created_at=datetime(2025, 1, 1, tzinfo=UTC))

    for roles, found in ((("pro", "con"), 0), (("moderator", "moderator", "pro"), 2)):
        with pytest.raises(FFValidationError) as caught:
            ff_turn_policy_for(stored(*roles))
        assert (caught.value.message, caught.value.field) == (f"a moderated panel needs exactly one moderator, found {found}",
                                                              "participants")
    policy = ff_turn_policy_for(stored("pro", "moderator", "con"))
    assert (policy.moderator, policy.participants, policy.name) == ("p1", frozenset({"p0", "p1", "p2"}), "moderated")  # type: ignore[attr-defined]
