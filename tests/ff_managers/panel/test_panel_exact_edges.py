"""Panel behaviour pinned exactly where surviving mutants of ``_panel`` showed the tests were
loose (issue 20): routing order and matched areas, turn status of a fresh panel, the insight
event's payload, a vote's rationale kept, the message index marked complete, listing past a
half-created panel, the warning a skipped line leaves, a tally of an option no longer listed."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from ff_class_configs.ff_panel_dtos import (
    FFPanelDecisionDTO,
    FFPanelMessageDTO,
    FFPanelVoteDTO,
)
from ff_managers import FFEvent, FFEventBus, FFPanelSessionManager
from ff_managers._panel.analytics import ff_tally_decision
from ff_managers._panel.message_index import FFMessageIndex
from ff_managers._panel.routing import ff_rank_experts
from ff_utils.ff_json_utils import ff_read_jsonl
from tests._fakes import FakeClock
from tests.ff_managers.panel._exact import DUO, T0


def folder(config, user: str, pid: str) -> Path:
    return Path(config.storage.base_path) / "users" / user / "panels" / pid


# ============================================================================ routing


def test_ranking_is_best_first_whatever_the_listing_order():
    ranked = ff_rank_experts("quantum physics and optics", [("one", ["optics lab"]), ("two", ["quantum physics"]), ("three", ["optics"])])
    assert [(r.participant_id, r.score) for r in ranked] == [("two", 1.0), ("three", 1.0), ("one", 0.5)]


def test_only_matching_areas_are_listed_and_an_empty_area_does_not_stop_the_scan():
    [only] = ff_rank_experts("quantum physics", [("p", ["cooking", "the", "quantum physics", "wine"])])
    assert only.matched == ("quantum physics",) and only.score == 1.0


async def test_route_returns_the_best_expert_with_score_and_matched_areas(panels):
    seats = [{"participant_id": "gen", "role": "expert", "expertise": ["physics"]},
             {"participant_id": "qp", "role": "expert", "expertise": ["quantum physics", "optics"]}]
    panel = await panels.create_panel("alice", seats, panel_type="topic_delegation")
    route = await panels.route_question("alice", panel.panel_id, "quantum physics of optics")
    assert (route.participant_id, route.score, route.matched) == ("qp", 2.0, ["quantum physics", "optics"])


# ============================================================================ turn status


async def test_turn_status_of_a_fresh_and_a_moderated_panel(panels):
    free = await panels.create_panel("alice", DUO)
    status = await panels.get_turn_status("alice", free.panel_id)
    assert (status.next_speakers, status.rotation, status.round, status.floor, status.last_sequence) == (None, 0, 0, None, 0)
    seats = [{"participant_id": "mod", "role": "moderator"}, {"participant_id": "ann"}, {"participant_id": "bob"}]
    moderated = await panels.create_panel("alice", seats, turn_policy="moderated")
    await panels.add_message("alice", moderated.panel_id, "mod", "Ann, go ahead", next_speaker="ann")
    await panels.add_message("alice", moderated.panel_id, "ann", "Thanks")
    status = await panels.get_turn_status("alice", moderated.panel_id)
    assert (status.next_speakers, status.floor, status.round, status.last_sequence) == (["mod", "ann"], "ann", 0, 2)
    robin = await panels.create_panel("alice", DUO, turn_policy="round_robin")
    for who in ("ann", "bob", "ann"):
        await panels.add_message("alice", robin.panel_id, who, "x")
    status = await panels.get_turn_status("alice", robin.panel_id)
    assert (status.next_speakers, status.rotation, status.round, status.last_sequence) == (["bob"], 3, 1, 3)


# ============================================================================ events and votes


async def test_the_insight_event_names_panel_insight_author_category_and_source_count(config):
    bus = FFEventBus()
    seen: list[FFEvent] = []
    bus.subscribe("panel.insight_recorded", seen.append)
    async with FFPanelSessionManager(config, bus=bus, clock=FakeClock(T0)) as manager:
        panel = await manager.create_panel("alice", DUO)
        message = await manager.add_message("alice", panel.panel_id, "ann", "a point")
        insight = await manager.record_insight("alice", panel.panel_id, "secret", participant_id="bob", category="finding",
                                               source_message_ids=[message.message_id])
    assert [e.payload for e in seen] == [{"panel_id": panel.panel_id, "insight_id": insight.insight_id,
                                         "participant_id": "bob", "category": "finding", "sources": 1}]


async def test_a_vote_keeps_its_rationale_returned_and_stored(panels, config):
    panel = await panels.create_panel("alice", DUO)
    decision = await panels.record_decision("alice", panel.panel_id, "Ship?", ["yes", "no"])
    vote = await panels.cast_vote("alice", panel.panel_id, decision.decision_id, "ann", "yes", rationale="it is ready")
    assert vote.rationale == "it is ready" and vote.vote_id.startswith("vote_")
    [stored] = ff_read_jsonl(folder(config, "alice", panel.panel_id) / "votes.jsonl")
    assert FFPanelVoteDTO.model_validate(stored) == vote
    assert stored["created_at"] == "2025-03-01T12:00:00Z"


def test_a_vote_for_an_option_no_longer_listed_is_still_counted():
    decision = FFPanelDecisionDTO(decision_id="d1", panel_id="p1", question="Q?", options=["yes", "no"], created_at=T0)
    vote = FFPanelVoteDTO(vote_id="v1", panel_id="p1", decision_id="d1", participant_id="ann", option="maybe", created_at=T0)
    tally = ff_tally_decision(decision, [vote])
    assert tally.counts == {"yes": 0, "no": 0, "maybe": 1} and tally.majority_option == "maybe"


# ============================================================================ index, listing, bad lines


def test_a_rebuilt_index_is_complete_and_holds_every_message():
    message = FFPanelMessageDTO(message_id="m1", panel_id="p1", sequence=1, participant_id="a", role="user", content="x", timestamp=T0)
    index = FFMessageIndex(last_sequence=1, last_message=message, entries={"stale": (9, b"")})
    index.rebuild([message])
    assert index.complete is True and set(index.entries) == {"m1"}


async def test_listing_skips_a_half_created_panel_and_keeps_the_others(panels, config):
    first = await panels.create_panel("alice", DUO, panel_id="panel_a")
    last = await panels.create_panel("alice", DUO, panel_id="panel_c")
    folder(config, "alice", "panel_b").mkdir()  # claimed, panel.json not written yet
    (folder(config, "alice", "panel_a").parent / "not a valid id!").mkdir()
    (folder(config, "alice", "panel_a").parent / "panel_file").write_bytes(b"")
    assert [p.panel_id for p in await panels.list_panels("alice")] == [first.panel_id, last.panel_id]


async def test_a_skipped_line_is_logged_with_its_file_and_what_was_wrong(panels, config, warnings_logged):
    panel = await panels.create_panel("alice", DUO)
    await panels.add_message("alice", panel.panel_id, "ann", "one")
    log = folder(config, "alice", panel.panel_id) / "messages.jsonl"
    size = log.stat().st_size
    with log.open("ab") as out:
        out.write(b"{not json\n")
    await panels.add_message("alice", panel.panel_id, "bob", "two")
    warnings_logged.clear()
    assert [m.content for m in await panels.get_messages("alice", panel.panel_id, after_sequence=0)] == ["one", "two"]
    assert any(w.startswith(f"skipped a panel record in {log}: corrupt line at byte {size}:") for w in warnings_logged), warnings_logged


async def test_stored_panel_json_has_no_message_count_and_plain_json(panels, config):
    panel = await panels.create_panel("alice", DUO, metadata={"when": "2025"})
    await panels.add_message("alice", panel.panel_id, "ann", "one")
    await panels.close_panel("alice", panel.panel_id, summary="done")
    stored = orjson.loads((folder(config, "alice", panel.panel_id) / "panel.json").read_bytes())
    assert "message_count" not in stored and stored["status"] == "closed" and stored["created_at"] == "2025-03-01T12:00:00Z"
