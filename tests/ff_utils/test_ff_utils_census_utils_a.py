"""Census of the surviving mutants of _jsonl_append, ff_json_utils, ff_fs_sync, ff_ids and
ff_logging (mutation review, issue #20): what a caller of ff_append_jsonl / ff_flush_jsonl sees
of a flush (which file is fsynced, how often, and that a later batch append still works), ...
Each test names the mutants it kills (`mutmut show` names, module-relative)."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import math
import os
import stat
import threading
import time
import types
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import ff_utils._jsonl_append as j
from ff_utils import ff_ids
from ff_utils.ff_errors import FFStorageError, FFValidationError
from ff_utils.ff_json_utils import ff_append_jsonl, ff_flush_jsonl
from ff_utils.ff_locks import ff_file_lock, ff_locks_fail_fast


@pytest.fixture
def fsynced(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Records each fsync of a regular file by the path the kernel names it by, then does it."""
    seen: list[str] = []
    real = os.fsync

    def recording(fd: int) -> None:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            seen.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(os, "fsync", recording)
    yield seen


# ------------------------------------------------------------------ _jsonl_append: flush


def test_a_batch_append_after_a_flush_is_written_and_not_fsynced_within_the_interval(
    tmp_path: Path, fsynced: list[str]
) -> None:
    """flush__mutmut_20 (the flush's `_last_fsync = None`: the next batch group raised TypeError);
    _write_group's `now + last_fsync >= interval` (an interval as long as the clock's reading had
    passed by that sum, so the group was fsynced)."""
    log = tmp_path / "log.jsonl"
    ff_append_jsonl(log, {"a": 1}, durability="never")
    ff_flush_jsonl(log)
    assert fsynced == [str(log)]
    interval = time.monotonic()  # the clock's reading: far longer than this test takes
    ff_append_jsonl(log, {"b": 2}, durability="batch", batch_interval=interval)
    assert log.read_bytes() == b'{"a":1}\n{"b":2}\n'
    assert fsynced == [str(log)]  # fsynced by the flush a moment ago: not again within the interval


def test_a_log_gone_at_a_flush_is_clean_and_a_new_file_at_its_name_is_not_fsynced(
    tmp_path: Path, fsynced: list[str]
) -> None:
    """flush__mutmut_8 (a log found gone left dirty: a file written later at its name, by
    someone else, was fsynced by every later flush)."""
    log = tmp_path / "log.jsonl"
    ff_append_jsonl(log, {"a": 1}, durability="batch", batch_interval=math.inf)
    log.unlink()
    ff_flush_jsonl(log)
    log.write_bytes(b'{"other":1}\n')
    ff_flush_jsonl(log)
    ff_flush_jsonl(log)
    assert fsynced == []


def test_flush_does_not_fsync_through_a_folder_swapped_for_a_symlink_below_the_root(
    tmp_path: Path, fsynced: list[str]
) -> None:
    """flush__mutmut_4, _6 (the flush's open without the appender's root: the file behind a
    symlinked folder on the way, outside the root, was opened and fsynced)."""
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    log = root / "sub" / "log.jsonl"
    ff_append_jsonl(log, {"a": 1}, durability="never", root=root)
    outside = tmp_path / "outside"
    (root / "sub").rename(outside)
    (root / "sub").symlink_to(outside)
    ff_flush_jsonl(log)
    assert fsynced == []
    assert (outside / "log.jsonl").read_bytes() == b'{"a":1}\n'


def test_a_log_never_written_to_is_not_fsynced_by_a_flush(tmp_path: Path, fsynced: list[str]) -> None:
    """__init__ 24 (a new appender started dirty: a log whose first append was refused, a symlink
    at its name, was fsynced by a flush once a file stood there)."""
    log = tmp_path / "log.jsonl"
    (tmp_path / "elsewhere").write_bytes(b"")
    log.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(FFValidationError):
        ff_append_jsonl(log, {"a": 1}, durability="never")
    log.unlink()
    log.write_bytes(b'{"other":1}\n')
    ff_flush_jsonl(log)
    assert fsynced == []


# ------------------------------------------------------------------ _jsonl_append: open descriptors


def _open_on(paths: list[Path]) -> list[Path]:
    """Which of ``paths`` this process holds a descriptor on (also deleted: "… (deleted)")."""
    names: dict[str, Path] = {}
    for path in paths:
        names[str(path)] = path
        names[f"{path} (deleted)"] = path
    held: list[Path] = []
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/self/fd/{fd}")
            if target in names:
                held.append(names[target])
    return sorted(held, key=paths.index)


def test_the_most_recently_opened_logs_keep_their_descriptors_up_to_the_bound_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """_remember_open 6, 13 (every other log closed on each open: `len + 64`, at least one), and
    _close_file_fd 3 (an evicted log's descriptor forgotten but never closed)."""
    monkeypatch.setattr(j, "_MAX_OPEN_LOGS", 4)
    logs = [tmp_path / f"log{i}.jsonl" for i in range(10)]
    for log in logs:
        ff_append_jsonl(log, {"x": 1}, durability="never")
    assert _open_on(logs) == logs[-4:]


def test_a_log_replaced_at_its_name_has_its_old_descriptor_closed(tmp_path: Path) -> None:
    """_close_file_fd 3 (the descriptor of the replaced file never closed: one leaked per rewrite)."""
    log = tmp_path / "log.jsonl"
    ff_append_jsonl(log, {"i": 0}, durability="never")
    old = tmp_path / "old.jsonl"
    log.rename(old)
    log.write_bytes(b"")
    ff_append_jsonl(log, {"i": 1}, durability="never")
    assert _open_on([old, log]) == [log]
    assert (old.read_bytes(), log.read_bytes()) == (b'{"i":0}\n', b'{"i":1}\n')


def test_opening_a_log_does_not_wait_for_a_log_being_written_to_close_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """_remember_open 15 (`acquire(blocking=True)`: a new log's open waited for the write in
    progress on the log to evict, instead of skipping it)."""
    monkeypatch.setattr(j, "_MAX_OPEN_LOGS", 1)
    busy, other = tmp_path / "busy.jsonl", tmp_path / "other.jsonl"
    writing, release = threading.Event(), threading.Event()
    real_write = os.write

    def held_write(fd: int, data: Any) -> int:
        if os.readlink(f"/proc/self/fd/{fd}") == str(busy):
            writing.set()
            release.wait(10)
        return real_write(fd, data)

    fake = types.SimpleNamespace(**vars(os))
    fake.write = held_write
    monkeypatch.setattr(j, "os", fake)
    writer = threading.Thread(target=ff_append_jsonl, args=(busy, {"b": 1}), kwargs={"durability": "never"})
    opener = threading.Thread(target=ff_append_jsonl, args=(other, {"o": 1}), kwargs={"durability": "never"})
    writer.start()
    try:
        assert writing.wait(10)
        opener.start()
        opener.join(5)
        finished = not opener.is_alive()
    finally:
        release.set()
        writer.join(10)
        opener.join(10) if opener.ident is not None else None
    assert finished
    assert (busy.read_bytes(), other.read_bytes()) == (b'{"b":1}\n', b'{"o":1}\n')


def test_a_log_swapped_for_a_symlink_to_itself_is_refused_though_its_descriptor_is_open(tmp_path: Path) -> None:
    """_open_for_append 8, 9 (the `lstat` of the name followed the link: the link's target is the
    very file the cached descriptor holds, so the identity matched and the record went through)."""
    log, real = tmp_path / "log.jsonl", tmp_path / "real.jsonl"
    ff_append_jsonl(log, {"i": 0}, durability="never")
    log.rename(real)
    log.symlink_to(real)
    with pytest.raises(FFValidationError) as caught:
        ff_append_jsonl(log, {"i": 1}, durability="never")
    assert (caught.value.message, caught.value.value) == (
        "unsafe path: symlink 'log.jsonl' below the data root",
        str(log),
    )
    assert real.read_bytes() == b'{"i":0}\n'


def test_a_failing_fsync_of_a_new_logs_folder_is_a_storage_error_and_closes_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """_open_for_append 43 (`os.close(None)` on that path: a raw TypeError, the log left open)."""
    log = tmp_path / "log.jsonl"
    real_fsync = os.fsync

    def failing_on_folders(fd: int) -> None:
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise OSError(errno.EIO, "Input/output error")
        real_fsync(fd)

    fake = types.SimpleNamespace(**vars(os))
    fake.fsync = failing_on_folders
    monkeypatch.setattr(j, "os", fake)
    with pytest.raises(FFStorageError) as caught:
        ff_append_jsonl(log, {"i": 0}, durability="always")
    assert (caught.value.message, caught.value.path) == ("cannot append JSONL: Input/output error [EIO]", log)
    assert _open_on([log]) == []
    assert log.read_bytes() == b""


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
