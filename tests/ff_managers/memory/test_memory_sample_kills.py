"""Survivors of the uniform sample of `_memory` (2026-12-06, seed 20261206) pinned by behaviour.

A session's refusals name their field and a taken session id names itself; a missing session is
named by kind on every path that checks it; an unknown role of a new message names ``role``; an
unhashable session id is a validation error, not a TypeError; a memory over the record limit is
refused as such before its id is checked against the layer; a local attachment that does not read
back as written names its file; appends without a named id never read the log (the id index
costs nothing then); and the id index keeps at most 250,000 ids by default.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ff_class_configs import load_config
from ff_managers import FFMemoryLayerManager
from ff_managers._memory.message_ids import FFMessageIdIndex
from ff_managers._memory.remote_attachments import RemoteAttachments
from ff_utils.ff_errors import FFConflictError, FFCorruptionError, FFNotFoundError, FFValidationError
from ff_utils.ff_store import FFStore
from tests._fakes import FakeClock

T0 = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


class CountingStore(FFStore):
    """Counts the full reads of each JSONL file (the cost the message-id index exists to avoid)."""

    def __init__(self, root: Path, **kwargs: Any) -> None:
        super().__init__(root, **kwargs)
        self.reads: list[str] = []

    def read_jsonl(self, path: Path, *, on_bad_line: Any = None) -> Iterator[Any]:
        self.reads.append(Path(path).name)
        return super().read_jsonl(path, on_bad_line=on_bad_line)


def make(root: Path, store: FFStore | None = None) -> FFMemoryLayerManager:
    return FFMemoryLayerManager(load_config(base_path=root, environ={}), clock=FakeClock(T0), store=store)


async def test_session_refusals_name_their_field_and_a_taken_id_names_itself(tmp_path: Path) -> None:
    mem = make(tmp_path / "data")
    for kwargs, field in (({"created_at": "soon"}, "created_at"), ({"extra": [1]}, "extra")):
        with pytest.raises(FFValidationError) as caught:
            await mem.create_session("alice", "s", **kwargs)
        assert caught.value.field == field, kwargs
    await mem.create_session("alice", "s", session_id="ses_1")
    with pytest.raises(FFConflictError) as taken:
        await mem.create_session("alice", "again", session_id="ses_1")
    assert taken.value.message == "session 'ses_1' already exists"
    await mem.shutdown()


async def test_a_missing_session_is_named_by_kind_and_key(tmp_path: Path) -> None:
    mem = make(tmp_path / "data")
    calls = (
        lambda: mem.add_message("alice", "ses_nope", "user", "hi"),
        lambda: mem.add_message("alice", "ses_nope", "user", "hi", attachments=[{"name": "a.txt", "data": b"abc"}]),
        lambda: mem.import_messages("alice", "ses_nope", [{"role": "user", "content": "hi"}]),
        lambda: mem.get_messages("alice", "ses_nope"),
        lambda: mem.get_attachment("alice", "ses_nope", "att_1"),
    )
    for index, call in enumerate(calls):
        with pytest.raises(FFNotFoundError) as missing:
            await call()
        assert (missing.value.message, missing.value.kind, missing.value.key) == (
            "session 'ses_nope' not found", "session", "ses_nope"), index
    await mem.shutdown()


async def test_add_message_names_role_and_refuses_an_unhashable_session_id(tmp_path: Path) -> None:
    mem = make(tmp_path / "data")
    session = await mem.create_session("alice", "s")
    with pytest.raises(FFValidationError) as role:
        await mem.add_message("alice", session.session_id, "wizard", "hi")
    assert role.value.field == "role"
    with pytest.raises(FFValidationError) as bad_id:
        await mem.add_message("alice", ["ses_1"], "user", "hi")  # type: ignore[arg-type]
    assert bad_id.value.field == "session_id"
    await mem.shutdown()


async def test_a_memory_over_the_record_limit_is_refused_before_its_id_is_checked(tmp_path: Path) -> None:
    root = tmp_path / "data"
    mem = make(root, store=FFStore(root, max_record_bytes=4096))
    await mem.store_memory("alice", "a fact", memory_id="mem_1")
    with pytest.raises(FFValidationError) as caught:  # not FFConflictError: the entry is refused as built
        await mem.store_memory("alice", "x" * 5000, memory_id="mem_1")
    assert caught.value.field == "record"
    assert str(caught.value).endswith("bytes exceeds the limit of 4,096")
    assert [m.content for m in await mem.get_memories("alice")] == ["a fact"]
    await mem.shutdown()


def test_an_attachment_that_does_not_read_back_names_its_file(tmp_path: Path) -> None:
    store = FFStore(tmp_path)
    path = tmp_path / "att_1"
    store.write_bytes(path, b"written")
    remote = RemoteAttachments(store, artifacts=None)  # type: ignore[arg-type]  # never reached
    with pytest.raises(FFCorruptionError) as caught:
        remote.upload(path, "alice", "ses_1", "att_1", b"given")
    assert caught.value.path == path
    assert caught.value.message == "attachment 'att_1' does not read back as written; not uploaded"


async def test_appends_without_a_named_id_never_read_the_log(tmp_path: Path) -> None:
    root = tmp_path / "data"
    store = CountingStore(root)
    mem = make(root, store=store)
    session = await mem.create_session("alice", "s")
    for text in ("one", "two", "three"):
        await mem.add_message("alice", session.session_id, "user", text)
    await mem.add_message("alice", session.session_id, "user", "file", attachments=[{"name": "a.txt", "data": b"abc"}])
    assert store.reads.count("messages.jsonl") == 0
    await mem.add_message("alice", session.session_id, "user", "named", message_id="msg_named")
    assert store.reads.count("messages.jsonl") == 1  # the index is built once a caller names an id
    await mem.shutdown()


def test_the_id_index_keeps_at_most_250000_ids_by_default(tmp_path: Path) -> None:
    store = CountingStore(tmp_path)
    small, big = tmp_path / "small.jsonl", tmp_path / "big.jsonl"
    small.write_bytes(b'{"message_id":"s"}\n')
    big.write_bytes(b"".join(b'{"message_id":"%d"}\n' % i for i in range(250_000)))
    index = FFMessageIdIndex(store)
    index.ids(small)
    assert len(index.ids(big)) == 250_000  # 250,001 ids cached: one over the default bound
    before = len(store.reads)
    index.ids(small)  # the least recently used session was dropped, so it is read again
    assert store.reads[before:] == ["small.jsonl"]


@pytest.fixture
def eastern_host(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's local time zone set to UTC-5 (winter), as on a host not kept in UTC."""
    monkeypatch.setenv("TZ", "EST+05")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


async def test_a_naive_session_time_is_utc_whatever_the_hosts_zone(tmp_path: Path, eastern_host: None) -> None:
    mem = make(tmp_path / "data")
    await mem.create_session("alice", "naive", session_id="ses_a", created_at=datetime(2026, 3, 4, 10, 0))  # 10:00 UTC
    await mem.create_session("alice", "aware", session_id="ses_b", created_at=datetime(2026, 3, 4, 12, 0, tzinfo=UTC))
    assert [s.session_id for s in await mem.list_sessions("alice")] == ["ses_b", "ses_a"]  # read as local: 15:00 UTC
    await mem.shutdown()
