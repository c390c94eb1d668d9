"""Memory's paths, session order and record limit pinned exactly (issue 20: survivors of
``layout``, ``conversations._activity`` and ``messages.new`` in the run at 13dc191): each path
method names the field of a bad id, only valid-id folders are children, sessions are ordered by
the instant of their last activity whatever its UTC offset, and a message over the store's record
limit is refused by field before its attachment bytes are written."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ff_class_configs import load_config
from ff_managers import FFMemoryLayerManager
from ff_managers._memory.layout import MemoryLayout
from ff_utils.ff_errors import FFValidationError
from ff_utils.ff_store import FFStore
from tests._fakes import FakeClock

T0 = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


def field_of(call, *args: str) -> str | None:
    with pytest.raises(FFValidationError) as caught:
        call(*args)
    return caught.value.field


def test_each_path_names_the_field_of_its_bad_id(tmp_path: Path) -> None:
    layout = MemoryLayout(FFStore(tmp_path))
    assert field_of(layout.sessions_dir, "../u") == "user_id"
    assert field_of(layout.profile, "../u") == "user_id"
    assert field_of(layout.memory_dir, "../u") == "user_id"
    assert field_of(layout.session_dir, "u", "../s") == "session_id"
    assert field_of(layout.attachment, "../u", "s", "a") == "user_id"
    assert field_of(layout.attachment, "u", "../s", "a") == "session_id"
    assert field_of(layout.attachment, "u", "s", "../a") == "attachment_id"
    assert layout.attachment("u", "s", "a") == tmp_path.resolve() / "users" / "u" / "sessions" / "s" / "attachments" / "a"


def test_children_are_folders_with_valid_ids_holding_what_is_required(tmp_path: Path) -> None:
    layout = MemoryLayout(FFStore(tmp_path))
    parent = tmp_path / "users"
    for name in ("b_ok", "a_ok", "no doc", ".hidden"):
        (parent / name).mkdir(parents=True)
    (parent / "a_ok" / "session.json").write_text("{}")
    (parent / "stray_file").write_text("x")  # a valid id, but a file
    assert layout.child_ids(parent) == ["a_ok", "b_ok"]
    assert layout.child_ids(parent, require="session.json") == ["a_ok"]
    assert layout.child_ids(tmp_path / "missing") == []


async def test_sessions_are_ordered_by_the_instant_of_their_last_activity(tmp_path: Path) -> None:
    mem = FFMemoryLayerManager(load_config(base_path=tmp_path / "data", environ={}), clock=FakeClock(T0))
    east = await mem.create_session("alice", "east")
    west = await mem.create_session("alice", "west")
    # 12:00+05:00 is 07:00 UTC: earlier than 08:00 UTC, though its wall clock reads later
    await mem.add_message("alice", east.session_id, "user", "hi", timestamp="2026-03-05T12:00:00+05:00")
    await mem.add_message("alice", west.session_id, "user", "hi", timestamp="2026-03-05T08:00:00+00:00")
    assert [s.title for s in await mem.list_sessions("alice")] == ["west", "east"]
    await mem.add_message("alice", east.session_id, "user", "again", timestamp="2026-03-05T14:00:00+05:00")  # 09:00 UTC
    assert [s.title for s in await mem.list_sessions("alice")] == ["east", "west"]
    await mem.shutdown()


async def test_a_message_over_the_record_limit_is_refused_before_its_attachment_is_written(tmp_path: Path) -> None:
    root = tmp_path / "data"
    mem = FFMemoryLayerManager(load_config(base_path=root, environ={}), clock=FakeClock(T0),
                               store=FFStore(root, max_record_bytes=4096))
    session = await mem.create_session("alice", "s")
    with pytest.raises(FFValidationError) as caught:
        await mem.add_message("alice", session.session_id, "user", "x" * 5000, attachments=[{"name": "a.txt", "data": b"abc"}])
    assert caught.value.field == "record"
    assert str(caught.value).startswith("record of ") and str(caught.value).endswith("bytes exceeds the limit of 4,096")
    folder = root / "users" / "alice" / "sessions" / session.session_id
    assert not (folder / "attachments").exists() or not any((folder / "attachments").iterdir())
    assert await mem.get_messages("alice", session.session_id) == []
    await mem.shutdown()
