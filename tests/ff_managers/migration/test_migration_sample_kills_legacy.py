"""Sampled survivors of the legacy reader (2026-12-06 sample, seed 20261206): reader, stores,
format checks, record walk and id mapping.

Each test names the mutants it kills; the import/mapping survivors are in
``test_migration_sample_kills_legacy_import.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ff_class_configs.ff_migration_dtos import FFIdMappingDTO, FFIrregularAction, FFLegacySessionDTO
from ff_managers._migration import legacy_reader
from ff_managers._migration.legacy_format import parse_npy_header, profile_problem, session_problem
from ff_managers._migration.legacy_ids import FFIdMapper, mapped_id
from ff_managers._migration.legacy_reader import FFLegacyReader
from ff_managers._migration.legacy_records import iter_session_records
from ff_utils.ff_errors import FFValidationError

SKIPPED = FFIrregularAction.SKIPPED


def _write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def _msg(i: int, **fields: Any) -> str:
    record: dict[str, Any] = {"role": "user", "content": f"text {i}", "message_id": f"m{i}",
                              "timestamp": f"2025-08-01T10:00:0{i}"}
    record.update(fields)
    return json.dumps({k: v for k, v in record.items() if v is not None}) + "\n"


def npy_bytes(rows: int, cols: int = 3, *, header: str | None = None, extra: int = 0) -> bytes:
    """A version 1.0 ``.npy`` of float32 zeros, built by hand (no numpy needed)."""
    text = header if header is not None else f"{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {cols}), }}"
    pad = 64 - (10 + len(text) + 1) % 64
    body = (text + " " * pad + "\n").encode("latin-1")
    return b"\x93NUMPY\x01\x00" + len(body).to_bytes(2, "little") + body + b"\x00" * (rows * cols * 4 + extra)


def _scan(root: Path) -> Any:
    return FFLegacyReader(root).scan()


def _items(inventory: Any, path: str) -> list[Any]:
    return [i for i in inventory.irregular if i.path == path]


def _one(inventory: Any, path: str) -> Any:
    found = _items(inventory, path)
    assert len(found) == 1, (path, inventory.irregular)
    return found[0]


def _root(tmp_path: Path) -> Path:
    root = tmp_path / "legacy"
    _write(root / "users/u1/profile.json", json.dumps({"user_id": "u1", "username": "U"}))
    _write(root / "users/u1/s1/messages.jsonl", _msg(0) + _msg(1))
    return root


# ---------------------------------------------------------------- legacy_format


def test_npy_header_errors_name_the_file(tmp_path: Path) -> None:
    """parse_npy_header 62 (unreadable header) and 85 (size mismatch): the error keeps ``path``."""
    bad = _write(tmp_path / "bad.npy", npy_bytes(2, header="{'descr': '<f4', 'shape': (2, 3)"))
    with pytest.raises(FFValidationError, match="unreadable .npy header") as caught:
        parse_npy_header(bad)
    assert caught.value.path == bad
    short = _write(tmp_path / "short.npy", npy_bytes(2, extra=4))
    with pytest.raises(FFValidationError, match=r"does not match shape \[2, 3\] of <f4") as caught:
        parse_npy_header(short)
    assert caught.value.path == short
    assert parse_npy_header(_write(tmp_path / "ok.npy", npy_bytes(2))) == ("<f4", [2, 3])


def test_profile_whose_username_is_not_text_is_refused(tmp_path: Path) -> None:
    """profile_problem 9 (the check reads no key: a numeric username passes) and 14 (message)."""
    assert profile_problem({"username": 7}, "u1") == "username is not text"
    assert profile_problem({"username": "U"}, "u1") == ""
    root = _root(tmp_path)
    _write(root / "users/u1/profile.json", json.dumps({"user_id": "u1", "username": 7}))
    inventory = _scan(root)
    item = _one(inventory, "users/u1/profile.json")
    assert (item.kind, item.action, item.reason) == ("invalid_profile", SKIPPED, "username is not text")
    assert inventory.users[0].profile is None


def test_session_json_whose_title_or_metadata_has_the_wrong_type_is_refused(tmp_path: Path) -> None:
    """session_problem 2 (title check reads no key), 8 (message), 10 (metadata check reads no key)."""
    assert session_problem({"title": 3}) == "title is not text"
    assert session_problem({"metadata": [1]}) == "metadata is not an object"
    assert session_problem({"title": "t", "metadata": {}}) == ""
    root = _root(tmp_path)
    _write(root / "users/u1/s1/session.json", json.dumps({"title": ["x"]}))
    _write(root / "users/u1/s2/session.json", json.dumps({"title": "fine", "metadata": "oops"}))
    _write(root / "users/u1/s2/messages.jsonl", _msg(0))
    inventory = _scan(root)
    first, second = _one(inventory, "users/u1/s1/session.json"), _one(inventory, "users/u1/s2/session.json")
    assert (first.kind, first.reason) == ("invalid_session_json", "title is not text: imported as if it were missing")
    assert (second.kind, second.reason) == ("invalid_session_json", "metadata is not an object: imported as if it were missing")
    assert all(s.session_json is None for s in inventory.sessions())


# ---------------------------------------------------------------- legacy_ids


def test_a_mapped_id_that_meets_a_taken_id_takes_a_longer_hash() -> None:
    """FFIdMapper.map 16 (the longer candidate becomes None) and 20 (the retry keeps 10 digits)."""
    mappings: list[FFIdMappingDTO] = []
    short = mapped_id("zoë")
    mapper = FFIdMapper(mappings, "user", [short])
    got = mapper.map("zoë", "users/zoë")
    assert got == mapped_id("zoë", 16) and got != short
    assert [(m.legacy_id, m.v2_id) for m in mappings] == [("zoë", mapped_id("zoë", 16))]


# ---------------------------------------------------------------- legacy_reader


def test_a_directory_that_cannot_be_listed_is_noted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """_entries 9 (the note loses its action: the scan crashes instead of listing the folder)."""
    root = _root(tmp_path)
    blocked = root / "users" / "u1" / "s1"
    real = legacy_reader.list_entries

    def listing(directory: Path) -> Any:
        if Path(directory) == blocked:
            raise PermissionError(13, "Permission denied")
        return real(directory)

    monkeypatch.setattr(legacy_reader, "list_entries", listing)
    item = _items(_scan(root), "users/u1/s1")[0]
    assert (item.kind, item.action, item.reason) == ("unreadable", SKIPPED, "cannot list: Permission denied")


def test_stray_persona_files_and_empty_personas_do_not_stop_the_persona_scan(tmp_path: Path) -> None:
    """_scan_personas 22 (action None), 31 (message), 55 (an empty persona file ends the scan)."""
    root = _root(tmp_path)
    _write(root / "personas_global/a_empty.json", "")
    _write(root / "personas_global/b_notes.txt", "x")
    _write(root / "personas_global/c_good.json", json.dumps({"persona_id": "c_good", "name": "C"}))
    inventory = _scan(root)
    assert [p.persona_id for p in inventory.personas] == ["c_good"]
    stray = _one(inventory, "personas_global/b_notes.txt")
    assert (stray.kind, stray.action, stray.reason) == ("stray_file", SKIPPED, "not a persona .json file")
    assert _one(inventory, "personas_global/a_empty.json").kind == "empty_file"


def test_user_level_irregular_items(tmp_path: Path) -> None:
    """scan 64 (a file under users/ noted without a kind), _scan_user 103 (a file beside a vector
    store's vectors/: the note loses an argument), 113 (reason None), 181 (no_profile message)."""
    root = _root(tmp_path)
    _write(root / "users/loose.txt", "x")
    _write(root / "users/u2/s9/messages.jsonl", _msg(0))
    _write(root / "users/u1/sessions/s1/vectors/vector_index.jsonl", '{"chunk_id": "c0"}\n')
    _write(root / "users/u1/sessions/s1/readme.txt", "x")
    (root / "users/u1/sessions/odd").mkdir(parents=True)
    inventory = _scan(root)
    loose = _one(inventory, "users/loose.txt")
    assert (loose.kind, loose.action, loose.reason) == ("stray_file", SKIPPED, "a file where a user directory is expected")
    beside = _one(inventory, "users/u1/sessions/s1/readme.txt")
    assert (beside.kind, beside.action, beside.reason) == ("stray_file", SKIPPED, "unexpected beside vectors/")
    odd = _one(inventory, "users/u1/sessions/odd")
    assert (odd.kind, odd.action, odd.reason) == ("stray_file", SKIPPED, "not a vector store session directory")
    no_profile = _one(inventory, "users/u2")
    assert (no_profile.kind, no_profile.action, no_profile.reason) == (
        "no_profile", FFIrregularAction.IMPORTED, "user has no profile.json: the user is created from the directory name")
    assert [v.relative_dir for v in inventory.vector_sets] == ["users/u1/sessions/s1/vectors"]


def test_a_torn_last_line_is_listed_with_its_reason(tmp_path: Path) -> None:
    """iter_lines 40 (the torn-write reason)."""
    root = _root(tmp_path)
    _write(root / "users/u1/s1/messages.jsonl", _msg(0) + '{"role": "user", "cont')
    item = _one(_scan(root), "users/u1/s1/messages.jsonl")
    assert (item.kind, item.line_number, item.reason) == (
        "torn_line", 2, "last line has no newline and is not complete JSON (torn write)")


# ---------------------------------------------------------------- legacy_records


def test_the_same_record_with_its_keys_in_another_order_is_kept_once(tmp_path: Path) -> None:
    """_canonical 8 (keys not sorted: the repeat counts as a different record and is imported twice)."""
    root = _root(tmp_path)
    first = {"role": "user", "content": "hello", "message_id": "m1", "timestamp": "2025-08-01T10:00:00"}
    again = dict(reversed(list(first.items())))
    _write(root / "users/u1/s1/messages.jsonl", json.dumps(first) + "\n" + json.dumps(again) + "\n")
    reader = FFLegacyReader(root)
    inventory = reader.scan()
    session = inventory.sessions()[0]
    assert [r.status for r in iter_session_records(reader, session)] == ["new", "same"]
    item = _one(inventory, "users/u1/s1/messages.jsonl")
    assert (item.kind, item.line_number) == ("duplicate_message", 2)


def test_generated_panel_ids_carry_the_file_tag(tmp_path: Path) -> None:
    """iter_session_records 18 (tag None: messages.jsonl and a transcript generate the same id)."""
    root = _root(tmp_path)
    panel = root / "users/u1/panel_session_1"
    _write(panel / "messages.jsonl", _msg(0, message_id=None, content="from the panel"))
    _write(panel / "Dr.X_messages.jsonl", _msg(0, message_id=None, content="only in the transcript"))
    reader = FFLegacyReader(root)
    session = next(s for s in reader.scan().sessions() if s.session_id == "panel_session_1")
    ids = [r.message_id for r in iter_session_records(reader, session) if r.imported]
    assert ids == ["legacy-t-00000001", "legacy-dr_x-00000001"]


def test_summary_flags_an_assistant_without_persona() -> None:
    """summarise_message 44/45 (the flag set to None/False; the import's effect is in the import file)."""
    from ff_managers._migration.legacy_format import summarise_message

    session = FFLegacySessionDTO(user_id="u1", session_id="p", relative_dir="users/u1/p", kind="panel")
    summarise_message(session, {"role": "user", "content": "hi"})
    assert session.assistant_without_persona is False
    summarise_message(session, {"role": "assistant", "content": "hello", "metadata": {}})
    assert session.assistant_without_persona is True


# ---------------------------------------------------------------- legacy_stores


def test_document_store_irregular_items(tmp_path: Path) -> None:
    """_scan_documents 17 (kind of broken metadata.json), 28 (reason None), 91 (action None)."""
    root = _root(tmp_path)
    docs = root / "users/u1/s1/documents"
    _write(docs / "metadata.json", "{not json")
    (docs / "folder").mkdir(parents=True)
    _write(root / "users/u1/s2/documents/metadata.json", json.dumps({"gone.pdf": {"size": 3}}))
    _write(root / "users/u1/s2/messages.jsonl", _msg(0))
    inventory = _scan(root)
    meta = _one(inventory, "users/u1/s1/documents/metadata.json")
    assert (meta.kind, meta.action) == ("invalid_documents_metadata", SKIPPED)
    folder = _one(inventory, "users/u1/s1/documents/folder")
    assert (folder.kind, folder.action, folder.reason) == (
        "unreadable", SKIPPED, "a directory where a document file is expected")
    missing = _one(inventory, "users/u1/s2/documents/metadata.json")
    assert (missing.kind, missing.action, missing.reason) == (
        "document_missing", SKIPPED, "metadata.json lists 'gone.pdf' but the file is not there")


def _vectors(root: Path, session: str, rows: int, index_lines: int) -> Path:
    vectors = root / "users/u1/sessions" / session / "vectors"
    _write(vectors / "embeddings.npy", npy_bytes(rows))
    _write(vectors / "vector_index.jsonl",
           "".join(json.dumps({"chunk_id": f"c{i}", "document_id": "d", "text": f"t{i}"}) + "\n" for i in range(index_lines)))
    return vectors


def test_vector_index_lines_are_counted_once_and_not_checked_as_messages(tmp_path: Path) -> None:
    """_scan_vectors 43 (each line counted twice) and 51 (index lines checked as messages: all refused)."""
    root = _root(tmp_path)
    _vectors(root, "s1", 3, 3)
    inventory = _scan(root)
    (vs,) = inventory.vector_sets
    assert (vs.shape, vs.index_lines) == ([3, 3], 3)
    assert not [i for i in inventory.irregular if i.path.startswith("users/u1/sessions")]


def test_vector_store_irregular_items(tmp_path: Path) -> None:
    """_scan_vectors 24 (message), 31 (action None), 74 (the mismatch's reason None)."""
    root = _root(tmp_path)
    vectors = _vectors(root, "s1", 2, 3)
    (vectors / "sub").mkdir()
    broken = _vectors(root, "s2", 1, 1)
    _write(broken / "embeddings.npy", b"not an npy file")
    inventory = _scan(root)
    sub = _one(inventory, "users/u1/sessions/s1/vectors/sub")
    assert (sub.kind, sub.action, sub.reason) == ("unreadable", SKIPPED, "a directory where a vector file is expected")
    mismatch = _one(inventory, "users/u1/sessions/s1/vectors")
    assert (mismatch.kind, mismatch.reason) == (
        "vector_count_mismatch", "2 embeddings but 3 index lines; both files copied byte-identical")
    bad = _one(inventory, "users/u1/sessions/s2/vectors/embeddings.npy")
    assert (bad.kind, bad.action, bad.reason) == ("invalid_vectors", SKIPPED, "not a .npy file (bad magic)")


# ---------------------------------------------------------------- after the refresh (2026-12-06)

def test_a_stray_file_in_a_session_directory_is_a_skipped_stray_file(tmp_path: Path) -> None:
    """_scan_session 125 (the stray file's kind None)."""
    root = _root(tmp_path)
    _write(root / "users/u1/s1/notes.txt", "scratch")
    item = _one(_scan(root), "users/u1/s1/notes.txt")
    assert (item.kind, item.action, item.reason) == ("stray_file", SKIPPED, "not part of a legacy session directory")


def test_an_invalid_session_json_is_noted_once_not_also_as_missing(tmp_path: Path) -> None:
    """_scan_session 157 (``and`` -> ``or``: a session.json that is there but invalid was also noted
    as "no session.json")."""
    root = _root(tmp_path)
    _write(root / "users/u1/s1/session.json", json.dumps({"title": ["x"]}))
    kinds = [i.kind for i in _scan(root).irregular if i.path.startswith("users/u1/s1")]
    assert kinds == ["invalid_session_json"]


def test_a_migration_that_skips_a_version_is_refused_naming_both_versions() -> None:
    """registry FFMigration.__post_init__ 10 (the refusal's message None)."""
    from ff_managers._migration.registry import FFMigration

    with pytest.raises(FFValidationError) as refused:
        FFMigration("0009_jump", 1, 3, "one to three", lambda *_: None)
    assert refused.value.message == "migration 0009_jump must go up one version (1 -> 3)"
    assert refused.value.field == "to_version"
