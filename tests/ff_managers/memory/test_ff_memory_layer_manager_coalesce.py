"""add_message coalesces concurrent appends to one session into one worker-thread trip and one
write, while each caller keeps its own validation, its own acknowledgement and its own error."""

from __future__ import annotations

import asyncio
import errno
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

import ff_utils._jsonl_append as j
from ff_class_configs import load_config
from ff_managers import FFMemoryLayerManager
from ff_utils.ff_errors import FFNotFoundError, FFStorageError, FFValidationError
from ff_utils.ff_json_utils import ff_read_jsonl
from ff_utils.ff_store import FFStore


class MessageAppendCounter(FFStore):
    """The real store, recording how many records each append to a messages.jsonl carried."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.message_appends: list[int] = []

    def append_many(self, path: Path, records: Any) -> None:
        records = list(records)
        if path.name == "messages.jsonl":
            self.message_appends.append(len(records))
        super().append_many(path, records)


@pytest.fixture
def store(tmp_path: Path) -> MessageAppendCounter:
    return MessageAppendCounter.from_config(load_config(base_path=tmp_path, environ={}))


@pytest.fixture
def memory(tmp_path: Path, store: MessageAppendCounter) -> FFMemoryLayerManager:
    return FFMemoryLayerManager(load_config(base_path=tmp_path, environ={}), store=store)


@pytest.fixture
def append_calls(store: MessageAppendCounter) -> list[int]:
    """How many records each append to a message log carried."""
    return store.message_appends


def _log(memory: FFMemoryLayerManager, session_id: str) -> Path:
    return memory.root / "users" / "alice" / "sessions" / session_id / "messages.jsonl"


async def test_eight_concurrent_adds_share_one_write_and_all_are_acknowledged(
    memory: FFMemoryLayerManager, append_calls: list[int]
) -> None:
    session = await memory.create_session("alice")
    messages = await asyncio.gather(*(memory.add_message("alice", session.session_id, "user", f"m{i}") for i in range(8)))
    assert append_calls == [8]
    stored = list(ff_read_jsonl(_log(memory, session.session_id)))
    assert [r["message_id"] for r in stored] == [m.message_id for m in messages]
    assert [r["content"] for r in stored] == [f"m{i}" for i in range(8)]
    assert (await memory.get_session("alice", session.session_id)).message_count == 8


async def test_a_bad_message_in_a_concurrent_batch_fails_alone(memory: FFMemoryLayerManager, append_calls: list[int]) -> None:
    session = await memory.create_session("alice")
    contents = ["a", "b", "", "d"]  # empty content is refused
    results = await asyncio.gather(
        *(memory.add_message("alice", session.session_id, "user", c) for c in contents), return_exceptions=True
    )
    assert isinstance(results[2], FFValidationError)
    assert not any(isinstance(r, BaseException) for i, r in enumerate(results) if i != 2)
    assert append_calls == [3]
    assert [r["content"] for r in ff_read_jsonl(_log(memory, session.session_id))] == ["a", "b", "d"]


async def test_a_storage_failure_fails_every_caller_of_the_batch_and_writes_nothing(
    memory: FFMemoryLayerManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = await memory.create_session("alice")
    await memory.add_message("alice", session.session_id, "user", "before")
    log = _log(memory, session.session_id)
    before = log.read_bytes()

    class _FullDisk:
        def __getattr__(self, name: str) -> Any:
            return getattr(os, name)

        def write(self, fd: int, data: Any) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(j, "os", _FullDisk())
    results = await asyncio.gather(
        *(memory.add_message("alice", session.session_id, "user", f"m{i}") for i in range(5)), return_exceptions=True
    )
    assert all(isinstance(r, FFStorageError) for r in results), results
    assert log.read_bytes() == before
    monkeypatch.undo()
    await memory.add_message("alice", session.session_id, "user", "after")
    assert [r["content"] for r in ff_read_jsonl(log)] == ["before", "after"]


async def test_missing_session_fails_every_caller_and_creates_nothing(memory: FFMemoryLayerManager) -> None:
    results = await asyncio.gather(
        *(memory.add_message("alice", "ses_nope", "user", f"m{i}") for i in range(3)), return_exceptions=True
    )
    assert all(isinstance(r, FFNotFoundError) for r in results)
    assert not (memory.root / "users" / "alice" / "sessions" / "ses_nope").exists()


async def test_a_session_deleted_after_use_is_not_found_and_not_recreated(memory: FFMemoryLayerManager) -> None:
    session = await memory.create_session("alice")
    await memory.add_message("alice", session.session_id, "user", "hello")  # path now remembered
    session_dir = _log(memory, session.session_id).parent
    shutil.rmtree(session_dir)
    with pytest.raises(FFNotFoundError):
        await memory.add_message("alice", session.session_id, "user", "again")
    assert not session_dir.exists()
    assert ("alice", session.session_id) not in memory._messages._known


async def test_a_caller_cancelled_before_its_batch_is_taken_writes_nothing(memory: FFMemoryLayerManager) -> None:
    session = await memory.create_session("alice")
    first = asyncio.ensure_future(memory.add_message("alice", session.session_id, "user", "kept"))
    doomed = asyncio.ensure_future(memory.add_message("alice", session.session_id, "user", "cancelled"))
    await asyncio.sleep(0)  # both queued, the drain task not yet run
    doomed.cancel()
    await first
    with pytest.raises(asyncio.CancelledError):
        await doomed
    await memory.add_message("alice", session.session_id, "user", "later")
    assert [r["content"] for r in ff_read_jsonl(_log(memory, session.session_id))] == ["kept", "later"]


async def test_shutdown_waits_for_queued_appends(memory: FFMemoryLayerManager) -> None:
    """Appends still queued when the manager stops are written, not dropped with the drain task."""
    session = await memory.create_session("alice")
    pending = [asyncio.ensure_future(memory.add_message("alice", session.session_id, "user", f"m{i}")) for i in range(5)]
    await asyncio.sleep(0)  # every call queued, the drain task created but not yet run
    await memory.shutdown()
    assert [r["content"] for r in ff_read_jsonl(_log(memory, session.session_id))] == [f"m{i}" for i in range(5)]
    assert len(await asyncio.gather(*pending)) == 5
