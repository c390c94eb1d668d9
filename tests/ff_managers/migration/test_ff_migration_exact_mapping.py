"""The panel mapping, exactly: every key of the import items ``panel_to_v2`` and
``panel_message_to_v2`` hand to the panel manager, and the seat rules of ``participant_for``.

Written for the mutation run's survivors in ``legacy_mapping`` (docs/MUTATION.md, ``_migration``):
the round-trip tests (test_ff_migration_mapping.py) see only what the rebuild reads back, so a
wrong seat, a lost timestamp or a misfiled book entry that the rebuild does not read survived.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from ff_class_configs.ff_migration_dtos import FFLegacySessionDTO
from ff_managers._migration.legacy_mapping import (
    ASSISTANT_SEAT,
    IMPORT_KEY,
    USER_SEAT,
    _attachments_to_v2,
    panel_message_from_v2,
    panel_message_to_v2,
    panel_to_v2,
    participant_for,
)
from tests.ff_managers.migration.test_ff_migration_mapping import _rec

CLOCK = datetime(2025, 1, 1, tzinfo=UTC)
NO_PERSONA = {"participant_id": ASSISTANT_SEAT, "kind": "ai", "name": "assistant (no persona recorded)"}


def _stored(item: dict) -> dict:
    """What the panel manager stores of an import item and gives back to the rebuild."""
    return {k: item[k] for k in ("role", "content", "message_id", "metadata")}


def test_a_transcript_message_without_id_keeps_its_seat_time_and_legacy_spelling() -> None:
    record = {"role": " User", "content": "hi", "metadata": {"persona": "x", "k": 1},
              "timestamp": "2025-08-11T21:34:23.187584", "odd": [1]}
    item = panel_message_to_v2(record, USER_SEAT, _rec(record, "legacy-t-1", transcript="bob"))
    assert item == {
        "participant_id": USER_SEAT, "content": "hi", "role": "user", "message_id": "legacy-t-1",
        "metadata": {"persona": "x", "k": 1, IMPORT_KEY: {
            "record": {"timestamp": "2025-08-11T21:34:23.187584", "odd": [1]}, "metadata_present": True,
            "original_role": " User", "generated": ["message_id"], "transcript": "bob"}},
        "timestamp": datetime(2025, 8, 11, 21, 34, 23, 187584, tzinfo=UTC),  # naive legacy time is UTC
    }
    assert panel_message_from_v2(_stored(item)) == record


def test_a_renamed_message_with_null_metadata_and_epoch_time() -> None:
    record = {"role": "assistant", "content": "hi", "message_id": "m", "metadata": None, "timestamp": 1754042400}
    item = panel_message_to_v2(record, "bob", _rec(record, "legacy-2", "m"))
    assert item["participant_id"] == "bob" and item["message_id"] == "legacy-2"
    assert item["metadata"] == {IMPORT_KEY: {"record": {"timestamp": 1754042400}, "metadata_present": True,
                                             "metadata_null": True, "original_message_id": "m"}}
    assert item["timestamp"] == datetime(2025, 8, 1, 10, 0, tzinfo=UTC)
    assert panel_message_from_v2(_stored(item)) == record


def test_an_aware_time_keeps_its_offset_and_an_unreadable_one_is_not_sent() -> None:
    aware = {"role": "assistant", "content": "a", "message_id": "m1", "timestamp": "2025-08-11T23:00:00+02:00"}
    item = panel_message_to_v2(aware, "bob", _rec(aware, "m1"))
    assert item["timestamp"] == datetime(2025, 8, 11, 23, 0, tzinfo=timezone(timedelta(hours=2)))
    assert item["timestamp"].utcoffset() == timedelta(hours=2)
    unreadable = {"role": "assistant", "content": "a", "timestamp": "yesterday"}
    item = panel_message_to_v2(unreadable, "bob", _rec(unreadable, "legacy-3"))
    assert "timestamp" not in item  # the manager stamps it; the legacy text rides in the book
    assert item["metadata"] == {IMPORT_KEY: {"record": {"timestamp": "yesterday"}, "metadata_present": False,
                                             "generated": ["message_id"]}}
    assert panel_message_from_v2(_stored(item)) == unreadable


def test_a_panel_with_a_session_file_every_key() -> None:
    legacy = {"session_id": "panel_session_1", "user_id": "u", "title": "Panel", "message_count": 0, "session_type": "panel",
              "metadata": {"participants": ["dr._sarah_wilson", "bob"]}, "created_at": "2025-08-11T21:34:23.189330",
              "updated_at": "2025-08-11T21:34:24.518920"}
    session = FFLegacySessionDTO(user_id="u", session_id="panel_session_1", relative_dir="users/u/panel_session_1",
                                 kind="panel", session_json=legacy, participants=["dr._sarah_wilson", "bob"],
                                 transcripts={"dr_sarah_wilson": "x"}, assistant_without_persona=True)
    vectors = ["users/u/vectors/panel_session_1/embeddings.npy"]
    panel = panel_to_v2(session, {"dr_sarah_wilson": "dr._sarah_wilson"}, {"dr._sarah_wilson"}, vectors, [], CLOCK)
    assert panel == {
        "panel_id": "panel_session_1",
        "participants": [{"participant_id": USER_SEAT, "kind": "human", "name": "u"},
                         {"participant_id": "dr._sarah_wilson", "kind": "ai", "persona_id": "dr._sarah_wilson"},
                         {"participant_id": "bob", "kind": "ai"},  # not a registered persona: no persona_id
                         NO_PERSONA],  # several personas and a message without one: the extra seat
        "panel_type": "generic", "title": "Panel",
        "created_at": datetime(2025, 8, 11, 21, 34, 23, 189330, tzinfo=UTC),
        "metadata": {"participants": ["dr._sarah_wilson", "bob"], IMPORT_KEY: {
            "source_dir": "users/u/panel_session_1", "session_json": True, "vectors": vectors,
            "transcripts": {"dr_sarah_wilson": "x"}, "absent": [],
            "fields": {"message_count": 0, "session_type": "panel", "updated_at": "2025-08-11T21:34:24.518920"},
            "created_at": "2025-08-11T21:34:23.189330"}},
    }


def test_panels_without_a_session_file_get_the_clock_and_the_seats_their_messages_need() -> None:
    bare = FFLegacySessionDTO(user_id="u", session_id="panel_2", relative_dir="users/u/panel_2", kind="panel")
    assert panel_to_v2(bare, {}, set(), [], [], CLOCK) == {
        "panel_id": "panel_2", "participants": [{"participant_id": USER_SEAT, "kind": "human", "name": "u"}, NO_PERSONA],
        "panel_type": "generic", "title": "", "created_at": CLOCK,
        "metadata": {IMPORT_KEY: {"source_dir": "users/u/panel_2", "session_json": False}},
    }
    # one persona: a message without one belongs to it, so no extra seat
    one = FFLegacySessionDTO(user_id="u", session_id="panel_3", relative_dir="users/u/panel_3", kind="panel",
                             participants=["bob"], assistant_without_persona=True)
    seats = panel_to_v2(one, {}, set(), [], [], CLOCK)["participants"]
    assert seats == [{"participant_id": USER_SEAT, "kind": "human", "name": "u"}, {"participant_id": "bob", "kind": "ai"}]
    assert participant_for({"role": "assistant", "content": "a"}, {}, ["bob"]) == "bob"


def test_participant_for_each_rule() -> None:
    ids = {"dr_sarah_wilson": "dr._sarah_wilson"}
    seats = ["dr._sarah_wilson", "bob"]
    assert participant_for({"role": " USER ", "metadata": {"persona": "bob"}}, ids, seats) == USER_SEAT
    assert participant_for({"role": "assistant", "metadata": {"persona": "dr_sarah_wilson"}}, ids, seats) == "dr._sarah_wilson"
    assert participant_for({"role": "assistant", "metadata": {"persona": "bob"}}, ids, seats) == "bob"
    # a persona named as people wrote it meets its file by the normalised key
    assert participant_for({"role": "assistant", "metadata": {"persona": "Dr. Sarah Wilson"}}, ids, seats) == "dr._sarah_wilson"
    assert participant_for({"role": "assistant", "metadata": {"persona": "carol"}}, ids, seats) == ASSISTANT_SEAT
    assert participant_for({"role": "assistant", "metadata": {"persona": 7}}, ids, seats) == ASSISTANT_SEAT
    assert participant_for({"role": "assistant", "metadata": None}, ids, seats) == ASSISTANT_SEAT
    assert participant_for({"role": "assistant", "metadata": {"persona": "carol"}}, ids, ["bob"]) == "bob"


def test_attachments_keep_their_id_get_a_deterministic_one_or_stay_in_the_book() -> None:
    """``_attachments_to_v2`` (second run's survivors 10-21): an id kept, a missing or empty one made
    from the message id and the position, and an entry v2 cannot describe empties the v2 list."""
    legacy = [{"attachment_id": "att1", "size_bytes": 3}, {"attachment_id": "", "size_bytes": 5}, {"name": "c.png"}]
    book: dict = {}
    converted = _attachments_to_v2(legacy, "m1", book)
    assert [a["attachment_id"] for a in converted] == ["att1", "m1-a1", "m1-a2"]
    assert [a["size_bytes"] for a in converted] == [3, 5, None] and converted[2]["name"] == "c.png"
    assert book == {"original_attachments": legacy}
    odd = [{"attachment_id": "att1"}, {"size_bytes": "big"}]
    book = {}
    assert _attachments_to_v2(odd, "m1", book) == []
    assert book == {"original_attachments": odd, "attachments_not_in_v2": True}
