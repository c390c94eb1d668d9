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
from ff_managers import _conversation_store
from ff_utils.ff_errors import FFNotFoundError, FFStorageError, FFValidationError
from ff_utils.ff_json_utils import ff_read_jsonl


@pytest.fixture
def memory(tmp_path: Path) -> FFMemoryLayerManager:
    return FFMemoryLayerManager(load_config(base_path=tmp_path, environ={}))


@pytest.fixture
def append_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many records each append_messages call carried."""
    calls: list[int] = []
    real = _conversation_store.append_messages

    def counting(log: Path, records: list[Any], settings: Any) -> None:
        calls.append(len(records))
        real(log, records, settings)

    monkeypatch.setattr(_conversation_store, "append_messages", counting)
    return calls


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
    assert ("alice", session.session_id) not in memory._session_dirs


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
