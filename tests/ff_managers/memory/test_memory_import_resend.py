"""A re-sent `import_messages` batch appends nothing, as a re-sent `add_message` does.

A client that imports a batch and times out cannot know whether it was written; sending it again
must not duplicate the session's history. The same id with other content is a conflict, and
nothing of that batch is written.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ff_class_configs import load_config
from ff_managers import FFMemoryLayerManager
from ff_utils.ff_errors import FFConflictError

BATCH = [{"role": "user", "content": "one", "message_id": "m1"}, {"role": "assistant", "content": "two", "message_id": "m2"}]


@pytest.fixture
def memory(tmp_path: Path) -> FFMemoryLayerManager:
    return FFMemoryLayerManager(load_config(base_path=tmp_path, environ={}))


async def test_a_resent_batch_appends_nothing_and_returns_the_messages(memory: FFMemoryLayerManager) -> None:
    session = await memory.create_session("alice", title="t")
    first = await memory.import_messages("alice", session.session_id, BATCH)
    again = await memory.import_messages("alice", session.session_id, BATCH)

    stored = await memory.get_messages("alice", session.session_id)
    assert [m.message_id for m in stored] == ["m1", "m2"]
    assert [m.message_id for m in again] == [m.message_id for m in first] == ["m1", "m2"]
    assert [m.content for m in again] == ["one", "two"]


async def test_a_batch_partly_stored_appends_only_the_new_messages(memory: FFMemoryLayerManager) -> None:
    session = await memory.create_session("alice", title="t")
    await memory.import_messages("alice", session.session_id, BATCH[:1])
    await memory.import_messages("alice", session.session_id, BATCH)

    assert [m.message_id for m in await memory.get_messages("alice", session.session_id)] == ["m1", "m2"]


async def test_a_stored_id_with_other_content_is_a_conflict_and_writes_nothing(memory: FFMemoryLayerManager) -> None:
    session = await memory.create_session("alice", title="t")
    await memory.import_messages("alice", session.session_id, BATCH[:1])
    changed = [{"role": "assistant", "content": "new", "message_id": "m3"}, {"role": "user", "content": "other", "message_id": "m1"}]

    with pytest.raises(FFConflictError) as refused:
        await memory.import_messages("alice", session.session_id, changed)

    assert refused.value.context.get("key") == "m1" or "'m1'" in refused.value.message
    assert [m.message_id for m in await memory.get_messages("alice", session.session_id)] == ["m1"]
