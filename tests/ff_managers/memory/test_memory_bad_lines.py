"""One line of valid JSON with the wrong shape is skipped and reported; it never breaks a whole read."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import orjson
import pytest

from ff_class_configs import load_config
from ff_managers import FFMemoryLayerManager
from ff_utils.ff_errors import FFCorruptionError

WRONG_SHAPES = [b"[1, 2, 3]", b'{"message_id": 5}', b'"just text"', b'{"memory_id": "m_x", "layer": "nope"}']


@pytest.fixture
async def mem(tmp_path: Path) -> AsyncIterator[FFMemoryLayerManager]:
    manager = FFMemoryLayerManager(load_config(base_path=tmp_path / "data", environ={}))
    await manager.initialize()
    yield manager
    await manager.shutdown()


def insert_lines(path: Path, *, after: int, lines: list[bytes]) -> None:
    existing = path.read_bytes().splitlines()
    path.write_bytes(b"".join(line + b"\n" for line in existing[:after] + lines + existing[after:]))


async def test_history_and_session_survive_wrong_shape_lines(mem: FFMemoryLayerManager, warnings_logged: list[str]) -> None:
    session = await mem.create_session("alice")
    for i in range(5):
        await mem.add_message("alice", session.session_id, "user", f"message {i}")
    log = mem.store.path("users", "alice", "sessions", session.session_id, "messages.jsonl")
    insert_lines(log, after=2, lines=WRONG_SHAPES[:2])
    insert_lines(log, after=7, lines=WRONG_SHAPES[2:3])  # the last line is bad too

    history = await mem.get_messages("alice", session.session_id, limit=50)
    assert [m.content for m in history] == [f"message {i}" for i in range(5)]
    last_two = await mem.get_messages("alice", session.session_id, limit=2)
    assert [m.content for m in last_two] == ["message 3", "message 4"]  # the bad last line does not cost a message
    assert (await mem.get_session("alice", session.session_id)).last_message_at == history[-1].timestamp
    assert any("skipped corrupt line" in w and "messages.jsonl" in w for w in warnings_logged)


async def test_memory_reads_survive_wrong_shape_lines(mem: FFMemoryLayerManager, warnings_logged: list[str]) -> None:
    for text in ("the cat sat on the mat", "dogs chase cats", "bananas are yellow"):
        await mem.store_memory("alice", text, layer="long_term")
    layer = mem.store.path("users", "alice", "memory", "long_term.jsonl")
    insert_lines(layer, after=1, lines=WRONG_SHAPES)

    assert len(await mem.get_memories("alice")) == 3
    hits = await mem.search_memories("alice", "cats")
    assert {h.entry.content for h in hits} >= {"dogs chase cats"}
    assert (await mem.memory_stats("alice")) is not None
    assert any("skipped corrupt line" in w and "long_term.jsonl" in w for w in warnings_logged)


async def test_archive_reads_survive_wrong_shape_lines(mem: FFMemoryLayerManager) -> None:
    archive = mem.store.path("users", "alice", "memory", "archive.jsonl")
    mem.store.append_many(archive, [orjson.loads(b"[1]"), {"entry": "not an entry"}])
    assert await mem.get_archived_memories("alice") == []
    assert (await mem.memory_stats("alice")) is not None


async def test_updating_a_stored_document_of_the_wrong_shape_is_a_corruption_error(mem: FFMemoryLayerManager) -> None:
    session = await mem.create_session("alice")
    doc = mem.store.path("users", "alice", "sessions", session.session_id, "session.json")
    doc.write_bytes(b'{"session_id": "%s", "user_id": "alice", "metadata": [1]}' % session.session_id.encode())
    with pytest.raises(FFCorruptionError):
        await mem.update_session("alice", session.session_id, metadata={"k": 1})
    await mem.create_profile("alice", username="Alice")
    profile = mem.store.path("users", "alice", "profile.json")
    profile.write_bytes(b"[1, 2]")
    with pytest.raises(FFCorruptionError):
        await mem.update_profile("alice", metadata={"k": 1})
