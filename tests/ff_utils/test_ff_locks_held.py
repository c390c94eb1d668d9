"""ff_lock_held and appends made while holding the file's lock ("check, then append" as one step)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from ff_utils.ff_json_utils import ff_append_jsonl, ff_read_jsonl
from ff_utils.ff_locks import ff_async_file_lock, ff_file_lock, ff_lock_held


def test_held_only_by_the_holding_thread_and_only_while_held(tmp_path: Path) -> None:
    target = tmp_path / "log.jsonl"
    seen_elsewhere: list[bool] = []
    assert not ff_lock_held(target)
    with ff_file_lock(target):
        assert ff_lock_held(target)
        assert ff_lock_held(str(target))
        assert not ff_lock_held(tmp_path / "other.jsonl")
        other = threading.Thread(target=lambda: seen_elsewhere.append(ff_lock_held(target)))
        other.start()
        other.join(10)
    assert seen_elsewhere == [False]
    assert not ff_lock_held(target)


async def test_an_async_holder_never_counts_for_the_worker_thread(tmp_path: Path) -> None:
    target = tmp_path / "log.jsonl"
    async with ff_async_file_lock(target):
        # The worker thread that acquired it may run anyone's work next: it must not skip the lock.
        answers = await asyncio.gather(*(asyncio.to_thread(ff_lock_held, target) for _ in range(8)))
    assert answers == [False] * 8


def test_an_append_by_the_holder_does_not_take_the_lock_again(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    done = threading.Event()

    def check_then_append() -> None:
        with ff_file_lock(log, timeout=5):
            ff_append_jsonl(log, {"n": 1}, durability="always")
        done.set()

    worker = threading.Thread(target=check_then_append, daemon=True)
    worker.start()
    worker.join(3)  # re-taking the (not re-entrant) lock would wait out its 30 s timeout
    assert done.is_set()
    assert list(ff_read_jsonl(log)) == [{"n": 1}]


def test_another_thread_waits_for_the_holder_and_nothing_deadlocks(tmp_path: Path) -> None:
    """A writer without the lock becomes its group's leader and blocks on the file lock while the
    holder appends: the holder must not wait for that group (it would never be written)."""
    log = tmp_path / "log.jsonl"
    ff_append_jsonl(log, {"n": 0})
    errors: list[BaseException] = []

    def unlocked_append() -> None:
        try:
            ff_append_jsonl(log, {"n": 2}, durability="always")
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    holder_done = threading.Event()

    def holder() -> None:
        with ff_file_lock(log, timeout=5):
            other = threading.Thread(target=unlocked_append, daemon=True)
            other.start()
            other.join(0.3)  # it is now waiting for the lock this thread holds
            assert other.is_alive()
            ff_append_jsonl(log, {"n": 1}, durability="always")
        other.join(5)
        holder_done.set()

    thread = threading.Thread(target=holder, daemon=True)
    thread.start()
    thread.join(8)
    assert holder_done.is_set() and errors == []
    assert [r["n"] for r in ff_read_jsonl(log)] == [0, 1, 2]
