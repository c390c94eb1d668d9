"""Encryption at rest as an FFStore middleware: per document and per JSONL record, bound to the path."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from ff_utils.ff_encryption import (
    FFEncryptionMiddleware,
    FFKey,
    ff_generate_key_text,
    ff_parse_key,
    ff_read_key_file,
    ff_resolve_key,
)
from ff_utils.ff_errors import FFConfigError, FFCorruptionError
from ff_utils.ff_json_utils import FFBadLine
from ff_utils.ff_key_rotation import ff_reencrypt_tree
from ff_utils.ff_store import FFStore

CANARY = "canary-7f3a9"


def _key() -> FFKey:
    return ff_parse_key(ff_generate_key_text(), source="test")


def _store(root: Path, key: FFKey | None, *also: FFKey) -> FFStore:
    return FFStore(root, middleware=FFEncryptionMiddleware(key, also) if key is not None else None)


def _plaintext_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and CANARY.encode() in p.read_bytes())


def test_documents_logs_and_bytes_round_trip_and_nothing_is_plaintext_on_disk(tmp_path: Path) -> None:
    store = _store(tmp_path, _key())
    log = store.path("users", "u", "sessions", "s", "messages.jsonl")
    store.append_many(log, [{"n": i, "text": f"{CANARY} {i}"} for i in range(50)])
    store.write_json(store.path("users", "u", "profile.json"), {"name": CANARY})
    store.write_bytes(store.path("users", "u", "blob.bin"), CANARY.encode() * 3)
    store.update_json(store.path("users", "u", "profile.json"), lambda d: {**d, "age": 3})
    assert [r["n"] for r in store.read_jsonl(log)] == list(range(50))
    assert [r["n"] for r in store.tail_jsonl(log, 3)] == [47, 48, 49]
    assert store.count_lines(log) == 50
    assert store.read_json(store.path("users", "u", "profile.json")) == {"name": CANARY, "age": 3}
    assert store.read_bytes(store.path("users", "u", "blob.bin")) == CANARY.encode() * 3
    assert _plaintext_files(tmp_path) == []
    assert all(line.startswith(b"ffe1:") for line in log.read_bytes().splitlines())


def test_a_plain_store_writes_the_canary_in_plaintext(tmp_path: Path) -> None:
    # The scan above can fail: without the middleware the same writes are readable on disk.
    store = _store(tmp_path, None)
    store.append(store.path("a", "log.jsonl"), {"text": CANARY})
    assert _plaintext_files(tmp_path) == ["a/log.jsonl"]


def test_a_record_moved_to_another_file_does_not_decrypt(tmp_path: Path) -> None:
    store = _store(tmp_path, _key())
    alice, bob = store.path("users", "alice", "m.jsonl"), store.path("users", "bob", "m.jsonl")
    store.append(alice, {"text": "alice's secret"})
    store.append(bob, {"text": "bob's"})
    with bob.open("ab") as handle:  # copy alice's encrypted line into bob's log
        handle.write(alice.read_bytes())
    bad: list[FFBadLine] = []
    assert [r["text"] for r in store.read_jsonl(bob, on_bad_line=bad.append)] == ["bob's"]
    assert len(bad) == 1 and "moved here from another file" in bad[0].reason
    doc_a, doc_b = store.path("users", "alice", "p.json"), store.path("users", "bob", "p.json")
    store.write_json(doc_a, {"x": 1})
    doc_b.write_bytes(doc_a.read_bytes())
    with pytest.raises(FFCorruptionError, match="cannot decrypt"):
        store.read_json(doc_b)


def test_another_key_reads_nothing_and_says_so(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    _store(tmp_path, _key()).append(log, {"n": 1})
    bad: list[FFBadLine] = []
    assert list(_store(tmp_path, _key()).read_jsonl(log, on_bad_line=bad.append)) == []
    assert "encrypted with another key" in bad[0].reason
    plain: list[FFBadLine] = []
    assert list(_store(tmp_path, None).read_jsonl(log, on_bad_line=plain.append)) == []  # not JSON without the key


def test_a_torn_encrypted_line_only_loses_itself(tmp_path: Path) -> None:
    store = _store(tmp_path, _key())
    log = store.path("log.jsonl")
    store.append_many(log, [{"n": 1}, {"n": 2}])
    with log.open("ab") as handle:
        handle.write(b"ffe1:AAAA")  # a crash mid-append
    assert [r["n"] for r in store.tail_jsonl(log, 5)] == [1, 2]
    assert store.repair_jsonl(log) == len(b"ffe1:AAAA")
    store.append(log, {"n": 3})
    assert [r["n"] for r in store.read_jsonl(log)] == [1, 2, 3]


def test_keys_come_from_a_file_outside_the_root_or_the_environment(tmp_path: Path) -> None:
    text = ff_generate_key_text()
    key_file = tmp_path / "k.key"
    key_file.write_text(text + "\n")
    root = tmp_path / "root"
    assert ff_read_key_file(key_file, data_root=root).key_id == ff_parse_key(text, source="t").key_id
    inside = root / "k.key"
    root.mkdir()
    inside.write_text(text)
    with pytest.raises(FFConfigError, match="inside the data root"):
        ff_resolve_key(inside, data_root=root)
    assert ff_resolve_key(None, data_root=root, environ={"FF_ENCRYPTION_KEY": text}) is not None
    assert ff_resolve_key(None, data_root=root, environ={}) is None
    with pytest.raises(FFConfigError, match="32"):
        ff_parse_key(base64.urlsafe_b64encode(os.urandom(16)).decode(), source="short")
    with pytest.raises(FFConfigError, match="base64"):
        ff_parse_key("not a key!", source="junk")


def test_from_config_encrypts_with_the_configured_key(tmp_path: Path) -> None:
    from ff_class_configs import load_config

    key_file = tmp_path / "k.key"
    key_file.write_text(ff_generate_key_text())
    config = load_config(environ={}, overrides={"storage": {"base_path": str(tmp_path / "root"), "encryption_key_file": str(key_file)}})
    store = FFStore.from_config(config)
    assert store.encrypted and store.middleware.key_id == ff_read_key_file(key_file).key_id
    assert "key_id" in repr(store) and ff_read_key_file(key_file).secret.hex() not in repr(store.middleware)


def test_reencrypting_a_tree_moves_every_record_to_the_new_key_and_is_resumable(tmp_path: Path) -> None:
    old, new = _key(), _key()
    store = _store(tmp_path, old)
    log = store.path("users", "u", "messages.jsonl")
    store.append_many(log, [{"n": i} for i in range(5)])
    store.write_json(store.path("users", "u", "doc.json"), {"d": CANARY})
    with log.open("ab") as handle:
        handle.write(b"garbage that was already corrupt\n")
    first = ff_reencrypt_tree(tmp_path, old=old, new=new)
    assert first.files_rewritten == 2 and first.records_rewritten == 6
    assert first.unreadable == ["users/u/messages.jsonl: 1 line(s) kept as they were (corrupt or torn)"]
    again = ff_reencrypt_tree(tmp_path, old=old, new=new)
    assert again.files_rewritten == 0 and again.files_already_done == 2
    reader = _store(tmp_path, new)
    assert [r["n"] for r in reader.read_jsonl(log, on_bad_line=lambda bad: None)] == list(range(5))
    assert reader.read_json(store.path("users", "u", "doc.json")) == {"d": CANARY}
    with pytest.raises(FFCorruptionError):
        _store(tmp_path, old).read_json(store.path("users", "u", "doc.json"))


def test_reencrypting_a_plaintext_tree_encrypts_it(tmp_path: Path) -> None:
    plain = _store(tmp_path, None)
    plain.append(plain.path("a", "log.jsonl"), {"text": CANARY})
    plain.write_bytes(plain.path("a", "blob"), CANARY.encode())
    key = _key()
    report = ff_reencrypt_tree(tmp_path, old=None, new=key)
    assert report.files_rewritten == 2 and _plaintext_files(tmp_path) == []
    store = _store(tmp_path, key)
    assert list(store.read_jsonl(store.path("a", "log.jsonl"))) == [{"text": CANARY}]
    assert store.read_bytes(store.path("a", "blob")) == CANARY.encode()
