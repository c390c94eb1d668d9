"""What the panel logs hold, exactly, and the survivors of the ``_panel`` run of issue 20's session 7
(every test here kills a mutant that passed every other test; docs/MUTATION.md names them)."""

from __future__ import annotations

import orjson
import pytest

from ff_utils.ff_errors import FFCorruptionError, FFValidationError
from tests.ff_managers.panel._exact import DUO, T0


async def test_messages_are_stored_as_their_json_form(panels, config):
    """messages.jsonl holds each message's JSON form (``model_dump(mode="json")``), like the other logs:
    a Python-mode dump still encodes, but with the encoder's own datetime text (``+00:00``, not ``Z``)."""
    panel = await panels.create_panel("alice", DUO)
    first = await panels.add_message("alice", panel.panel_id, "ann", "hello", metadata={"n": [1, 2]})
    batch = await panels.import_messages("alice", panel.panel_id, [
        {"participant_id": "bob", "content": "hi", "timestamp": "2024-01-02T03:04:05.000006Z", "reply_to": first.message_id},
    ])
    [log] = config.storage.base_path.rglob("messages.jsonl")
    lines = [orjson.loads(line) for line in log.read_bytes().splitlines()]
    assert lines == [m.model_dump(mode="json") for m in [first, *batch]]
    assert [line["timestamp"] for line in lines] == [T0.isoformat().replace("+00:00", "Z"), "2024-01-02T03:04:05.000006Z"]
    assert await panels.get_messages("alice", panel.panel_id) == [first, *batch]


async def test_a_bad_decision_id_is_refused_as_an_id_before_the_panel_is_read(panels):
    """``cast_vote`` checks the decision id like every id argument (``invalid decision_id ...``), first:
    even for a panel that does not exist (``cast_vote`` 3: the literal ``"decision_id"`` validated instead
    left the DTO's wording, after the panel lookup)."""
    panel = await panels.create_panel("alice", DUO)
    for panel_id in (panel.panel_id, "panel_none"):
        with pytest.raises(FFValidationError) as bad:
            await panels.cast_vote("alice", panel_id, "../d", "ann", "yes")
        assert (bad.value.field, bad.value.value) == ("decision_id", "../d")
        assert bad.value.message.startswith("invalid decision_id '../d': ")


async def test_a_line_that_is_not_json_in_a_whole_log_read_is_counted_and_logged(panels, config, warnings_logged):
    """README: a bad line is "skipped, logged and counted (``health().details["skipped_records"]``)" --
    also in the logs read whole (insights, decisions, votes, the full message scan), not only the tail
    (``records`` 2, 4: without the panel reader's own handler, the line was skipped uncounted)."""
    pid = (await panels.create_panel("alice", DUO)).panel_id
    await panels.record_insight("alice", pid, "first")
    [log] = config.storage.base_path.rglob("insights.jsonl")
    offset = log.stat().st_size
    with log.open("ab") as out:
        out.write(b"not json\n")
    await panels.record_insight("alice", pid, "second")
    before = panels.health().details["skipped_records"]
    assert [i.content for i in await panels.get_insights("alice", pid)] == ["first", "second"]
    assert panels.health().details["skipped_records"] == before + 1
    assert [w for w in warnings_logged if w.startswith(f"skipped a panel record in {log}: corrupt line at byte {offset}: ")], warnings_logged


async def test_a_bad_panel_id_is_refused_naming_the_panel_id(panels):
    """``FFPanelOwners.resolve`` names the bad argument (``resolve`` 8-12: the panel id's field lost
    or misspelt; only the user id's was read by a test)."""
    for bad in ("../p", "", "p" * 129):
        with pytest.raises(FFValidationError) as caught:
            await panels.get_panel("alice", bad)
        assert (caught.value.field, caught.value.value) == ("panel_id", bad)
        assert caught.value.message.startswith("invalid panel_id ")


async def test_a_panel_json_that_does_not_fit_names_its_file(panels, config):
    """README: a document that does not fit is FFCorruptionError naming the file -- panel.json of the
    wrong shape, or naming another panel or owner (``_read_panel_at`` 10, 13, 17-20)."""
    pid = (await panels.create_panel("alice", DUO)).panel_id
    [document] = config.storage.base_path.rglob("panel.json")
    good = orjson.loads(document.read_bytes())
    for damaged, says in (({**good, "user_id": "mallory"}, f"panel.json names panel {pid!r} of 'mallory'"),
                          ({**good, "panel_id": "panel_other"}, "panel.json names panel 'panel_other' of 'alice'"),
                          ({**good, "turn_policy": "anarchy"}, None)):
        document.write_bytes(orjson.dumps(damaged))
        with pytest.raises(FFCorruptionError) as caught:
            await panels.get_panel("alice", pid)
        assert caught.value.path == document
        if says is not None:
            assert caught.value.message == says
        else:
            assert str(document) in str(caught.value)


async def test_the_same_message_id_in_two_panels_stays_each_panels_own(panels):
    """Message ids are unique per panel: two panels may both hold ``m1``; a retry in either one is
    answered from its own log (``FFLockedPanel._index`` 1: one id index shared by every panel took the
    other panel's ``m1`` for this one's and refused the retry as a conflict)."""
    first = (await panels.create_panel("alice", DUO)).panel_id
    second = (await panels.create_panel("alice", DUO)).panel_id
    [a] = await panels.import_messages("alice", first, [{"participant_id": "ann", "content": "from A", "message_id": "m1"}])
    [b] = await panels.import_messages("alice", second, [{"participant_id": "bob", "content": "from B", "message_id": "m1"}])
    assert await panels.import_messages("alice", first, [{"participant_id": "ann", "content": "from A", "message_id": "m1"}]) == [a]
    assert await panels.import_messages("alice", second, [{"participant_id": "bob", "content": "from B", "message_id": "m1"}]) == [b]
    assert [m.content for m in await panels.get_messages("alice", first)] == ["from A"]
    assert [m.content for m in await panels.get_messages("alice", second)] == ["from B"]


async def test_create_panel_refusals_exactly(panels):
    """Each argument of ``create_panel`` refused with its own message, field and value (issue 20:
    ``panels.create`` mutants reviewed ahead of a run); the title at its limit is kept whole."""
    cases = {
        "turn_policy": ({"turn_policy": "anarchy"}, "unknown turn policy 'anarchy'; use one of free, round_robin, moderated", "anarchy"),
        "title": ({"title": "t" * 301}, "title has 301 characters; the limit is 300", None),
        "panel_id": ({"panel_id": "../p"}, None, "../p"),
        "created_at": ({"created_at": "2025"}, "created_at must be a datetime, not '2025'", "2025"),
        "metadata": ({"metadata": ["x"]}, "metadata must be a mapping, not list", None),
    }
    for field, (arguments, message, value) in cases.items():
        with pytest.raises(FFValidationError) as caught:
            await panels.create_panel("alice", DUO, **arguments)
        assert (caught.value.field, caught.value.value) == (field, value), field
        assert caught.value.message == message if message else caught.value.message.startswith("invalid panel_id '../p': ")
    with pytest.raises(FFValidationError) as bad_user:
        await panels.create_panel("../u", DUO)
    assert (bad_user.value.field, bad_user.value.value) == ("user_id", "../u")
    with pytest.raises(FFValidationError) as bad_seat_kind:
        await panels.create_panel("alice", DUO, turn_order=None, title=7)  # type: ignore[arg-type]
    assert bad_seat_kind.value.field == "title"
    assert await panels.list_panels("alice") == []  # nothing refused was written
    made = await panels.create_panel("alice", DUO, title="t" * 300, panel_id="panel_mine", created_at=T0.replace(year=2020),
                                     metadata={"k": 1})
    assert (made.title, made.panel_id, made.created_at, made.metadata) == ("t" * 300, "panel_mine", T0.replace(year=2020), {"k": 1})
    assert await panels.get_panel("alice", "panel_mine") == made


def _log_of(config, pid: str):
    return config.storage.base_path / "users" / "alice" / "panels" / pid / "messages.jsonl"


async def test_reads_leave_a_torn_tail_alone_and_the_next_write_repairs_it_saying_so(panels, config, warnings_logged):
    """README: a torn last line is cut off *before the next write* (under the lock every append takes);
    a read, which holds no lock, must not touch the file (``last_message`` 1: ``repair=True`` by default
    made every unlocked read truncate the log). The repair is logged with the file, the byte and the
    size cut (``last_messages`` 17, 18)."""
    pid = (await panels.create_panel("alice", DUO)).panel_id
    await panels.add_message("alice", pid, "ann", "one")
    log = _log_of(config, pid)
    size = log.stat().st_size
    with log.open("ab") as out:
        out.write(b'{"message_id": "half')
    torn = log.read_bytes()
    assert (await panels.get_panel("alice", pid)).message_count == 1
    assert [m.content for m in await panels.get_messages("alice", pid)] == ["one"]
    assert (await panels.get_turn_status("alice", pid)).last_sequence == 1
    assert log.read_bytes() == torn
    warnings_logged.clear()
    assert (await panels.add_message("alice", pid, "bob", "two")).sequence == 2
    assert f"skipped a panel record in {log}: torn last line at byte {size} repaired (20 bytes removed)" in warnings_logged, warnings_logged


async def test_a_retry_after_a_restart_finds_the_only_message(config):
    """A new process's first write to a panel with one message: the id index starts from that message
    and is not complete until the log was read (``_index`` 40: ``complete=sequence == 1`` took the empty
    index for complete, and the retry wrote ``m1`` a second time)."""
    from ff_managers import FFPanelSessionManager
    from tests._fakes import FakeClock

    async with FFPanelSessionManager(config, clock=FakeClock(T0)) as first:
        pid = (await first.create_panel("alice", DUO)).panel_id
        [stored] = await first.import_messages("alice", pid, [{"participant_id": "ann", "content": "hi", "message_id": "m1"}])
    async with FFPanelSessionManager(config, clock=FakeClock(T0)) as second:
        assert await second.import_messages("alice", pid, [{"participant_id": "ann", "content": "hi", "message_id": "m1"}]) == [stored]
        assert [m.message_id for m in await second.get_messages("alice", pid)] == ["m1"]


async def test_a_log_replaced_by_one_of_the_same_length_is_not_trusted_from_memory(panels, config):
    """A restored log with as many messages but others (``_index`` 30): the index of what this process
    wrote is dropped, so an id of the old log is new again and an id of the restored one is a retry."""
    pid = (await panels.create_panel("alice", DUO)).panel_id
    await panels.import_messages("alice", pid, [{"participant_id": "ann", "content": "old", "message_id": "m_old"}])
    log = _log_of(config, pid)
    record = orjson.loads(log.read_bytes())
    log.write_bytes(orjson.dumps({**record, "message_id": "m_restored", "content": "restored"}) + b"\n")
    [again] = await panels.import_messages("alice", pid, [{"participant_id": "ann", "content": "old", "message_id": "m_old"}])
    assert again.sequence == 2
    [retry] = await panels.import_messages("alice", pid, [{"participant_id": "ann", "content": "restored", "message_id": "m_restored"}])
    assert retry.sequence == 1
    assert [m.message_id for m in await panels.get_messages("alice", pid)] == ["m_restored", "m_old"]
