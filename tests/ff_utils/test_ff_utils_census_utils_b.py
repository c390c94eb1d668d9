"""Census of ``ff_locks``, ``ff_hashing`` and ``ff_file_ops`` (issue 20, helper utils-b): the
survivors of a full pass over every mutant of these modules, killed by exact assertions.
Equivalent and harmless ones are listed in docs/mutation/equivalent/ff_utils/utils-b.toml.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import threading
import types
from pathlib import Path

import pytest

from ff_utils import ff_locks
from ff_utils.ff_errors import FFNotFoundError, FFStorageError, FFValidationError
from ff_utils.ff_hashing import ff_build_manifest, ff_default_manifest_exclude
from ff_utils.ff_locks import FFLockBusy, ff_file_lock, ff_lock_path, ff_locks_fail_fast, ff_locks_failing_fast
from tests.ff_utils._lock_handles import open_lock_handles


def _in_fresh_thread(fn):  # type: ignore[no-untyped-def]
    result: list[object] = []
    thread = threading.Thread(target=lambda: result.append(fn()))
    thread.start()
    thread.join()
    return result[0]


# ------------------------------------------------------------------ ff_locks


def test_failing_fast_is_exactly_false_outside_and_true_inside() -> None:
    # ff_locks_failing_fast 1, 3, 7, 8: the thread-local's flag, with False (not None) by default.
    assert _in_fresh_thread(ff_locks_failing_fast) is False

    def inside() -> tuple[object, object, object, object]:
        with ff_locks_fail_fast():
            during = ff_locks_failing_fast()
            with ff_locks_fail_fast():
                nested = ff_locks_failing_fast()
            after_nested = ff_locks_failing_fast()
        return during, nested, after_nested, ff_locks_failing_fast()

    assert _in_fresh_thread(inside) == (True, True, True, False)


def _fake_fcntl(flock):  # type: ignore[no-untyped-def]
    return types.SimpleNamespace(flock=flock, LOCK_EX=fcntl.LOCK_EX, LOCK_NB=fcntl.LOCK_NB, LOCK_UN=fcntl.LOCK_UN)


def test_a_failing_flock_while_waiting_is_cannot_lock_naming_the_data_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # _lock_handle 27-29: the waiting branch's FFStorageError keeps its message and the data file.
    data = tmp_path / "doc.json"

    def flock(fd: int, operation: int) -> None:
        if operation & fcntl.LOCK_EX:
            raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(ff_locks, "fcntl", _fake_fcntl(flock))
    with pytest.raises(FFStorageError) as caught, ff_file_lock(data, timeout=5.0):
        pass
    assert caught.value.message == "cannot lock: [Errno 37] No locks available"
    assert caught.value.path == data
    monkeypatch.undo()
    with ff_file_lock(data, timeout=5.0):  # the thread lock was released
        pass


def test_a_symlink_at_the_lock_files_name_is_refused_naming_it(tmp_path: Path) -> None:
    # _open_lock_file 26, 27: the refusal names the link and carries the lock file's full path.
    data = tmp_path / "doc.json"
    lock_file = ff_lock_path(data)
    (tmp_path / "elsewhere").write_bytes(b"")
    lock_file.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(FFValidationError) as caught, ff_file_lock(data, timeout=5.0):
        pass
    assert caught.value.message == "unsafe path: symlink '.doc.json.lock' below the data root"
    assert caught.value.field == "path"
    assert caught.value.value == str(lock_file)


def test_fail_fast_on_a_lock_another_thread_holds_is_lock_busy_naming_the_data_file(tmp_path: Path) -> None:
    # _acquire 17, 18: under fail-fast the thread lock is tried, not waited for, and FFLockBusy
    # carries the data file. The holder is this thread; the join's bound only matters if the
    # attempt waits (a mutant), and then the release lets it through and the outcome is wrong.
    data = tmp_path / "doc.json"
    outcome: list[object] = []

    def attempt() -> None:
        try:
            with ff_locks_fail_fast(), ff_file_lock(data, timeout=30.0):
                outcome.append("acquired")
        except FFLockBusy as exc:
            outcome.append(exc)

    with ff_file_lock(data):
        worker = threading.Thread(target=attempt)
        worker.start()
        worker.join(timeout=10.0)
    worker.join()
    assert len(outcome) == 1
    busy = outcome[0]
    assert isinstance(busy, FFLockBusy)
    assert busy.path == data
    assert str(busy) == f"lock busy: {data}"


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
def test_taking_a_lock_whose_handle_is_cached_opens_and_closes_no_handle(tmp_path: Path) -> None:
    # _acquire 26, 27: only a newly opened handle trims the cache; a lock taken again on its
    # cached handle neither reopens it nor closes the others, even above the bound.
    folder = (tmp_path / "many").resolve()
    folder.mkdir()
    with contextlib.ExitStack() as stack:
        for i in range(260):  # all held at once: none can be closed, 260 stay open after release
            stack.enter_context(ff_file_lock(folder / f"f{i}"))
    assert open_lock_handles(folder) == 260
    with ff_file_lock(folder / "f7"):  # cached: no open, so no trim
        pass
    assert open_lock_handles(folder) == 260
    with ff_file_lock(folder / "one-more"):  # a new handle: trimmed to the bound
        pass
    assert open_lock_handles(folder) == 256


# ------------------------------------------------------------------ ff_hashing


def test_manifest_workers_are_named_daemon_threads(tmp_path: Path) -> None:
    # _hash_while_walking 11, 12, 14-16: ff-manifest-<i>, daemon (seen from the walk, which runs
    # in the calling thread while the workers wait for files).
    root = tmp_path / "tree"
    root.mkdir()
    (root / "a.txt").write_bytes(b"a")
    before = set(threading.enumerate())
    seen: list[list[tuple[str, bool]]] = []

    def exclude(relative: str) -> bool:
        seen.append(sorted((t.name, t.daemon) for t in set(threading.enumerate()) - before))
        return False

    manifest = ff_build_manifest(root, exclude=exclude, workers=3)
    assert [e.path for e in manifest.entries] == ["a.txt"]
    assert seen == [[("ff-manifest-0", True), ("ff-manifest-1", True), ("ff-manifest-2", True)]]


def test_a_worker_failure_seen_mid_walk_is_still_raised(tmp_path: Path) -> None:
    # _hash_while_walking 19: the walk stops when a worker failed, and the error is raised (a
    # ``return`` there skipped the raise and gave a manifest without the file). The walk waits
    # (bounded) for the failed worker to end, so it sees the error before its next file.
    root = tmp_path / "tree"
    root.mkdir()
    for i in range(40):
        (root / f"a{i:02}.txt").write_bytes(b"x%d" % i)
    before = set(threading.enumerate())

    def exclude(relative: str) -> bool:
        if relative == "a00.txt":
            (root / relative).unlink()  # handed over in the first batch, gone when hashed
        elif relative == "a20.txt":  # the first batch (a00-a15) is queued: wait for its failure
            workers = set(threading.enumerate()) - before
            for _ in range(1000):
                if any(not t.is_alive() for t in workers):
                    break
                next(iter(workers)).join(0.01)
        return False

    with pytest.raises(FFNotFoundError) as caught:
        ff_build_manifest(root, exclude=exclude, workers=2)
    assert caught.value.message == "cannot hash file: no such file"
    assert caught.value.path == root / "a00.txt"


def test_locks_temp_files_and_manifests_two_folders_down_are_left_out(tmp_path: Path) -> None:
    # ff_default_manifest_exclude 6: the file's own name is the part after the last "/".
    root = tmp_path / "tree"
    (root / "a" / "b").mkdir(parents=True)
    for name in ("keep.txt", ".doc.json.lock", ".doc.json.1a2b3c.tmp", "ff_manifest.json", "ok.lock"):
        (root / "a" / "b" / name).write_bytes(b"x")
    assert [e.path for e in ff_build_manifest(root, workers=1).entries] == ["a/b/keep.txt", "a/b/ok.lock"]
    assert ff_default_manifest_exclude("a/b/.doc.json.lock") is True
    assert ff_default_manifest_exclude("a/b/c.d/ff_manifest.json") is True
    assert ff_default_manifest_exclude("a/.b/keep.txt") is False


@pytest.mark.parametrize(
    ("workers", "cores", "expected"),
    [
        (None, 3, ["ff-manifest-0", "ff-manifest-1", "ff-manifest-2"]),  # one per core by default
        (None, None, []),  # core count unknown: one, in the calling thread
        (2, 5, ["ff-manifest-0", "ff-manifest-1"]),
        (1, 5, []),  # workers=1 walks and hashes in the calling thread
    ],
)
def test_how_many_manifest_workers_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int | None, cores: int | None, expected: list[str]
) -> None:
    # ff_build_manifest 27-29, 32: the worker count and the single-thread path.
    root = tmp_path / "tree"
    root.mkdir()
    (root / "a.txt").write_bytes(b"a")
    before = set(threading.enumerate())
    seen: list[list[str]] = []

    def exclude(relative: str) -> bool:
        seen.append(sorted(t.name for t in set(threading.enumerate()) - before))
        return False

    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    manifest = ff_build_manifest(root, exclude=exclude, workers=workers)
    monkeypatch.undo()
    assert [(e.path, e.size) for e in manifest.entries] == [("a.txt", 1)]
    assert seen == [expected]
