"""The message-id index pinned exactly (issue 20: ``message_ids`` survivors of the run at 2bdeb26).

What its module docstring promises, observed through the reads it makes: a cached set is used
while its log is unchanged; at most ``max_ids`` ids over all cached sessions (at the limit
nothing is dropped, over it the least recently used sessions go, never the one just asked for,
and a session alone over the limit is kept); a stale set is rebuilt without counting its old ids
twice; records without a string ``message_id`` are skipped, and bad lines are skipped silently
(the readers that return messages report them).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ff_managers._memory.message_ids import FFMessageIdIndex, same_message
from ff_utils.ff_store import FFStore


class CountingStore(FFStore):
    """Counts the full reads of each log (the cost the index exists to avoid)."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.reads: list[str] = []

    def read_jsonl(self, path: Path, *, on_bad_line: Any = None) -> Iterator[Any]:
        self.reads.append(Path(path).stem)
        return super().read_jsonl(path, on_bad_line=on_bad_line)


@pytest.fixture
def store(tmp_path: Path) -> CountingStore:
    return CountingStore(tmp_path)


def log(store: FFStore, name: str, *ids: str) -> Path:
    path = store.root / f"{name}.jsonl"
    store.append_many(path, [{"message_id": i, "role": "user", "content": i} for i in ids])
    return path


def reads_of(store: CountingStore, index: FFMessageIdIndex, *logs: Path) -> list[str]:
    """Ask for each log's ids; return the logs that had to be read."""
    before = len(store.reads)
    for path in logs:
        index.ids(path)
    return store.reads[before:]


def test_an_unchanged_log_is_read_once(store: CountingStore) -> None:
    a = log(store, "a", "a1", "a2")
    index = FFMessageIdIndex(store)
    assert index.ids(a) == {"a1", "a2"}
    assert reads_of(store, index, a, a) == []


def test_the_bound_holds_at_its_edge_and_drops_the_least_recently_used(store: CountingStore) -> None:
    a, b, c = log(store, "a", "a1", "a2"), log(store, "b", "b1", "b2"), log(store, "c", "c1")
    index = FFMessageIdIndex(store, max_ids=4)
    assert reads_of(store, index, a, b) == ["a", "b"]
    assert reads_of(store, index, a, b) == []  # exactly max_ids cached: nothing dropped
    assert reads_of(store, index, c) == ["c"]  # 5 > 4: a, the least recently used, goes
    assert reads_of(store, index, b, c) == []
    assert reads_of(store, index, a) == ["a"]  # 5 > 4 again: b goes now
    assert reads_of(store, index, c, a) == []
    assert reads_of(store, index, b) == ["b"]


def test_a_stale_set_is_rebuilt_without_counting_it_twice(store: CountingStore) -> None:
    a, b = log(store, "a", "a1", "a2"), log(store, "b", "b1", "b2")
    index = FFMessageIdIndex(store, max_ids=5)
    assert reads_of(store, index, a, b) == ["a", "b"]
    store.append(a, {"message_id": "a3"})  # another writer
    assert index.ids(a) == {"a1", "a2", "a3"}
    assert reads_of(store, index, b, a) == []  # 3 + 2 = 5 ids: both still cached


def test_an_append_over_the_bound_keeps_its_own_session(store: CountingStore) -> None:
    a, b = log(store, "a", "a1", "a2"), log(store, "b", "b1")
    index = FFMessageIdIndex(store, max_ids=4)
    assert reads_of(store, index, a, b) == ["a", "b"]
    store.append_many(a, [{"message_id": "a3"}, {"message_id": "a4"}])
    index.appended(a, ["a3", "a4"])  # a is the oldest entry but the one appended to: b goes
    assert index.ids(a) == {"a1", "a2", "a3", "a4"}
    assert store.reads == ["a", "b"]
    assert reads_of(store, index, b) == ["b"]


@pytest.mark.timeout(60)
def test_one_session_over_the_bound_is_kept(store: CountingStore) -> None:
    a = log(store, "a", "a1", "a2", "a3")
    index = FFMessageIdIndex(store, max_ids=1)
    assert index.ids(a) == {"a1", "a2", "a3"}
    assert reads_of(store, index, a) == []


def test_records_without_a_string_id_and_bad_lines_are_skipped_silently(store: CountingStore, warnings_logged: list[str]) -> None:
    a = log(store, "a", "a1")
    store.append_many(a, [{"x": 1}, [1], {"message_id": 5}, {"message_id": "a2", "content": "second"}])
    a.write_bytes(a.read_bytes() + b"{not json}\n" + b'{"message_id": "a2", "content": "third"}\n')
    index = FFMessageIdIndex(store)
    assert index.ids(a) == {"a1", "a2"}
    assert index.find(a, "a2") == {"message_id": "a2", "content": "second"}  # the first one
    assert index.find(a, "a9") is None
    assert warnings_logged == []


def test_same_message_compares_attachments_without_their_ids() -> None:
    stored = {"role": "user", "content": "hi", "metadata": {}, "attachments": [{"attachment_id": "x", "sha256": "s"}, "odd"]}
    assert same_message(stored, {**stored, "attachments": [{"attachment_id": "y", "sha256": "s"}, "odd"]})
    assert not same_message(stored, {**stored, "attachments": [{"attachment_id": "x", "sha256": "t"}, "odd"]})
    assert not same_message(stored, {**stored, "attachments": [{"sha256": "s"}, "other"]})
