"""Survivors of the uniform sample of `_memory` (issue 20, seed 20261208) pinned by behaviour.

A session's refused id, ``updated_at`` and metadata name their own field, and a given
``updated_at`` is kept; a bad user id met while building a session's path is named ``user_id``;
a message record of exactly the store's record limit is written (only a larger one is refused);
a profile document without ``preferences``/``metadata`` (valid: both default to empty) can be
updated; and once a message was appended to a session, later appends reuse its checked paths
instead of building them again (the memo ``Messages.session`` documents). The survivors of the
sample found equivalent are listed in docs/mutation/equivalent/_memory/sample-20261208.toml.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from ff_class_configs import load_config
from ff_managers import FFMemoryLayerManager
from ff_utils.ff_errors import FFValidationError
from ff_utils.ff_store import FFStore
from tests._fakes import FakeClock

T0 = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


class PathCountingStore(FFStore):
    """Counts the paths built through the store (each one validated segment by segment)."""

    def __init__(self, root: Path, **kwargs: Any) -> None:
        super().__init__(root, **kwargs)
        self.built = 0

    def path(self, *parts: Any) -> Path:
        self.built += 1
        return super().path(*parts)


def make(root: Path, store: FFStore | None = None) -> FFMemoryLayerManager:
    return FFMemoryLayerManager(load_config(base_path=root, environ={}), clock=FakeClock(T0), store=store)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"session_id": "no spaces allowed"}, "session_id"),
        ({"updated_at": "soon"}, "updated_at"),
        ({"metadata": [1, 2]}, "metadata"),
    ],
)
async def test_a_refused_session_field_is_named(tmp_path: Path, kwargs: dict[str, Any], field: str) -> None:
    mem = make(tmp_path / "data")
    with pytest.raises(FFValidationError) as caught:
        await mem.create_session("alice", "s", **kwargs)
    assert caught.value.field == field
    assert await mem.list_sessions("alice") == []
    await mem.shutdown()


async def test_a_given_updated_at_is_kept_apart_from_created_at(tmp_path: Path) -> None:
    mem = make(tmp_path / "data")
    session = await mem.create_session(
        "alice", "imported", session_id="ses_old", created_at="2024-01-01T00:00:00+00:00", updated_at="2024-02-01T08:30:00+00:00"
    )
    assert session.created_at == datetime(2024, 1, 1, tzinfo=UTC)
    assert session.updated_at == datetime(2024, 2, 1, 8, 30, tzinfo=UTC)
    stored = await mem.get_session("alice", "ses_old")
    assert (stored.created_at, stored.updated_at) == (session.created_at, session.updated_at)
    await mem.shutdown()


async def test_a_bad_user_id_reading_a_session_is_named_user_id(tmp_path: Path) -> None:
    mem = make(tmp_path / "data")
    for call in (lambda: mem.get_session("bad user", "ses_1"), lambda: mem.get_messages("bad user", "ses_1")):
        with pytest.raises(FFValidationError) as caught:
            await call()
        assert caught.value.field == "user_id"
        assert str(caught.value).startswith("invalid user_id 'bad user'")
    await mem.shutdown()


async def test_a_message_record_of_exactly_the_limit_is_written(tmp_path: Path) -> None:
    root = tmp_path / "data"
    limit = 4096
    mem = make(root, store=FFStore(root, max_record_bytes=limit))
    session = await mem.create_session("alice", "s")
    sid = session.session_id
    await mem.add_message("alice", sid, "user", "x", message_id="msg_a")
    log = root / "users" / "alice" / "sessions" / sid / "messages.jsonl"
    one_char = len(log.read_bytes().rstrip(b"\n"))  # the record with one character of content
    fill = 1 + limit - one_char
    await mem.add_message("alice", sid, "user", "x" * fill, message_id="msg_b")  # exactly the limit: written
    assert [len(line) for line in log.read_bytes().splitlines()] == [one_char, limit]
    with pytest.raises(FFValidationError) as caught:
        await mem.add_message("alice", sid, "user", "x" * (fill + 1), message_id="msg_c")
    assert caught.value.field == "record"
    assert str(caught.value) == f"record of {limit + 1:,} bytes exceeds the limit of {limit:,}"
    assert [m.message_id for m in await mem.get_messages("alice", sid)] == ["msg_a", "msg_b"]
    await mem.shutdown()


async def test_a_profile_stored_without_preferences_or_metadata_can_be_updated(tmp_path: Path) -> None:
    root = tmp_path / "data"
    mem = make(root)
    await mem.create_profile("alice", username="Alice")
    doc = root / "users" / "alice" / "profile.json"
    bare = {k: v for k, v in orjson.loads(doc.read_bytes()).items() if k not in ("preferences", "metadata")}
    doc.write_bytes(orjson.dumps(bare))  # both fields default to {} in the schema: a valid profile
    assert (await mem.get_profile("alice")).metadata == {}
    updated = await mem.update_profile("alice", preferences={"theme": "dark"}, metadata={"team": "blue"})
    assert (updated.preferences, updated.metadata) == ({"theme": "dark"}, {"team": "blue"})
    assert (await mem.get_profile("alice")).metadata == {"team": "blue"}
    await mem.shutdown()


async def test_appends_to_a_session_reuse_its_checked_paths(tmp_path: Path) -> None:
    root = tmp_path / "data"
    store = PathCountingStore(root)
    mem = make(root, store=store)
    session = await mem.create_session("alice", "s")
    await mem.add_message("alice", session.session_id, "user", "first")
    before = store.built
    for text in ("second", "third"):
        await mem.add_message("alice", session.session_id, "user", text)
    assert store.built == before  # remembered after the first append: no path built again
    assert [m.content for m in await mem.get_messages("alice", session.session_id)] == ["first", "second", "third"]
    await mem.shutdown()
