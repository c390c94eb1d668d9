"""Which message ids a session's log already holds, so add_message with a known id is idempotent.

A client that retries ``add_message(message_id=...)`` after a timeout must not get a second copy.
Checking the whole log on every write would make an append cost grow with the session, so the
ids are kept in memory per session: built from the log the first time a caller names an id in
that session, then updated by every append this process makes. Sessions nobody names an id in
cost nothing. Memory is bounded: at most ``max_ids`` ids over all cached sessions, least recently
used sessions dropped first (they are rebuilt from the log when needed again).

Other processes append to the same logs, so a cached set is trusted only while the log's
(inode, size, mtime) is what this process saw after its own last append; anything else, another
writer or a rewrite, rebuilds it. Every append to a session (from any process running this
code) happens under the lock of the session's log (:meth:`FFMessageIdIndex.lock_path`), so "is
the id new?" and "append it" are one step across processes, and a stat taken under that lock
cannot miss a concurrent writer. It is the log's own lock, the one every append to the file
takes: the appender sees that this thread already holds it and does not take it again (one
``flock`` per append; there used to be a separate id lock taken around the log's lock).

Whether a repeated id carries the *same* message is decided on the stored record, read back
from the log (:meth:`FFMessageIdIndex.find`): only on a repeat, which is the rare path.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ff_utils.ff_store import FFStore

__all__ = ["FFMessageIdIndex", "same_message"]

_COMPARED = ("role", "content", "metadata")

Stamp = tuple[int, int, int]


def same_message(stored: Any, new: dict[str, Any]) -> bool:
    """True when ``stored`` (a record from the log) has ``new``'s role, content, metadata and attachments.

    Attachment ids are not compared: a retry with attachment bytes gets fresh ids for the same
    bytes, and the bytes themselves are compared through their SHA-256 and size.
    """
    if not isinstance(stored, dict) or any(stored.get(key) != new.get(key) for key in _COMPARED):
        return False
    return _attachments(stored.get("attachments")) == _attachments(new.get("attachments"))


def _attachments(value: Any) -> list[Any]:
    if not isinstance(value, list):
        return [value]
    return [{k: v for k, v in a.items() if k != "attachment_id"} if isinstance(a, dict) else a for a in value]


@dataclass(slots=True)
class _Known:
    stamp: Stamp | None
    ids: set[str] = field(default_factory=set)


def _stamp(log: Path) -> Stamp | None:
    try:
        info = os.lstat(log)
    except FileNotFoundError:
        return None
    return (info.st_ino, info.st_size, info.st_mtime_ns)


class FFMessageIdIndex:
    """Per-session sets of stored message ids, bounded, rebuilt from the log when stale."""

    def __init__(self, store: FFStore, *, max_ids: int = 250_000) -> None:
        self.store = store
        self.max_ids = max_ids
        self._sessions: OrderedDict[Path, _Known] = OrderedDict()
        self._total = 0

    @staticmethod
    def lock_path(log: Path) -> Path:
        """The path whose lock is held around "check the ids, append" for the session of ``log``:
        the log itself (see the module docstring)."""
        return log

    def ids(self, log: Path) -> set[str]:
        """Every message id in ``log`` (call under the log's lock)."""
        stamp = _stamp(log)
        known = self._sessions.get(log)
        if known is not None and known.stamp == stamp:
            self._sessions.move_to_end(log)
            return known.ids
        self.forget(log)
        ids = {r["message_id"] for r in self.store.read_jsonl(log, on_bad_line=_ignore) if _has_id(r)}
        self._sessions[log] = _Known(stamp, ids)
        self._total += len(ids)
        self._shrink(keep=log)
        return ids

    def appended(self, log: Path, message_ids: Iterable[str]) -> None:
        """Record this process's append to ``log`` (call under the log's lock, after the append)."""
        known = self._sessions.get(log)
        if known is None:
            return  # nobody asked about this session yet: it is built from the log when they do
        before = len(known.ids)
        known.ids.update(message_ids)
        known.stamp = _stamp(log)
        self._total += len(known.ids) - before
        self._shrink(keep=log)

    def forget(self, log: Path) -> None:
        known = self._sessions.pop(log, None)
        if known is not None:
            self._total -= len(known.ids)

    def find(self, log: Path, message_id: str) -> Any:
        """The stored record with ``message_id`` (the first one), or None."""
        for record in self.store.read_jsonl(log, on_bad_line=_ignore):
            if _has_id(record) and record["message_id"] == message_id:
                return record
        return None

    def _shrink(self, *, keep: Path) -> None:
        while self._total > self.max_ids and len(self._sessions) > 1:
            oldest = next(iter(self._sessions))
            if oldest == keep:
                self._sessions.move_to_end(keep)
                continue
            self.forget(oldest)


def _has_id(record: Any) -> bool:
    return isinstance(record, dict) and isinstance(record.get("message_id"), str)


def _ignore(_bad: object) -> None:
    """Bad lines are reported by the readers that return messages; the id scan only skips them."""
