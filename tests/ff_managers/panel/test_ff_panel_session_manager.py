"""FFPanelSessionManager: behaviour of every method, turn policies, gap-free numbering under
concurrency (coroutines and processes), persistence, analytics, isolation, and "bad input writes
nothing"."""

from __future__ import annotations

import asyncio
import shutil
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from ff_class_configs import FFConfigurationManagerConfigDTO, load_config
from ff_class_configs.ff_panel_dtos import FFPanelMessageInputDTO
from ff_managers import FFEvent, FFEventBus, FFPanelSessionManager
from ff_utils.ff_errors import FFConflictError, FFError, FFNotFoundError, FFStorageError, FFValidationError
from ff_utils.ff_json_utils import ff_read_jsonl
from ff_utils.ff_store import FFStore
from tests._fakes import FakeClock, tree_snapshot

SHARED = Path(__file__).resolve().parents[4] / "shared"
LEGACY = SHARED / "fixtures" / "legacy_v1" / "complex"
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
async def panels(config: FFConfigurationManagerConfigDTO, clock: FakeClock):
    async with FFPanelSessionManager(config, clock=clock) as manager:
        yield manager


DEBATERS = [
    {"participant_id": "pro", "role": "pro"},
    {"participant_id": "con", "role": "con"},
    {"participant_id": "alice", "role": "participant", "kind": "human"},
]


def read_log(config: FFConfigurationManagerConfigDTO, user: str, panel_id: str, log: str = "messages") -> list[dict]:
    return list(ff_read_jsonl(Path(config.storage.base_path) / "users" / user / "panels" / panel_id / f"{log}.jsonl"))


# ============================================================================ create / get / list


async def test_create_panel_stores_participants_policy_and_index(panels, config, clock):
    panel = await panels.create_panel("alice", DEBATERS, panel_type="ai_debate", title="Tea or coffee", turn_policy="round_robin", turn_order=["pro", "con"])
    assert panel.user_id == "alice" and panel.panel_type == "ai_debate" and panel.title == "Tea or coffee"
    assert [p.participant_id for p in panel.participants] == ["pro", "con", "alice"]
    assert panel.participants[2].kind == "human" and panel.participants[0].name == "pro"  # name defaults to the id
    assert panel.turn_order == ["pro", "con"] and panel.status == "open" and panel.created_at == T0
    root = Path(config.storage.base_path)
    assert orjson.loads((root / "panels_index" / f"{panel.panel_id}.json").read_bytes())["user_id"] == "alice"
    stored = orjson.loads((root / "users" / "alice" / "panels" / panel.panel_id / "panel.json").read_bytes())
    assert stored["panel_type"] == "ai_debate" and "message_count" not in stored
    again = await panels.get_panel("alice", panel.panel_id)
    assert again == panel


async def test_create_panel_keeps_imported_id_time_and_metadata(panels):
    when = datetime(2024, 5, 6, 7, 8, 9)  # naive, as the legacy layout wrote it: read as UTC
    panel = await panels.create_panel(
        "markly2", DEBATERS[:2], panel_id="panel_session_76e50845", created_at=when, metadata={"legacy": True}
    )
    assert panel.panel_id == "panel_session_76e50845"
    assert panel.created_at == when.replace(tzinfo=UTC)
    assert (await panels.get_panel("markly2", "panel_session_76e50845")).metadata == {"legacy": True}
    with pytest.raises(FFConflictError):
        await panels.create_panel("markly2", DEBATERS[:2], panel_id="panel_session_76e50845")
    with pytest.raises(FFConflictError):  # another user cannot take the id either
        await panels.create_panel("bob", DEBATERS[:2], panel_id="panel_session_76e50845")


async def test_default_turn_policy_comes_from_config(tmp_path, clock):
    config = load_config(base_path=tmp_path, environ={}, overrides={"panel": {"default_turn_policy": "round_robin"}})
    async with FFPanelSessionManager(config, clock=clock) as manager:
        panel = await manager.create_panel("alice", DEBATERS[:2])
        assert panel.turn_policy == "round_robin" and panel.turn_order == ["pro", "con"]


async def test_list_panels_filters_and_orders_by_creation(panels, clock):
    first = await panels.create_panel("alice", DEBATERS, panel_type="ai_debate")
    clock.advance(5)
    second = await panels.create_panel("alice", DEBATERS[:2])
    await panels.add_message("alice", second.panel_id, "pro", "hello there")
    await panels.close_panel("alice", first.panel_id)
    listed = await panels.list_panels("alice")
    assert [p.panel_id for p in listed] == [first.panel_id, second.panel_id]
    assert [p.message_count for p in listed] == [0, 1]
    assert [p.panel_id for p in await panels.list_panels("alice", status="open")] == [second.panel_id]
    assert [p.panel_id for p in await panels.list_panels("alice", panel_type="ai_debate")] == [first.panel_id]
    assert await panels.list_panels("nobody") == []
    with pytest.raises(FFValidationError):
        await panels.list_panels("alice", status="archived")


async def test_get_unknown_panel_is_not_found(panels):
    with pytest.raises(FFNotFoundError):
        await panels.get_panel("alice", "panel_missing")


# ============================================================================ messages


async def test_add_and_get_messages_in_order_with_roles_and_replies(panels, clock):
    panel = await panels.create_panel("alice", DEBATERS)
    first = await panels.add_message("alice", panel.panel_id, "pro", "Tea has less caffeine", metadata={"source": "script"})
    clock.advance(1)
    second = await panels.add_message("alice", panel.panel_id, "alice", "Is that true?", reply_to=first.message_id)
    third = await panels.add_message("alice", panel.panel_id, "con", "Coffee is tastier", role="assistant")
    assert [m.sequence for m in (first, second, third)] == [1, 2, 3]
    assert first.role == "assistant" and second.role == "user"  # defaults from the participant's kind
    assert second.reply_to == first.message_id and second.timestamp == T0 + timedelta(seconds=1)
    messages = await panels.get_messages("alice", panel.panel_id)
    assert messages == [first, second, third]
    assert messages[0].metadata == {"source": "script"}
    assert [m.sequence for m in await panels.get_messages("alice", panel.panel_id, limit=2)] == [2, 3]
    assert [m.sequence for m in await panels.get_messages("alice", panel.panel_id, after_sequence=1, limit=1)] == [2]
    assert await panels.get_messages("alice", panel.panel_id, after_sequence=3) == []
    assert (await panels.get_panel("alice", panel.panel_id)).message_count == 3


async def test_get_messages_after_sequence_reads_forward_or_backward_alike(panels):
    panel = await panels.create_panel("alice", DEBATERS)
    await panels.import_messages("alice", panel.panel_id, [{"participant_id": "pro", "content": f"m{i}"} for i in range(50)])
    # after=2 streams from the start; after=45 reads the tail: both must give the same slice shape
    assert [m.content for m in await panels.get_messages("alice", panel.panel_id, after_sequence=2, limit=3)] == ["m2", "m3", "m4"]
    assert [m.sequence for m in await panels.get_messages("alice", panel.panel_id, after_sequence=45, limit=10)] == [46, 47, 48, 49, 50]


async def test_message_id_and_timestamp_are_kept_when_given(panels):
    panel = await panels.create_panel("alice", DEBATERS)
    when = datetime(2025, 8, 11, 21, 34, 23, 187584)
    message = await panels.add_message("alice", panel.panel_id, "pro", "hi", message_id="msg_legacy_1", timestamp=when)
    assert message.message_id == "msg_legacy_1" and message.timestamp == when.replace(tzinfo=UTC)
    with pytest.raises(FFConflictError):
        await panels.add_message("alice", panel.panel_id, "con", "dup", message_id="msg_legacy_1")


async def test_import_messages_appends_a_validated_batch_with_in_batch_replies(panels, config):
    panel = await panels.create_panel("alice", DEBATERS)
    await panels.add_message("alice", panel.panel_id, "alice", "before the import", message_id="m0")
    batch = [
        {"participant_id": "alice", "content": "question", "message_id": "m1", "reply_to": "m0"},
        FFPanelMessageInputDTO(participant_id="pro", content="answer", message_id="m2", reply_to="m1"),
        {"participant_id": "con", "content": "counter", "timestamp": "2025-08-11T21:34:23.187584"},
    ]
    stored = await panels.import_messages("alice", panel.panel_id, batch)
    assert [m.sequence for m in stored] == [2, 3, 4]
    assert [r["message_id"] for r in read_log(config, "alice", panel.panel_id)][:3] == ["m0", "m1", "m2"]
    assert stored[2].timestamp == datetime(2025, 8, 11, 21, 34, 23, 187584, tzinfo=UTC)


async def test_import_refuses_reply_to_a_later_message_of_the_batch(panels, config):
    panel = await panels.create_panel("alice", DEBATERS)
    before = tree_snapshot(Path(config.storage.base_path))
    with pytest.raises(FFValidationError, match="reply_to"):
        await panels.import_messages(
            "alice", panel.panel_id,
            [
                {"participant_id": "pro", "content": "a", "message_id": "x1", "reply_to": "x2"},
                {"participant_id": "con", "content": "b", "message_id": "x2"},
            ],
        )
    assert tree_snapshot(Path(config.storage.base_path)) == before


async def test_100_concurrent_add_message_calls_number_gap_free(panels, config):
    panel = await panels.create_panel("alice", DEBATERS)
    speakers = ["pro", "con", "alice"]
    results = await asyncio.gather(
        *(panels.add_message("alice", panel.panel_id, speakers[i % 3], f"message {i}") for i in range(100))
    )
    assert sorted(m.sequence for m in results) == list(range(1, 101))
    assert len({m.message_id for m in results}) == 100
    on_disk = read_log(config, "alice", panel.panel_id)
    assert [r["sequence"] for r in on_disk] == list(range(1, 101))  # file order is sequence order
    assert sorted(r["content"] for r in on_disk) == sorted(f"message {i}" for i in range(100))


async def test_concurrent_requests_in_one_group_succeed_or_fail_alone(panels, config):
    panel = await panels.create_panel("alice", DEBATERS, turn_policy="round_robin", turn_order=["pro", "con"])
    speakers = ["pro", "pro", "con", "con", "pro", "con", "pro", "pro"]
    outcomes = await asyncio.gather(
        *(panels.add_message("alice", panel.panel_id, who, f"{who} {i}") for i, who in enumerate(speakers)),
        panels.add_message("alice", panel.panel_id, "alice", "bad reply", reply_to="msg_unknown"),
        return_exceptions=True,
    )
    *turns, bad_reply = outcomes
    assert isinstance(bad_reply, FFValidationError)
    stored = [o for o in turns if not isinstance(o, BaseException)]
    refused = [o for o in turns if isinstance(o, BaseException)]
    assert all(isinstance(e, FFConflictError) for e in refused) and len(stored) + len(refused) == len(speakers)
    records = read_log(config, "alice", panel.panel_id)
    assert [r["sequence"] for r in records] == list(range(1, len(stored) + 1))
    expected_order = ["pro", "con"] * len(records)
    assert [r["participant_id"] for r in records] == expected_order[: len(records)]  # refusals left no trace
    assert sorted(m.sequence for m in stored) == [r["sequence"] for r in records]


async def test_shutdown_answers_every_append_in_flight(config, clock):
    manager = FFPanelSessionManager(config, clock=clock)
    panel = await manager.create_panel("alice", DEBATERS)
    calls = [asyncio.create_task(manager.add_message("alice", panel.panel_id, "pro", f"m{i}")) for i in range(40)]
    await asyncio.sleep(0.01)  # some calls are queued or being written, some still resolving the owner
    await manager.shutdown()
    await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), timeout=10)  # no caller hangs
    stored = [c.result() for c in calls if c.exception() is None]
    assert all(isinstance(c.exception(), FFConflictError) for c in calls if c.exception() is not None)
    assert [r["sequence"] for r in read_log(config, "alice", panel.panel_id)] == sorted(m.sequence for m in stored)
    assert sorted(m.sequence for m in stored) == list(range(1, len(stored) + 1))
    async with manager:  # initialised again: it accepts appends again, numbering goes on
        assert (await manager.add_message("alice", panel.panel_id, "con", "after")).sequence == len(stored) + 1


_WORKER = r"""
import asyncio, sys, time
from pathlib import Path
from ff_class_configs import load_config
from ff_managers import FFPanelSessionManager

async def main(root, panel_id, speaker, count, go):
    async with FFPanelSessionManager(load_config(base_path=root, environ={})) as manager:
        print("ready", flush=True)
        while not Path(go).exists():  # start together with the other writers
            time.sleep(0.001)
        for i in range(count):  # one call at a time: every message takes the lock on its own
            await manager.add_message("alice", panel_id, speaker, f"{speaker} {i}")

asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]))
"""


@pytest.mark.slow  # each worker imports every manager (numpy, bm25s...): a few seconds of start-up
async def test_numbering_is_gap_free_across_processes(panels, config, tmp_path):
    """Three processes (two workers and this one) append to one panel at the same time."""
    panel = await panels.create_panel("alice", [{"participant_id": f"w{i}"} for i in range(3)])
    per_writer = 60
    go = tmp_path / "go"
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", _WORKER, str(config.storage.base_path), panel.panel_id, f"w{i}", str(per_writer), str(go),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        for i in (1, 2)
    ]
    for proc in procs:
        line = await asyncio.wait_for(proc.stdout.readline(), timeout=60)  # type: ignore[union-attr]
        assert line.strip() == b"ready", (await proc.stderr.read()).decode()  # type: ignore[union-attr]
    go.touch()
    for i in range(per_writer):
        await panels.add_message("alice", panel.panel_id, "w0", f"w0 {i}")
    for proc in procs:
        _out, err = await proc.communicate()
        assert proc.returncode == 0, err.decode()
    records = read_log(config, "alice", panel.panel_id)
    assert [r["sequence"] for r in records] == list(range(1, 3 * per_writer + 1))
    assert {p: sum(r["participant_id"] == p for r in records) for p in ("w0", "w1", "w2")} == {
        f"w{i}": per_writer for i in range(3)
    }
    for writer in ("w0", "w1", "w2"):  # each writer's own messages keep their order
        own = [r["content"] for r in records if r["participant_id"] == writer]
        assert own == [f"{writer} {i}" for i in range(per_writer)]
    changes = sum(a["participant_id"] != b["participant_id"] for a, b in zip(records, records[1:]))
    assert changes > 2, "the writers never overlapped, so this run proved nothing about concurrency"
    # this process's cache was stale (other processes appended): the next number still follows on
    after = await panels.add_message("alice", panel.panel_id, "w0", "after the others")
    assert after.sequence == 3 * per_writer + 1


async def test_messages_and_turn_state_persist_across_a_restart(config, clock):
    async with FFPanelSessionManager(config, clock=clock) as first:
        panel = await first.create_panel("alice", DEBATERS, turn_policy="round_robin", turn_order=["pro", "con"])
        a = await first.add_message("alice", panel.panel_id, "pro", "opening")
        await first.add_message("alice", panel.panel_id, "con", "rebuttal", reply_to=a.message_id)
        await first.add_message("alice", panel.panel_id, "pro", "second point")
    async with FFPanelSessionManager(config, clock=clock) as second:
        messages = await second.get_messages("alice", panel.panel_id)
        assert [(m.sequence, m.participant_id, m.content) for m in messages] == [
            (1, "pro", "opening"), (2, "con", "rebuttal"), (3, "pro", "second point")
        ]
        with pytest.raises(FFConflictError):  # the rotation survived the restart: it is con's turn
            await second.add_message("alice", panel.panel_id, "pro", "again")
        nxt = await second.add_message("alice", panel.panel_id, "con", "reply", reply_to=a.message_id)
        assert nxt.sequence == 4


async def test_a_restored_log_resets_the_cache(panels, config):
    """After a rollback the log is shorter: numbering follows the file, and ids it lost are unknown."""
    panel = await panels.create_panel("alice", DEBATERS)
    for i in range(3):
        await panels.add_message("alice", panel.panel_id, "pro", f"kept {i}")
    log = Path(config.storage.base_path) / "users" / "alice" / "panels" / panel.panel_id / "messages.jsonl"
    saved = log.read_bytes()
    lost = await panels.add_message("alice", panel.panel_id, "con", "lost in the rollback")
    await panels.add_message("alice", panel.panel_id, "con", "also lost")
    log.write_bytes(saved)  # what a restore from backup does
    with pytest.raises(FFValidationError, match="reply_to"):
        await panels.add_message("alice", panel.panel_id, "pro", "re: lost", reply_to=lost.message_id)
    assert (await panels.add_message("alice", panel.panel_id, "con", "after restore")).sequence == 4


# ============================================================================ turn policies


async def test_round_robin_enforces_order_and_lets_outsiders_speak(panels):
    panel = await panels.create_panel("alice", DEBATERS, panel_type="ai_debate", turn_policy="round_robin", turn_order=["pro", "con"])
    assert (await panels.get_turn_status("alice", panel.panel_id)).next_speakers == ["pro"]
    with pytest.raises(FFConflictError, match="'pro''s turn"):
        await panels.add_message("alice", panel.panel_id, "con", "I go first")
    await panels.add_message("alice", panel.panel_id, "pro", "Tea")
    await panels.add_message("alice", panel.panel_id, "alice", "free speaker, does not move the rotation")
    with pytest.raises(FFConflictError):
        await panels.add_message("alice", panel.panel_id, "pro", "twice in a row")
    await panels.add_message("alice", panel.panel_id, "con", "Coffee")
    status = await panels.get_turn_status("alice", panel.panel_id)
    assert (status.next_speakers, status.rotation, status.round, status.last_sequence) == (["pro"], 2, 1, 3)
    assert [m.rotation for m in await panels.get_messages("alice", panel.panel_id)] == [1, 1, 2]


async def test_moderated_panel_floor_rules(panels):
    seats = [
        {"participant_id": "mod", "role": "moderator"},
        {"participant_id": "a", "role": "expert"},
        {"participant_id": "b", "role": "expert"},
    ]
    panel = await panels.create_panel("alice", seats, panel_type="topic_delegation", turn_policy="moderated")
    pid = panel.panel_id
    with pytest.raises(FFConflictError, match="only the moderator"):
        await panels.add_message("alice", pid, "a", "may I?")
    await panels.add_message("alice", pid, "mod", "Welcome. a, your view?", next_speaker="a")
    assert (await panels.get_turn_status("alice", pid)).next_speakers == ["mod", "a"]
    await panels.add_message("alice", pid, "a", "first part")
    await panels.add_message("alice", pid, "a", "second part")  # the floor lasts until the moderator speaks again
    with pytest.raises(FFConflictError, match="'a', who holds the floor"):
        await panels.add_message("alice", pid, "b", "interrupting")
    with pytest.raises(FFValidationError, match="only the moderator"):
        await panels.add_message("alice", pid, "a", "b, go ahead", next_speaker="b")
    await panels.add_message("alice", pid, "mod", "Thank you.")  # takes the floor back
    with pytest.raises(FFConflictError):
        await panels.add_message("alice", pid, "a", "one more thing")
    status = await panels.get_turn_status("alice", pid)
    assert status.next_speakers == ["mod"] and status.floor is None
    assert [m.floor for m in await panels.get_messages("alice", pid)] == ["a", "a", "a", None]


async def test_free_panel_refuses_next_speaker(panels):
    panel = await panels.create_panel("alice", DEBATERS)
    with pytest.raises(FFValidationError, match="next_speaker"):
        await panels.add_message("alice", panel.panel_id, "pro", "x", next_speaker="con")


async def test_import_applies_the_turn_policy_to_the_whole_batch(panels, config):
    panel = await panels.create_panel("alice", DEBATERS, turn_policy="round_robin", turn_order=["pro", "con"])
    with pytest.raises(FFConflictError):
        await panels.import_messages(
            "alice", panel.panel_id,
            [{"participant_id": "pro", "content": "1"}, {"participant_id": "pro", "content": "2"}],
        )
    assert read_log(config, "alice", panel.panel_id) == []
    stored = await panels.import_messages(
        "alice", panel.panel_id, [{"participant_id": p, "content": p} for p in ("pro", "con", "alice", "pro")]
    )
    assert [m.rotation for m in stored] == [1, 2, 2, 3]


# ============================================================================ insights, decisions, state, routing


async def test_insights_cite_messages_of_the_same_panel(panels):
    panel = await panels.create_panel("alice", DEBATERS)
    other = await panels.create_panel("alice", DEBATERS)
    message = await panels.add_message("alice", panel.panel_id, "pro", "Evidence")
    foreign = await panels.add_message("alice", other.panel_id, "pro", "Elsewhere")
    insight = await panels.record_insight(
        "alice", panel.panel_id, "Tea is milder", participant_id="pro", category="finding",
        source_message_ids=[message.message_id], confidence=0.8,
    )
    await panels.record_insight("alice", panel.panel_id, "Untied note")
    with pytest.raises(FFValidationError, match="source messages"):
        await panels.record_insight("alice", panel.panel_id, "bad", source_message_ids=[foreign.message_id])
    with pytest.raises(FFValidationError):
        await panels.record_insight("alice", panel.panel_id, "bad", participant_id="stranger")
    with pytest.raises(FFValidationError):
        await panels.record_insight("alice", panel.panel_id, "bad", confidence=1.5)
    assert [i.insight_id for i in await panels.get_insights("alice", panel.panel_id, category="finding")] == [insight.insight_id]
    assert len(await panels.get_insights("alice", panel.panel_id)) == 2


async def test_votes_tally_latest_vote_per_participant(panels):
    panel = await panels.create_panel("alice", DEBATERS)
    decision = await panels.record_decision("alice", panel.panel_id, "Which drink?", ["tea", "coffee"], proposed_by="alice")
    await panels.cast_vote("alice", panel.panel_id, decision.decision_id, "pro", "tea")
    await panels.cast_vote("alice", panel.panel_id, decision.decision_id, "con", "tea", rationale="convinced")
    await panels.cast_vote("alice", panel.panel_id, decision.decision_id, "con", "coffee")  # changes its mind
    await panels.cast_vote("alice", panel.panel_id, decision.decision_id, "alice", "tea")
    [tally] = await panels.get_decisions("alice", panel.panel_id)
    assert tally.counts == {"tea": 2, "coffee": 1} and tally.voters == 3
    assert tally.majority_option == "tea" and tally.consensus_level == pytest.approx(2 / 3) and not tally.unanimous
    with pytest.raises(FFValidationError, match="option"):
        await panels.cast_vote("alice", panel.panel_id, decision.decision_id, "pro", "juice")
    with pytest.raises(FFNotFoundError):
        await panels.cast_vote("alice", panel.panel_id, "dec_missing", "pro", "tea")
    with pytest.raises(FFValidationError):
        await panels.cast_vote("alice", panel.panel_id, decision.decision_id, "stranger", "tea")


async def test_panel_state_merges_and_persists(panels, config, clock):
    panel = await panels.create_panel(
        "alice",
        [{"participant_id": "gm", "role": "game_master"}, {"participant_id": "p1", "role": "player", "kind": "human"}],
        panel_type="ai_game_master",
    )
    assert await panels.get_state("alice", panel.panel_id) == {}
    await panels.update_state("alice", panel.panel_id, {"room": "cave", "hp": 10})
    state = await panels.update_state("alice", panel.panel_id, {"hp": 7, "room": None, "items": ["torch"]})
    assert state == {"hp": 7, "items": ["torch"]}
    async with FFPanelSessionManager(config, clock=clock) as later:
        assert await later.get_state("alice", panel.panel_id) == {"hp": 7, "items": ["torch"]}
    with pytest.raises(FFValidationError):
        await panels.update_state("alice", panel.panel_id, {})


async def test_route_question_picks_the_matching_expert(panels):
    seats = [
        {"participant_id": "mod", "role": "moderator"},
        {"participant_id": "phys", "role": "expert", "expertise": ["quantum physics", "thermodynamics"]},
        {"participant_id": "bio", "role": "expert", "expertise": ["cell biology", "genetics"]},
    ]
    panel = await panels.create_panel("alice", seats, panel_type="topic_delegation")
    route = await panels.route_question("alice", panel.panel_id, "How do genetics shape cell growth?")
    assert route.participant_id == "bio" and route.matched == ["cell biology", "genetics"]
    assert (await panels.route_question("alice", panel.panel_id, "Explain thermodynamics")).participant_id == "phys"
    with pytest.raises(FFNotFoundError):
        await panels.route_question("alice", panel.panel_id, "Best pizza in town?")


# ============================================================================ close and analytics


async def test_close_returns_exact_analytics_for_a_scripted_panel(panels, config, clock):
    seats = [
        {"participant_id": "mod", "role": "moderator"},
        {"participant_id": "a", "role": "expert"},
        {"participant_id": "b", "role": "expert"},
        {"participant_id": "user", "kind": "human"},
        {"participant_id": "silent", "role": "expert"},
    ]
    panel = await panels.create_panel("alice", seats, panel_type="multi_ai_panel")
    pid = panel.panel_id
    script = [
        ("mod", "Welcome to the panel", None),  # 4 words
        ("a", "Solar is cheap now", None),  # 4
        ("a", "and getting cheaper", None),  # 3 (same run as the previous one)
        ("b", "Wind is steadier at night", 2),  # 5, replies to message 2
        ("user", "What about storage?", None),  # 3
        ("a", "Batteries", 5),  # 1, replies to message 5
    ]
    ids: dict[int, str] = {}
    for seq, (who, text, reply) in enumerate(script, start=1):
        clock.advance(10)
        message = await panels.add_message("alice", pid, who, text, reply_to=ids.get(reply) if reply else None)
        ids[seq] = message.message_id
    d1 = await panels.record_decision("alice", pid, "Main source?", ["solar", "wind", "mixed"])
    d2 = await panels.record_decision("alice", pid, "Subsidise?", ["yes", "no"])
    await panels.record_decision("alice", pid, "Nuclear?", ["yes", "no"])  # nobody votes: no consensus figure
    for who, option in [("a", "solar"), ("b", "wind"), ("mod", "mixed"), ("user", "solar"), ("b", "solar")]:
        await panels.cast_vote("alice", pid, d1.decision_id, who, option)
    await panels.cast_vote("alice", pid, d2.decision_id, "a", "yes")
    await panels.cast_vote("alice", pid, d2.decision_id, "b", "no")
    await panels.record_insight("alice", pid, "Storage is the bottleneck", source_message_ids=[ids[5]])
    clock.now = T0 + timedelta(seconds=100)
    analytics = await panels.close_panel("alice", pid, summary="Mixed grid with solar first")

    assert (analytics.message_count, analytics.word_count, analytics.turn_count) == (6, 20, 5)
    per = {p.participant_id: (p.messages, p.words, p.turns, p.replies) for p in analytics.participants}
    assert per == {"mod": (1, 4, 1, 0), "a": (3, 8, 2, 1), "b": (1, 5, 1, 1), "user": (1, 3, 1, 0), "silent": (0, 0, 0, 0)}
    first_last = {p.participant_id: (p.first_sequence, p.last_sequence) for p in analytics.participants}
    assert first_last["a"] == (2, 6) and first_last["silent"] == (None, None)
    assert (analytics.insight_count, analytics.decision_count, analytics.vote_count) == (1, 3, 6)
    t1, t2, t3 = analytics.decisions
    assert (t1.counts, t1.voters, t1.majority_option, t1.consensus_level) == ({"solar": 3, "wind": 0, "mixed": 1}, 4, "solar", 0.75)
    assert (t2.majority_option, t2.consensus_level) == (None, 0.5)  # a tie has no majority option
    assert (t3.voters, t3.consensus_level) == (0, None)
    assert analytics.consensus_level == pytest.approx(0.625)  # mean of 0.75 and 0.5
    assert analytics.duration_seconds == 100.0 and analytics.active_seconds == 50.0
    assert analytics.first_message_at == T0 + timedelta(seconds=10) and analytics.closed_at == T0 + timedelta(seconds=100)
    assert analytics.rounds is None and analytics.status == "closed"

    closed = await panels.get_panel("alice", pid)
    assert (closed.status, closed.summary, closed.closed_at) == ("closed", "Mixed grid with solar first", T0 + timedelta(seconds=100))
    stored = orjson.loads((Path(config.storage.base_path) / "users" / "alice" / "panels" / pid / "analytics.json").read_bytes())
    assert stored["word_count"] == 20
    clock.advance(1000)
    assert await panels.get_analytics("alice", pid) == analytics  # the stored figures, not recomputed at a later time


async def test_live_analytics_of_an_open_round_robin_panel_count_rounds(panels, clock):
    panel = await panels.create_panel("alice", DEBATERS, turn_policy="round_robin", turn_order=["pro", "con"])
    for who in ("pro", "con", "pro", "con", "pro"):
        await panels.add_message("alice", panel.panel_id, who, "point")
    clock.advance(30)
    live = await panels.get_analytics("alice", panel.panel_id)
    assert (live.status, live.rounds, live.message_count, live.duration_seconds) == ("open", 2, 5, 30.0)


async def test_closed_panel_refuses_every_change(panels):
    panel = await panels.create_panel("alice", DEBATERS)
    decision = await panels.record_decision("alice", panel.panel_id, "q?", ["x", "y"])
    await panels.close_panel("alice", panel.panel_id)
    pid = panel.panel_id
    attempts = [
        panels.add_message("alice", pid, "pro", "late"),
        panels.import_messages("alice", pid, [{"participant_id": "pro", "content": "late"}]),
        panels.record_insight("alice", pid, "late"),
        panels.record_decision("alice", pid, "late?", ["a", "b"]),
        panels.cast_vote("alice", pid, decision.decision_id, "pro", "x"),
        panels.update_state("alice", pid, {"k": 1}),
        panels.close_panel("alice", pid),
    ]
    for attempt in attempts:
        with pytest.raises(FFConflictError, match="closed"):
            await attempt
    assert (await panels.get_turn_status("alice", pid)).next_speakers == []
    assert (await panels.get_panel("alice", pid)).message_count == 0


# ============================================================================ isolation


async def test_users_never_see_each_others_panels(panels, config):
    mine = await panels.create_panel("alice", DEBATERS)
    theirs = await panels.create_panel("bob", DEBATERS)
    await panels.add_message("bob", theirs.panel_id, "pro", "bob's secret")
    assert [p.panel_id for p in await panels.list_panels("alice")] == [mine.panel_id]
    assert [p.panel_id for p in await panels.list_panels("bob")] == [theirs.panel_id]
    before = tree_snapshot(Path(config.storage.base_path))
    for attempt in (
        panels.get_panel("alice", theirs.panel_id),
        panels.get_messages("alice", theirs.panel_id),
        panels.add_message("alice", theirs.panel_id, "pro", "intrusion"),
        panels.record_insight("alice", theirs.panel_id, "intrusion"),
        panels.close_panel("alice", theirs.panel_id),
        panels.get_analytics("alice", theirs.panel_id),
    ):
        with pytest.raises(FFNotFoundError) as caught:
            await attempt
        assert str(caught.value) == f"no panel {theirs.panel_id!r}"  # same answer as for a missing id
    assert tree_snapshot(Path(config.storage.base_path)) == before
    assert (await panels.get_panel("bob", theirs.panel_id)).user_id == "bob"


# ============================================================================ bad input writes nothing


BAD_INPUT = {
    "bad panel id": (lambda m, p, x: m.add_message("alice", "../etc", "pro", "hi"), FFValidationError),
    "bad user id": (lambda m, p, x: m.add_message("a/b", p, "pro", "hi"), FFValidationError),
    "unknown participant": (lambda m, p, x: m.add_message("alice", p, "ghost", "hi"), FFValidationError),
    "bad participant id": (lambda m, p, x: m.add_message("alice", p, "../pro", "hi"), FFValidationError),
    "empty content": (lambda m, p, x: m.add_message("alice", p, "pro", "   "), FFValidationError),
    "oversized content": (lambda m, p, x: m.add_message("alice", p, "pro", "x" * 50_001), FFValidationError),
    "content not text": (lambda m, p, x: m.add_message("alice", p, "pro", 42), FFValidationError),
    "unknown reply_to": (lambda m, p, x: m.add_message("alice", p, "con", "re", reply_to="msg_nope"), FFValidationError),
    "bad reply_to": (lambda m, p, x: m.add_message("alice", p, "con", "re", reply_to="../x"), FFValidationError),
    "bad role": (lambda m, p, x: m.add_message("alice", p, "con", "hi", role="wizard"), FFValidationError),
    "oversized metadata": (lambda m, p, x: m.add_message("alice", p, "con", "hi", metadata={"k": "v" * 70_000}), FFValidationError),
    "metadata not JSON": (lambda m, p, x: m.add_message("alice", p, "con", "hi", metadata={"k": object()}), FFValidationError),
    "out of turn": (lambda m, p, x: m.add_message("alice", p, "pro", "again"), FFConflictError),
    "unknown panel": (lambda m, p, x: m.add_message("alice", "panel_nope", "pro", "hi"), FFNotFoundError),
    "import with one bad message": (
        lambda m, p, x: m.import_messages("alice", p, [{"participant_id": "con", "content": "ok"}, {"participant_id": "con", "content": ""}]),
        FFValidationError,
    ),
    "import with repeated ids": (
        lambda m, p, x: m.import_messages(
            "alice", p, [{"participant_id": "con", "content": "a", "message_id": "z"}, {"participant_id": "pro", "content": "b", "message_id": "z"}]
        ),
        FFValidationError,
    ),
    "import reusing a stored id": (
        lambda m, p, x: m.import_messages("alice", p, [{"participant_id": "con", "content": "a", "message_id": x["message_id"]}]),
        FFConflictError,
    ),
    "import empty": (lambda m, p, x: m.import_messages("alice", p, []), FFValidationError),
    "panel type": (lambda m, p, x: m.create_panel("alice", DEBATERS, panel_type="tea_party"), FFValidationError),
    "turn policy": (lambda m, p, x: m.create_panel("alice", DEBATERS, turn_policy="chaos"), FFValidationError),
    "duplicate participants": (
        lambda m, p, x: m.create_panel("alice", [{"participant_id": "a"}, {"participant_id": "a"}]),
        FFValidationError,
    ),
    "too many participants": (
        lambda m, p, x: m.create_panel("alice", [{"participant_id": f"p{i}"} for i in range(33)]),
        FFValidationError,
    ),
    "too few participants": (lambda m, p, x: m.create_panel("alice", [{"participant_id": "solo"}]), FFValidationError),
    "debate without con": (
        lambda m, p, x: m.create_panel("alice", [{"participant_id": "a", "role": "pro"}, {"participant_id": "b", "role": "pro"}], panel_type="ai_debate"),
        FFValidationError,
    ),
    "moderated without moderator": (lambda m, p, x: m.create_panel("alice", DEBATERS, turn_policy="moderated"), FFValidationError),
    "turn order of strangers": (
        lambda m, p, x: m.create_panel("alice", DEBATERS, turn_policy="round_robin", turn_order=["pro", "ghost"]),
        FFValidationError,
    ),
    "bad role name": (lambda m, p, x: m.create_panel("alice", [{"participant_id": "a", "role": "king"}, {"participant_id": "b"}]), FFValidationError),
    "bad owner id": (lambda m, p, x: m.create_panel("../alice", DEBATERS), FFValidationError),
    "oversized title": (lambda m, p, x: m.create_panel("alice", DEBATERS, title="t" * 301), FFValidationError),
    "unregistered persona": (
        lambda m, p, x: m.create_panel("alice", [{"participant_id": "a", "persona_id": "nobody"}, {"participant_id": "b"}]),
        FFNotFoundError,
    ),
    "existing panel id": (lambda m, p, x: m.create_panel("alice", DEBATERS, panel_id=p), FFConflictError),
    "empty insight": (lambda m, p, x: m.record_insight("alice", p, ""), FFValidationError),
    "insight citing unknown message": (lambda m, p, x: m.record_insight("alice", p, "i", source_message_ids=["msg_nope"]), FFValidationError),
    "one option": (lambda m, p, x: m.record_decision("alice", p, "q?", ["only"]), FFValidationError),
    "repeated options": (lambda m, p, x: m.record_decision("alice", p, "q?", ["a", "a"]), FFValidationError),
    "vote for unknown option": (lambda m, p, x: m.cast_vote("alice", p, x["decision_id"], "pro", "maybe"), FFValidationError),
    "vote on unknown decision": (lambda m, p, x: m.cast_vote("alice", p, "dec_nope", "pro", "yes"), FFNotFoundError),
    "state not a mapping": (lambda m, p, x: m.update_state("alice", p, ["a"]), FFValidationError),
    "limit zero": (lambda m, p, x: m.get_messages("alice", p, limit=0), FFValidationError),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
async def test_bad_input_raises_one_typed_error_and_writes_nothing(panels, config, case):
    panel = await panels.create_panel("alice", DEBATERS, turn_policy="round_robin", turn_order=["pro", "con"])
    first = await panels.add_message("alice", panel.panel_id, "pro", "opening")
    decision = await panels.record_decision("alice", panel.panel_id, "Agree?", ["yes", "no"])
    context = {"message_id": first.message_id, "decision_id": decision.decision_id}
    root = Path(config.storage.base_path)
    before = tree_snapshot(root)
    call, expected = BAD_INPUT[case]
    with pytest.raises(FFError) as caught:
        await call(panels, panel.panel_id, context)
    assert type(caught.value) is expected, f"{case}: {type(caught.value).__name__}: {caught.value}"
    assert tree_snapshot(root) == before


# ============================================================================ events


async def test_events_carry_ids_and_counts_never_content(config, clock):
    bus = FFEventBus()
    seen: list[FFEvent] = []
    bus.subscribe("panel.*", seen.append)
    async with FFPanelSessionManager(config, bus=bus, clock=clock) as manager:
        panel = await manager.create_panel("alice", DEBATERS)
        message = await manager.add_message("alice", panel.panel_id, "pro", "secret words here")
        await manager.import_messages("alice", panel.panel_id, [{"participant_id": "con", "content": "more secret"}])
        await manager.record_insight("alice", panel.panel_id, "secret insight")
        await manager.close_panel("alice", panel.panel_id)
    assert [e.type for e in seen] == [
        "panel.created", "panel.message_added", "panel.message_added", "panel.insight_recorded", "panel.closed"
    ]
    assert all(e.user_id == "alice" and e.source == "panel" and e.timestamp == T0 for e in seen)
    added = seen[1].payload
    assert added == {
        "panel_id": panel.panel_id, "message_id": message.message_id, "participant_id": "pro",
        "sequence": 1, "chars": 17, "words": 3, "imported": False,
    }
    assert seen[2].payload["imported"] is True and seen[2].payload["sequence"] == 2
    assert seen[4].payload["messages"] == 2 and seen[4].payload["words"] == 5
    assert "secret" not in orjson.dumps([e.payload for e in seen]).decode()


# ============================================================================ the injected store


class RecordingStore(FFStore):
    """Records every file the panel writes; one failing append can be planted."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.written: list[str] = []
        self.fail_next_append = False

    def write_json(self, path, data) -> None:
        self.written.append(path.name)
        super().write_json(path, data)

    def append_many(self, path, records) -> None:
        if self.fail_next_append:
            self.fail_next_append = False
            raise FFStorageError("disk full (simulated)", path=path)
        self.written.append(path.name)
        super().append_many(path, records)


async def test_an_injected_store_serves_the_panels_and_their_personas(config, clock):
    store = RecordingStore.from_config(config)
    async with FFPanelSessionManager(config, clock=clock, store=store) as panels:
        assert panels.store is store and panels.personas.store is store
        await panels.personas.register_persona({"persona_id": "sage", "name": "Sage"})
        panel = await panels.create_panel("alice", [{"participant_id": "a", "persona_id": "sage"}, {"participant_id": "b"}])
        await panels.add_message("alice", panel.panel_id, "a", "one")
        store.fail_next_append = True
        with pytest.raises(FFStorageError):
            await panels.add_message("alice", panel.panel_id, "b", "lost")
        assert (await panels.add_message("alice", panel.panel_id, "b", "two")).sequence == 2  # the failure took no number
        await panels.update_state("alice", panel.panel_id, {"round": 1})
    assert store.written == ["sage.json", f"{panel.panel_id}.json", "panel.json", "messages.jsonl", "messages.jsonl", "state.json"]


# ============================================================================ personas and the legacy fixture


async def test_participants_take_name_and_expertise_from_their_persona(panels):
    await panels.personas.register_persona(
        {"persona_id": "dr_ada", "name": "Dr. Ada", "expertise_areas": ["computing", "mathematics"], "mood": "curious"}
    )
    panel = await panels.create_panel(
        "alice",
        [{"participant_id": "ada", "persona_id": "dr_ada", "role": "expert"}, {"participant_id": "q", "name": "Questioner", "kind": "human"}],
        panel_type="topic_delegation",
    )
    ada = panel.participant("ada")
    assert ada is not None and ada.name == "Dr. Ada" and ada.expertise == ["computing", "mathematics"]
    assert (await panels.route_question("alice", panel.panel_id, "a mathematics question")).participant_id == "ada"


@pytest.mark.skipif(not LEGACY.is_dir(), reason="the shared legacy fixture is not beside this clone")
async def test_a_legacy_panel_session_imports_through_the_public_api(panels, tmp_path_factory):
    """The path the migration takes: personas first, then the panel with its id and time, then the messages."""
    source = tmp_path_factory.mktemp("legacy_copy")
    shutil.copytree(LEGACY / "personas_global", source / "personas_global")
    session_dir = LEGACY / "users" / "markly2" / "panel_session_76e50845"
    await panels.personas.load_from_directory(source / "personas_global")
    session = orjson.loads((session_dir / "session.json").read_bytes())
    records = [orjson.loads(line) for line in (session_dir / "messages.jsonl").read_bytes().splitlines() if line.strip()]
    owner = session["user_id"]
    personas = session["metadata"]["participants"]
    panel = await panels.create_panel(
        owner,
        [{"participant_id": p, "persona_id": p} for p in personas] + [{"participant_id": owner, "kind": "human"}],
        panel_type="multi_ai_panel",
        title=session["title"],
        panel_id=session["session_id"],
        created_at=datetime.fromisoformat(session["created_at"]),
        metadata={"legacy_session_type": session["session_type"]},
    )
    imported = await panels.import_messages(
        owner, panel.panel_id,
        [
            {
                "participant_id": owner if r["role"] == "user" else r["metadata"]["persona"],
                "role": r["role"],
                "content": r["content"],
                "message_id": r["message_id"],
                "timestamp": r["timestamp"],
                "metadata": r["metadata"],
            }
            for r in records
        ],
    )
    assert [m.sequence for m in imported] == list(range(1, len(records) + 1))
    stored = await panels.get_messages(owner, panel.panel_id, limit=1000)
    assert [(m.message_id, m.content) for m in stored] == [(r["message_id"], r["content"]) for r in records]
    assert panel.participant("jake_thompson").name == "Jake Thompson"  # type: ignore[union-attr]
