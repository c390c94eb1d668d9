"""The ledger of writes: every acknowledged write must be stored exactly once.

Each write the load sends carries its own ``message_id`` (the service's idempotency key for
``memory.add_message``), so a retry after a failover can be told from a second write. At the end
the suite reads every session back twice -- through the API and straight from the files under
the data root (the ff_utils JSONL reader, not a manager) -- and :func:`reconcile` compares:

* an acknowledged id missing from either is *lost*;
* any id stored more than once is *duplicated* (acknowledged or not);
* an id that was never acknowledged (its reply was lost in a fault) may be stored, once.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ff_utils.ff_file_ops import ff_safe_path
from ff_utils.ff_json_utils import ff_read_jsonl
from testing.suites._cross_system._samples import FFWriteLedgerResult

__all__ = ["FFWriteLedger", "SessionKey", "read_session_ids_from_disk", "reconcile"]

SessionKey = tuple[str, str]
"""(user_id, session_id)"""


@dataclass
class FFWriteLedger:
    """Which message ids were written where, and which were acknowledged."""

    acknowledged: dict[str, SessionKey] = field(default_factory=dict)
    unacknowledged: dict[str, SessionKey] = field(default_factory=dict)

    def record(self, message_id: str, where: SessionKey, acknowledged: bool) -> None:
        if acknowledged:
            self.unacknowledged.pop(message_id, None)
            self.acknowledged[message_id] = where
        elif message_id not in self.acknowledged:
            self.unacknowledged[message_id] = where

    @property
    def sessions(self) -> set[SessionKey]:
        return set(self.acknowledged.values()) | set(self.unacknowledged.values())


def _duplicates(stored: Mapping[SessionKey, Iterable[str]]) -> set[str]:
    counts: Counter[str] = Counter()
    for ids in stored.values():
        counts.update(ids)
    return {message_id for message_id, n in counts.items() if n > 1}


def reconcile(
    ledger: FFWriteLedger, via_api: Mapping[SessionKey, list[str]], on_disk: Mapping[SessionKey, list[str]]
) -> FFWriteLedgerResult:
    """Compare the ledger with what was read back (message ids per session, in stored order)."""

    def lost(stored: Mapping[SessionKey, list[str]]) -> tuple[str, ...]:
        present = {key: set(ids) for key, ids in stored.items()}
        return tuple(sorted(mid for mid, key in ledger.acknowledged.items() if mid not in present.get(key, set())))

    ours = set(ledger.acknowledged) | set(ledger.unacknowledged)
    api_dups = _duplicates(via_api) & ours
    disk_dups = _duplicates(on_disk) & ours
    stored_api = {mid for ids in via_api.values() for mid in ids}
    return FFWriteLedgerResult(
        acknowledged=len(ledger.acknowledged),
        lost=lost(via_api),
        duplicated=tuple(sorted(api_dups)),
        lost_on_disk=lost(on_disk),
        duplicated_on_disk=tuple(sorted(disk_dups)),
        unacknowledged_present=sum(1 for mid in ledger.unacknowledged if mid in stored_api),
    )


def read_session_ids_from_disk(root: Path, user_id: str, session_id: str) -> list[str]:
    """Message ids in a session's ``messages.jsonl``, in file order (a blocking read)."""
    path = ff_safe_path(root, "users", user_id, "sessions", session_id, "messages.jsonl")
    if not path.exists():
        return []
    return [record["message_id"] for record in ff_read_jsonl(path) if isinstance(record, dict) and "message_id" in record]


async def read_all_from_disk(root: Path, sessions: Iterable[SessionKey]) -> dict[SessionKey, list[str]]:
    return {key: await asyncio.to_thread(read_session_ids_from_disk, root, *key) for key in sessions}
