"""Census of the surviving mutants of ``legacy_reader`` and ``legacy_import`` (helper mig-a).

Every mutant of the two modules was checked against the package's tests; each test here names
the survivors it kills. Roots are written by hand and scanned (or imported into a recording
sink); no migration is run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ff_class_configs.ff_migration_dtos import FFIrregularAction, FFLegacySessionDTO
from ff_managers._migration.legacy_ids import mapped_id
from ff_managers._migration.legacy_reader import FFLegacyReader
from ff_managers._migration.legacy_records import iter_session_records

from tests.ff_managers.migration.test_migration_sample_kills_legacy import _msg, _root, _vectors, _write

SKIPPED = FFIrregularAction.SKIPPED
IMPORTED = FFIrregularAction.IMPORTED


def _scan(root: Path) -> Any:
    return FFLegacyReader(root).scan()


def _triples(inventory: Any, path: str) -> list[tuple[str, FFIrregularAction, str]]:
    return [(i.kind, i.action, i.reason) for i in inventory.irregular if i.path == path]


# ---------------------------------------------------------------- _scan_personas


def test_a_mapped_persona_id_does_not_land_on_another_persona_files_id(tmp_path: Path) -> None:
    """_scan_personas 10 (the mapper not told the valid persona ids of the folder: ``zoë`` mapped
    onto the id another persona file already has)."""
    root = _root(tmp_path)
    short = mapped_id("zoë")
    _write(root / "personas_global/zoë.json", json.dumps({"name": "Z"}))
    _write(root / f"personas_global/{short}.json", json.dumps({"name": "Other"}))
    inventory = _scan(root)
    ids = {p.relative_path: (p.persona_id, p.legacy_id) for p in inventory.personas}
    assert ids == {
        "personas_global/zoë.json": (mapped_id("zoë", 16), "zoë"),
        f"personas_global/{short}.json": (short, None),
    }
    assert [(m.kind, m.legacy_id, m.v2_id, m.path) for m in inventory.id_map] == [
        ("persona", "zoë", mapped_id("zoë", 16), "personas_global/zoë.json")]


def test_a_persona_file_that_is_not_a_json_object_is_an_invalid_persona(tmp_path: Path) -> None:
    """_scan_personas 38, 39 (the kind of an unreadable persona file renamed: not ``invalid_persona``)."""
    root = _root(tmp_path)
    _write(root / "personas_global/a_bad.json", "{bad")
    _write(root / "personas_global/b_list.json", "[1]")
    _write(root / "personas_global/c_good.json", json.dumps({"name": "C"}))
    inventory = _scan(root)
    assert _triples(inventory, "personas_global/a_bad.json") == [
        ("invalid_persona", SKIPPED, "not valid JSON: unexpected character, expected a string key: line 1 column 2 (char 1)")]
    assert _triples(inventory, "personas_global/b_list.json") == [
        ("invalid_persona", SKIPPED, "expected a JSON object, found list")]
    assert [(p.persona_id, p.legacy_id) for p in inventory.personas] == [("c_good", None)]


def test_an_empty_persona_file_is_skipped_with_its_reason(tmp_path: Path) -> None:
    """_scan_personas 53, 54 (the empty persona file's reason)."""
    root = _root(tmp_path)
    _write(root / "personas_global/a_empty.json", "\ufeff  \n")
    _write(root / "personas_global/b_good.json", json.dumps({"persona_id": "b_good"}))
    inventory = _scan(root)
    assert _triples(inventory, "personas_global/a_empty.json") == [
        ("empty_file", SKIPPED, "empty persona file: nothing to import")]
    assert [p.persona_id for p in inventory.personas] == ["b_good"]


def test_a_persona_id_comes_from_the_record_when_it_is_text_else_from_the_file_name(tmp_path: Path) -> None:
    """_scan_personas 56-61 (which persona id a record gets), 13, 14, 17 (which entries are persona files)."""
    root = _root(tmp_path)
    _write(root / "personas_global/x1.json", json.dumps({"persona_id": "alpha", "name": "A"}))
    _write(root / "personas_global/x2.json", json.dumps({"persona_id": 7, "name": "B"}))
    (root / "personas_global/x3.json").mkdir()
    _write(root / "personas_global/x4.txt", json.dumps({"persona_id": "delta", "name": "D"}))
    inventory = _scan(root)
    assert [(p.persona_id, p.legacy_id, p.relative_path, p.data["name"]) for p in inventory.personas] == [
        ("alpha", None, "personas_global/x1.json", "A"), ("x2", None, "personas_global/x2.json", "B")]
    for stray in ("personas_global/x3.json", "personas_global/x4.txt"):
        assert _triples(inventory, stray) == [("stray_file", SKIPPED, "not a persona .json file")]
    assert inventory.id_map == []


# ---------------------------------------------------------------- _read_json_object


def test_a_directory_where_a_json_document_is_expected_is_unreadable(tmp_path: Path) -> None:
    """_read_json_object 2-16 (a ``profile.json`` or ``session.json`` that is a directory: its note)."""
    root = _root(tmp_path)
    (root / "users/u1/profile.json").unlink()
    (root / "users/u1/profile.json").mkdir()
    (root / "users/u1/s1/session.json").mkdir()
    inventory = _scan(root)
    expected = [("unreadable", SKIPPED, "expected a file, found a directory")]
    assert _triples(inventory, "users/u1/profile.json") == expected
    assert _triples(inventory, "users/u1/s1/session.json")[:1] == expected
    (user,) = inventory.users
    assert user.profile is None and user.sessions[0].session_json is None


def test_a_json_document_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    """_read_json_object 31 (the BOM not stripped: the profile refused as invalid JSON)."""
    root = _root(tmp_path)
    _write(root / "users/u1/profile.json", b"\xef\xbb\xbf" + json.dumps({"user_id": "u1", "username": "B"}).encode())
    inventory = _scan(root)
    assert inventory.users[0].profile == {"user_id": "u1", "username": "B"}
    assert _triples(inventory, "users/u1/profile.json") == []


# ---------------------------------------------------------------- iter_lines


def test_the_newest_timestamp_is_the_latest_message_time_only(tmp_path: Path) -> None:
    """iter_lines 71-80 (which stamps count towards the inventory's ``newest_timestamp``: a message
    without one, the vector index's lines, a later message before an earlier one)."""
    root = _root(tmp_path)
    _write(root / "users/u1/s1/messages.jsonl",
           _msg(0, timestamp=None) + _msg(1) + _msg(9) + _msg(5) + _msg(6, timestamp="not a time"))
    _write(root / "users/u1/s2/messages.jsonl", _msg(3, timestamp=1754042400))
    vectors = _vectors(root, "s1", 1, 1)
    _write(vectors / "vector_index.jsonl", json.dumps({"chunk_id": "c0", "timestamp": "2031-01-01T00:00:00"}) + "\n")
    inventory = _scan(root)
    assert inventory.newest_timestamp == "2025-08-01T10:00:09"
    assert [(s.session_id, s.message_count) for s in inventory.sessions()] == [("s1", 4), ("s2", 1)]
    assert [(i.kind, i.line_number) for i in inventory.irregular if i.path.endswith(".jsonl")] == [("invalid_record", 5)]


def test_without_message_times_the_newest_timestamp_is_empty(tmp_path: Path) -> None:
    """iter_lines 71, 79 (no timestamp at all: nothing is newest)."""
    root = _root(tmp_path)
    _write(root / "users/u1/s1/messages.jsonl", _msg(0, timestamp=None) + _msg(1, timestamp=None))
    inventory = _scan(root)
    assert inventory.newest_timestamp == ""
    assert inventory.sessions()[0].message_count == 2


# ---------------------------------------------------------------- scan


def test_vectors_of_a_mapped_session_go_to_its_owner_and_a_stray_user_file_stops_nothing(tmp_path: Path) -> None:
    """scan 75 (``break``: a file in users/ ended the user walk), 90-94 (the session owner looked up
    by the mapped id, not the legacy folder name: the vectors went to ``default``)."""
    root = _root(tmp_path)
    _write(root / "users/a_note.txt", "x")
    _write(root / "users/u1/my chat/messages.jsonl", _msg(0))
    vectors = root / "users/default/sessions/my chat/vectors"
    _write(vectors / "vector_index.jsonl", json.dumps({"chunk_id": "c0"}) + "\n")
    inventory = _scan(root)
    assert _triples(inventory, "users/a_note.txt") == [
        ("stray_file", SKIPPED, "a file where a user directory is expected")]
    assert [u.user_id for u in inventory.users] == ["u1"]
    chat = mapped_id("my chat")
    assert sorted(s.session_id for s in inventory.sessions()) == sorted([chat, "s1"])
    assert [(v.owner_user_id, v.session_id, v.relative_dir) for v in inventory.vector_sets] == [
        ("u1", chat, "users/default/sessions/my chat/vectors")]
    assert [(m.kind, m.legacy_id, m.v2_id) for m in inventory.id_map] == [("session", "my chat", chat)]


def test_a_root_with_only_global_personas_is_scanned(tmp_path: Path) -> None:
    """scan 37 (``or``: a root without users/ crashed)."""
    root = tmp_path / "legacy"
    _write(root / "personas_global/p1.json", json.dumps({"name": "P"}))
    inventory = _scan(root)
    assert [p.persona_id for p in inventory.personas] == ["p1"]
    assert (inventory.users, inventory.irregular, inventory.files) == ([], [], 1)


# ---------------------------------------------------------------- __init__


def test_a_new_reader_walks_one_session_with_notes_before_any_scan(tmp_path: Path) -> None:
    """__init__ 22-24 (the lists and the newest stamp not ready before the first scan: a record walk
    with notes on a fresh reader crashed); a scan afterwards starts from nothing."""
    root = _root(tmp_path)
    _write(root / "users/u1/s1/messages.jsonl", _msg(0, message_id="my id") + "{broken\n" + _msg(1))
    reader = FFLegacyReader(root)
    lines = list(reader.iter_lines(root / "users/u1/s1/messages.jsonl", note=True))
    assert [line.line_number for line in lines] == [1, 3]
    session = FFLegacySessionDTO(user_id="u1", session_id="s1", relative_dir="users/u1/s1", kind="chat",
                                 messages_file="users/u1/s1/messages.jsonl")
    records = list(iter_session_records(reader, session, note=True))
    assert [(r.status, r.message_id, r.original_id) for r in records] == [
        ("new", "legacy-00000001", "my id"), ("new", "m1", None)]
    inventory = reader.scan()
    assert [(i.kind, i.line_number) for i in inventory.irregular if i.path.endswith(".jsonl")] == [("corrupt_line", 2)]
    assert [(m.kind, m.legacy_id, m.v2_id, m.path) for m in inventory.id_map] == [
        ("message", "my id", "legacy-00000001", "users/u1/s1/messages.jsonl:1")]
    assert inventory.newest_timestamp == "2025-08-01T10:00:01"


# ---------------------------------------------------------------- _scan_user


def test_user_directory_notes_are_exact(tmp_path: Path) -> None:
    """_scan_user: every note of a user directory with its kind, action and reason (empty, invalid
    or missing profile, stray files, a ``sessions`` folder that is not a vector store, a file beside
    ``vectors/``), and which users are kept (21-70, 71-116, 143-182)."""
    root = _root(tmp_path)
    _write(root / "users/u2/profile.json", "")
    _write(root / "users/u3/profile.json", "[]")
    _write(root / "users/u3/s1/messages.jsonl", _msg(0))
    _write(root / "users/u4/s1/messages.jsonl", _msg(0))
    _write(root / "users/u4/notes.txt", "x")
    _write(root / "users/u4/sessions/plain/readme.txt", "x")
    _write(root / "users/u4/sessions/loose.txt", "x")
    _write(root / "users/u4/sessions/s9/vectors/vector_index.jsonl", json.dumps({"chunk_id": "c0"}) + "\n")
    _write(root / "users/u4/sessions/s9/extra.txt", "x")
    inventory = _scan(root)
    users = {u.user_id: u for u in inventory.users}
    assert sorted(users) == ["u1", "u2", "u3", "u4"]
    assert (users["u1"].profile, users["u1"].legacy_id) == ({"user_id": "u1", "username": "U"}, None)
    assert [users[u].profile for u in ("u2", "u3", "u4")] == [None, None, None]
    assert [s.session_id for s in users["u2"].sessions] == []
    by_path = {}
    for item in inventory.irregular:
        if item.path.startswith(("users/u2", "users/u3", "users/u4")) and item.kind != "no_session_json":
            by_path.setdefault(item.path, []).append((item.kind, item.action, item.reason))
    assert by_path == {
        "users/u2/profile.json": [("empty_file", SKIPPED,
                                   "empty profile.json: nothing to import; the user is created from the directory name")],
        "users/u3/profile.json": [("invalid_profile", SKIPPED, "expected a JSON object, found list")],
        "users/u4/notes.txt": [("stray_file", SKIPPED, "a file in a user directory that is not profile.json")],
        "users/u4/sessions/plain": [("stray_file", SKIPPED, "not a vector store session directory")],
        "users/u4/sessions/loose.txt": [("stray_file", SKIPPED, "not a vector store session directory")],
        "users/u4/sessions/s9/extra.txt": [("stray_file", SKIPPED, "unexpected beside vectors/")],
        "users/u4": [("no_profile", IMPORTED, "user has no profile.json: the user is created from the directory name")],
    }
    assert [(v.owner_user_id, v.session_id) for v in inventory.vector_sets] == [("u4", "s9")]


def test_a_session_folder_named_sessions_with_messages_is_a_session(tmp_path: Path) -> None:
    """_scan_user 71-81 (``users/<u>/sessions/`` holding a messages.jsonl is a chat session, not a vector store)."""
    root = _root(tmp_path)
    _write(root / "users/u1/sessions/messages.jsonl", _msg(0))
    inventory = _scan(root)
    assert sorted((s.session_id, s.message_count) for s in inventory.sessions()) == [("s1", 2), ("sessions", 1)]
    assert inventory.vector_sets == []
    assert [i for i in inventory.irregular if i.path.startswith("users/u1/sessions/")] == []


def test_mapped_user_and_session_ids_keep_their_folder_names(tmp_path: Path) -> None:
    """_scan_user 1-9 (the user's ``legacy_id``), 12-23 (the session mapper told the valid folder
    names of the user, not its files: ``my chat`` mapped onto a folder's id)."""
    root = _root(tmp_path)
    chat = mapped_id("my chat")
    _write(root / "users/zoë/my chat/messages.jsonl", _msg(0))
    _write(root / f"users/zoë/{chat}/messages.jsonl", _msg(1))
    _write(root / f"users/u1/{mapped_id('other chat')}", "a file named like a mapped id")
    _write(root / "users/u1/other chat/messages.jsonl", _msg(2))
    inventory = _scan(root)
    users = {u.legacy_id or u.user_id: u for u in inventory.users}
    assert (users["zoë"].user_id, users["zoë"].legacy_id, users["u1"].legacy_id) == (mapped_id("zoë"), "zoë", None)
    assert sorted((s.session_id, s.legacy_id) for s in users["zoë"].sessions) == sorted(
        [(mapped_id("my chat", 16), "my chat"), (chat, None)])
    assert sorted((s.session_id, s.legacy_id) for s in users["u1"].sessions) == sorted(
        [(mapped_id("other chat"), "other chat"), ("s1", None)])


# ---------------------------------------------------------------- _scan_session


def test_session_directory_notes_are_exact(tmp_path: Path) -> None:
    """_scan_session: every note of a session directory with its kind, action, reason and path, and
    the counts and files the session records (1-220)."""
    root = _root(tmp_path)
    u = root / "users/u1"
    (u / "a_empty").mkdir()
    (u / "b_link").mkdir()
    (u / "b_link/ln").symlink_to(root / "users/u1/s1/messages.jsonl")
    _write(u / "c_emptyjson/session.json", "")
    _write(u / "c_emptyjson/messages.jsonl", _msg(0))
    _write(u / "d_badjson/session.json", json.dumps({"title": ["not text"]}))
    _write(u / "d_badjson/messages.jsonl", _msg(0))
    (u / "e_msgdir/messages.jsonl").mkdir(parents=True)
    _write(u / "e_msgdir/session.json", json.dumps({"title": "E"}))
    _write(u / "e_msgdir/documents", "a file, not the documents folder")
    _write(u / "e_msgdir/notes.txt", "x")
    _write(u / "f_nomsgs/messages.jsonl", "\n{broken\n")
    _write(u / "f_nomsgs/session.json", json.dumps({"title": "F", "message_count": 0}))
    _write(u / "g_stale/session.json", json.dumps({"title": "G", "message_count": 5}))
    _write(u / "g_stale/messages.jsonl", _msg(0) + _msg(1))
    _write(u / "g_stale/Dr.X_messages.jsonl", _msg(0) + _msg(7))
    _write(u / "h_counts/session.json", json.dumps({"title": "H", "message_count": "5"}))
    _write(u / "h_counts/messages.jsonl", _msg(0))
    _write(u / "i_same/session.json", json.dumps({"title": "I", "message_count": 1}))
    _write(u / "i_same/messages.jsonl", _msg(0))
    _write(u / "j_nofile/session.json", json.dumps({"title": "J", "message_count": 3}))
    _write(u / "k_nojson/messages.jsonl", _msg(0))
    _write(u / "l_listjson/session.json", "[1]")
    _write(u / "l_listjson/messages.jsonl", _msg(0))
    (u / "l_listjson/subdir").mkdir()
    inventory = _scan(root)
    notes = sorted((i.path, i.kind, i.action, i.reason, i.line_number) for i in inventory.irregular
                   if i.path.startswith("users/u1/") and not i.path.startswith("users/u1/s1"))
    missing = "no session.json: imported with title, created_at and updated_at taken from its messages"
    no_messages = "session.json without messages.jsonl: imported as a session with no messages"
    assert notes == sorted([
        ("users/u1/a_empty", "empty_session", SKIPPED, "empty directory: no session.json and no messages", None),
        ("users/u1/b_link/ln", "symlink", SKIPPED, _link_reason(inventory, "users/u1/b_link/ln"), None),
        ("users/u1/c_emptyjson/session.json", "empty_file", SKIPPED,
         "empty session.json: nothing to import; the session is imported as if it were missing", None),
        ("users/u1/c_emptyjson", "no_session_json", IMPORTED, missing, None),
        ("users/u1/d_badjson/session.json", "invalid_session_json", SKIPPED,
         "title is not text: imported as if it were missing", None),
        ("users/u1/e_msgdir/messages.jsonl", "unreadable", SKIPPED, "messages.jsonl is not a regular file", None),
        ("users/u1/e_msgdir/documents", "stray_file", SKIPPED, "not part of a legacy session directory", None),
        ("users/u1/e_msgdir/notes.txt", "stray_file", SKIPPED, "not part of a legacy session directory", None),
        ("users/u1/e_msgdir", "no_messages", IMPORTED, no_messages, None),
        ("users/u1/f_nomsgs/messages.jsonl", "corrupt_line", SKIPPED, _corrupt_reason(inventory), 2),
        ("users/u1/f_nomsgs/messages.jsonl", "empty_messages", IMPORTED,
         "messages.jsonl holds no records: imported as a session with no messages", None),
        ("users/u1/g_stale/session.json", "stale_message_count", IMPORTED,
         "session.json says message_count 5, messages.jsonl holds 2; the field is kept as legacy metadata", None),
        ("users/u1/j_nofile", "no_messages", IMPORTED, no_messages, None),
        ("users/u1/k_nojson", "no_session_json", IMPORTED, missing, None),
        ("users/u1/l_listjson/session.json", "invalid_session_json", SKIPPED, "expected a JSON object, found list", None),
        ("users/u1/l_listjson/subdir", "stray_file", SKIPPED, "not part of a legacy session directory", None),
    ])
    sessions = {s.session_id: s for s in inventory.sessions()}
    assert [(k, sessions[k].message_count) for k in sorted(sessions)] == [
        ("c_emptyjson", 1), ("d_badjson", 1), ("e_msgdir", 0), ("f_nomsgs", 0), ("g_stale", 2), ("h_counts", 1),
        ("i_same", 1), ("j_nofile", 0), ("k_nojson", 1), ("l_listjson", 1), ("s1", 2)]
    g = sessions["g_stale"]
    assert (g.messages_file, g.messages_bytes, g.transcripts, g.kind) == (
        "users/u1/g_stale/messages.jsonl", len(_msg(0) + _msg(1)), {"Dr.X": "users/u1/g_stale/Dr.X_messages.jsonl"}, "panel")
    assert (sessions["e_msgdir"].messages_file, sessions["e_msgdir"].session_json) == (None, {"title": "E"})
    assert [sessions[k].session_json for k in ("c_emptyjson", "d_badjson")] == [None, None]
    assert all(s.legacy_id is None and s.user_id == "u1" and s.relative_dir == f"users/u1/{k}" for k, s in sessions.items())


def _link_reason(inventory: Any, path: str) -> str:
    (item,) = [i for i in inventory.irregular if i.path == path]
    assert item.reason  # describe_link's text (where the link points): pinned in the link tests
    return item.reason


def _corrupt_reason(inventory: Any) -> str:
    (item,) = [i for i in inventory.irregular if i.kind == "corrupt_line"]
    assert item.reason.startswith("invalid JSON: ")
    return item.reason

