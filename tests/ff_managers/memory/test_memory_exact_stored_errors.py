"""Errors about stored files and imports pinned exactly (issue 20: survivors of ``layer_store``,
``conversations``, ``messages`` and ``validation`` in the run at 2bdeb26).

A layer that cannot be stat'ed is a storage error naming the action and the layer file; a layer
holding a line of another shape is refused by retention (nothing rewritten) with the count, the
file and the reason; a session document of another shape is corruption naming its file; an update
moves ``updated_at``; a repeated message id with other content is a conflict naming the message,
and one whose stored copy has another shape is corruption naming the log; an import keeps given
DTOs, names the message of a refusal by its index and refuses a record over the store's limit.
"""

from __future__ import annotations

import errno
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from ff_class_configs import load_config
from ff_class_configs.ff_memory_dtos import FFChatMessageDTO
from ff_managers import FFMemoryLayerManager
from ff_managers._memory.layer_store import MemoryStore
from ff_utils.ff_errors import FFConflictError, FFCorruptionError, FFStorageError, FFValidationError
from ff_utils.ff_store import FFStore
from tests._fakes import FakeClock

T0 = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
async def mem(root: Path) -> FFMemoryLayerManager:
    manager = FFMemoryLayerManager(load_config(base_path=root, environ={}), clock=FakeClock(T0))
    yield manager
    await manager.shutdown()


class FailingStat(FFStore):
    """A disk whose stat fails (EIO): the one OSError the layer read translates itself."""

    def stat(self, path: Path) -> os.stat_result:
        raise OSError(errno.EIO, "Input/output error", str(path))


def test_a_layer_that_cannot_be_stated_names_the_action_and_the_file(tmp_path: Path) -> None:
    layers = MemoryStore(tmp_path / "memory", FailingStat(tmp_path))
    with pytest.raises(FFStorageError) as caught:
        layers.load_layer("long_term")
    assert caught.value.path == layers.layer_path("long_term")
    assert caught.value.message == "cannot stat memory layer: Input/output error [EIO]"


async def test_retention_refuses_a_layer_with_a_line_of_another_shape(mem: FFMemoryLayerManager, root: Path) -> None:
    await mem.store_memory("alice", "a passing fact", layer="immediate", importance=0.1)
    layer = root / "users" / "alice" / "memory" / "immediate.jsonl"
    layer.write_bytes(layer.read_bytes() + orjson.dumps({"memory_id": "m", "content": 5}) + b"\n")
    damaged = layer.read_bytes()
    assert len(await mem.get_memories("alice")) == 1  # reads skip it
    with pytest.raises(FFCorruptionError) as caught:
        await mem.process_retention(now=T0 + timedelta(hours=30), user_id="alice")
    assert caught.value.path == layer
    assert caught.value.message.startswith("1 unreadable line(s) in a memory layer (first at byte ")
    assert "not a FFMemoryEntryDTO" in caught.value.message
    assert caught.value.message.endswith("; retention will not rewrite it until it is repaired")
    assert layer.read_bytes() == damaged


async def test_a_session_document_of_another_shape_is_corruption_naming_its_file(mem: FFMemoryLayerManager, root: Path) -> None:
    session = await mem.create_session("alice", "s")
    doc = root / "users" / "alice" / "sessions" / session.session_id / "session.json"
    doc.write_bytes(orjson.dumps({"session_id": session.session_id, "user_id": "alice", "created_at": 5}))
    for call in (mem.get_session("alice", session.session_id), mem.update_session("alice", session.session_id, title="t")):
        with pytest.raises(FFCorruptionError) as caught:
            await call
        assert caught.value.path == doc


async def test_an_update_moves_updated_at_only(root: Path) -> None:
    clock = FakeClock(T0)
    mem = FFMemoryLayerManager(load_config(base_path=root, environ={}), clock=clock)
    session = await mem.create_session("alice", "s")
    later = clock.advance(hours=2)
    updated = await mem.update_session("alice", session.session_id, metadata={"a": 1})
    assert (updated.created_at, updated.updated_at) == (T0, later)
    assert (await mem.get_session("alice", session.session_id)).updated_at == later
    await mem.shutdown()


async def test_a_repeated_message_id_conflicts_or_names_a_damaged_copy(mem: FFMemoryLayerManager, root: Path) -> None:
    session = await mem.create_session("alice", "s")
    await mem.add_message("alice", session.session_id, "user", "hello", message_id="m1")
    with pytest.raises(FFConflictError) as caught:
        await mem.add_message("alice", session.session_id, "user", "other", message_id="m1")
    assert caught.value.context == {"kind": "message", "key": "m1"}
    log = root / "users" / "alice" / "sessions" / session.session_id / "messages.jsonl"
    record = orjson.loads(log.read_bytes())
    log.write_bytes(orjson.dumps({**record, "timestamp": "not a time"}) + b"\n")
    with pytest.raises(FFCorruptionError) as damaged:
        await mem.add_message("alice", session.session_id, "user", "hello", message_id="m1")
    assert damaged.value.path == log


async def test_an_import_keeps_given_dtos_and_names_the_refused_message(mem: FFMemoryLayerManager) -> None:
    session = await mem.create_session("alice", "s")
    given = FFChatMessageDTO(
        message_id="old1", session_id=session.session_id, role="user", content="legacy",
        timestamp=datetime(2020, 1, 2, 3, 4, 5), metadata={"k": "v"}, extra={"legacy": True},
    )
    assert await mem.import_messages("alice", session.session_id, [given]) == [given]
    assert await mem.get_messages("alice", session.session_id) == [given]
    good = {"role": "user", "content": "fine"}
    refusals = (
        ({"role": "user", "content": "x", "attachments": [{"attachment_id": "a1", "size_bytes": -1}]}, "messages[1].attachments"),
        ({"role": "user", "content": "x", "legacy": "y" * 100_000}, "messages[1].extra"),
        ({"role": 5, "content": "x"}, "messages[1].role"),
    )
    for bad, field in refusals:
        with pytest.raises(FFValidationError) as caught:
            await mem.import_messages("alice", session.session_id, [good, bad])
        assert (caught.value.field or "").startswith(field), (field, caught.value.field)
    assert len(await mem.get_messages("alice", session.session_id)) == 1


async def test_an_imported_message_over_the_record_limit_is_refused(root: Path) -> None:
    mem = FFMemoryLayerManager(load_config(base_path=root, environ={}), clock=FakeClock(T0),
                               store=FFStore(root, max_record_bytes=4096))
    session = await mem.create_session("alice", "s")
    with pytest.raises(FFValidationError) as caught:
        await mem.import_messages("alice", session.session_id, [{"role": "user", "content": "ok"}, {"role": "user", "content": "x" * 5000}])
    assert caught.value.field == "record"
    assert await mem.get_messages("alice", session.session_id) == []
    await mem.shutdown()
