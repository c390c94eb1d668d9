"""FFPanelStore: the owner index, on-disk checks, and recovery from a crash's leftovers."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from ff_class_configs.ff_panel_dtos import FFPanelDTO
from ff_managers import FFPanelSessionManager
from ff_managers._panel.store import FFPanelStore
from ff_utils.ff_errors import FFConflictError, FFCorruptionError, FFNotFoundError
from ff_utils.ff_store import FFStore

SEATS = [{"participant_id": "a"}, {"participant_id": "b"}]


def panel(panel_id: str = "p1", user_id: str = "alice") -> FFPanelDTO:
    return FFPanelDTO(
        panel_id=panel_id, user_id=user_id, panel_type="generic", participants=SEATS, created_at=datetime(2025, 1, 1, tzinfo=UTC)
    )


def test_create_claims_the_id_and_resolves_the_owner(tmp_path):
    store = FFPanelStore(FFStore(tmp_path))
    store.create(panel())
    assert store.owner_of("p1") == "alice"
    assert store.read_panel("alice", "p1").message_count == 0
    assert store.list_panel_ids("alice") == ["p1"]
    with pytest.raises(FFConflictError):
        store.create(panel(user_id="bob"))
    with pytest.raises(FFNotFoundError):
        store.owner_of("p2")


def test_a_claim_left_by_a_crash_can_be_taken_again_by_its_owner_only(tmp_path):
    store = FFPanelStore(FFStore(tmp_path))
    index = tmp_path / "panels_index" / "p1.json"
    index.parent.mkdir(parents=True)
    index.write_bytes(orjson.dumps({"panel_id": "p1", "user_id": "alice"}))  # index written, panel.json never was
    with pytest.raises(FFNotFoundError):
        store.read_panel("alice", "p1")
    with pytest.raises(FFConflictError):
        store.create(panel(user_id="bob"))
    store.create(panel())
    assert store.read_panel("alice", "p1").user_id == "alice"


def test_documents_that_are_not_what_we_wrote_are_corrupt(tmp_path):
    store = FFPanelStore(FFStore(tmp_path))
    store.create(panel())
    document = tmp_path / "users" / "alice" / "panels" / "p1" / "panel.json"
    data = orjson.loads(document.read_bytes())
    document.write_bytes(orjson.dumps({**data, "user_id": "mallory"}))
    with pytest.raises(FFCorruptionError):
        store.read_panel("alice", "p1")
    document.write_bytes(orjson.dumps({**data, "panel_type": "nonsense"}))
    with pytest.raises(FFCorruptionError):
        store.read_panel("alice", "p1")
    (tmp_path / "panels_index" / "p1.json").write_bytes(orjson.dumps({"panel_id": "p1", "user_id": "../x"}))
    with pytest.raises(FFCorruptionError):
        store.owner_of("p1")


async def test_a_torn_last_line_is_skipped_and_numbering_continues_from_the_last_good_record(config):
    async with FFPanelSessionManager(config) as manager:
        made = await manager.create_panel("alice", SEATS)
        await manager.add_message("alice", made.panel_id, "a", "one")
        await manager.add_message("alice", made.panel_id, "b", "two")
        log = Path(config.storage.base_path) / "users" / "alice" / "panels" / made.panel_id / "messages.jsonl"
        with log.open("ab") as handle:  # a writer died half-way through a line
            handle.write(b'{"message_id": "msg_torn", "sequence": 3, "cont')
    async with FFPanelSessionManager(config) as manager:
        assert (await manager.get_panel("alice", made.panel_id)).message_count == 2
        third = await manager.add_message("alice", made.panel_id, "a", "three")
        assert third.sequence == 3
        assert [m.content for m in await manager.get_messages("alice", made.panel_id)] == ["one", "two", "three"]


def test_a_taken_id_is_refused_naming_the_panel_and_the_index_entry_is_exact(tmp_path):
    """The conflict names the panel (message, ``kind``, ``key``), for its owner and for anyone else; the
    index entry holds the id, the owner, the creation time and the schema version (issue 20: the
    refusal's wording and the entry's keys were read by no test)."""
    store = FFPanelStore(FFStore(tmp_path))
    store.create(panel())
    for user in ("alice", "bob"):
        with pytest.raises(FFConflictError) as caught:
            store.create(panel(user_id=user))
        assert (caught.value.message, caught.value.context) == ("a panel with id 'p1' already exists", {"kind": "panel", "key": "p1"})
    entry = orjson.loads((tmp_path / "panels_index" / "p1.json").read_bytes())
    assert entry == {"panel_id": "p1", "user_id": "alice", "created_at": "2025-01-01T00:00:00+00:00", "schema_version": 1}
