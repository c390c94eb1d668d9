"""Decisions, votes, message batches and closed panels, exactly: every field of a decision read back,
every refusal's type, message, ``field``/``value`` (or ``kind``/``key``), each bound at its edge
(issue 20: survivors of the ``_panel`` run at 94a6017 -- a decision that lost its proposer or
metadata, a refusal that named the wrong field or the wrong batch position, passed every test)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from ff_class_configs import load_config
from ff_managers import FFPanelSessionManager
from ff_managers._panel.turns import FFRoundRobinTurnPolicy
from ff_utils.ff_errors import FFConflictError, FFValidationError
from tests._fakes import FakeClock
from tests.ff_managers.panel._exact import DUO, T0


async def small(tmp_path: Path, **panel: int) -> FFPanelSessionManager:
    config = load_config(base_path=tmp_path, environ={}, overrides={"panel": panel})
    return FFPanelSessionManager(config, clock=FakeClock(T0))


async def test_a_decision_keeps_every_field_in_memory_and_on_disk(panels, config):
    panel = await panels.create_panel("alice", DUO)
    decision = await panels.record_decision("alice", panel.panel_id, "Ship it?", ["yes", "no"], proposed_by="ann",
                                            metadata={"ticket": 7})
    assert decision.decision_id.startswith("dec_") and len(decision.decision_id) > len("dec_")
    assert (decision.panel_id, decision.question, decision.options, decision.created_at, decision.proposed_by,
            decision.metadata) == (panel.panel_id, "Ship it?", ["yes", "no"], T0, "ann", {"ticket": 7})
    [tally] = await panels.get_decisions("alice", panel.panel_id)
    assert tally.decision == decision
    stored = [p for p in config.storage.base_path.rglob("decisions.jsonl")]
    assert len(stored) == 1
    [line] = stored[0].read_bytes().splitlines()
    assert orjson.loads(line) == decision.model_dump(mode="json")  # JSON text: created_at as ISO, not a repr
    assert orjson.loads(line)["created_at"].startswith("2025-03-01T12:00:00")


async def test_a_decision_by_nobody_in_particular_and_its_refusals(panels):
    panel = await panels.create_panel("alice", DUO)
    anonymous = await panels.record_decision("alice", panel.panel_id, "Lunch?", ["pizza", "soup"])
    assert (anonymous.proposed_by, anonymous.metadata) == (None, {})
    with pytest.raises(FFValidationError) as stranger:
        await panels.record_decision("alice", panel.panel_id, "Q?", ["a", "b"], proposed_by="zed")
    assert (stranger.value.message, stranger.value.field, stranger.value.value) == (
        f"'zed' is not a participant of panel {panel.panel_id!r}", "proposed_by", "zed")
    with pytest.raises(FFValidationError) as blank:
        await panels.record_decision("alice", panel.panel_id, "  ", ["a", "b"])
    assert blank.value.field == "question"
    with pytest.raises(FFValidationError) as bad_proposer:
        await panels.record_decision("alice", panel.panel_id, "Q?", ["a", "b"], proposed_by="bad id!")
    assert bad_proposer.value.message.startswith("cannot record decision: proposed_by: ")
    assert bad_proposer.value.field == "proposed_by"
    assert len(await panels.get_decisions("alice", panel.panel_id)) == 1  # nothing refused was written


async def test_options_refusals_and_bounds(tmp_path):
    async with await small(tmp_path, max_decision_options=3) as manager:
        panel = await manager.create_panel("alice", DUO)
        for bad in ("ab", b"ab", 5, {"a": 1}):
            with pytest.raises(FFValidationError) as caught:
                await manager.record_decision("alice", panel.panel_id, "Q?", bad)
            assert (caught.value.message, caught.value.field) == ("options must be a list of text", "options")
        for options in (["a"], ["a", "b", "c", "d"]):
            with pytest.raises(FFValidationError) as caught:
                await manager.record_decision("alice", panel.panel_id, "Q?", options)
            assert (caught.value.message, caught.value.field) == (f"a decision needs 2 to 3 options, got {len(options)}", "options")
        with pytest.raises(FFValidationError) as twice:
            await manager.record_decision("alice", panel.panel_id, "Q?", ["a", "b", "a"])
        assert (twice.value.message, twice.value.field, twice.value.value) == ("options must be distinct", "options", ["a", "b", "a"])
        at_limit = await manager.record_decision("alice", panel.panel_id, "Q?", ["a", "b", "c"])
        assert at_limit.options == ["a", "b", "c"]


async def test_a_vote_for_an_unlisted_option_names_the_option(panels):
    panel = await panels.create_panel("alice", DUO)
    decision = await panels.record_decision("alice", panel.panel_id, "Ship?", ["yes", "no"])
    with pytest.raises(FFValidationError) as caught:
        await panels.cast_vote("alice", panel.panel_id, decision.decision_id, "ann", "maybe")
    assert (caught.value.message, caught.value.field, caught.value.value) == (
        "option 'maybe' is not one of ['yes', 'no']", "option", "maybe")
    with pytest.raises(FFValidationError) as dto:
        await panels.cast_vote("alice", panel.panel_id, decision.decision_id, "ann", "yes", rationale=5)
    assert dto.value.field == "rationale"
    with pytest.raises(FFValidationError) as no_id:
        await panels.cast_vote("alice", panel.panel_id, "", "ann", "yes")
    assert no_id.value.field == "decision_id"


async def test_a_closed_panel_refuses_changes_naming_the_panel(panels):
    panel = await panels.create_panel("alice", DUO)
    decision = await panels.record_decision("alice", panel.panel_id, "Ship?", ["yes", "no"])
    await panels.close_panel("alice", panel.panel_id)
    attempts = [
        lambda: panels.add_message("alice", panel.panel_id, "ann", "late"),
        lambda: panels.record_decision("alice", panel.panel_id, "Again?", ["a", "b"]),
        lambda: panels.cast_vote("alice", panel.panel_id, decision.decision_id, "ann", "yes"),
        lambda: panels.record_insight("alice", panel.panel_id, "late insight"),
    ]
    for attempt in attempts:  # each call made only when awaited: a failing assertion leaves no coroutine behind
        with pytest.raises(FFConflictError) as caught:
            await attempt()
        assert (caught.value.message, caught.value.context) == (
            f"panel {panel.panel_id!r} is closed", {"kind": "panel", "key": panel.panel_id})


async def test_batch_refusals_name_the_position_and_the_field(panels):
    panel = await panels.create_panel("alice", DUO)
    pid = panel.panel_id
    cases = [
        ([{"participant_id": "zed", "content": "x"}], "message: 'zed' is not a participant of panel " + repr(pid), "participant_id", "zed"),
        ([{"participant_id": "ann", "content": "x"}, {"participant_id": "zed", "content": "y"}],
         "messages.1: 'zed' is not a participant of panel " + repr(pid), "participant_id", "zed"),
        ([{"participant_id": "ann", "content": "x", "next_speaker": "zed"}], "message: next_speaker 'zed' is not a participant", "next_speaker", None),
        ([{"participant_id": "ann", "content": "x", "message_id": "m1"}, {"participant_id": "bob", "content": "y", "message_id": "m1"}],
         "messages.1: message_id 'm1' repeats", "message_id", None),
        ([{"participant_id": "ann", "content": "x", "message_id": "m1", "reply_to": "m1"}], "message: a message cannot reply to itself", "reply_to", None),
        ([{"participant_id": "ann", "content": "x"}, {"participant_id": "bob", "content": "y", "reply_to": "m9"},
          {"participant_id": "bob", "content": "z", "reply_to": "m8"}],
         "reply_to names messages not in this panel (or later in the batch): m8, m9", "reply_to", None),
    ]
    for batch, message, field, value in cases:
        with pytest.raises(FFValidationError) as caught:
            await panels.import_messages("alice", pid, batch)
        assert (caught.value.message, caught.value.field, caught.value.value) == (message, field, value)
    assert await panels.get_messages("alice", pid) == []


async def test_generated_message_ids_have_their_prefix(panels):
    panel = await panels.create_panel("alice", DUO)
    stored = await panels.import_messages("alice", panel.panel_id, [{"participant_id": "ann", "content": "x"},
                                                                    {"participant_id": "bob", "content": "y"}])
    assert all(m.message_id.startswith("msg_") and len(m.message_id) > 4 for m in stored)
    assert len({m.message_id for m in stored}) == 2


def test_round_robin_turn_order_refusals():
    with pytest.raises(FFValidationError) as empty:
        FFRoundRobinTurnPolicy(())
    assert (empty.value.message, empty.value.field) == ("round_robin needs a non-empty turn order", "turn_order")
    with pytest.raises(FFValidationError) as twice:
        FFRoundRobinTurnPolicy(("ann", "bob", "ann"))
    assert (twice.value.message, twice.value.field, twice.value.value) == (
        "turn order lists a participant twice", "turn_order", ["ann", "bob", "ann"])


async def test_an_import_refusal_names_the_message_it_could_not_read(panels):
    panel = await panels.create_panel("alice", DUO)
    with pytest.raises(FFValidationError) as caught:
        await panels.import_messages("alice", panel.panel_id, [{"participant_id": "ann", "content": "x"},
                                                              {"participant_id": "ann", "content": "y", "role": "robot"}])
    assert caught.value.message.startswith("cannot read message 1: role: ") and caught.value.field == "role"


async def test_imported_metadata_comes_back_as_the_stored_json_copy(panels):
    """import_messages returns what it stored: metadata as plain JSON (a tuple is a list), a copy
    the caller's later changes cannot reach."""
    panel = await panels.create_panel("alice", DUO)
    nested = {"x": 1}
    [returned] = await panels.import_messages("alice", panel.panel_id, [{"participant_id": "ann", "content": "x",
                                                                         "metadata": {"k": (1, 2), "n": nested}}])
    nested["x"] = 2
    assert returned.metadata == {"k": [1, 2], "n": {"x": 1}}
    assert [m.metadata for m in await panels.get_messages("alice", panel.panel_id)] == [returned.metadata]
