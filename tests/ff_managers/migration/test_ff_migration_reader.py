"""The legacy reader: layout classification, salvage, irregular items with reasons (pure reading)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ff_managers._migration.legacy_format import parse_npy_header, persona_key
from ff_managers._migration.legacy_reader import FFLegacyReader
from ff_utils.ff_errors import FFValidationError
from ff_utils.ff_hashing import ff_build_manifest


def _write(path: Path, text: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text if isinstance(text, bytes) else text.encode())


def _message(i: int, **extra: object) -> str:
    return json.dumps({"role": "user" if i % 2 == 0 else "assistant", "content": f"m{i}", "message_id": f"msg_{i}",
                       "timestamp": f"2025-08-01T10:00:0{i}", "attachments": [], "metadata": {}, **extra}) + "\n"


def test_rejects_a_directory_that_is_not_a_legacy_root(tmp_path: Path) -> None:
    with pytest.raises(FFValidationError):
        FFLegacyReader(tmp_path)
    with pytest.raises(FFValidationError):
        FFLegacyReader(tmp_path / "missing")


def test_classifies_sessions_panels_and_irregular_items(tmp_path: Path) -> None:
    root = tmp_path
    _write(root / "users/u1/profile.json", json.dumps({"user_id": "u1", "username": "U"}))
    _write(root / "users/u1/s1/messages.jsonl", _message(0) + "\n" + "..  " + _message(1) + _message(2))
    _write(root / "users/u1/s2/session.json", json.dumps({"session_id": "s2", "title": "t", "message_count": 3}))
    (root / "users/u1/s3").mkdir()
    _write(root / "users/u1/panel_session_1/session.json", json.dumps({"session_id": "panel_session_1", "metadata": {"participants": ["a_b"]}}))
    _write(root / "users/u1/panel_session_1/messages.jsonl", _message(0, metadata={"persona": "a_b"}))
    _write(root / "users/u1/panel_session_1/a_b_messages.jsonl", _message(0))
    _write(root / "users/u1/stray.txt", "x")
    _write(root / "junk.bin", b"\x00")
    before = ff_build_manifest(root)
    inventory = FFLegacyReader(root).scan()
    assert ff_build_manifest(root).same_content(before)  # reading writes nothing
    sessions = {s.session_id: s for s in inventory.sessions()}
    assert set(sessions) == {"s1", "s2", "panel_session_1"}
    assert sessions["s1"].kind == "chat" and sessions["s1"].message_count == 3
    assert sessions["s1"].first_timestamp == "2025-08-01T10:00:00" and sessions["s1"].first_user_text == "m0"
    assert sessions["panel_session_1"].kind == "panel"
    assert sessions["panel_session_1"].transcripts == {"a_b": "users/u1/panel_session_1/a_b_messages.jsonl"}
    by_kind = {(i.kind, i.path) for i in inventory.irregular}
    assert ("no_session_json", "users/u1/s1") in by_kind
    assert ("salvaged_line", "users/u1/s1/messages.jsonl") in by_kind
    assert ("no_messages", "users/u1/s2") in by_kind
    assert ("empty_session", "users/u1/s3") in by_kind
    assert ("stray_file", "users/u1/stray.txt") in by_kind and ("stray_file", "junk.bin") in by_kind
    assert ("stale_message_count", "users/u1/s2/session.json") not in by_kind  # no messages file to disagree with


def test_bad_lines_and_bad_records_are_reported_not_imported(tmp_path: Path) -> None:
    lines = (_message(0) + "{not json}\n" + json.dumps({"content": "no role"}) + "\n"
             + json.dumps({"role": "user", "content": "   "}) + "\n" + _message(1) + '{"role": "user", "cont')
    _write(tmp_path / "users/u/s/messages.jsonl", lines)
    reader = FFLegacyReader(tmp_path)
    inventory = reader.scan()
    kinds = sorted((i.kind, i.line_number) for i in inventory.irregular if i.path.endswith("messages.jsonl"))
    assert kinds == [("corrupt_line", 2), ("invalid_record", 3), ("torn_line", 6), ("unimportable_record", 4)]
    assert [line.record["message_id"] for line in reader.iter_messages("users/u/s/messages.jsonl")] == ["msg_0", "msg_1"]


def test_invalid_profile_and_session_json_are_reported(tmp_path: Path) -> None:
    _write(tmp_path / "users/u/profile.json", json.dumps({"user_id": "u", "preferences": ["not", "a", "dict"]}))
    _write(tmp_path / "users/v/profile.json", b"\xff\xfe garbage")
    _write(tmp_path / "users/u/s/session.json", json.dumps({"created_at": "yesterday"}))
    _write(tmp_path / "users/u/s/messages.jsonl", _message(0))
    inventory = FFLegacyReader(tmp_path).scan()
    kinds = {(i.kind, i.path) for i in inventory.irregular}
    assert ("invalid_profile", "users/u/profile.json") in kinds
    assert ("invalid_profile", "users/v/profile.json") in kinds
    assert ("invalid_session_json", "users/u/s/session.json") in kinds
    (session_item,) = [i for i in inventory.irregular if i.kind == "invalid_session_json"]
    assert session_item.reason.endswith(": imported as if it were missing")
    assert inventory.users[0].profile is None


def test_npy_header_is_read_without_numpy_and_checked(tmp_path: Path) -> None:
    header = b"{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }"
    header += b" " * (64 - (10 + len(header) + 1) % 64) + b"\n"
    good = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + bytes(2 * 3 * 8)
    _write(tmp_path / "ok.npy", good)
    assert parse_npy_header(tmp_path / "ok.npy") == ("<f8", [2, 3])
    _write(tmp_path / "short.npy", good[:-8])
    with pytest.raises(FFValidationError):
        parse_npy_header(tmp_path / "short.npy")
    _write(tmp_path / "bad.npy", b"not numpy at all")
    with pytest.raises(FFValidationError):
        parse_npy_header(tmp_path / "bad.npy")


def test_a_version_2_npy_header_has_a_four_byte_length(tmp_path: Path) -> None:
    header = b"{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }"
    header += b" " * (64 - (12 + len(header) + 1) % 64) + b"\n"
    good = b"\x93NUMPY\x02\x00" + len(header).to_bytes(4, "little") + header + bytes(3 * 4)
    _write(tmp_path / "v2.npy", good)
    assert parse_npy_header(tmp_path / "v2.npy") == ("<i4", [3])
    _write(tmp_path / "v2_long.npy", good + b"\x00")  # one byte more than the shape holds
    with pytest.raises(FFValidationError, match="data size does not match"):
        parse_npy_header(tmp_path / "v2_long.npy")


def test_persona_key_joins_ids_and_transcript_names() -> None:
    assert persona_key("dr._sarah_wilson") == persona_key("dr_sarah_wilson") == "dr_sarah_wilson"


def test_a_stale_message_count_is_listed_and_a_true_one_is_not(tmp_path: Path) -> None:
    _write(tmp_path / "users/u/s/session.json", json.dumps({"session_id": "s", "title": "T", "message_count": 5}))
    _write(tmp_path / "users/u/s/messages.jsonl", _message(0) + _message(1))
    _write(tmp_path / "users/u/t/session.json", json.dumps({"session_id": "t", "title": "T", "message_count": 1}))
    _write(tmp_path / "users/u/t/messages.jsonl", _message(0))
    inventory = FFLegacyReader(tmp_path).scan()
    stale = [i for i in inventory.irregular if i.kind == "stale_message_count"]
    assert [(i.path, i.action.value) for i in stale] == [("users/u/s/session.json", "imported")]
    assert stale[0].reason == ("session.json says message_count 5, messages.jsonl holds 2; "
                               "the field is kept as legacy metadata")
