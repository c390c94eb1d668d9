"""Census of the surviving mutants of _jsonl_append, ff_ids, ff_fs_sync and ff_logging (mutation
review, issue #20), part 2: groups (writers queued behind a group, a failed group's every writer,
appends under the caller's lock or fail-fast), the lock file of a refused path, the batch interval at
its edge, short writes, a root that does not hold the log (a bug, fixed), the id pool's exact bytes.
Each test names the mutants it kills (`mutmut show` numbers)."""

from __future__ import annotations

import errno
import hashlib
import os
import threading
import time
import types
import uuid
from pathlib import Path
from typing import Any

import pytest

import ff_utils._jsonl_append as j
from ff_utils import ff_fs_sync, ff_ids
from ff_utils.ff_errors import FFStorageError, FFValidationError
from ff_utils.ff_json_utils import ff_append_jsonl, ff_flush_jsonl

from tests.ff_utils._fsync_recorder import fsynced  # noqa: F401  (a fixture)
from ff_utils.ff_locks import ff_file_lock, ff_locks_fail_fast




# ------------------------------------------------------------------ ff_ids: the random pool


def test_ids_are_the_uuid4_hex_of_each_16_bytes_of_the_random_pool_in_turn(monkeypatch: pytest.MonkeyPatch) -> None:
    """ff_new_id 13 (no refill at exactly the pool's end: an all-zero id), 17 (the pool read from
    its second byte: the last id of a pool built from 15 bytes), 20 (17 bytes a step)."""
    pools = [hashlib.sha256(bytes([k])).digest() * 128 for k in range(3)]  # 4096 bytes each
    handed: list[bytes] = []

    def urandom(size: int) -> bytes:
        assert size == 4096
        handed.append(pools[len(handed)])
        return handed[-1]

    fake = types.SimpleNamespace(**vars(os))
    fake.urandom = urandom
    monkeypatch.setattr(ff_ids, "os", fake)
    drawn: list[str] = []
    thread = threading.Thread(target=lambda: drawn.extend(ff_ids.ff_new_id("p-") for _ in range(300)))
    thread.start()  # a new thread starts with an empty pool of its own
    thread.join(10)
    stream = pools[0] + pools[1]
    expected = [f"p-{uuid.UUID(bytes=stream[i * 16 : i * 16 + 16], version=4).hex}" for i in range(300)]
    assert drawn == expected
    assert len(handed) == 2


# ------------------------------------------------------------------ _jsonl_append: groups and locks


def test_an_append_through_a_symlinked_folder_below_the_root_creates_no_lock_file_behind_it(tmp_path: Path) -> None:
    """_write_group 10, 12 (the lock taken without the root: its lock file was created in the
    folder behind the link, outside the root, before the walk refused the link)."""
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "via").symlink_to(outside)
    with pytest.raises(FFValidationError):
        ff_append_jsonl(root / "via" / "log.jsonl", {"a": 1}, root=root)
    assert list(outside.iterdir()) == []


class _HeldGroup:
    """The first group written to ``held`` blocks in ``write`` until released; each later caller of
    append on it is seen inside the appender's condition (its durability looked up) before the
    first group goes on. ``fail_payloads_with`` makes a write of a payload holding it fail (EIO)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, held: Path, fail_payloads_with: bytes | None = None) -> None:
        self.writing, self.release = threading.Event(), threading.Event()
        self.queued = threading.Semaphore(0)
        real_write = os.write
        first = [True]

        def write(fd: int, data: Any) -> int:
            if os.readlink(f"/proc/self/fd/{fd}") == str(held):
                if fail_payloads_with is not None and fail_payloads_with in bytes(data):
                    raise OSError(errno.EIO, "Input/output error")
                if first[0]:
                    first[0] = False
                    self.writing.set()
                    self.release.wait(10)
            return real_write(fd, data)

        writing = self.writing

        class _Strength(dict):  # type: ignore[type-arg]
            def __getitem__(self, key: str) -> int:
                name = threading.current_thread().name
                if writing.is_set() and name.startswith("queued") and name not in seen:
                    seen.add(name)
                    queued.release()
                return super().__getitem__(key)

        queued, seen = self.queued, set()
        fake = types.SimpleNamespace(**vars(os))
        fake.write = write
        monkeypatch.setattr(j, "os", fake)
        monkeypatch.setattr(j, "_STRENGTH", _Strength(j._STRENGTH))


def _append_in_thread(name: str, log: Path, record: Any, outcome: dict[str, Any]) -> threading.Thread:
    def run() -> None:
        try:
            ff_append_jsonl(log, record, durability="never")
            outcome[name] = ("returned", log.read_bytes())
        except BaseException as exc:  # noqa: BLE001 - the outcome is what the test checks
            outcome[name] = ("raised", exc)

    thread = threading.Thread(target=run, name=name)
    thread.start()
    return thread


def test_writers_queued_behind_a_group_return_once_their_own_group_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """append 30 (`continue` → `break`: a writer arriving mid-group returned at once, its line left
    queued and never written), append's `b"".join` of a group's lines (`b"XXXX"`)."""
    log = tmp_path / "log.jsonl"
    held = _HeldGroup(monkeypatch, log)
    outcome: dict[str, Any] = {}
    first = _append_in_thread("first", log, {"n": 0}, outcome)
    assert held.writing.wait(10)
    others = [_append_in_thread(f"queued-{i}", log, {"n": i}, outcome) for i in (1, 2)]
    assert held.queued.acquire(timeout=10) and held.queued.acquire(timeout=10)
    held.release.set()
    for thread in [first, *others]:
        thread.join(10)
    lines = log.read_bytes().splitlines()
    assert lines[0] == b'{"n":0}' and sorted(lines[1:]) == [b'{"n":1}', b'{"n":2}']
    for name, n in (("queued-1", 1), ("queued-2", 2)):
        kind, seen = outcome[name]
        assert kind == "returned" and f'{{"n":{n}}}'.encode() in seen.splitlines()


def test_every_writer_of_a_failed_group_gets_its_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """append 19, 20, 68, 71 (the group's writers miscounted, or the failure dropped one writer
    early: the second writer of a failed group returned as if its line were written)."""
    log = tmp_path / "log.jsonl"
    held = _HeldGroup(monkeypatch, log, fail_payloads_with=b'"doomed"')
    outcome: dict[str, Any] = {}
    first = _append_in_thread("first", log, {"n": 0}, outcome)
    assert held.writing.wait(10)
    others = [_append_in_thread(f"queued-{i}", log, {"doomed": i}, outcome) for i in (1, 2)]
    assert held.queued.acquire(timeout=10) and held.queued.acquire(timeout=10)
    held.release.set()
    for thread in [first, *others]:
        thread.join(10)
    assert outcome["first"][0] == "returned"
    for name in ("queued-1", "queued-2"):
        kind, error = outcome[name]
        assert kind == "raised" and isinstance(error, FFStorageError)
        assert error.message == "cannot append JSONL: Input/output error [EIO]"
    assert log.read_bytes() == b'{"n":0}\n'


@pytest.mark.parametrize("how", ["lock held", "fail fast"])
def test_appends_that_join_no_group_keep_their_durability_and_batch_interval(
    tmp_path: Path, fsynced: list[str], how: str
) -> None:
    """append 3, 4 (under the caller's lock) and 12, 13 (under ff_locks_fail_fast): the group's
    durability or batch interval dropped (`always` not fsynced; a TypeError for `batch`)."""
    log = tmp_path / "log.jsonl"
    context = ff_file_lock(log) if how == "lock held" else ff_locks_fail_fast()
    with context:
        ff_append_jsonl(log, {"a": 1}, durability="always")
        assert fsynced == [str(log)]
        ff_append_jsonl(log, {"b": 2}, durability="batch", batch_interval=time.monotonic())
        assert fsynced == [str(log)]  # fsynced a moment ago: not again within the interval
    assert log.read_bytes() == b'{"a":1}\n{"b":2}\n'


def test_a_batch_group_is_fsynced_once_exactly_the_interval_has_passed(
    tmp_path: Path, fsynced: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """_write_group 49 (`>= batch_interval` → `>`: a group written exactly the interval after the
    last fsync was not fsynced). The appender's clock is pinned, so "exactly" is exact."""
    clock = [100.0]
    monkeypatch.setattr(j, "time", types.SimpleNamespace(monotonic=lambda: clock[0]))
    log = tmp_path / "log.jsonl"
    ff_append_jsonl(log, {"a": 1}, durability="never")
    ff_flush_jsonl(log)  # the last fsync: at 100.0
    assert fsynced == [str(log)]
    clock[0] = 102.5
    ff_append_jsonl(log, {"b": 2}, durability="batch", batch_interval=2.5)
    assert fsynced == [str(log), str(log)]
    ff_append_jsonl(log, {"c": 3}, durability="batch", batch_interval=2.5)  # 0 s since: not fsynced
    assert fsynced == [str(log), str(log)]


def test_short_writes_are_continued_until_the_whole_group_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """_write_group 57 (`view = None` after the first write: a short write lost the rest)."""
    real_write = os.write

    def short_write(fd: int, data: Any) -> int:
        return real_write(fd, bytes(data[:5]))

    fake = types.SimpleNamespace(**vars(os))
    fake.write = short_write
    monkeypatch.setattr(j, "os", fake)
    log = tmp_path / "log.jsonl"
    ff_append_jsonl(log, [{"n": 1}, {"text": "a longer record"}], many=True, durability="never")
    assert log.read_bytes() == b'{"n":1}\n{"text":"a longer record"}\n'


@pytest.mark.parametrize("other_root", ["b", "a/inner"])
def test_a_root_that_does_not_hold_the_log_is_refused_on_a_later_append_as_on_the_first(
    tmp_path: Path, other_root: str
) -> None:
    """Bug found by _appender_for 24 (`<` → `<=`): a log appended to with a root that does not
    hold it is refused on its first append ("path escapes the data root"), but was appended to
    when the log's appender already knew another root (of equal length or longer, which is not
    walked from): the caller's root was ignored. With the fix, `<=` adopted the refused root of
    equal length, and the next append without a root was refused."""
    (tmp_path / "a" / "inner").mkdir(parents=True)
    (tmp_path / "b").mkdir()
    log = tmp_path / "a" / "log.jsonl"
    with pytest.raises(FFValidationError) as first:
        ff_append_jsonl(tmp_path / "a" / "first.jsonl", {"x": 0}, root=tmp_path / other_root)
    ff_append_jsonl(log, {"x": 1}, root=tmp_path / "a")
    with pytest.raises(FFValidationError) as later:
        ff_append_jsonl(log, {"x": 2}, root=tmp_path / other_root)
    assert (later.value.message, later.value.field) == (first.value.message, "path")
    assert later.value.message == "unsafe path: path escapes the data root"
    assert log.read_bytes() == b'{"x":1}\n'
    ff_append_jsonl(log, {"x": 3})  # the refused root was not adopted: the log's own root stays
    ff_append_jsonl(log, {"x": 4}, root=tmp_path / "a")
    assert log.read_bytes() == b'{"x":1}\n{"x":3}\n{"x":4}\n'


# ------------------------------------------------------------------ ff_fs_sync


def test_syncfs_is_called_once_on_a_descriptor_of_the_folder_and_os_sync_is_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ff_sync_filesystem 3 (`syncfs = None`: every call fell back to os.sync, which flushes every
    filesystem of the machine instead of the folder's one)."""
    seen: list[bool] = []

    def syncfs(fd: int) -> int:
        seen.append(os.path.samestat(os.fstat(fd), os.stat(tmp_path)))
        return 0

    synced: list[str] = []
    monkeypatch.setattr(ff_fs_sync, "_syncfs", lambda: syncfs)
    monkeypatch.setattr(os, "sync", lambda: synced.append("sync"))
    ff_fs_sync.ff_sync_filesystem(tmp_path)
    assert (seen, synced) == ([True], [])
