"""FFStore: settings held once, one error mapping for stored records, and the fault-injection seam."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from ff_class_configs import load_config
from ff_utils.ff_errors import FFConflictError, FFCorruptionError, FFNotFoundError, FFStorageError, FFValidationError
from ff_utils.ff_store import FFStore


class _Record(BaseModel):
    name: str
    size: int


@pytest.fixture
def store(tmp_path: Path) -> FFStore:
    return FFStore(tmp_path)


def test_from_config_takes_every_storage_setting(tmp_path: Path) -> None:
    config = load_config(base_path=tmp_path, environ={})
    storage = config.storage.model_copy(
        update={"durability": "batch", "max_record_bytes": 4096, "batch_fsync_interval_ms": 50, "lock_timeout_seconds": 2.5}
    )
    store = FFStore.from_config(config.model_copy(update={"storage": storage}))
    assert store.root == tmp_path.resolve()
    assert (store.durability, store.max_record_bytes, store.batch_interval_s, store.lock_timeout_s) == ("batch", 4096, 0.05, 2.5)
    assert FFStore.from_config(storage).settings == store.settings  # the section alone works too


def test_path_refuses_escapes_and_stays_inside(store: FFStore) -> None:
    assert store.path("users", "alice") == store.root / "users" / "alice"
    for bad in ("../x", "/etc", "a/../../b", "a\x00b"):
        with pytest.raises(FFValidationError):
            store.path("users", bad)


def test_json_round_trip_create_update_and_read_document(store: FFStore) -> None:
    doc = store.path("users", "alice", "doc.json")
    store.create_json(doc, {"n": 1}, kind="thing", key="alice")
    with pytest.raises(FFConflictError):
        store.create_json(doc, {"n": 2}, kind="thing", key="alice")
    assert store.update_existing_json(doc, lambda d: {**d, "n": d["n"] + 1}, kind="thing", key="alice") == {"n": 2}
    assert store.read_document(doc, kind="thing", key="alice") == {"n": 2}
    missing = store.path("users", "bob", "doc.json")
    with pytest.raises(FFNotFoundError) as caught:
        store.update_existing_json(missing, lambda d: d, kind="thing", key="bob")
    assert (caught.value.kind, caught.value.key) == ("thing", "bob")
    assert not missing.parent.exists(), "a failed update must not create folders"
    assert store.read_json(missing, default=None) is None


def test_update_that_raises_writes_nothing(store: FFStore) -> None:
    doc = store.path("doc.json")
    store.write_json(doc, {"kept": True})

    def broken(_: object) -> object:
        raise FFValidationError("no")

    with pytest.raises(FFValidationError):
        store.update_json(doc, broken)
    assert store.read_json(doc) == {"kept": True}


def test_append_uses_the_store_limit_and_writes_nothing_when_one_record_is_too_big(tmp_path: Path) -> None:
    store = FFStore(tmp_path, max_record_bytes=1024)
    log = store.path("log.jsonl")
    store.append(log, {"i": 0})
    with pytest.raises(FFValidationError):
        store.append_many(log, [{"i": 1}, {"pad": "x" * 2000}])
    assert list(store.read_jsonl(log)) == [{"i": 0}]
    assert store.tail_jsonl(log, 5) == [{"i": 0}]
    assert store.count_lines(log) == 1


def test_load_turns_a_wrong_shape_record_into_corruption_naming_the_file(store: FFStore) -> None:
    path = store.path("r.json")
    assert store.load(_Record, {"name": "a", "size": 1}, path) == _Record(name="a", size=1)
    with pytest.raises(FFCorruptionError) as caught:
        store.load(_Record, {"name": "a", "size": "big"}, path)
    assert caught.value.path == path and str(path) in str(caught.value)
    assert "stored _Record does not match its schema: size:" in str(caught.value)
    assert not isinstance(caught.value, FFValidationError)  # stored data is never "bad input"


def test_with_settings_keeps_root_and_subclass(tmp_path: Path) -> None:
    class Marked(FFStore):
        pass

    base = Marked(tmp_path, durability="always")
    batch = base.with_settings(durability="batch")
    assert type(batch) is Marked and batch.root == base.root
    assert (base.durability, batch.durability) == ("always", "batch")


def test_locks_time_out_with_the_store_setting(tmp_path: Path) -> None:
    store = FFStore(tmp_path, lock_timeout_s=0.2)
    target = store.path("doc.json")
    with store.lock(target), pytest.raises(FFStorageError):
        with store.lock(target):  # not re-entrant: waits for the store's timeout, then refuses
            pass
