"""Panel figures and stored records pinned exactly (issue 20, surviving mutants of ``_panel``):
analytics of a participant the panel no longer lists, replies counted, times and durations at
their edges; the closing event's payload; insights' refusals and stored form; paging past the end
and the field named by a bad ``limit`` or ``after_sequence``."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from ff_class_configs.ff_panel_dtos import (
    FFPanelDTO,
    FFPanelMessageDTO,
    FFPanelParticipantDTO,
)
from ff_managers import FFEvent, FFEventBus, FFPanelSessionManager
from ff_managers._panel.analytics import ff_panel_analytics
from ff_utils.ff_errors import FFValidationError
from ff_utils.ff_json_utils import ff_read_jsonl
from tests._fakes import FakeClock
from tests.ff_managers.panel._exact import DUO, T0



def message(seq: int, who: str, *, reply_to: str | None = None, at: int = 0, rotation: int = 0) -> FFPanelMessageDTO:
    return FFPanelMessageDTO(message_id=f"m{seq}", panel_id="p1", sequence=seq, participant_id=who, role="assistant",
                             content="two words", timestamp=T0 + timedelta(seconds=at), reply_to=reply_to, rotation=rotation)


def panel(**update) -> FFPanelDTO:
    return FFPanelDTO(panel_id="p1", user_id="alice", panel_type="generic", created_at=T0,
                      participants=[FFPanelParticipantDTO(participant_id="ann", role="expert")]).model_copy(update=update)


def test_analytics_counts_an_unlisted_participant_and_every_reply():
    script = [message(1, "ann", at=5), message(2, "ghost", reply_to="m1", at=9), message(3, "ann", reply_to="m2", at=20),
              message(4, "ann", reply_to="m1", at=30)]
    figures = ff_panel_analytics(panel(), script, insight_count=0, tallies=[], computed_at=T0 + timedelta(seconds=60))
    ann, ghost = figures.participants
    assert (ann.participant_id, ann.role, ann.messages, ann.replies, ann.turns) == ("ann", "expert", 3, 2, 2)
    assert (ghost.participant_id, ghost.role, ghost.messages, ghost.replies) == ("ghost", "participant", 1, 1)
    assert (figures.first_message_at, figures.last_message_at) == (T0 + timedelta(seconds=5), T0 + timedelta(seconds=30))
    assert (figures.duration_seconds, figures.active_seconds, figures.turn_count) == (60.0, 25.0, 3)


def test_analytics_of_an_empty_panel_and_a_single_message_are_zero_long():
    empty = ff_panel_analytics(panel(), [], insight_count=0, tallies=[], computed_at=T0, round_size=1)
    assert (empty.rounds, empty.duration_seconds, empty.active_seconds, empty.last_message_at) == (0, 0.0, 0.0, None)
    one = ff_panel_analytics(panel(), [message(1, "ann", at=0, rotation=1)], insight_count=0, tallies=[], computed_at=T0, round_size=2)
    assert (one.rounds, one.duration_seconds, one.active_seconds, one.turn_count) == (0, 0.0, 0.0, 1)


async def test_the_closed_event_carries_every_figure(config):
    bus = FFEventBus()
    seen: list[FFEvent] = []
    bus.subscribe("panel.closed", seen.append)
    clock = FakeClock(T0)
    async with FFPanelSessionManager(config, bus=bus, clock=clock) as manager:
        created = await manager.create_panel("alice", DUO, panel_type="generic")
        await manager.add_message("alice", created.panel_id, "ann", "one two")
        await manager.record_insight("alice", created.panel_id, "noted")
        decision = await manager.record_decision("alice", created.panel_id, "Q?", ["y", "n"])
        await manager.cast_vote("alice", created.panel_id, decision.decision_id, "bob", "y")
        clock.advance(90)
        await manager.close_panel("alice", created.panel_id, summary="done")
    assert [e.payload for e in seen] == [{
        "panel_id": created.panel_id, "panel_type": "generic", "messages": 1, "words": 2, "turns": 1, "insights": 1,
        "decisions": 1, "votes": 1, "consensus_level": 1.0, "duration_seconds": 90.0}]


async def test_stored_analytics_are_read_back_after_closing(panels, config):
    created = await panels.create_panel("alice", DUO)
    await panels.add_message("alice", created.panel_id, "ann", "one two")
    closed = await panels.close_panel("alice", created.panel_id, summary="done")
    stored = Path(config.storage.base_path) / "users" / "alice" / "panels" / created.panel_id / "analytics.json"
    assert '"computed_at":"2025-03-01T12:00:00Z"' in stored.read_text().replace(" ", "")
    assert await panels.get_analytics("alice", created.panel_id) == closed
    with pytest.raises(FFValidationError) as caught:
        await panels.close_panel("alice", (await panels.create_panel("alice", DUO)).panel_id, summary="x\x00y")
    assert caught.value.field == "summary"


async def test_insight_refusals_and_stored_form(panels, config):
    created = await panels.create_panel("alice", DUO)
    pid = created.panel_id
    cases = [({"content": "x\x00"}, "content"), ({"content": "ok", "category": " "}, "category"),
             ({"content": "ok", "participant_id": "zed"}, "participant_id"),
             ({"content": "ok", "source_message_ids": ["msg_b", "msg_a"]}, "source_message_ids")]
    for kwargs, field in cases:
        content = kwargs.pop("content")
        with pytest.raises(FFValidationError) as caught:
            await panels.record_insight("alice", pid, content, **kwargs)
        assert caught.value.field == field, (kwargs, caught.value)
    with pytest.raises(FFValidationError) as missing:
        await panels.record_insight("alice", pid, "ok", source_message_ids=["msg_b", "msg_a"])
    assert missing.value.message == "source messages not in this panel: msg_a, msg_b"
    insight = await panels.record_insight("alice", pid, "kept", category="finding")
    assert insight.insight_id.startswith("ins_")
    [stored] = ff_read_jsonl(Path(config.storage.base_path) / "users" / "alice" / "panels" / pid / "insights.jsonl")
    assert stored["created_at"] == "2025-03-01T12:00:00Z" and stored["insight_id"] == insight.insight_id


async def test_paging_edges_and_the_fields_a_bad_page_names(panels):
    created = await panels.create_panel("alice", DUO)
    pid = created.panel_id
    for i in range(6):
        await panels.add_message("alice", pid, ("ann", "bob")[i % 2], f"m{i}")
    read = panels.get_messages
    assert await read("alice", pid, after_sequence=6) == [] and await read("alice", pid, after_sequence=9) == []
    assert [m.sequence for m in await read("alice", pid, limit=2, after_sequence=2)] == [3, 4]
    assert [m.sequence for m in await read("alice", pid, limit=3, after_sequence=3)] == [4, 5, 6]
    assert [m.sequence for m in await read("alice", pid, limit=1, after_sequence=5)] == [6]
    assert [m.sequence for m in await read("alice", pid, limit=10, after_sequence=0)] == [1, 2, 3, 4, 5, 6]
    for kwargs, field in (({"limit": 0}, "limit"), ({"after_sequence": -1}, "after_sequence")):
        with pytest.raises(FFValidationError) as caught:
            await read("alice", pid, **kwargs)
        assert caught.value.field == field
