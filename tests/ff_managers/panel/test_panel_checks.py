"""FFPanelInputChecker (pure): every refusal names its field."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ff_class_configs.ff_panel_config import FFPanelConfigDTO
from ff_class_configs.ff_panel_dtos import FFPanelDTO, FFPanelMessageInputDTO, FFPanelParticipantDTO
from ff_managers._panel.checks import FFPanelInputChecker
from ff_utils.ff_errors import FFValidationError

T0 = datetime(2025, 1, 1, tzinfo=UTC)
CHECK = FFPanelInputChecker(FFPanelConfigDTO(max_message_chars=10, max_metadata_bytes=32, max_decision_options=3, max_name_chars=5))
PANEL = FFPanelDTO(
    panel_id="p",
    user_id="u",
    panel_type="generic",
    participants=[{"participant_id": "bot"}, {"participant_id": "human", "kind": "human"}],
    created_at=T0,
)


def refused(call, field: str) -> None:
    with pytest.raises(FFValidationError) as caught:
        call()
    assert caught.value.field == field, caught.value


def test_text():
    assert CHECK.text("hi", "t", 5) == "hi"
    assert CHECK.text("", "t", 5, allow_empty=True) == ""
    for bad in ("", "  \n", "toolong", "a\x00b", 3, None):
        refused(lambda: CHECK.text(bad, "t", 5), "t")


def test_metadata():
    assert CHECK.metadata(None) == {} and CHECK.metadata({"a": 1}) == {"a": 1}
    for bad in ({"k": "x" * 40}, {1: "int key"}, ["list"], {"k": object()}):
        refused(lambda: CHECK.metadata(bad, field="m"), "m")


def test_options_count_moment_and_panel_type():
    assert CHECK.options(["a", "b"]) == ["a", "b"]
    for bad in (["a"], ["a", "b", "c", "d"], ["a", "a"], "ab", ["a", ""], ["a", "longer"]):
        refused(lambda: CHECK.options(bad), "options")
    assert CHECK.count(1, "n") == 1 and CHECK.count(0, "n", minimum=0) == 0
    for bad in (0, -1, True, 1.5, "3"):
        refused(lambda: CHECK.count(bad, "n"), "n")
    assert CHECK.moment(None, "when", T0) == T0
    refused(lambda: CHECK.moment("2025-01-01", "when", T0), "when")
    assert CHECK.panel_type("ai_debate").value == "ai_debate"
    refused(lambda: CHECK.panel_type("tea_party"), "panel_type")


def test_participants_are_revalidated_copies():
    given = FFPanelParticipantDTO(participant_id="a")
    [seat] = CHECK.participants([given])
    assert seat == given and seat is not given
    refused(lambda: CHECK.participants({"participant_id": "a"}), "participants")
    refused(lambda: CHECK.participants([{"participant_id": "a", "name": "toolong"}]), "participants.0.name")
    with pytest.raises(FFValidationError, match="participant_id"):
        CHECK.participants([{"participant_id": "../a"}])


def test_drafts_fill_roles_and_refuse_strangers_repeats_and_self_replies():
    drafts = CHECK.drafts(PANEL, [FFPanelMessageInputDTO(participant_id="bot", content="x"), FFPanelMessageInputDTO(participant_id="human", content="y")])
    assert [d.role for d in drafts] == ["assistant", "user"]
    assert CHECK.drafts(PANEL, [FFPanelMessageInputDTO(participant_id="bot", content="x", role="system")])[0].role == "system"
    cases = [
        ([{"participant_id": "ghost", "content": "x"}], "participant_id"),
        ([{"participant_id": "bot", "content": "x" * 11}], "message.content"),
        ([{"participant_id": "bot", "content": "x", "next_speaker": "ghost"}], "next_speaker"),
        ([{"participant_id": "bot", "content": "x", "message_id": "m", "reply_to": "m"}], "reply_to"),
        ([{"participant_id": "bot", "content": "x", "message_id": "m"}, {"participant_id": "bot", "content": "y", "message_id": "m"}], "message_id"),
    ]
    for items, field in cases:
        refused(lambda: CHECK.drafts(PANEL, [FFPanelMessageInputDTO(**i) for i in items]), field)


def test_participant_refusals_name_the_seat_and_the_field():
    """Each refusal of ``participants`` says what was wrong and at which seat (issue 20: the checker's
    messages and the seat index in its fields were read by no test; mutants reviewed ahead of a run)."""
    for bad in ("ab", b"ab", {"participant_id": "a"}, 5):
        with pytest.raises(FFValidationError) as caught:
            CHECK.participants(bad)
        assert (caught.value.message, caught.value.field) == ("participants must be a list", "participants")
    first = {"participant_id": "a"}
    for second, field, message in (
        ({"participant_id": "b", "name": "toolong"}, "participants.1.name", "participants.1.name has 7 characters; the limit is 5"),
        ({"participant_id": "b", "expertise": ["ok", "toolong"]}, "participants.1.expertise",
         "participants.1.expertise has 7 characters; the limit is 5"),
        ({"participant_id": "b", "metadata": {"k": "x" * 40}}, "participants.1.metadata",
         "participants.1.metadata is 48 bytes as JSON; the limit is 32"),
    ):
        with pytest.raises(FFValidationError) as caught:
            CHECK.participants([first, second])
        assert (caught.value.field, caught.value.message) == (field, message)
    with pytest.raises(FFValidationError) as caught:
        CHECK.participants([first, {"participant_id": "../b"}])
    assert caught.value.field == "participant_id"
    assert caught.value.message.startswith("cannot read participant 1: participant_id: ")
    [seat] = CHECK.participants([{"participant_id": "a", "metadata": {"k": [1]}}])
    assert seat.metadata == {"k": [1]}
