"""The migration's view of a target: a long session streamed from its log, panel pages.

``FFManagerTarget.iter_messages`` reads a session of more than ``_API_READ_MAX`` messages from the
memory manager's documented log instead of ``get_messages``; before this test only the validator's
2,500-message end-to-end test reached that branch (a mutant reading the wrong log survived the
package's own tests). The bounds are lowered here so a few messages take either path, and both
paths must give the same messages in the same order.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ff_class_configs import load_config
from ff_managers._migration import manager_adapter
from ff_managers._migration.manager_adapter import FFManagerTarget

_MESSAGES = [{"role": "user" if i % 2 == 0 else "assistant", "content": f"message {i}", "message_id": f"msg_{i}",
              "timestamp": f"2025-08-01T10:00:0{i}"} for i in range(5)]


async def _read(target: FFManagerTarget, user_id: str, session_id: str) -> list[dict]:
    return [m async for m in target.iter_messages(user_id, session_id)]


async def test_a_long_session_is_streamed_from_its_log_in_stored_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_config(base_path=tmp_path / "root", environ={})
    async with FFManagerTarget(config) as target:
        await target.put_user("alice", {"username": "Alice"})
        await target.put_user("bob", {"username": "Bob"})
        for user in ("alice", "bob"):
            await target.put_session(user, {"session_id": "s1", "title": "T"})
        await target.put_messages("alice", "s1", _MESSAGES)
        await target.put_messages("bob", "s1", _MESSAGES[:1])
        through_the_api = await _read(target, "alice", "s1")
        monkeypatch.setattr(manager_adapter, "_API_READ_MAX", 3)  # 5 messages: now a "long" session
        streamed = await _read(target, "alice", "s1")
        other_user = await _read(target, "bob", "s1")  # one message: still through the API
    assert [m["message_id"] for m in through_the_api] == [f"msg_{i}" for i in range(5)]
    assert streamed == through_the_api
    assert [m["content"] for m in other_user] == ["message 0"]


async def test_an_empty_session_yields_nothing(tmp_path: Path) -> None:
    config = load_config(base_path=tmp_path / "root", environ={})
    async with FFManagerTarget(config) as target:
        await target.put_user("alice", {"username": "Alice"})
        await target.put_session("alice", {"session_id": "s1", "title": "T"})
        assert await _read(target, "alice", "s1") == []
