"""What a forked child starts with, and the portable (non-fcntl) lock calls, exactly.

The fork hooks (``os.register_at_fork(after_in_child=...)``) of ``ff_ids``, ``ff_locks`` and
``_jsonl_append`` are called here in this process, with the module state they reset saved and
restored by ``monkeypatch``: in a real fork they run in the child, where mutmut cannot see which
test reached them (docs/MUTATION.md, ``ff_utils``). Each test checks what the child relies on:
fresh random bytes after every fork (a grandchild too), working locks, logs reopened.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import portalocker
import pytest

from ff_utils import _jsonl_append, ff_ids, ff_locks
from ff_utils.ff_ids import ff_new_id
from ff_utils.ff_json_utils import ff_append_jsonl, ff_read_jsonl
from ff_utils.ff_locks import ff_file_lock


def test_every_fork_draws_fresh_random_bytes_for_ids_a_grandchild_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ff_ids, "_generation", ff_ids._generation)
    real, draws = os.urandom, []

    def counting(n: int) -> bytes:
        draws.append(n)
        return real(n)

    monkeypatch.setattr(os, "urandom", counting)
    ff_new_id()  # this thread's pool is filled now (or was already)
    draws.clear()
    ff_new_id()
    assert draws == []  # ids come from the pool
    ff_ids._after_fork_in_child()  # a child
    ff_new_id()
    assert draws == [4096]
    ff_ids._after_fork_in_child()  # the child's child
    ff_new_id()
    assert draws == [4096, 4096]


def test_after_fork_the_locks_start_empty_and_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ff_locks, "_registry_guard", ff_locks._registry_guard)
    monkeypatch.setattr(ff_locks, "_entries", ff_locks._entries)
    target = tmp_path / "doc.json"
    with ff_file_lock(target, timeout=1.0):
        pass
    inherited = ff_locks._entries
    ff_locks._forget_after_fork()
    assert ff_locks._entries is not inherited and len(ff_locks._entries) == 0
    with ff_file_lock(target, timeout=1.0):
        assert list(ff_locks._entries) == [str(ff_locks.ff_lock_path(target))]


def test_the_portable_lock_calls_exclude_the_posix_ones_and_release(tmp_path: Path) -> None:
    lock_file = tmp_path / ".x.lock"
    lock_file.touch()
    with open(lock_file, "rb+") as first, open(lock_file, "rb+") as second:
        ff_locks._try_lock_portable(first)
        with pytest.raises(portalocker.AlreadyLocked):
            ff_locks._try_lock_posix(second)
        ff_locks._unlock_portable(first)
        ff_locks._try_lock_posix(second)
        with pytest.raises(portalocker.AlreadyLocked):
            ff_locks._try_lock_portable(first)
        ff_locks._unlock_posix(second)
        ff_locks._try_lock_portable(first)
        ff_locks._unlock_portable(first)


def test_after_each_fork_a_log_is_opened_again_and_tracked_afresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("_fork_generation", "_open_logs_guard", "_open_logs"):
        monkeypatch.setattr(_jsonl_append, name, getattr(_jsonl_append, name))
    log = tmp_path / "a.jsonl"
    real_open, opened = os.open, []

    def recording(path: Any, *args: Any, **kwargs: Any) -> int:
        if os.fspath(path) == "a.jsonl":
            opened.append(path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", recording)
    ff_append_jsonl(log, {"n": 0}, root=tmp_path)
    ff_append_jsonl(log, {"n": 1}, root=tmp_path)
    assert len(opened) == 1  # the descriptor is kept between appends
    for fork in (1, 2):  # a child, then the child's child
        ff_jsonl_registry = _jsonl_append._open_logs
        _jsonl_append._after_fork_in_child()
        assert _jsonl_append._open_logs is not ff_jsonl_registry and len(_jsonl_append._open_logs) == 0
        ff_append_jsonl(log, {"n": 1 + fork}, root=tmp_path)
        assert len(opened) == 1 + fork  # the inherited descriptor is not the child's: opened again
        assert len(_jsonl_append._open_logs) == 1
    assert [r["n"] for r in ff_read_jsonl(log)] == [0, 1, 2, 3]
