"""FFStore's own edges, exactly: the errors it words itself (kind, key, path, the refused link),
the configuration it reads (a custom or absent key variable, a section without the optional
fields), its copies' middleware, and the root it hands to every walk (a symlinked folder *on the
way* below the root is refused by remove_tree and tail_jsonl_page, not only a link at the name).

Written for mutation testing (docs/MUTATION.md, ``ff_utils``): each test pins what a surviving
mutant of ``ff_store.py`` changed.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from ff_utils.ff_encryption import FFEncryptionMiddleware, ff_generate_key_text, ff_parse_key
from ff_utils.ff_errors import FFConflictError, FFNotFoundError, FFStorageError, FFValidationError
from ff_utils.ff_store import FFStore


def _storage(base: Path, **extra: Any) -> SimpleNamespace:
    """A ``storage`` section with only the required fields (plus ``extra``)."""
    return SimpleNamespace(base_path=base, durability="always", max_record_bytes=1 << 20,
                           batch_fsync_interval_ms=200, lock_timeout_seconds=5.0, **extra)


def _outside_link(tmp_path: Path, store: FFStore) -> Path:
    """``root/via`` is a symlink to a folder outside the root holding ``log.jsonl`` and ``tree/``."""
    outside = tmp_path / "outside"
    (outside / "tree").mkdir(parents=True)
    (outside / "tree" / "keep.txt").write_text("keep")
    (outside / "log.jsonl").write_bytes(b'{"a": 1}\n')
    os.symlink(outside, store.root / "via")
    return outside


@pytest.fixture
def store(tmp_path: Path) -> FFStore:
    root = tmp_path / "root"
    root.mkdir()
    return FFStore(root)


def test_repr_names_the_class_the_root_the_durability_and_the_middleware(store: FFStore) -> None:
    assert repr(store) == f"FFStore({str(store.root)!r}, durability='always', middleware=FFStoreMiddleware())"

    class Faulty(FFStore):
        pass

    assert repr(Faulty(store.root)).startswith(f"Faulty({str(store.root)!r}, ")


def test_create_json_of_an_existing_document_names_kind_key_and_file(store: FFStore) -> None:
    path = store.path("sessions", "s1.json")
    store.create_json(path, {"a": 1}, kind="session", key="s1")
    with pytest.raises(FFConflictError) as caught:
        store.create_json(path, {"a": 2}, kind="session", key="s1")
    assert caught.value.message == "session 's1' already exists" and caught.value.path == path
    assert store.read_json(path) == {"a": 1}


def test_read_document_missing_names_kind_and_key_not_the_file(store: FFStore) -> None:
    path = store.path("sessions", "nope.json")
    with pytest.raises(FFNotFoundError) as caught:
        store.read_document(path, kind="session", key="nope")
    assert (caught.value.message, caught.value.kind, caught.value.key) == ("session 'nope' not found", "session", "nope")
    store.write_json(path, None)  # a stored null is no document either
    with pytest.raises(FFNotFoundError) as null:
        store.read_document(path, kind="session", key="nope")
    assert (null.value.message, null.value.kind, null.value.key) == ("session 'nope' not found", "session", "nope")


def test_update_existing_json_missing_or_null_names_kind_and_key(store: FFStore) -> None:
    path = store.path("users", "u1.json")
    with pytest.raises(FFNotFoundError) as missing:
        store.update_existing_json(path, lambda d: d, kind="user", key="u1")
    assert (missing.value.message, missing.value.kind, missing.value.key) == ("user 'u1' not found", "user", "u1")
    assert not path.parent.exists()  # the folder is not created for nothing
    store.write_json(path, None)
    with pytest.raises(FFNotFoundError) as null:
        store.update_existing_json(path, lambda d: d, kind="user", key="u1")
    assert (null.value.message, null.value.kind, null.value.key) == ("user 'u1' not found", "user", "u1")


def test_update_existing_json_of_a_document_removed_after_the_check_names_kind_and_key(store: FFStore) -> None:
    class RemovedMeanwhile(FFStore):
        """The document was there when checked and gone when read under the lock."""

        def exists(self, path: Path) -> bool:
            return True

    racing = RemovedMeanwhile(store.root)
    path = racing.path("users", "u2.json")
    with pytest.raises(FFNotFoundError) as caught:
        racing.update_existing_json(path, lambda d: d, kind="user", key="u2")
    assert (caught.value.message, caught.value.kind, caught.value.key) == ("user 'u2' not found", "user", "u2")
    assert not path.exists()


def test_exists_turns_an_unexpected_os_error_into_a_storage_error_naming_stat_and_the_path(store: FFStore) -> None:
    path = store.root / ("n" * 300)  # longer than any file name may be: ENAMETOOLONG
    with pytest.raises(FFStorageError) as caught:
        store.exists(path)
    assert caught.value.message.startswith("cannot stat: ") and caught.value.message.endswith("[ENAMETOOLONG]")
    assert caught.value.path == path


def test_stat_of_the_root_and_of_a_link_at_the_name(store: FFStore) -> None:
    assert stat.S_ISDIR(store.stat(store.root).st_mode)
    os.symlink(store.root, store.root / "loop")
    link = store.root / "loop"
    with pytest.raises(FFValidationError) as caught:
        store.stat(link)
    assert caught.value.message == "unsafe path: symlink 'loop' below the data root"
    assert (caught.value.field, caught.value.value) == ("path", str(link))


def test_remove_tree_refuses_a_symlinked_folder_on_the_way(store: FFStore, tmp_path: Path) -> None:
    outside = _outside_link(tmp_path, store)
    with pytest.raises(FFValidationError):
        store.remove_tree(store.root / "via" / "tree")
    assert (outside / "tree" / "keep.txt").read_text() == "keep"


def test_tail_jsonl_page_refuses_a_symlinked_folder_on_the_way(store: FFStore, tmp_path: Path) -> None:
    _outside_link(tmp_path, store)
    with pytest.raises(FFValidationError):
        store.tail_jsonl_page(store.root / "via" / "log.jsonl", 1)


def test_tail_jsonl_page_reads_only_page_bytes(store: FFStore) -> None:
    path = store.path("log.jsonl")
    store.append_many(path, [{"i": i} for i in range(3)])
    assert store.tail_jsonl_page(path, 2) == (b'{"i":1}\n{"i":2}', 2)
    # A page of one line (and the newline before it) cannot vouch for two: the caller falls back
    # to the general reader.
    assert store.tail_jsonl_page(path, 2, page_bytes=len(b'\n{"i":2}\n')) is None
    assert store.tail_jsonl_page(path, 1, page_bytes=len(b'\n{"i":2}\n')) == (b'{"i":2}', 1)


@pytest.fixture
def fsyncs(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    seen: list[int] = []
    real = os.fsync

    def recording(fd: int) -> None:
        seen.append(os.fstat(fd).st_ino)
        real(fd)

    monkeypatch.setattr(os, "fsync", recording)
    yield seen


def test_flush_of_one_log_fsyncs_that_log_only(tmp_path: Path, fsyncs: list[int]) -> None:
    store = FFStore(tmp_path, durability="never")
    first, second = store.path("a.jsonl"), store.path("b.jsonl")
    store.append(first, {"a": 1})
    store.append(second, {"b": 1})
    assert fsyncs == []
    store.flush(first)
    assert fsyncs == [first.stat().st_ino]
    store.flush(second)
    assert fsyncs == [first.stat().st_ino, second.stat().st_ino]


def test_from_config_reads_the_key_from_the_variable_the_section_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key_text = ff_generate_key_text()
    monkeypatch.delenv("FF_ENCRYPTION_KEY", raising=False)
    monkeypatch.setenv("MY_FF_KEY", key_text)
    store = FFStore.from_config(SimpleNamespace(storage=_storage(tmp_path, encryption_key_file=None, encryption_key_env="MY_FF_KEY")))
    assert store.encrypted and store.middleware.key_id == ff_parse_key(key_text, source="test").key_id
    plain = FFStore.from_config(_storage(tmp_path, encryption_key_file=None, encryption_key_env="OTHER_FF_KEY"))
    assert not plain.encrypted


def test_from_config_without_the_optional_fields_uses_ff_encryption_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FF_ENCRYPTION_KEY", raising=False)
    assert not FFStore.from_config(_storage(tmp_path)).encrypted
    monkeypatch.setenv("FF_ENCRYPTION_KEY", ff_generate_key_text())
    assert FFStore.from_config(_storage(tmp_path)).encrypted


def test_from_config_refuses_a_key_file_inside_the_data_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FF_ENCRYPTION_KEY", raising=False)
    key_file = tmp_path / "ff.key"
    key_file.write_text(ff_generate_key_text() + "\n")
    key_file.chmod(0o600)
    with pytest.raises(FFValidationError):
        FFStore.from_config(_storage(tmp_path, encryption_key_file=key_file))


def test_with_middleware_swaps_the_middleware_of_the_copy_only(store: FFStore) -> None:
    middleware = FFEncryptionMiddleware(ff_parse_key(ff_generate_key_text(), source="test"))
    sealed = store.with_middleware(middleware)
    assert sealed.middleware is middleware and sealed.encrypted and not store.encrypted
    plain = sealed.with_middleware(None)
    assert not plain.encrypted and type(plain.middleware).__name__ == "FFStoreMiddleware" and sealed.encrypted
    path = store.path("doc.json")
    plain.write_json(path, {"a": 1})
    assert path.read_bytes() == b'{\n  "a": 1\n}\n'


def test_tail_jsonl_reports_a_bad_line_to_the_callers_handler(store: FFStore) -> None:
    path = store.path("log.jsonl")
    store.append(path, {"a": 1})
    with open(path, "ab") as handle:
        handle.write(b"not json\n")
    store.append(path, {"b": 2})
    bad: list[Any] = []
    assert store.tail_jsonl(path, 3, on_bad_line=bad.append) == [{"a": 1}, {"b": 2}]
    assert [(b.torn, b.offset) for b in bad] == [(False, len(b'{"a":1}\n'))]


def test_whole_file_writes_fsync_unless_durability_is_never(tmp_path: Path, fsyncs: list[int]) -> None:
    FFStore(tmp_path, durability="never").write_bytes(tmp_path / "never.bin", b"n")
    assert fsyncs == []
    FFStore(tmp_path, durability="batch").write_bytes(tmp_path / "batch.bin", b"b")
    assert (tmp_path / "batch.bin").stat().st_ino in fsyncs
    fsyncs.clear()
    FFStore(tmp_path, durability="always").write_json(tmp_path / "always.json", {"a": 1})
    assert (tmp_path / "always.json").stat().st_ino in fsyncs


def test_read_bytes_honours_max_bytes_and_a_corrupt_document_names_its_file(store: FFStore) -> None:
    path = store.path("big.bin")
    store.write_bytes(path, b"12345")
    assert store.read_bytes(path, max_bytes=5) == b"12345"
    with pytest.raises(FFValidationError, match="exceeds the limit of 4"):
        store.read_bytes(path, max_bytes=4)
    doc = store.path("doc.json")
    store.write_bytes(doc, b"{not json")
    with pytest.raises(FFStorageError) as corrupt:
        store.read_json(doc)
    assert corrupt.value.path == doc
