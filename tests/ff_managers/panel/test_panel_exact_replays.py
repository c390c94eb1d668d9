"""Retries, damaged files and floor requests, exactly: which ids a conflict names, the path a
corruption error gives, the warning a skipped record leaves, the policy a refused floor request
names (issue 20: survivors of the ``_panel`` run at 94a6017 -- an operator is sent to the wrong
message or file, or a partial retry is taken for a new request)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from ff_managers import FFPanelSessionManager
from ff_managers._panel.turns import (
    FFFreeTurnPolicy,
    FFRoundRobinTurnPolicy,
    FFTurnState,
)
from ff_utils.ff_errors import FFConflictError, FFCorruptionError, FFValidationError
from tests._fakes import FakeClock
from tests.ff_managers.panel._exact import DUO, T0


def folder(config, user: str, pid: str) -> Path:
    return Path(config.storage.base_path) / "users" / user / "panels" / pid


def msg(participant: str, content: str, message_id: str | None = None) -> dict[str, str]:
    return {"participant_id": participant, "content": content} | ({"message_id": message_id} if message_id else {})


async def test_a_conflict_names_only_the_ids_taken_by_other_messages(panels, config):
    pid = (await panels.create_panel("alice", DUO)).panel_id
    await panels.import_messages("alice", pid, [msg("ann", "one", "m1"), msg("bob", "two", "m2"), msg("ann", "three", "m3")])
    before = (folder(config, "alice", pid) / "messages.jsonl").read_bytes()
    # m1 is a faithful retry, m3 and m2 now carry other content: only those two are named, sorted
    with pytest.raises(FFConflictError) as caught:
        await panels.import_messages("alice", pid, [msg("ann", "one", "m1"), msg("ann", "changed", "m3"), msg("bob", "other", "m2")])
    assert (caught.value.message, caught.value.context) == (
        "message ids already used in this panel by other messages: m2, m3", {"field": "message_id"})
    assert (folder(config, "alice", pid) / "messages.jsonl").read_bytes() == before


async def test_a_partial_retry_names_the_stored_ids_whatever_their_place(panels):
    pid = (await panels.create_panel("alice", DUO)).panel_id
    await panels.import_messages("alice", pid, [msg("ann", "one", "m1"), msg("bob", "two", "m2")])
    for batch in ([msg("ann", "new", "n1"), msg("bob", "two", "m2"), msg("ann", "one", "m1")],
                  [msg("bob", "two", "m2"), msg("ann", "new"), msg("ann", "one", "m1")]):
        with pytest.raises(FFConflictError) as caught:  # new messages first, stored ones after: still not a retry
            await panels.import_messages("alice", pid, batch)
        assert (caught.value.message, caught.value.context) == (
            "message ids already used in this panel by other messages: m1, m2", {"field": "message_id"})
    assert [m.message_id for m in await panels.get_messages("alice", pid)] == ["m1", "m2"]


async def test_a_retry_of_unreadable_messages_names_each_and_the_log(panels, config):
    pid = (await panels.create_panel("alice", DUO)).panel_id
    await panels.import_messages("alice", pid, [msg("ann", "one", "m1"), msg("bob", "two", "m2"), msg("ann", "three", "m3")])
    log = folder(config, "alice", pid) / "messages.jsonl"
    lines = log.read_bytes().splitlines(keepends=True)
    log.write_bytes(b"X" + lines[0][1:] + b"X" + lines[1][1:] + lines[2])  # the index still lists m1 and m2
    with pytest.raises(FFCorruptionError) as caught:
        await panels.import_messages("alice", pid, [msg("ann", "one", "m1"), msg("bob", "two", "m2"), msg("ann", "three", "m3")])
    assert (caught.value.message, caught.value.path) == ("stored messages cannot be read back: m1, m2", log)


async def test_an_invalid_index_entry_is_corruption_naming_the_entry(panels, config):
    pid = (await panels.create_panel("alice", DUO)).panel_id
    entry = Path(config.storage.base_path) / "panels_index" / f"{pid}.json"
    assert orjson.loads(entry.read_bytes())["user_id"] == "alice"
    for damaged in ([1, 2], {"user_id": "../x", "panel_id": pid}, {"user_id": "alice", "panel_id": "other"}):
        entry.write_bytes(orjson.dumps(damaged))
        async with FFPanelSessionManager(config, clock=FakeClock(T0)) as fresh:  # owners are remembered per process
            with pytest.raises(FFCorruptionError) as caught:
                await fresh.get_panel("alice", pid)
        assert (caught.value.message, caught.value.path) == (f"panel index entry for {pid!r} is invalid", entry)


async def test_damaged_stored_analytics_name_their_file(panels, config):
    pid = (await panels.create_panel("alice", DUO)).panel_id
    await panels.add_message("alice", pid, "ann", "hello")
    await panels.close_panel("alice", pid)
    path = folder(config, "alice", pid) / "analytics.json"
    stored = orjson.loads(path.read_bytes())
    path.write_bytes(orjson.dumps({**stored, "message_count": "many"}))
    with pytest.raises(FFCorruptionError) as caught:
        await panels.get_analytics("alice", pid)
    assert caught.value.path == path


async def test_records_skipped_for_their_shape_or_their_panel_are_logged_with_the_file(panels, config, warnings_logged):
    pid = (await panels.create_panel("alice", DUO)).panel_id
    first = await panels.add_message("alice", pid, "ann", "one")
    log = folder(config, "alice", pid) / "messages.jsonl"
    foreign = first.model_dump(mode="json") | {"panel_id": "panel_elsewhere", "message_id": "m_foreign", "sequence": 2}
    with log.open("ab") as out:
        out.write(orjson.dumps({"sequence": "two"}) + b"\n" + orjson.dumps(foreign) + b"\n")
    warnings_logged.clear()
    assert [m.content for m in await panels.get_messages("alice", pid)] == ["one"]
    assert any(w.startswith(f"skipped a panel record in {log}: wrong shape: ") for w in warnings_logged), warnings_logged
    assert f"skipped a panel record in {log}: record of panel 'panel_elsewhere' in the log of {pid!r}" in warnings_logged
    warnings_logged.clear()  # the live analytics read the whole log (another reader): the same two warnings
    assert (await panels.get_analytics("alice", pid)).message_count == 1
    assert any(w.startswith(f"skipped a panel record in {log}: wrong shape: ") for w in warnings_logged), warnings_logged
    assert f"skipped a panel record in {log}: record of panel 'panel_elsewhere' in the log of {pid!r}" in warnings_logged


async def test_a_torn_last_line_is_logged_as_torn(panels, config, warnings_logged):
    pid = (await panels.create_panel("alice", DUO)).panel_id
    await panels.add_message("alice", pid, "ann", "one")
    log = folder(config, "alice", pid) / "messages.jsonl"
    size = log.stat().st_size
    with log.open("ab") as out:
        out.write(b'{"message_id": "half')
    warnings_logged.clear()
    assert [m.content for m in await panels.get_messages("alice", pid)] == ["one"]
    assert any(w.startswith(f"skipped a panel record in {log}: torn line at byte {size}:") for w in warnings_logged), warnings_logged


@pytest.mark.parametrize("policy", [FFFreeTurnPolicy(), FFRoundRobinTurnPolicy(("ann", "bob"))])
def test_a_floor_request_outside_a_moderated_panel_names_the_policy(policy):
    with pytest.raises(FFValidationError) as caught:
        policy.advance(FFTurnState(), "ann", "bob")
    assert (caught.value.message, caught.value.field, caught.value.value) == (
        f"next_speaker only applies to moderated panels (this one is {policy.name})", "next_speaker", "bob")


async def test_a_floor_request_in_a_free_panel_is_refused_through_the_manager(panels):
    pid = (await panels.create_panel("alice", DUO)).panel_id
    with pytest.raises(FFValidationError) as caught:
        await panels.add_message("alice", pid, "ann", "hi", next_speaker="bob")
    assert (caught.value.field, caught.value.value) == ("next_speaker", "bob")
    assert caught.value.message.endswith("(this one is free)")
