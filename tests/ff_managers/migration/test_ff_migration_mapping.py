"""The legacy -> v2 mapping loses nothing: every *_from_v2 rebuilds exactly what *_to_v2 was given.

The comparison of a real migration relies on these inverses, so they are checked on records with
unknown keys, missing ids and odd values, without disk or managers.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ff_class_configs.ff_migration_dtos import FFLegacySessionDTO, FFLegacyUserDTO
from ff_managers._migration.equivalence import FFFieldComparer
from ff_managers._migration.legacy_format import FFLegacyLine
from ff_managers._migration.legacy_records import FFSessionRecord
from ff_managers._migration.legacy_mapping import (
    ASSISTANT_SEAT,
    USER_SEAT,
    message_from_v2,
    message_to_v2,
    panel_message_from_v2,
    panel_message_to_v2,
    panel_to_v2,
    participant_for,
    profile_from_v2,
    profile_to_v2,
    session_from_v2,
    session_to_v2,
)

json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
                           max_leaves=6)


def _rec(record: dict[str, Any], message_id: str, original: Any = None, *, transcript: str | None = None) -> FFSessionRecord:
    """The record walk's decision for one record (see legacy_records)."""
    status = "renamed" if original is not None and original == record.get("message_id") and message_id != original else "new"
    return FFSessionRecord("users/u/s/messages.jsonl", transcript, FFLegacyLine(1, record), status, message_id,
                           original_id=original, generated=record.get("message_id") is None)


def _as_stored_message(item: dict[str, Any]) -> dict[str, Any]:
    """What the memory manager stores for an import item: unknown top-level keys in ``extra``."""
    known = ("role", "content", "message_id", "timestamp", "attachments", "metadata")
    return {**{k: item.get(k) for k in known}, "extra": {k: v for k, v in item.items() if k not in known}}


@given(extra=st.dictionaries(st.text(min_size=1, max_size=6).filter(lambda k: k not in
       ("role", "content", "message_id", "timestamp", "attachments", "metadata")), json_values, max_size=3))
def test_chat_message_round_trip_keeps_unknown_keys(extra: dict[str, Any]) -> None:
    record = {"role": "user", "content": "hi", "message_id": "msg_1", "timestamp": "2025-08-01T10:00:00",
              "attachments": [], "metadata": {"persona": None}, **extra}
    assert message_from_v2(_as_stored_message(message_to_v2(record, _rec(record, "msg_1")))) == record


def test_chat_message_without_id_or_with_a_repeated_id() -> None:
    record = {"role": "assistant", "content": "x", "timestamp": "2025-08-01T10:00:00", "attachments": [], "metadata": {}}
    item = message_to_v2(record, _rec(record, "legacy-00000007"))
    assert item["message_id"] == "legacy-00000007"
    assert message_from_v2(_as_stored_message(item)) == record
    repeated = {**record, "message_id": "msg_1"}
    item = message_to_v2(repeated, _rec(repeated, "legacy-00000008", "msg_1"))
    assert item["message_id"] == "legacy-00000008"
    assert message_from_v2(_as_stored_message(item)) == repeated


def test_profile_round_trip_including_absent_fields() -> None:
    profile = {"user_id": "alice", "username": "Alice", "preferences": {"theme": "dark"}, "team": "ml",
               "created_at": "2025-08-05T21:57:18.829637"}
    kwargs = profile_to_v2(FFLegacyUserDTO(user_id="alice", profile=profile))
    stored = {"user_id": "alice", "username": kwargs["username"], "preferences": kwargs["preferences"],
              "metadata": {}, "created_at": kwargs["created_at"], "updated_at": kwargs["created_at"], "extra": kwargs["extra"]}
    assert profile_from_v2(stored) == profile
    missing = profile_to_v2(FFLegacyUserDTO(user_id="bob"))
    assert profile_from_v2({"user_id": "bob", "extra": missing["extra"]}) is None


def test_session_round_trip_and_synthesised_session() -> None:
    legacy = {"session_id": "s1", "user_id": "u", "title": "T", "message_count": 3, "metadata": {"k": 1},
              "created_at": "2025-08-05T21:57:18.834713", "session_type": "chat"}
    session = FFLegacySessionDTO(user_id="u", session_id="s1", relative_dir="users/u/s1", kind="chat", session_json=legacy)
    kwargs = session_to_v2(session, ["users/u/vectors/s1/embeddings.npy"], [])
    stored = {"session_id": "s1", "user_id": "u", "title": kwargs["title"], "created_at": kwargs["created_at"],
              "updated_at": kwargs["created_at"], "metadata": kwargs["metadata"], "extra": kwargs["extra"]}
    assert session_from_v2(stored) == legacy
    bare = FFLegacySessionDTO(user_id="u", session_id="s2", relative_dir="users/u/s2", kind="chat",
                              first_timestamp="2025-08-01T10:00:00", last_timestamp="2025-08-01T11:00:00", first_user_text="hello")
    kwargs = session_to_v2(bare, [], [])
    assert (kwargs["title"], kwargs["created_at"], kwargs["updated_at"]) == ("hello", "2025-08-01T10:00:00", "2025-08-01T11:00:00")
    assert session_from_v2({**kwargs, "user_id": "u"}) is None


def test_panel_round_trip_and_seats() -> None:
    legacy = {"session_id": "panel_session_1", "user_id": "u", "title": "Panel", "message_count": 0, "session_type": "panel",
              "metadata": {"participants": ["dr._sarah_wilson", "bob"]}, "created_at": "2025-08-11T21:34:23.189330",
              "updated_at": "2025-08-11T21:34:24.518920"}
    session = FFLegacySessionDTO(user_id="u", session_id="panel_session_1", relative_dir="users/u/panel_session_1",
                                 kind="panel", session_json=legacy, participants=["dr._sarah_wilson", "bob"],
                                 transcripts={"dr_sarah_wilson": "x"}, assistant_without_persona=True)
    ids = {"dr_sarah_wilson": "dr._sarah_wilson"}
    panel = panel_to_v2(session, ids, {"dr._sarah_wilson"}, [], [], datetime(2025, 1, 1, tzinfo=UTC))
    seats = [p["participant_id"] for p in panel["participants"]]
    assert seats == [USER_SEAT, "dr._sarah_wilson", "bob", ASSISTANT_SEAT]
    assert panel["participants"][1]["persona_id"] == "dr._sarah_wilson" and "persona_id" not in panel["participants"][2]
    stored = {"panel_id": panel["panel_id"], "user_id": "u", "title": panel["title"],
              "created_at": panel["created_at"].isoformat(), "metadata": panel["metadata"]}
    differences: list[str] = []
    FFFieldComparer(differences).diff("panel", "session", legacy, session_from_v2(stored) or {})
    assert differences == []
    record = {"role": "assistant", "content": "hi", "message_id": "m1", "timestamp": "2025-08-11T21:34:23.187584",
              "attachments": [], "metadata": {"persona": "dr_sarah_wilson"}, "odd": [1]}
    seat = participant_for(record, ids, seats[1:])
    assert seat == "dr._sarah_wilson"
    item = panel_message_to_v2(record, seat, _rec(record, "m1"))
    stored_message = {"role": item["role"], "content": item["content"], "message_id": item["message_id"], "metadata": item["metadata"]}
    assert panel_message_from_v2(stored_message) == record
    assert participant_for({"role": "user", "content": "q"}, ids, seats[1:]) == USER_SEAT
    assert participant_for({"role": "assistant", "content": "a", "metadata": {}}, ids, seats[1:]) == ASSISTANT_SEAT


def test_variations_are_stored_normalised_and_rebuilt_exactly() -> None:
    """Role case, list content, an invalid id and null optional fields: v2 gets valid values, the rebuild the legacy ones."""
    record = {"role": "Assistant", "content": [{"type": "text", "text": "a"}, "b", {"type": "image"}],
              "message_id": "zoë's msg", "timestamp": 1754042400, "attachments": None, "metadata": None, "x": 1}
    item = message_to_v2(record, _rec(record, "legacy-00000003", "zoë's msg"))
    assert (item["role"], item["content"], item["message_id"]) == ("assistant", "a\nb", "legacy-00000003")
    rebuilt = message_from_v2({**_as_stored_message(item), "attachments": [], "metadata": {},
                               "timestamp": "2025-08-01T10:00:00Z"})
    differences: list[str] = []
    comparer = FFFieldComparer(differences)
    comparer.diff("m", "message", record, rebuilt)
    assert differences == []
    assert comparer.forgiven == {"absent-is-default": 0, "null-is-absent": 2, "same-instant": 1}
    panel_item = panel_message_to_v2(record, "bob", _rec(record, "legacy-t-00000003", "zoë's msg"))
    assert panel_item["role"] == "assistant" and panel_item["content"] == "a\nb"
    stored = {k: panel_item[k] for k in ("role", "content", "message_id", "metadata")}
    assert panel_message_from_v2(stored) == record
