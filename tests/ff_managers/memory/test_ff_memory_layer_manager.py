"""Tests of FFMemoryLayerManager against a real data root in tmp_path (no mocks of storage)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ff_class_configs import load_config
from ff_managers import FFEventBus, FFMemoryLayerManager
from ff_utils.ff_errors import FFConflictError, FFCorruptionError, FFNotFoundError, FFValidationError
from ff_utils.ff_json_utils import ff_read_jsonl
from ff_utils.ff_store import FFStore
from tests._fakes import FakeClock, tree_snapshot

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
LEGACY_SESSION = Path(
    "/work/shared/fixtures/legacy_v1/demo_automated/users/alice_researcher/chat_session_20250805_215718_834707"
)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


class CountingStore(FFStore):
    """The real store, counting how many records each append call carries."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.appends: list[int] = []

    def append_many(self, path: Path, records: Any) -> None:
        records = list(records)
        self.appends.append(len(records))
        super().append_many(path, records)


def make(root: Path, clock: Any = None, store: FFStore | None = None, **memory: Any) -> FFMemoryLayerManager:
    config = load_config(base_path=root, environ={})
    for key, value in memory.items():
        setattr(config.memory, key, value)
    return FFMemoryLayerManager(config, clock=clock, store=store)


@pytest.fixture
async def mem(root: Path, clock: FakeClock) -> FFMemoryLayerManager:
    manager = make(root, clock)
    await manager.initialize()
    yield manager
    await manager.shutdown()


# --------------------------------------------------------------------------- sessions and messages


async def test_session_lifecycle_and_derived_counts(mem: FFMemoryLayerManager, root: Path, clock: FakeClock) -> None:
    session = await mem.create_session("alice", title="Trip planning", metadata={"topic": "travel"})
    assert session.message_count == 0 and session.created_at == T0
    doc = root / "users" / "alice" / "sessions" / session.session_id / "session.json"
    before = doc.read_bytes()
    for i in range(5):
        clock.advance(seconds=1)
        await mem.add_message("alice", session.session_id, role="user" if i % 2 == 0 else "assistant", content=f"turn {i}")
    assert doc.read_bytes() == before  # adding messages never rewrites session.json
    loaded = await mem.get_session("alice", session.session_id)
    assert (loaded.title, loaded.metadata, loaded.message_count) == ("Trip planning", {"topic": "travel"}, 5)
    assert loaded.last_message_at == T0 + timedelta(seconds=5)
    assert json.loads(before)["schema_version"] == 1 and "message_count" not in json.loads(before)

    renamed = await mem.update_session("alice", session.session_id, title="Lisbon trip", metadata={"days": 3})
    assert renamed.title == "Lisbon trip" and renamed.metadata == {"topic": "travel", "days": 3}


async def test_messages_come_back_in_order_last_n_oldest_first(mem: FFMemoryLayerManager, clock: FakeClock) -> None:
    session = await mem.create_session("alice")
    sent = []
    for i in range(30):
        clock.advance(milliseconds=10)
        sent.append(await mem.add_message("alice", session.session_id, role="user", content=f"message {i}"))
    last = await mem.get_messages("alice", session.session_id, limit=7)
    assert [m.content for m in last] == [f"message {i}" for i in range(23, 30)]
    assert [m.message_id for m in last] == [m.message_id for m in sent[23:]]
    assert all(a.timestamp < b.timestamp for a, b in zip(last, last[1:]))
    assert len(await mem.get_messages("alice", session.session_id, limit=500)) == 30


async def test_list_sessions_most_recent_activity_first(mem: FFMemoryLayerManager, clock: FakeClock) -> None:
    first = await mem.create_session("alice", title="first")
    clock.advance(minutes=1)
    second = await mem.create_session("alice", title="second")
    clock.advance(minutes=1)
    await mem.add_message("alice", first.session_id, role="user", content="back to the first one")
    listed = await mem.list_sessions("alice")
    assert [s.session_id for s in listed] == [first.session_id, second.session_id]
    assert [s.message_count for s in listed] == [1, 0]
    assert await mem.list_sessions("nobody") == []


async def test_create_session_keeps_given_identity_and_refuses_duplicates(mem: FFMemoryLayerManager) -> None:
    session = await mem.create_session(
        "alice", title="legacy", session_id="chat_session_1", created_at="2025-08-05T21:57:18.834713",
        metadata={"origin": "v1"},
    )
    loaded = await mem.get_session("alice", "chat_session_1")
    assert loaded.created_at.isoformat() == "2025-08-05T21:57:18.834713" == session.created_at.isoformat()
    assert loaded.metadata == {"origin": "v1"}
    with pytest.raises(FFConflictError):
        await mem.create_session("alice", session_id="chat_session_1")


async def test_history_survives_a_restart(root: Path, clock: FakeClock) -> None:
    first = make(root, clock)
    session = await first.create_session("alice", title="persist")
    await first.add_message("alice", session.session_id, role="user", content="remember me")
    await first.store_memory("alice", "likes green tea", layer="long_term", importance=0.7)
    await first.create_profile("alice", username="Alice")
    await first.shutdown()

    second = make(root, clock)
    assert [m.content for m in await second.get_messages("alice", session.session_id)] == ["remember me"]
    assert [e.content for e in await second.get_memories("alice")] == ["likes green tea"]
    assert (await second.get_profile("alice")).username == "Alice"
    assert (await second.search_memories("alice", "tea"))[0].entry.content == "likes green tea"


async def test_concurrent_adds_are_all_present_distinct_and_in_file_order(root: Path) -> None:
    mem = make(root)  # real clock
    session = await mem.create_session("alice")
    results = await asyncio.gather(
        *(mem.add_message("alice", session.session_id, role="user", content=f"parallel {i}") for i in range(50))
    )
    stored = await mem.get_messages("alice", session.session_id, limit=100)
    assert len(stored) == 50 and len({m.message_id for m in stored}) == 50
    assert {m.content for m in stored} == {f"parallel {i}" for i in range(50)}
    assert {m.message_id for m in results} == {m.message_id for m in stored}
    log = root / "users" / "alice" / "sessions" / session.session_id / "messages.jsonl"
    assert [r["message_id"] for r in ff_read_jsonl(log)] == [m.message_id for m in stored]

    entries = await asyncio.gather(*(mem.store_memory("alice", f"fact {i}", layer="immediate") for i in range(50)))
    active = await mem.get_memories("alice", limit=100)
    assert len(active) == 50 and {e.memory_id for e in active} == {e.memory_id for e in entries}


async def test_get_messages_cost_is_flat_in_session_length(mem: FFMemoryLayerManager) -> None:
    small = await mem.create_session("alice")
    large = await mem.create_session("alice")
    batch = [{"role": "user", "content": f"line {i} " + "x" * 200} for i in range(20_000)]
    await mem.import_messages("alice", small.session_id, batch[:200])
    await mem.import_messages("alice", large.session_id, batch)

    async def median_ms(session_id: str) -> float:
        times = []
        for _ in range(15):
            started = time.perf_counter()
            await mem.get_messages("alice", session_id, limit=20)
            times.append(time.perf_counter() - started)
        return statistics.median(times) * 1000

    small_ms, large_ms = await median_ms(small.session_id), await median_ms(large.session_id)
    # reading the whole 4 MB log would take ~100x longer; the tail read is the same size either way
    assert large_ms < small_ms * 4 + 2, (small_ms, large_ms)
    tail = await mem.get_messages("alice", large.session_id, limit=3)
    assert [m.content.split()[1] for m in tail] == ["19997", "19998", "19999"]


# --------------------------------------------------------------------------- attachments


async def test_attachments_are_stored_hashed_listed_and_readable(mem: FFMemoryLayerManager, root: Path) -> None:
    session = await mem.create_session("alice")
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    message = await mem.add_message(
        "alice",
        session.session_id,
        role="user",
        content="what is in this picture?",
        attachments=[
            {"name": "../../etc/cat.png", "mime_type": "image/png", "data": png, "metadata": {"width": 64}},
            {"name": "talk.mp3", "mime_type": "audio/mpeg", "size_bytes": 99, "duration_s": 4.5},
        ],
    )
    image, audio = message.attachments
    assert image.sha256 == hashlib.sha256(png).hexdigest() and image.size_bytes == len(png) and image.stored
    assert image.name == "../../etc/cat.png" and image.metadata == {"width": 64}
    assert not audio.stored and audio.model_extra == {"duration_s": 4.5}
    stored_file = root / "users" / "alice" / "sessions" / session.session_id / "attachments" / image.attachment_id
    assert stored_file.read_bytes() == png
    assert not (root / "etc").exists() and not list(root.rglob("cat.png"))
    [listed] = await mem.get_messages("alice", session.session_id)
    assert listed.attachments == message.attachments
    assert await mem.get_attachment("alice", session.session_id, image.attachment_id) == png
    with pytest.raises(FFNotFoundError):
        await mem.get_attachment("alice", session.session_id, audio.attachment_id)


async def test_oversized_attachment_or_wrong_digest_writes_nothing(root: Path) -> None:
    mem = make(root, max_attachment_bytes=1024)
    session = await mem.create_session("alice")
    before = tree_snapshot(root)
    with pytest.raises(FFValidationError):
        await mem.add_message("alice", session.session_id, role="user", content="big", attachments=[{"data": b"x" * 1025}])
    with pytest.raises(FFValidationError):
        await mem.add_message(
            "alice", session.session_id, role="user", content="tampered", attachments=[{"data": b"abc", "sha256": "0" * 64}]
        )
    assert tree_snapshot(root) == before


# --------------------------------------------------------------------------- legacy import


async def test_import_keeps_every_legacy_field_in_one_append(root: Path, clock: FakeClock) -> None:
    legacy = [json.loads(line) for line in (LEGACY_SESSION / "messages.jsonl").read_text().splitlines() if line.strip()]
    legacy[0]["reaction"] = "thumbs_up"  # an unknown top-level field must survive
    store = CountingStore.from_config(load_config(base_path=root, environ={}))
    mem = make(root, clock, store=store)
    session = await mem.create_session("alice_researcher", session_id=LEGACY_SESSION.name)
    store.appends = []
    imported = await mem.import_messages("alice_researcher", session.session_id, legacy)
    assert store.appends == [len(legacy)]
    stored = await mem.get_messages("alice_researcher", session.session_id, limit=1000)
    assert [m.message_id for m in imported] == [m.message_id for m in stored]
    for original_record, message in zip(legacy, stored, strict=True):
        dumped = message.model_dump(mode="json")
        for key in ("role", "content", "message_id", "timestamp", "attachments", "metadata"):
            assert dumped[key] == original_record[key], key
    assert stored[0].extra == {"reaction": "thumbs_up"}


async def test_import_with_one_bad_message_writes_nothing(mem: FFMemoryLayerManager, root: Path) -> None:
    session = await mem.create_session("alice")
    before = tree_snapshot(root)
    good = {"role": "user", "content": "fine", "message_id": "m1", "timestamp": "2025-01-01T00:00:00"}
    for bad in (
        {"role": "narrator", "content": "x"},
        {"role": "user", "content": None},
        {"role": "user", "content": "x" * 200_001},
        {"role": "user", "content": "x", "message_id": "../m"},
        {"role": "user", "content": "x", "timestamp": "yesterday"},
        {"role": "user", "content": "x", "session_id": "another"},
        {**good},  # duplicate id within the batch
    ):
        with pytest.raises(FFValidationError):
            await mem.import_messages("alice", session.session_id, [good, bad])
    assert tree_snapshot(root) == before


# --------------------------------------------------------------------------- isolation and bad input


async def test_users_never_see_each_other(mem: FFMemoryLayerManager) -> None:
    session = await mem.create_session("alice")
    await mem.add_message("alice", session.session_id, role="user", content="secret plan")
    await mem.store_memory("alice", "alice's secret is tea")
    with pytest.raises(FFNotFoundError):
        await mem.get_session("bob", session.session_id)
    with pytest.raises(FFNotFoundError):
        await mem.get_messages("bob", session.session_id)
    with pytest.raises(FFNotFoundError):
        await mem.add_message("bob", session.session_id, role="user", content="intrude")
    assert await mem.get_memories("bob") == []
    assert await mem.search_memories("bob", "secret tea") == []
    assert await mem.list_sessions("bob") == []


@pytest.mark.parametrize(
    ("method", "kwargs"),
    [
        ("add_message", {"user_id": "../alice", "role": "user", "content": "x"}),
        ("add_message", {"session_id": "a/b", "role": "user", "content": "x"}),
        ("add_message", {"role": "user", "content": ""}),
        ("add_message", {"role": "user", "content": " \n\t"}),
        ("add_message", {"role": "user", "content": "x" * 200_001}),
        ("add_message", {"role": "user", "content": None}),
        ("add_message", {"role": "user", "content": b"bytes"}),
        # The control-character rules (ff_managers._core.checks): content refuses NUL only,
        # titles and names every C0 control but TAB/LF/CR, tags all of them.
        ("add_message", {"role": "user", "content": "NUL\x00byte"}),
        ("create_session", {"title": "ANSI \x1b[31m red"}),
        ("add_message", {"role": "user", "content": "x", "metadata": [1]}),
        ("add_message", {"role": "user", "content": "x", "metadata": {1: "int key"}}),
        ("add_message", {"role": "user", "content": "x", "metadata": {"big": "y" * 70_000}}),
        # NaN and infinity are refused everywhere (they used to be stored and read back as null).
        ("add_message", {"role": "user", "content": "x", "metadata": {"score": float("nan")}}),
        ("add_message", {"role": "user", "content": "x", "metadata": {"deep": [{"v": float("inf")}]}}),
        ("add_message", {"role": "wizard", "content": "x"}),
        ("add_message", {"role": "user", "content": "x", "metadata": {"when": object()}}),
        ("add_message", {"role": "user", "content": "x", "message_id": ".hidden"}),
        ("add_message", {"role": "user", "content": "x", "attachments": "not a list"}),
        ("store_memory", {"content": "x", "layer": "forever"}),
        ("store_memory", {"content": "x", "importance": 1.5}),
        ("store_memory", {"content": "x", "importance": -0.1}),
        ("store_memory", {"content": "x", "importance": True}),
        ("store_memory", {"content": "x", "importance": float("nan")}),
        ("store_memory", {"content": "x", "importance": float("inf")}),
        ("store_memory", {"content": "x", "importance": "0.5"}),
        ("store_memory", {"content": "x", "importance": None}),
        ("store_memory", {"content": "NUL \x00"}),
        ("store_memory", {"content": "x", "metadata": {"ratio": float("-inf")}}),
        ("store_memory", {"content": "x", "tags": ["two\nlines"]}),
        ("store_memory", {"content": ""}),
        ("store_memory", {"content": "x", "tags": "single-string"}),
        ("store_memory", {"content": "x", "user_id": "al ice"}),
        ("create_session", {"title": "t" * 501}),
        ("create_session", {"title": "NUL\x00"}),
        ("create_session", {"metadata": {"x": float("nan")}}),
        ("create_session", {"session_id": ".."}),
        ("create_profile", {"preferences": ["not", "a", "dict"]}),
    ],
)
async def test_bad_input_raises_one_validation_error_and_writes_nothing(
    mem: FFMemoryLayerManager, root: Path, method: str, kwargs: dict[str, Any]
) -> None:
    session = await mem.create_session("alice")
    await mem.store_memory("alice", "existing memory")
    before = tree_snapshot(root)
    call = {"user_id": "alice", **kwargs}
    if method == "add_message":
        call.setdefault("session_id", session.session_id)
    with pytest.raises(FFValidationError):
        await getattr(mem, method)(**call)
    assert tree_snapshot(root) == before


async def test_tab_newline_and_carriage_return_are_text(mem: FFMemoryLayerManager) -> None:
    """The content rule keeps what chat content legitimately holds (code, tables, a tool's colours)."""
    session = await mem.create_session("alice", title="col\tumns")
    content = "def f():\n\treturn 1\r\n| a | b |\u2028 \x1b[31mred\x1b[0m \x07"
    message = await mem.add_message("alice", session.session_id, "user", content)
    assert (await mem.get_messages("alice", session.session_id))[-1].content == content == message.content
    assert (await mem.store_memory("alice", content)).content == content


async def test_message_to_a_missing_session_is_not_found_and_creates_nothing(mem: FFMemoryLayerManager, root: Path) -> None:
    await mem.create_session("alice")
    before = tree_snapshot(root)
    with pytest.raises(FFNotFoundError):
        await mem.add_message("alice", "no_such_session", role="user", content="hello")
    assert tree_snapshot(root) == before and not (root / "users" / "alice" / "sessions" / "no_such_session").exists()


# --------------------------------------------------------------------------- profiles


async def test_profiles(mem: FFMemoryLayerManager, clock: FakeClock) -> None:
    with pytest.raises(FFNotFoundError):
        await mem.get_profile("alice")
    with pytest.raises(FFNotFoundError):
        await mem.update_profile("alice", username="x")
    created = await mem.create_profile("alice", username="Alice", preferences={"theme": "dark"})
    with pytest.raises(FFConflictError):
        await mem.create_profile("alice")
    clock.advance(hours=1)
    updated = await mem.update_profile("alice", preferences={"language": "pt"}, metadata={"plan": "pro"})
    assert updated.preferences == {"theme": "dark", "language": "pt"} and updated.metadata == {"plan": "pro"}
    assert updated.created_at == created.created_at and updated.updated_at == T0 + timedelta(hours=1)
    assert await mem.get_profile("alice") == updated


# --------------------------------------------------------------------------- memories


async def test_store_and_get_memories_newest_first_with_layer_filter(mem: FFMemoryLayerManager, clock: FakeClock) -> None:
    stored = []
    for i, layer in enumerate(["immediate", "short_term", "long_term", "permanent", "short_term"]):
        clock.advance(minutes=1)
        stored.append(await mem.store_memory("alice", f"memory {i}", layer=layer, importance=0.1 * i, tags=["t"]))
    newest_first = await mem.get_memories("alice")
    assert [e.content for e in newest_first] == [f"memory {i}" for i in reversed(range(5))]
    short = await mem.get_memories("alice", layers=["short_term"])
    assert [e.content for e in short] == ["memory 4", "memory 1"]
    assert [e.content for e in await mem.get_memories("alice", limit=2)] == ["memory 4", "memory 3"]
    assert (await mem.get_memory("alice", stored[2].memory_id)).layer == "long_term"
    with pytest.raises(FFNotFoundError):
        await mem.get_memory("alice", "mem_missing")


async def test_search_puts_the_right_memory_first_among_distractors(mem: FFMemoryLayerManager, clock: FakeClock) -> None:
    distractors = [
        ("The green bike is parked in the garage", 0.9),
        ("Team coffee break happens at ten", 0.9),
        ("Bought a new tea kettle for the office", 0.9),
        ("Lisbon flights are cheaper on Tuesdays", 0.9),
        ("Green energy report is due Friday", 0.9),
    ]
    for text, importance in distractors[:3]:
        await mem.store_memory("alice", text, importance=importance)
    target = await mem.store_memory("alice", "Alice's favourite drink is green tea with honey", importance=0.3)
    for text, importance in distractors[3:]:
        clock.advance(hours=1)
        await mem.store_memory("alice", text, importance=importance)
    hits = await mem.search_memories("alice", "favourite green tea", limit=3)
    assert hits[0].entry.memory_id == target.memory_id
    assert hits[0].matched_terms == ["favourite", "green", "tea"]
    assert hits[0].score >= hits[1].score >= hits[2].score
    assert all(hit.bm25 > 0 for hit in hits)


async def test_memory_context_respects_the_budget_most_relevant_first(mem: FFMemoryLayerManager) -> None:
    await mem.store_memory("alice", "Alice is allergic to peanuts and tree nuts", importance=0.9)
    await mem.store_memory("alice", "Alice ordered peanuts at the bar once", importance=0.2)
    await mem.store_memory("alice", "Unrelated: the printer is on floor two")
    context = await mem.get_memory_context("alice", "is Alice allergic to peanuts", budget_chars=200)
    assert context.text.splitlines()[0] == "- [short_term] Alice is allergic to peanuts and tree nuts"
    assert len(context.text) == context.used_chars <= 200
    assert "printer" not in context.text
    tight = await mem.get_memory_context("alice", "is Alice allergic to peanuts", budget_chars=30)
    assert len(tight.text) <= 30 and tight.text == "- [short_term] Alice is aller…" and tight.omitted == 1


# --------------------------------------------------------------------------- retention


async def test_retention_moves_archives_and_keeps_counts_exact(mem: FFMemoryLayerManager, clock: FakeClock) -> None:
    keep = await mem.store_memory("alice", "meeting notes for the launch", layer="immediate", importance=0.5)
    drop = await mem.store_memory("alice", "the weather was nice", layer="immediate", importance=0.1)
    forever = await mem.store_memory("alice", "Alice's birthday is 3 May", layer="permanent", importance=0.1)

    report = await mem.process_retention(now=T0 + timedelta(hours=2) - timedelta(microseconds=1))
    assert (report.moved_count, report.archived_count) == (0, 0)

    report = await mem.process_retention(now=T0 + timedelta(hours=2))
    [user] = report.users
    assert [(m.memory_id, m.from_layer, m.to_layer) for m in user.moved] == [(keep.memory_id, "immediate", "short_term")]
    assert [(a.entry.memory_id, a.reason) for a in user.archived] == [(drop.memory_id, "expired")]
    assert user.counts_before["immediate"] == 2 and user.counts_after["short_term"] == 1
    assert (await mem.get_memory("alice", keep.memory_id)).layer == "short_term"
    archived = await mem.get_archived_memories("alice")
    assert [a.entry.content for a in archived] == ["the weather was nice"]

    await mem.process_retention(now=T0 + timedelta(days=10_000))
    stats = await mem.memory_stats("alice")
    assert stats.active == 1 and stats.layers["permanent"] == 1 and stats.archived == 2
    assert stats.active + stats.archived == 3
    assert (await mem.get_memory("alice", forever.memory_id)).layer == "permanent"


async def test_retention_asks_the_planner_hook_at_every_pass(
    mem: FFMemoryLayerManager, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The suites plant faulty retention through this hook, so it must really decide the pass."""
    drop = await mem.store_memory("alice", "the weather was nice", layer="immediate", importance=0.1)
    real = FFMemoryLayerManager.retention_planner
    seen: list[datetime] = []

    def nothing_expires(layers: Any, now: datetime, policy: Any, **kwargs: Any) -> Any:
        seen.append(now)
        return real(layers, now - timedelta(days=365), policy, **kwargs)

    monkeypatch.setattr(FFMemoryLayerManager, "retention_planner", nothing_expires)
    report = await mem.process_retention(now=T0 + timedelta(hours=2))
    assert seen == [T0 + timedelta(hours=2)] and report.archived_count == 0
    monkeypatch.undo()
    report = await mem.process_retention(now=T0 + timedelta(hours=2))
    assert [a.entry.memory_id for a in report.users[0].archived] == [drop.memory_id]


async def test_compression_keeps_source_ids_and_nothing_is_lost(root: Path, clock: FakeClock) -> None:
    mem = make(root, clock, layer_max_entries={"short_term": 10}, compression_batch=5)
    stored = []
    for i in range(23):
        clock.advance(minutes=1)
        stored.append(await mem.store_memory("alice", f"Reflection {i} about learning Portuguese verbs.", importance=0.5))
    report = await mem.process_retention()
    [user] = report.users
    # 23 -> 19 -> 15 -> 11 -> 7: each summary of 5 replaces 5 entries with 1
    assert report.compressed_count == len(user.compressed) == 4
    summaries = [e for e in await mem.get_memories("alice", limit=100) if e.kind == "summary"]
    assert sorted(s.memory_id for s in summaries) == sorted(c.summary_id for c in user.compressed)
    by_id = {s.memory_id: s for s in summaries}
    assert all(by_id[c.summary_id].source_ids == c.source_ids for c in user.compressed)
    sources = [sid for c in user.compressed for sid in c.source_ids]
    assert sources == [e.memory_id for e in stored[:20]]  # oldest first, each exactly once
    stats = await mem.memory_stats("alice")
    assert stats.layers["short_term"] == 7
    archived = {a.entry.memory_id: a for a in await mem.get_archived_memories("alice", limit=100)}
    assert set(archived) == set(sources) and {a.summary_id for a in archived.values()} == {s.memory_id for s in summaries}
    active_plain = [e for e in await mem.get_memories("alice", limit=100) if e.kind == "memory"]
    assert len(active_plain) + len(archived) == len(stored)  # nothing silently dropped
    hits = await mem.search_memories("alice", "Portuguese verbs")
    assert hits and any(h.entry.kind == "summary" for h in hits)


async def test_retention_over_many_users_and_corrupt_layer_is_isolated(mem: FFMemoryLayerManager, root: Path) -> None:
    await mem.store_memory("alice", "alice fact", layer="immediate", importance=0.1)
    await mem.store_memory("bob", "bob fact", layer="immediate", importance=0.1)
    bob_layer = root / "users" / "bob" / "memory" / "immediate.jsonl"
    bob_layer.write_bytes(bob_layer.read_bytes() + b"{not json}\n")
    damaged = bob_layer.read_bytes()
    report = await mem.process_retention(now=T0 + timedelta(hours=3))
    assert [u.user_id for u in report.users] == ["alice"] and report.archived_count == 1
    assert list(report.failed_users) == ["bob"] and bob_layer.read_bytes() == damaged
    with pytest.raises(FFCorruptionError):
        await mem.process_retention(now=T0 + timedelta(hours=3), user_id="bob")


async def test_store_during_retention_is_not_lost(root: Path) -> None:
    mem = make(root)
    base = datetime.now(UTC)
    for i in range(300):
        await mem.store_memory("alice", f"old {i}", layer="immediate", importance=0.5, created_at=base - timedelta(hours=3))
    stores = [mem.store_memory("alice", f"new {i}", layer="immediate") for i in range(40)]
    report, *_ = await asyncio.gather(mem.process_retention(user_id="alice"), *stores)
    assert report.moved_count == 300
    stats = await mem.memory_stats("alice")
    assert stats.active == 340 and stats.layers["immediate"] == 40 and stats.layers["short_term"] == 300


# --------------------------------------------------------------------------- events


async def test_events_are_published_without_content(root: Path, clock: FakeClock) -> None:
    bus = FFEventBus()
    seen: list[Any] = []
    bus.subscribe("memory.*", seen.append)
    mem = FFMemoryLayerManager(load_config(base_path=root, environ={}), bus=bus, clock=clock)
    session = await mem.create_session("alice")
    await mem.add_message("alice", session.session_id, role="user", content="top secret words")
    await mem.store_memory("alice", "secret memory words")
    await mem.process_retention()
    assert [e.type for e in seen] == [
        "memory.session_created",
        "memory.message_added",
        "memory.stored",
        "memory.retention_processed",
    ]
    assert all(e.user_id == "alice" for e in seen[:3])
    assert seen[1].payload["content_chars"] == len("top secret words")
    assert "secret" not in json.dumps([e.payload for e in seen])


async def test_import_keeps_empty_legacy_content_and_generates_missing_ids(mem: FFMemoryLayerManager, clock: FakeClock) -> None:
    session = await mem.create_session("alice")
    imported = await mem.import_messages(
        "alice", session.session_id, [{"role": "assistant", "content": ""}, {"role": "user", "content": "hi", "timestamp": "2024-01-01T00:00:00Z"}]
    )
    assert imported[0].content == "" and imported[0].timestamp == T0 and imported[0].message_id.startswith("msg_")
    assert imported[1].timestamp == datetime(2024, 1, 1, tzinfo=UTC)
    assert [m.content for m in await mem.get_messages("alice", session.session_id)] == ["", "hi"]
