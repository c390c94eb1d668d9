"""add_message with a message_id the session already holds: the same message is returned, not appended again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from ff_class_configs import load_config
from ff_managers import FFEvent, FFEventBus, FFMemoryLayerManager
from ff_managers._memory.message_ids import FFMessageIdIndex, same_message
from ff_utils.ff_errors import FFConflictError
from ff_utils.ff_json_utils import ff_read_jsonl
from ff_utils.ff_store import FFStore


class ScanCountingStore(FFStore):
    """The real store, counting full reads of message logs (copies made by with_settings share the list)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.scans: list[Path] = []

    def read_jsonl(self, path: Path, **kwargs: Any) -> Any:
        if path.name == "messages.jsonl":
            self.scans.append(path)
        return super().read_jsonl(path, **kwargs)


def make(root: Path, *, bus: FFEventBus | None = None, store: FFStore | None = None) -> FFMemoryLayerManager:
    return FFMemoryLayerManager(load_config(base_path=root, environ={}), bus=bus, store=store)


@pytest.fixture
async def mem(tmp_path: Path) -> AsyncIterator[FFMemoryLayerManager]:
    manager = make(tmp_path / "data")
    await manager.initialize()
    yield manager
    await manager.shutdown()


def log_lines(manager: FFMemoryLayerManager, user: str, session_id: str) -> list[Any]:
    return list(ff_read_jsonl(manager.store.path("users", user, "sessions", session_id, "messages.jsonl")))


async def test_a_retry_with_the_same_content_returns_the_stored_message_and_appends_nothing(tmp_path: Path) -> None:
    bus = FFEventBus()
    added: list[FFEvent] = []

    async def on_added(event: FFEvent) -> None:
        added.append(event)

    bus.subscribe("memory.message_added", on_added)
    mem = make(tmp_path / "data", bus=bus)
    session = await mem.create_session("alice")
    first = await mem.add_message("alice", session.session_id, "user", "hello", message_id="msg_retry1", metadata={"k": 1})
    again = await mem.add_message("alice", session.session_id, "user", "hello", message_id="msg_retry1", metadata={"k": 1})
    assert again == first  # the stored message, its first timestamp included
    assert [r["message_id"] for r in log_lines(mem, "alice", session.session_id)] == ["msg_retry1"]
    assert len(added) == 1  # nothing was added, so nothing is announced
    await mem.shutdown()


@pytest.mark.parametrize(
    "change",
    [{"content": "hello!"}, {"role": "assistant"}, {"metadata": {"k": 2}}, {"attachments": [{"name": "a.txt", "data": b"x"}]}],
)
async def test_the_same_id_with_other_content_is_a_conflict_and_writes_nothing(mem: FFMemoryLayerManager, change: dict[str, Any]) -> None:
    session = await mem.create_session("alice")
    base: dict[str, Any] = {"role": "user", "content": "hello", "metadata": {"k": 1}}
    await mem.add_message("alice", session.session_id, message_id="msg_taken", **base)
    before = log_lines(mem, "alice", session.session_id)
    with pytest.raises(FFConflictError, match="msg_taken"):
        await mem.add_message("alice", session.session_id, message_id="msg_taken", **{**base, **change})
    assert log_lines(mem, "alice", session.session_id) == before
    attachments = mem.store.path("users", "alice", "sessions", session.session_id, "attachments")
    assert not attachments.exists() or not any(attachments.iterdir())


async def test_a_retry_with_attachment_bytes_stores_no_second_copy(mem: FFMemoryLayerManager) -> None:
    session = await mem.create_session("alice")
    attachment = {"name": "notes.txt", "mime_type": "text/plain", "data": b"some bytes"}
    first = await mem.add_message("alice", session.session_id, "user", "see file", [attachment], message_id="msg_att")
    again = await mem.add_message("alice", session.session_id, "user", "see file", [dict(attachment)], message_id="msg_att")
    assert again == first
    folder = mem.store.path("users", "alice", "sessions", session.session_id, "attachments")
    assert [p.name for p in folder.iterdir()] == [first.attachments[0].attachment_id]


async def test_concurrent_retries_append_one_copy(mem: FFMemoryLayerManager) -> None:
    session = await mem.create_session("alice")
    results = await asyncio.gather(
        *(mem.add_message("alice", session.session_id, "user", "once", message_id="msg_once") for _ in range(8))
    )
    assert len({r.model_dump_json() for r in results}) == 1
    assert len(log_lines(mem, "alice", session.session_id)) == 1


async def test_a_generated_id_can_be_repeated_by_name(mem: FFMemoryLayerManager) -> None:
    session = await mem.create_session("alice")
    first = await mem.add_message("alice", session.session_id, "user", "no id given")
    again = await mem.add_message("alice", session.session_id, "user", "no id given", message_id=first.message_id)
    assert again == first and len(log_lines(mem, "alice", session.session_id)) == 1


async def test_another_writer_on_the_same_root_is_seen(tmp_path: Path) -> None:
    one, two = make(tmp_path / "data"), make(tmp_path / "data")  # as two processes would
    session = await one.create_session("alice")
    await one.add_message("alice", session.session_id, "user", "a", message_id="msg_a")  # one's index is built
    written_by_two = await two.add_message("alice", session.session_id, "user", "b", message_id="msg_b")
    assert await one.add_message("alice", session.session_id, "user", "b", message_id="msg_b") == written_by_two
    with pytest.raises(FFConflictError):
        await one.add_message("alice", session.session_id, "user", "not b", message_id="msg_b")
    assert [r["message_id"] for r in log_lines(one, "alice", session.session_id)] == ["msg_a", "msg_b"]
    await one.shutdown()
    await two.shutdown()


async def test_named_ids_do_not_scan_the_log_on_every_write(tmp_path: Path) -> None:
    store = ScanCountingStore(tmp_path / "data")
    mem = make(tmp_path / "data", store=store)
    session = await mem.create_session("alice")
    for i in range(20):
        await mem.add_message("alice", session.session_id, "user", f"m{i}", message_id=f"msg_{i}")
    for i in range(5):
        await mem.add_message("alice", session.session_id, "user", f"free {i}")
    assert len(store.scans) == 1  # the index is built once, then kept up to date
    await mem.add_message("alice", session.session_id, "user", "m3", message_id="msg_3")  # a repeat reads its record back
    assert len(store.scans) == 2
    await mem.shutdown()


def test_the_id_index_is_bounded_and_rebuilds_what_it_dropped(tmp_path: Path) -> None:
    store = FFStore(tmp_path)
    index = FFMessageIdIndex(store, max_ids=5)
    logs = []
    for name in ("s1", "s2", "s3"):
        log = store.path(name, "messages.jsonl")
        store.append_many(log, [{"message_id": f"{name}_{i}"} for i in range(3)])
        logs.append(log)
        assert index.ids(log) == {f"{name}_{i}" for i in range(3)}
    assert index._total <= 5 + 3 and len(index._sessions) == 1  # only the latest session is kept
    assert index.ids(logs[0]) == {"s1_0", "s1_1", "s1_2"}


def test_same_message_ignores_attachment_ids_only() -> None:
    stored = {"role": "user", "content": "x", "metadata": {}, "attachments": [{"attachment_id": "att_1", "sha256": "a" * 64}]}
    assert same_message(stored, {**stored, "attachments": [{"attachment_id": "att_2", "sha256": "a" * 64}]})
    assert not same_message(stored, {**stored, "attachments": [{"attachment_id": "att_1", "sha256": "b" * 64}]})
    assert not same_message(stored, {**stored, "content": "y"})
    assert not same_message("not a record", stored)
