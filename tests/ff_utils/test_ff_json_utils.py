"""ff_json_utils: atomic JSON documents, append-only JSONL logs, group commit."""

from __future__ import annotations

import errno
import os
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ff_utils import _jsonl_append as jsonl_append
from ff_utils import _jsonl_read as jsonl_read
from ff_utils.ff_errors import FFCorruptionError, FFError, FFNotFoundError, FFStorageError, FFValidationError
from ff_utils.ff_json_utils import (
    FFBadLine,
    ff_append_jsonl,
    ff_check_jsonl,
    ff_flush_jsonl,
    ff_read_json,
    ff_read_jsonl,
    ff_repair_jsonl,
    ff_tail_jsonl,
    ff_update_json,
    ff_write_json,
)
from ff_utils.ff_locks import ff_file_lock

# --------------------------------------------------------------------------- JSON documents


def test_write_read_json_round_trip(tmp_path: Path) -> None:
    doc = {"name": "ä\n\u2028", "n": 3, "items": [1, 2.5, None, True], "nested": {"k": "v"}}
    target = tmp_path / "sub" / "doc.json"
    ff_write_json(target, doc)
    assert ff_read_json(target) == doc
    assert target.read_bytes().endswith(b"\n") and b"\n  " in target.read_bytes()  # indented for people


def test_read_json_missing(tmp_path: Path) -> None:
    with pytest.raises(FFNotFoundError):
        ff_read_json(tmp_path / "nope.json")
    assert ff_read_json(tmp_path / "nope.json", default=None) is None
    assert ff_read_json(tmp_path / "nope.json", default={"a": 1}) == {"a": 1}


@pytest.mark.parametrize("content", [b"{\"a\": 1", b"", b"\xff\xfe", b"{} trailing", b"nul\x00"])
def test_corrupt_json_names_the_file(tmp_path: Path, content: bytes) -> None:
    target = tmp_path / "broken.json"
    target.write_bytes(content)
    with pytest.raises(FFCorruptionError) as info:
        ff_read_json(target)
    assert info.value.path == target and str(target) in str(info.value)
    with pytest.raises(FFCorruptionError):
        ff_read_json(target, default={})  # a default covers missing, never corrupt


def test_unserialisable_value_writes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "doc.json"
    ff_write_json(target, {"v": 1})
    with pytest.raises(FFValidationError):
        ff_write_json(target, {"v": object()})
    with pytest.raises(FFValidationError):
        ff_write_json(target, {"v": b"bytes"})
    assert ff_read_json(target) == {"v": 1}


def test_update_json(tmp_path: Path) -> None:
    target = tmp_path / "counter.json"
    assert ff_update_json(target, lambda d: {"n": d["n"] + 1}, default={"n": 0}) == {"n": 1}
    assert ff_update_json(target, lambda d: {"n": d["n"] + 1}) == {"n": 2}
    assert ff_read_json(target) == {"n": 2}


def test_update_json_failing_updater_writes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "doc.json"
    ff_write_json(target, {"n": 1})

    def boom(data: Any) -> Any:
        raise FFValidationError("no")

    with pytest.raises(FFValidationError):
        ff_update_json(target, boom)
    with pytest.raises(FFValidationError):
        ff_update_json(target, lambda d: {"bad": object()})
    assert ff_read_json(target) == {"n": 1}
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")) == ["doc.json"]


def test_update_json_is_atomic_across_threads(tmp_path: Path) -> None:
    target = tmp_path / "counter.json"

    def bump() -> None:
        for _ in range(25):
            ff_update_json(target, lambda d: {"n": d["n"] + 1}, default={"n": 0}, durability="never")

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert ff_read_json(target) == {"n": 100}


# --------------------------------------------------------------------------- JSONL basics


def test_append_read_tail(tmp_path: Path) -> None:
    log = tmp_path / "a" / "log.jsonl"
    for i in range(10):
        ff_append_jsonl(log, {"i": i, "text": f"line\n{i}"})
    ff_append_jsonl(log, [{"i": 10}, {"i": 11}], many=True)
    assert [r["i"] for r in ff_read_jsonl(log)] == list(range(12))
    assert [r["i"] for r in ff_tail_jsonl(log, 3)] == [9, 10, 11]
    assert [r["i"] for r in ff_tail_jsonl(log, 100)] == list(range(12))
    assert ff_tail_jsonl(log, 0) == []
    assert log.read_bytes().count(b"\n") == 12


def test_missing_jsonl_reads_empty(tmp_path: Path) -> None:
    assert list(ff_read_jsonl(tmp_path / "none.jsonl")) == []
    assert ff_tail_jsonl(tmp_path / "none.jsonl", 5) == []
    assert ff_repair_jsonl(tmp_path / "none.jsonl") == 0


def test_empty_many_writes_nothing(tmp_path: Path) -> None:
    ff_append_jsonl(tmp_path / "log.jsonl", [], many=True)
    assert not (tmp_path / "log.jsonl").exists()


def test_oversized_record_refused_nothing_written(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    ff_append_jsonl(log, {"i": 0})
    before = log.read_bytes()
    with pytest.raises(FFValidationError, match="exceeds the limit"):
        ff_append_jsonl(log, {"text": "x" * 2000}, max_record_bytes=1024)
    with pytest.raises(FFValidationError):  # one bad record in a batch: none of the batch lands
        ff_append_jsonl(log, [{"ok": 1}, {"text": "x" * 2000}, {"ok": 2}], many=True, max_record_bytes=1024)
    with pytest.raises(FFValidationError):
        ff_append_jsonl(log, [{"ok": 1}, {"bad": object()}], many=True)
    assert log.read_bytes() == before


def _write_raw(path: Path, *lines: bytes) -> None:
    path.write_bytes(b"".join(lines))


def test_torn_tail_skipped_reported_and_repaired(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    _write_raw(log, b'{"i":0}\n', b'{"i":1}\n', b'{"i":2, "te')
    bad: list[FFBadLine] = []
    assert [r["i"] for r in ff_read_jsonl(log, on_bad_line=bad.append)] == [0, 1]
    assert len(bad) == 1 and bad[0].torn and bad[0].offset == 16 and bad[0].line_number == 3
    bad.clear()
    assert [r["i"] for r in ff_tail_jsonl(log, 5, on_bad_line=bad.append)] == [0, 1]
    assert len(bad) == 1 and bad[0].torn and bad[0].offset == 16
    health = ff_check_jsonl(log)
    assert (health.records, health.torn_tail_bytes, health.healthy) == (2, 11, False)
    assert ff_repair_jsonl(log) == 11
    assert log.read_bytes() == b'{"i":0}\n{"i":1}\n'
    assert ff_check_jsonl(log).healthy
    assert ff_repair_jsonl(log) == 0


def test_complete_but_unterminated_last_record_is_torn_for_every_reader(tmp_path: Path) -> None:
    # A record cut right before its newline parses, but no writer acknowledged it.
    log = tmp_path / "log.jsonl"
    _write_raw(log, b'{"i":0}\n', b'{"i":1}')
    assert [r["i"] for r in ff_read_jsonl(log, on_bad_line=lambda b: None)] == [0]
    assert [r["i"] for r in ff_tail_jsonl(log, 5, on_bad_line=lambda b: None)] == [0]


def test_tail_flags_torn_tail_longer_than_one_block(tmp_path: Path) -> None:
    # Regression: a torn tail spanning more than one 16 KiB read was returned as a good record
    # by ff_tail_jsonl while ff_read_jsonl (rightly) skipped it.
    log = tmp_path / "log.jsonl"
    _write_raw(log, b'{"i":0}\n', orjson.dumps({"big": "x" * 40_000}))
    bad: list[FFBadLine] = []
    assert ff_tail_jsonl(log, 5, on_bad_line=bad.append) == [{"i": 0}]
    assert len(bad) == 1 and bad[0].torn and bad[0].offset == 8
    torn_bytes = log.stat().st_size - 8
    assert ff_check_jsonl(log).torn_tail_bytes == torn_bytes
    assert ff_repair_jsonl(log) == torn_bytes
    assert log.read_bytes() == b'{"i":0}\n'


def test_tail_handles_records_larger_than_a_block(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    records = [{"i": i, "blob": str(i) * (30_000 if i % 2 else 10)} for i in range(6)]
    ff_append_jsonl(log, records, many=True, durability="never")
    assert ff_tail_jsonl(log, 4) == records[2:]
    assert ff_tail_jsonl(log, 10) == records


def test_file_without_any_newline(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    _write_raw(log, b'{"i":0}')
    bad: list[FFBadLine] = []
    assert ff_tail_jsonl(log, 3, on_bad_line=bad.append) == []
    assert [b.torn for b in bad] == [True]
    assert ff_repair_jsonl(log) == 7 and log.read_bytes() == b""


def test_corrupt_middle_line_skipped_and_reported_not_repaired(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    _write_raw(log, b'{"i":0}\n', b'garbage}\n', b"\n", b'{"i":2}\n')
    bad: list[FFBadLine] = []
    assert [r["i"] for r in ff_read_jsonl(log, on_bad_line=bad.append)] == [0, 2]
    assert len(bad) == 1 and not bad[0].torn and bad[0].offset == 8 and bad[0].line_number == 2
    assert "invalid JSON" in bad[0].reason
    bad.clear()
    assert [r["i"] for r in ff_tail_jsonl(log, 2, on_bad_line=bad.append)] == [0, 2]
    assert [(b.offset, b.torn) for b in bad] == [(8, False)]
    health = ff_check_jsonl(log)
    assert (health.records, len(health.bad_lines), health.torn_tail_bytes) == (2, 1, 0)
    assert ff_repair_jsonl(log) == 0  # deleting data is not a repair
    assert b"garbage" in log.read_bytes()


def test_append_after_torn_tail_starts_a_fresh_line(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    _write_raw(log, b'{"i":0}\n', b'{"i":1, "cut')
    ff_append_jsonl(log, {"i": 2})
    bad: list[FFBadLine] = []
    assert [r["i"] for r in ff_read_jsonl(log, on_bad_line=bad.append)] == [0, 2]
    assert len(bad) == 1 and not bad[0].torn  # the fragment is now a complete bad line


# --------------------------------------------------------------------------- tail cost


class _CountingReader:
    """Wraps a binary file and counts the bytes its reads return."""

    def __init__(self, raw: Any, counter: list[int]) -> None:
        self._raw = raw
        self._counter = counter

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self._counter.append(len(data))
        return data

    def __iter__(self) -> Any:
        for line in self._raw:
            self._counter.append(len(line))
            yield line

    def seek(self, *args: Any) -> int:
        return self._raw.seek(*args)

    def fileno(self) -> int:
        return self._raw.fileno()

    def __enter__(self) -> _CountingReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self._raw.close()


def _bytes_read_by_tail(monkeypatch: pytest.MonkeyPatch, log: Path, n: int) -> tuple[list[Any], int]:
    counter: list[int] = []
    real_open = jsonl_read._open  # the readers' one way to open a log (no-follow)

    def counting_open(target: Path, root: Any, buffering: int = -1) -> Any:
        handle = real_open(target, root, buffering)
        return _CountingReader(handle, counter) if target == log else handle

    monkeypatch.setattr(jsonl_read, "_open", counting_open)
    try:
        result = ff_tail_jsonl(log, n)
    finally:
        monkeypatch.setattr(jsonl_read, "_open", real_open)
    return result, sum(counter)


@pytest.mark.parametrize("torn", [False, True])
def test_tail_cost_does_not_grow_with_file_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, torn: bool) -> None:
    line = orjson.dumps({"i": 0, "pad": "p" * 80}) + b"\n"
    small, large = tmp_path / "small.jsonl", tmp_path / "large.jsonl"
    small.write_bytes(line * 1_000 + (b'{"cut' if torn else b""))
    large.write_bytes(line * 200_000 + (b'{"cut' if torn else b""))  # ~19 MB
    small_result, small_bytes = _bytes_read_by_tail(monkeypatch, small, 10)
    large_result, large_bytes = _bytes_read_by_tail(monkeypatch, large, 10)
    assert len(small_result) == len(large_result) == 10
    assert large_bytes == small_bytes
    assert large_bytes <= 2 * jsonl_read._TAIL_BLOCK  # ten ~90-byte records: one block, far below the file size


def test_counting_reader_sees_full_scans(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The measuring wrapper itself must be able to see a full read, or the test above proves nothing.
    log = tmp_path / "log.jsonl"
    log.write_bytes(b'{"i":0}\n' * 50_000)
    _, tail_bytes = _bytes_read_by_tail(monkeypatch, log, 50_000)
    assert tail_bytes == log.stat().st_size


# --------------------------------------------------------------------------- round trip property

_special_text = st.text(
    alphabet=st.one_of(st.characters(exclude_categories=["Cs"]), st.sampled_from(["\n", "\r", "\u2028", "\u2029", '"', "\\", "\x00", "\t", "{", "}"])),
    max_size=30,
)
_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63) + 1, max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _special_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_special_text, children, max_size=4),
    max_leaves=15,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=st.lists(_json_values, min_size=1, max_size=5))
def test_jsonl_round_trip_of_arbitrary_unicode(tmp_path: Path, records: list[Any]) -> None:
    log = tmp_path / f"{uuid.uuid4().hex}.jsonl"
    ff_append_jsonl(log, records, many=True, durability="never")
    raw = log.read_bytes()
    assert raw.count(b"\n") == len(records)  # a record never splits across lines
    assert all(orjson.loads(line) == record for line, record in zip(raw.splitlines(), records, strict=True))
    bad: list[FFBadLine] = []
    assert list(ff_read_jsonl(log, on_bad_line=bad.append)) == records
    assert ff_tail_jsonl(log, len(records), on_bad_line=bad.append) == records
    assert bad == []


def test_lone_surrogate_is_refused_and_nothing_written(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    with pytest.raises(FFValidationError):
        ff_append_jsonl(log, {"text": "half a pair \ud800"})
    assert not log.exists()


# --------------------------------------------------------------------------- durability and group commit


class _Recorder:
    """Records the file size at every fsync made on a given path."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
        self.path = path
        self.sizes: list[int] = []
        self._real = os.fsync
        monkeypatch.setattr(jsonl_append.os, "fsync", self)

    def __call__(self, fd: int) -> None:
        self._real(fd)
        if os.path.samestat(os.fstat(fd), os.stat(self.path)) if self.path.exists() else False:
            self.sizes.append(os.fstat(fd).st_size)


def test_durability_modes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "log.jsonl"
    log.write_bytes(b"")
    rec = _Recorder(monkeypatch, log)
    ff_append_jsonl(log, {"i": 0}, durability="never")
    assert rec.sizes == []
    ff_flush_jsonl(log)
    assert rec.sizes == [log.stat().st_size]
    ff_flush_jsonl(log)  # clean: no second fsync
    assert len(rec.sizes) == 1
    ff_append_jsonl(log, {"i": 1}, durability="always")
    assert rec.sizes[-1] == log.stat().st_size
    ff_append_jsonl(log, {"i": 2}, durability="batch", batch_interval=3600)
    assert rec.sizes[-1] < log.stat().st_size  # inside the batch window: left for later
    ff_append_jsonl(log, {"i": 3}, durability="batch", batch_interval=0)
    assert rec.sizes[-1] == log.stat().st_size


def _start_group_behind_held_lock(log: Path, durabilities: list[str]) -> tuple[list[threading.Thread], dict[int, Any], Any]:
    """Hold the file lock, let writer 0 lead group 1 (blocked on the lock), queue the rest as group 2."""
    results: dict[int, Any] = {}

    def writer(index: int, durability: str) -> None:
        try:
            ff_append_jsonl(log, {"w": index}, durability=durability)  # type: ignore[arg-type]
            results[index] = None
        except FFError as exc:
            results[index] = exc

    appender = jsonl_append._appender_for(log)
    lock = ff_file_lock(log)
    lock.__enter__()
    threads = []
    for index, durability in enumerate(durabilities):
        t = threading.Thread(target=writer, args=(index, durability))
        t.start()
        threads.append(t)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:  # wait until this writer has joined a group
            with appender._cond:
                if (index == 0 and appender._flushing) or (index > 0 and len(appender._pending) == index):
                    break
            time.sleep(0.001)
        else:
            raise AssertionError("writer did not join its group")
    return threads, results, lock


def test_follower_asking_always_is_durable_even_when_leader_asks_never(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Regression: a group was written with its leader's durability, so an "always" writer that
    # shared a group led by a "never" writer returned before its bytes were fsynced.
    for attempt in range(5):
        log = tmp_path / f"log{attempt}.jsonl"
        log.write_bytes(b"")
        rec = _Recorder(monkeypatch, log)
        # Writer 1 ("never") waits first, so it tends to wake first and lead group 2.
        threads, results, lock = _start_group_behind_held_lock(log, ["never", "never", "always"])
        lock.__exit__(None, None, None)
        for t in threads:
            t.join(10)
        assert results == {0: None, 1: None, 2: None}
        assert rec.sizes and max(rec.sizes) == log.stat().st_size, f"attempt {attempt}: always-append not fsynced"
        monkeypatch.undo()


class _FailingOs:
    """Stands in for ``os`` inside the JSONL appender; fails writes or fsyncs like a full disk would."""

    def __init__(self, *, fail_write: bool = False, fail_fsync: bool = False) -> None:
        self.fail_write, self.fail_fsync = fail_write, fail_fsync
        self.payloads: list[bytes] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)

    def write(self, fd: int, data: Any) -> int:
        data = bytes(data)
        self.payloads.append(data)
        if self.fail_write:
            os.write(fd, data[: len(data) // 2])  # half of the group lands, then the disk is full
            raise OSError(errno.ENOSPC, "No space left on device")
        return os.write(fd, data)

    def fsync(self, fd: int) -> None:
        if self.fail_fsync:
            raise OSError(errno.EIO, "Input/output error")
        os.fsync(fd)


@pytest.mark.parametrize("failure", ["write", "fsync"])
def test_group_failure_reaches_every_writer_and_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: str) -> None:
    log = tmp_path / "log.jsonl"
    ff_append_jsonl(log, {"before": True})
    before = log.read_bytes()
    fake = _FailingOs(fail_write=failure == "write", fail_fsync=failure == "fsync")
    monkeypatch.setattr(jsonl_append, "os", fake)
    threads, results, lock = _start_group_behind_held_lock(log, ["always"] * 6)
    lock.__exit__(None, None, None)
    for t in threads:
        t.join(10)
    assert sorted(results) == list(range(6))
    assert all(isinstance(err, FFStorageError) for err in results.values()), results
    assert any(p.count(b"\n") == 5 for p in fake.payloads)  # writers 1-5 really shared one group
    assert log.read_bytes() == before  # nothing partial, nothing the writers were told failed
    monkeypatch.undo()
    ff_append_jsonl(log, {"after": True})
    assert list(ff_read_jsonl(log)) == [{"before": True}, {"after": True}]
    assert jsonl_append._appender_for(log)._failures == {}  # every writer collected its error; nothing kept


def test_flush_waits_for_a_group_being_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Regression: ff_flush_jsonl could fsync while a group was mid-write and then mark the file
    # clean, so the group's bytes were never fsynced by any later flush.
    log = tmp_path / "log.jsonl"
    ff_append_jsonl(log, {"i": 0}, durability="never")
    synced: list[int] = []
    fsync_done = threading.Event()
    proceed = threading.Event()
    flusher: list[threading.Thread] = []

    class _Os:
        def __getattr__(self, name: str) -> Any:
            return getattr(os, name)

        def fsync(self, fd: int) -> None:
            os.fsync(fd)
            synced.append(os.fstat(fd).st_size)
            if flusher and threading.current_thread() is flusher[0]:
                fsync_done.set()
                proceed.wait(5)  # between the fsync and marking the file clean

        def write(self, fd: int, data: Any) -> int:
            if not flusher:
                flusher.append(threading.Thread(target=ff_flush_jsonl, args=(log,)))
                flusher[0].start()
                fsync_done.wait(0.5)  # with the fix the flusher waits for this write instead
            return os.write(fd, data)

    monkeypatch.setattr(jsonl_append, "os", _Os())
    ff_append_jsonl(log, {"i": 1}, durability="never")
    proceed.set()
    flusher[0].join(5)
    ff_flush_jsonl(log)
    assert synced and max(synced) == log.stat().st_size


def test_eight_threads_five_hundred_appends_each(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "log.jsonl"
    writes: list[int] = []

    class _CountingOs:
        def __getattr__(self, name: str) -> Any:
            return getattr(os, name)

        def write(self, fd: int, data: Any) -> int:
            writes.append(1)
            return os.write(fd, data)

    monkeypatch.setattr(jsonl_append, "os", _CountingOs())

    def work(t: int) -> None:
        for i in range(500):
            ff_append_jsonl(log, {"t": t, "i": i, "text": "x" * (i % 50)})

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    bad: list[FFBadLine] = []
    records = list(ff_read_jsonl(log, on_bad_line=bad.append))
    assert bad == [] and len(records) == 4_000
    assert {(r["t"], r["i"]) for r in records} == {(t, i) for t in range(8) for i in range(500)}
    for t in range(8):  # each thread's records stay in its own order
        assert [r["i"] for r in records if r["t"] == t] == list(range(500))
    assert len(writes) < 4_000  # appends were grouped
