"""Every refusal of the panel manager, exactly: its type, message, ``field``/``value`` (or
``kind``/``key``, ``path``), so a refusal that names the wrong field or loses what was refused is a
failing test (issue 20: these were surviving mutants of ``_panel``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ff_class_configs import load_config
from ff_class_configs.ff_panel_dtos import FFPanelParticipantDTO, FFPanelType
from ff_managers import FFPanelSessionManager
from ff_managers._panel.rules import ff_check_composition
from ff_managers._panel.turns import FFModeratedTurnPolicy, FFTurnState
from ff_utils.ff_errors import (
    FFConflictError,
    FFCorruptionError,
    FFNotFoundError,
    FFValidationError,
)
from tests._fakes import FakeClock
from tests.ff_managers.panel._exact import DUO, T0



def seats(*roles: str, kind: str = "ai") -> list[FFPanelParticipantDTO]:
    return [FFPanelParticipantDTO(participant_id=f"p{i}", role=role, kind=kind) for i, role in enumerate(roles)]


@pytest.mark.parametrize(
    ("panel_type", "roles", "kind", "rule"),
    [
        ("multi_ai_panel", ("participant", "participant"), "human", "at least two AI participants"),
        ("ai_debate", ("pro", "participant"), "ai", "at least one 'pro' and one 'con' participant"),
        ("topic_delegation", ("participant", "participant"), "ai", "at least one 'expert'"),
        ("ai_game_master", ("game_master", "game_master"), "ai", "exactly one 'game_master' and at least one 'player'"),
        ("auto_task_agent", ("participant", "participant"), "ai", "at least one 'agent'"),
    ],
)
def test_each_type_rule_names_itself_and_the_participants_field(panel_type, roles, kind, rule):
    with pytest.raises(FFValidationError) as caught:
        ff_check_composition(FFPanelType(panel_type), seats(*roles, kind=kind), min_participants=2, max_participants=4)
    assert caught.value.message == f"a {panel_type} panel needs {rule}"
    assert caught.value.field == "participants"


async def test_list_panels_refusals(panels):
    with pytest.raises(FFValidationError) as caught:
        await panels.list_panels("alice", status="archived")
    assert (caught.value.message, caught.value.field, caught.value.value) == (
        "unknown status 'archived'; use open or closed", "status", "archived")
    with pytest.raises(FFValidationError) as bad_user:
        await panels.list_panels("../x")
    assert bad_user.value.field == "user_id"
    closed = await panels.create_panel("alice", DUO)
    await panels.close_panel("alice", closed.panel_id)
    assert [p.panel_id for p in await panels.list_panels("alice", status="closed")] == [closed.panel_id]


async def test_route_refusals(panels):
    panel = await panels.create_panel("alice", [{"participant_id": "x", "role": "expert", "expertise": ["tax law"]},
                                                {"participant_id": "y"}], panel_type="topic_delegation")
    with pytest.raises(FFNotFoundError) as caught:
        await panels.route_question("alice", panel.panel_id, "cooking pasta")
    assert (caught.value.message, caught.value.kind, caught.value.key) == (
        "no participant's expertise matches the question", "expert", panel.panel_id)
    with pytest.raises(FFValidationError) as blank:
        await panels.route_question("alice", panel.panel_id, "   ")
    assert blank.value.field == "question"


async def test_unknown_panel_is_kind_panel_with_its_key(panels):
    with pytest.raises(FFNotFoundError) as caught:
        await panels.get_panel("alice", "panel_missing")
    assert (caught.value.message, caught.value.kind, caught.value.key) == ("no panel 'panel_missing'", "panel", "panel_missing")


async def test_state_refusals_name_the_changes_field(panels, tmp_path):
    panel = await panels.create_panel("alice", DUO)
    for bad in ({}, [("k", 1)], "k"):
        with pytest.raises(FFValidationError) as caught:
            await panels.update_state("alice", panel.panel_id, bad)
        assert (caught.value.message, caught.value.field) == ("changes must be a non-empty mapping with string keys", "changes")
    limit = panels.config.panel.max_state_bytes
    with pytest.raises(FFValidationError) as big:
        await panels.update_state("alice", panel.panel_id, {"k": "x" * limit})
    assert big.value.field == "changes"
    await panels.update_state("alice", panel.panel_id, {"a": "x" * (limit // 2)})
    with pytest.raises(FFValidationError) as merged:  # each change fits, the merged document does not
        await panels.update_state("alice", panel.panel_id, {"b": "y" * (limit // 2)})
    assert merged.value.field == "changes"


async def test_a_state_document_that_is_not_an_object_is_corruption_with_its_path(panels, config):
    panel = await panels.create_panel("alice", DUO)
    path = Path(config.storage.base_path) / "users" / "alice" / "panels" / panel.panel_id / "state.json"
    path.write_bytes(b"[1, 2]")
    with pytest.raises(FFCorruptionError) as caught:
        await panels.get_state("alice", panel.panel_id)
    assert caught.value.message == "state.json holds list, not an object"
    assert caught.value.path == path


async def test_import_refusals(panels):
    panel = await panels.create_panel("alice", DUO)
    limit = panels.config.panel.max_import_messages
    for bad in ("text", {"participant_id": "ann"}, 5):
        with pytest.raises(FFValidationError) as caught:
            await panels.import_messages("alice", panel.panel_id, bad)
        assert (caught.value.message, caught.value.field) == ("messages must be a list", "messages")
    for count in (0, limit + 1):
        with pytest.raises(FFValidationError) as caught:
            await panels.import_messages("alice", panel.panel_id, [{"participant_id": "ann", "content": "x"}] * count)
        assert (caught.value.message, caught.value.field) == (f"import 1 to {limit} messages at a time, got {count}", "messages")
    with pytest.raises(FFValidationError) as meta:
        await panels.import_messages("alice", panel.panel_id, [{"participant_id": "ann", "content": "x"},
                                                              {"participant_id": "bob", "content": "y", "metadata": {"k": {1, 2}}}])
    assert meta.value.field == "messages.1.metadata"


async def test_import_of_exactly_the_limit_keeps_each_messages_metadata(tmp_path):
    config = load_config(base_path=tmp_path, environ={}, overrides={"panel": {"max_import_messages": 3}})
    async with FFPanelSessionManager(config, clock=FakeClock(T0)) as manager:
        panel = await manager.create_panel("alice", DUO)
        batch = [{"participant_id": "ann", "content": f"m{i}", "metadata": {"i": i}} for i in range(3)]
        stored = await manager.import_messages("alice", panel.panel_id, batch)
        assert [m.metadata for m in stored] == [{"i": 0}, {"i": 1}, {"i": 2}]
        assert [m.metadata for m in await manager.get_messages("alice", panel.panel_id)] == [{"i": 0}, {"i": 1}, {"i": 2}]


async def test_vote_refusals(panels):
    panel = await panels.create_panel("alice", DUO)
    decision = await panels.record_decision("alice", panel.panel_id, "Ship?", ["yes", "no"])
    with pytest.raises(FFValidationError) as bad_id:
        await panels.cast_vote("alice", panel.panel_id, "../d", "ann", "yes")
    assert bad_id.value.field == "decision_id"
    with pytest.raises(FFNotFoundError) as missing:
        await panels.cast_vote("alice", panel.panel_id, "decision_none", "ann", "yes")
    assert (missing.value.message, missing.value.kind, missing.value.key) == (
        f"no decision 'decision_none' in panel {panel.panel_id!r}", "decision", "decision_none")
    with pytest.raises(FFValidationError) as stranger:
        await panels.cast_vote("alice", panel.panel_id, decision.decision_id, "zed", "yes")
    assert (stranger.value.field, stranger.value.value) == ("participant_id", "zed")
    with pytest.raises(FFValidationError) as rationale:
        await panels.cast_vote("alice", panel.panel_id, decision.decision_id, "ann", "yes", rationale="x\x00")
    assert rationale.value.field == "rationale"


def test_moderated_refusals_say_who_may_speak():
    policy = FFModeratedTurnPolicy("mod", frozenset({"mod", "ann", "bob"}))
    with pytest.raises(FFValidationError) as stranger:
        policy.advance(FFTurnState(), "mod", "zed")
    assert (stranger.value.message, stranger.value.field, stranger.value.value) == (
        "next_speaker 'zed' is not a participant of this panel", "next_speaker", "zed")
    with pytest.raises(FFValidationError) as usurper:
        policy.advance(FFTurnState(floor="ann"), "ann", "bob")
    assert (usurper.value.message, usurper.value.field, usurper.value.value) == (
        "only the moderator 'mod' can give the floor", "next_speaker", "bob")
    with pytest.raises(FFConflictError) as nobody:
        policy.advance(FFTurnState(), "ann")
    assert nobody.value.message == "out of turn: only the moderator 'mod' may speak now (nobody else holds the floor), not 'ann'"
    assert nobody.value.context == {"expected": ["mod"], "speaker": "ann"}
    with pytest.raises(FFConflictError) as other:
        policy.advance(FFTurnState(floor="ann"), "bob")
    assert other.value.message == "out of turn: only the moderator 'mod' may speak now or 'ann', who holds the floor, not 'bob'"
    assert other.value.context == {"expected": ["mod", "ann"], "speaker": "bob"}


async def test_a_dto_refusal_names_the_action_and_the_field(panels):
    panel = await panels.create_panel("alice", DUO)
    decision = await panels.record_decision("alice", panel.panel_id, "Ship?", ["yes", "no"])
    with pytest.raises(FFValidationError) as vote:
        await panels.cast_vote("alice", panel.panel_id, decision.decision_id, "bad id!", "yes")
    assert vote.value.message.startswith("cannot cast vote: participant_id: ") and vote.value.field == "participant_id"
    with pytest.raises(FFValidationError) as insight:
        await panels.record_insight("alice", panel.panel_id, "ok", confidence=2.0)
    assert insight.value.message.startswith("cannot record insight: confidence: ") and insight.value.field == "confidence"
    with pytest.raises(FFValidationError) as created:
        await panels.create_panel("alice", DUO, panel_id="bad id!")
    assert created.value.field == "panel_id"
    with pytest.raises(FFValidationError) as message:
        await panels.add_message("alice", panel.panel_id, "ann", "hi", role="robot")
    assert message.value.message.startswith("cannot add panel message: role: ") and message.value.field == "role"
