"""Memory's refusals and defaults pinned exactly: each message, the field it names, each limit at
its edge (issue 20: what mutation testing of ``_memory`` found unpinned: the attachment and import
rules, profiles and session updates; a refusal naming the wrong field sends a caller the wrong way)."""

from __future__ import annotations

import hashlib
import itertools
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ff_class_configs import load_config
from ff_managers import FFMemoryLayerManager
from ff_managers._memory.validation import message_from_import, prepare_attachments
from ff_utils.ff_errors import FFCorruptionError, FFNotFoundError, FFValidationError
from tests._fakes import FakeClock

T0 = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
IDS = (f"id{i}" for i in itertools.count())


def refusal(call, *args, **kwargs) -> tuple[str, str | None]:
    with pytest.raises(FFValidationError) as caught:
        call(*args, **kwargs)
    return str(caught.value), caught.value.field


def attach(items: object, max_count: int = 2, max_bytes: int = 10) -> list[Any]:
    return prepare_attachments(items, max_count=max_count, max_bytes=max_bytes, metadata_bytes=200, new_id=lambda: next(IDS))


def test_attachment_refusals_are_exact() -> None:
    assert refusal(attach, "a.pdf") == ("attachments must be a list of dicts", "attachments")
    assert refusal(attach, [{}, {}, {}]) == ("3 attachments; the limit is 2", "attachments")
    assert refusal(attach, [{}, 5]) == ("attachments[1] must be a dict", "attachments[1]")
    assert refusal(attach, [{"data": "text"}]) == ("attachments[0].data must be bytes", "attachments[0].data")
    assert refusal(attach, [{"data": b"x" * 11}]) == ("attachments[0] has 11 bytes; the limit is 10", "attachments[0].data")
    assert refusal(attach, [{"data": b"x", "sha256": "0" * 64}]) == ("attachments[0].sha256 does not match its data", "attachments[0].sha256")
    assert refusal(attach, [{"data": b"x", "size_bytes": 2}]) == ("attachments[0].size_bytes does not match its data", "attachments[0].size_bytes")
    assert refusal(attach, [{"attachment_id": "a1"}, {"attachment_id": "a1"}]) == ("attachment ids must be unique within a message", "attachments")
    assert refusal(attach, [{"attachment_id": "../up"}])[1] == "attachments[0].attachment_id"
    assert refusal(attach, [{"metadata": [1]}])[1] == "attachments[0].metadata"
    assert refusal(attach, [{"pages": float("nan")}])[1] == "attachments[0]"
    assert refusal(attach, [{"name": 5}])[1].startswith("attachments[0]")


def test_attachments_at_their_limits_and_their_defaults() -> None:
    [full] = attach([{"data": b"x" * 10, "size_bytes": 10, "sha256": hashlib.sha256(b"x" * 10).hexdigest()}])
    assert (full.record.size_bytes, full.record.stored, full.data) == (10, True, b"x" * 10)
    one, two = attach([{}, {"name": "a.pdf", "mime_type": "application/pdf", "attachment_id": "given"}])
    assert (one.record.name, one.record.mime_type, one.record.stored, one.data) == ("", "application/octet-stream", False, None)
    assert (two.record.name, two.record.mime_type, two.record.attachment_id) == ("a.pdf", "application/pdf", "given")


def imported(raw: object, index: int = 2) -> Any:
    return message_from_import(raw, index=index, session_id="s1", allowed_roles=("user", "assistant"), max_chars=20,
                               metadata_bytes=200, new_id=lambda: next(IDS), now=lambda: T0)


def test_import_refusals_name_the_message_and_its_field() -> None:
    assert refusal(imported, 5) == ("messages[2] must be a dict or FFChatMessageDTO", "messages[2]")
    assert refusal(imported, {"session_id": "s2", "role": "user", "content": "x"}) == (
        "messages[2].session_id names another session", "messages[2].session_id")
    assert refusal(imported, {"message_id": "../m", "role": "user", "content": "x"})[1] == "messages[2].message_id"
    assert refusal(imported, {"role": "user", "content": "x", "attachments": {"a": 1}}) == (
        "messages[2].attachments must be a list of dicts", "messages[2].attachments")
    assert refusal(imported, {"role": "user", "content": "x", "attachments": [1]})[1] == "messages[2].attachments"
    assert refusal(imported, {"role": "user", "content": "x" * 21})[1] == "messages[2].content"
    assert refusal(imported, {"role": "user", "content": "x", "timestamp": "soon"})[1] == "messages[2].timestamp"
    assert refusal(imported, {"role": "user", "content": "x", "metadata": [1]})[1] == "messages[2].metadata"


def test_an_import_keeps_every_field_and_fills_only_what_is_missing() -> None:
    message = imported({"role": "user", "content": "", "timestamp": "2026-01-02T03:04:05+00:00", "legacy": 1,
                        "extra": {"kept": True}, "attachments": [{"name": "a"}]})
    assert (message.session_id, message.content, message.timestamp) == ("s1", "", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert message.extra == {"kept": True, "legacy": 1}
    assert message.attachments[0].attachment_id.startswith("id") and message.attachments[0].name == "a"
    assert imported({"role": "assistant", "content": "x" * 20}).timestamp == T0


@pytest.fixture
async def mem(tmp_path: Path) -> Any:
    config = load_config(base_path=tmp_path / "data", environ={})
    config.memory.max_import_messages = 3
    manager = FFMemoryLayerManager(config, clock=FakeClock(T0))
    await manager.initialize()
    yield manager
    await manager.shutdown()


async def test_import_batches_refused_whole_with_the_reason(mem: FFMemoryLayerManager) -> None:
    session = await mem.create_session("alice", "s")
    one = {"role": "user", "content": "x"}
    for bad, expected in (
        ("not a list", ("messages must be a list of dicts or FFChatMessageDTO", "messages")),
        ({"role": "user"}, ("messages must be a list of dicts or FFChatMessageDTO", "messages")),
        ([one] * 4, ("4 messages; one import takes at most 3", "messages")),
        ([{**one, "message_id": "m1"}, {**one, "message_id": "m1"}], ("message ids repeat within the import", "messages")),
    ):
        with pytest.raises(FFValidationError) as caught:
            await mem.import_messages("alice", session.session_id, bad)
        assert (str(caught.value), caught.value.field) == expected
    assert len(await mem.import_messages("alice", session.session_id, [one] * 3)) == 3  # exactly the limit
    stored = await mem.get_messages("alice", session.session_id)
    assert len(stored) == 3 and all(m.message_id.startswith("msg_") for m in stored)


async def test_profile_fields_are_checked_by_name_and_times_kept(mem: FFMemoryLayerManager) -> None:
    for kwargs, field in (({"username": 5}, "username"), ({"preferences": [1]}, "preferences"), ({"metadata": "x"}, "metadata"),
                          ({"extra": 5}, "extra"), ({"created_at": "soon"}, "created_at"), ({"updated_at": "soon"}, "updated_at")):
        with pytest.raises(FFValidationError) as caught:
            await mem.create_profile("alice", **kwargs)
        assert caught.value.field == field, kwargs
    with pytest.raises(FFValidationError) as bad_id:
        await mem.create_profile("../x")
    assert bad_id.value.field == "user_id"
    created = datetime(2025, 1, 1, tzinfo=UTC)
    profile = await mem.create_profile("alice", username="", created_at=created)
    assert (profile.created_at, profile.updated_at, profile.username) == (created, created, "")
    later = datetime(2025, 6, 1, tzinfo=UTC)
    assert (await mem.create_profile("bob", created_at=created, updated_at=later)).updated_at == later
    assert (await mem.get_profile("bob")).updated_at == later


async def test_profile_updates_refuse_by_field_and_read_errors_name_the_profile(mem: FFMemoryLayerManager) -> None:
    await mem.create_profile("alice", preferences={"a": 1}, metadata={"m": 1})
    for kwargs, field in (({"username": 5}, "username"), ({"preferences": [1]}, "preferences"), ({"metadata": "x"}, "metadata")):
        with pytest.raises(FFValidationError) as caught:
            await mem.update_profile("alice", **kwargs)
        assert caught.value.field == field, kwargs
    updated = await mem.update_profile("alice", username="", preferences={"b": 2})
    assert (updated.username, updated.preferences, updated.metadata) == ("", {"a": 1, "b": 2}, {"m": 1})
    for call in (mem.get_profile("carol"), mem.update_profile("carol", username="c")):
        with pytest.raises(FFNotFoundError) as missing:
            await call
        assert (missing.value.kind, missing.value.key) == ("profile", "carol")


async def test_a_stored_profile_of_another_shape_is_corruption_naming_its_file(mem: FFMemoryLayerManager, tmp_path: Path) -> None:
    await mem.create_profile("alice")
    path = tmp_path / "data" / "users" / "alice" / "profile.json"
    path.write_bytes(b'{"user_id": "alice", "created_at": 5}')
    for call in (mem.get_profile("alice"), mem.update_profile("alice", username="a")):
        with pytest.raises(FFCorruptionError) as caught:
            await call
        assert caught.value.path == path


async def test_session_updates_refuse_by_field_merge_and_name_a_missing_session(mem: FFMemoryLayerManager) -> None:
    session = await mem.create_session("alice", "first", metadata={"a": 1})
    for kwargs, field in (({"title": 5}, "title"), ({"metadata": "x"}, "metadata")):
        with pytest.raises(FFValidationError) as caught:
            await mem.update_session("alice", session.session_id, **kwargs)
        assert caught.value.field == field, kwargs
    kept = await mem.update_session("alice", session.session_id, metadata={"b": 2})  # no title: the title stays
    assert (kept.title, kept.metadata) == ("first", {"a": 1, "b": 2})
    updated = await mem.update_session("alice", session.session_id, title="", metadata={"c": 3})
    assert (updated.title, updated.metadata) == ("", {"a": 1, "b": 2, "c": 3})
    for call in (mem.get_session("alice", "nope"), mem.update_session("alice", "nope", title="x")):
        with pytest.raises(FFNotFoundError) as missing:
            await call
        assert (missing.value.kind, missing.value.key) == ("session", "nope")
    with pytest.raises(FFNotFoundError) as no_memory:
        await mem.get_memory("alice", "mem_nope")
    assert (str(no_memory.value), no_memory.value.kind, no_memory.value.key) == ("memory 'mem_nope' not found", "memory", "mem_nope")


async def test_list_sessions_honours_its_limit(mem: FFMemoryLayerManager) -> None:
    assert await mem.list_sessions("nobody") == []
    for title in ("a", "b", "c"):
        await mem.create_session("alice", title)
    assert len(await mem.list_sessions("alice")) == 3
    assert len(await mem.list_sessions("alice", limit=2)) == 2
    assert len(await mem.list_sessions("alice", limit=3)) == 3


async def test_a_session_folder_without_its_document_is_not_a_session(mem: FFMemoryLayerManager, tmp_path: Path) -> None:
    session = await mem.create_session("alice", "kept")
    sessions_dir = next((tmp_path / "data").rglob(session.session_id)).parent
    (sessions_dir / "half_created_session").mkdir()  # a create that died before session.json
    assert [s.session_id for s in await mem.list_sessions("alice")] == [session.session_id]


def test_layer_refusals_are_exact() -> None:
    from ff_managers._memory.validation import check_layer, check_layers

    assert refusal(check_layers, []) == ("layers is empty; pass None for every layer", "layers")
    message, field = refusal(check_layer, "forever")
    assert (message.startswith("unknown memory layer 'forever'; expected one of immediate"), field) == (True, "layer")


async def test_a_second_profile_is_a_conflict_naming_it(mem: FFMemoryLayerManager) -> None:
    from ff_utils.ff_errors import FFConflictError

    await mem.create_profile("alice")
    with pytest.raises(FFConflictError) as caught:
        await mem.create_profile("alice")
    assert caught.value.message == "profile 'alice' already exists"


async def test_a_merge_that_outgrows_the_limit_is_refused_by_field_and_writes_nothing(mem: FFMemoryLayerManager) -> None:
    limit = mem.config.memory.max_metadata_bytes
    half = {"a": "x" * (limit // 2)}
    session = await mem.create_session("alice", "s", metadata=half)
    await mem.create_profile("alice", preferences=half, metadata=half)
    other = {"b": "y" * (limit // 2)}
    calls = (
        (lambda: mem.update_session("alice", session.session_id, metadata=other), "metadata"),
        (lambda: mem.update_profile("alice", preferences=other), "preferences"),
        (lambda: mem.update_profile("alice", metadata=other), "metadata"),
    )
    for call, field in calls:
        with pytest.raises(FFValidationError) as caught:
            await call()
        assert caught.value.field == field
    assert (await mem.get_session("alice", session.session_id)).metadata == half
    profile = await mem.get_profile("alice")
    assert (profile.preferences, profile.metadata) == (half, half)


async def test_add_message_refuses_by_field_and_generates_prefixed_ids(mem: FFMemoryLayerManager) -> None:
    session = await mem.create_session("alice", "s")
    sid = session.session_id
    for kwargs, field in (({"message_id": "../m"}, "message_id"), ({"timestamp": "soon"}, "timestamp"), ({"metadata": [1]}, "metadata")):
        with pytest.raises(FFValidationError) as caught:
            await mem.add_message("alice", sid, "user", "hi", **kwargs)
        assert caught.value.field == field, kwargs
    sent = await mem.add_message("alice", sid, "user", "hi", attachments=[{"name": "a.txt", "data": b"abc"}])
    assert sent.message_id.startswith("msg_") and sent.attachments[0].attachment_id.startswith("att_")
