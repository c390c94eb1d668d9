"""The audit log's hash chain: sealing a record and verifying a sequence of them.

Each record is a JSON object whose keys, in this order, are::

    v, seq, ts, actor, action, target, outcome, details, prev_hash, hash

``hash`` is the SHA-256 of the record's other fields serialised exactly as they are stored
(orjson, key order as written), and ``prev_hash`` is the previous record's ``hash`` (64 zeros for
the first). ``seq`` is the record's 0-based position. A separate head (``count``, ``last_hash``)
is kept beside the log, because a chain alone cannot show that records were cut off its end.

What verification catches, and where it points (``first_bad_index``):

* a changed byte: the line no longer parses, or its content no longer matches its ``hash``;
* a deleted, inserted or reordered record: ``seq`` differs from the position, or the
  ``prev_hash`` link to the record before breaks;
* a truncated tail: a torn last line, or fewer records than the head counts, or a last hash
  that differs from the head's.

Limits, stated plainly: the chain is keyless, so someone who can rewrite the whole file *and*
the head consistently is not caught; it proves the log was not altered piecemeal, which is what
an append-only local audit trail can prove. Pure: no I/O.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ff_utils.ff_json_utils import ff_dumps

__all__ = [
    "AUDIT_SCHEMA_VERSION",
    "GENESIS_HASH",
    "FFAuditHead",
    "FFChainEntry",
    "FFChainVerdict",
    "record_digest",
    "seal_record",
    "head_after",
    "head_from_json",
    "reconcile_head",
    "verify_chain",
]

AUDIT_SCHEMA_VERSION = 1
GENESIS_HASH = "0" * 64


@dataclass(frozen=True, slots=True)
class FFAuditHead:
    """How many records the log holds and the hash of the last one."""

    count: int = 0
    last_hash: str = GENESIS_HASH


@dataclass(frozen=True, slots=True)
class FFChainEntry:
    """One line of the log as read: a parsed record, or why the line could not be parsed."""

    record: Any = None
    bad_reason: str | None = None
    torn: bool = False


@dataclass(frozen=True, slots=True)
class FFChainVerdict:
    """The outcome of :func:`verify_chain`."""

    ok: bool
    records_checked: int
    first_bad_index: int | None = None
    reason: str | None = None
    head_lagging: bool = False


def record_digest(body: dict[str, Any]) -> str:
    """SHA-256 (hex) of a record without its ``hash`` field, serialised as stored."""
    return hashlib.sha256(ff_dumps(body)).hexdigest()


def seal_record(
    *,
    seq: int,
    timestamp: str,
    actor: str,
    action: str,
    target: str,
    outcome: str,
    details: dict[str, Any],
    prev_hash: str,
) -> dict[str, Any]:
    """A complete audit record chained to ``prev_hash``."""
    body: dict[str, Any] = {
        "v": AUDIT_SCHEMA_VERSION,
        "seq": seq,
        "ts": timestamp,
        "actor": actor,
        "action": action,
        "target": target,
        "outcome": outcome,
        "details": details,
        "prev_hash": prev_hash,
    }
    return {**body, "hash": record_digest(body)}


def head_after(record: dict[str, Any]) -> FFAuditHead:
    """The head once ``record`` is the last one in the log."""
    return FFAuditHead(count=int(record["seq"]) + 1, last_hash=str(record["hash"]))


def head_from_json(data: Any) -> FFAuditHead:
    """Parse the stored head; ValueError if it is not ``{"count": int >= 0, "last_hash": hex64}``."""
    if not isinstance(data, dict):
        raise ValueError("audit head is not a JSON object")
    count, last_hash = data.get("count"), data.get("last_hash")
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"audit head count {count!r} is not a non-negative integer")
    if not isinstance(last_hash, str) or len(last_hash) != 64 or any(c not in "0123456789abcdef" for c in last_hash):
        raise ValueError("audit head last_hash is not a hex SHA-256")
    return FFAuditHead(count, last_hash)


def reconcile_head(head: FFAuditHead | None, tail: Any) -> FFAuditHead:
    """The head to chain the next record from, given the stored head and the log's last record.

    * The head is one record behind and the last record is intact and links to it: a crash came
      between an append and the head update, so the head moves forward to that record.
    * The head is missing: continue after the last intact record (or from the start); the
      missing head itself is what ``verify_chain`` reports.
    * Anything else: trust the head. If the log was cut or edited, the next record then carries
      a sequence number and link that do not fit, so the damage stays visible instead of being
      papered over by a chain that restarts from the damaged tail.
    """
    intact = tail if isinstance(tail, dict) and _check_self(tail) else None
    if head is None:
        return head_after(intact) if intact is not None else FFAuditHead()
    if intact is not None and intact.get("seq") == head.count and intact.get("prev_hash") == head.last_hash:
        return head_after(intact)
    return head


def _check_self(record: dict[str, Any]) -> bool:
    """True when ``record`` has an int ``seq`` and its content matches its own hash."""
    if not isinstance(record.get("hash"), str) or isinstance(record.get("seq"), bool) or not isinstance(record.get("seq"), int):
        return False
    body = {key: value for key, value in record.items() if key != "hash"}
    return record_digest(body) == record["hash"]


def _check_record(record: Any, index: int, expected_prev: str) -> str | None:
    """Why ``record`` at position ``index`` breaks the chain, or None when it fits."""
    if not isinstance(record, dict) or not isinstance(record.get("hash"), str):
        return "record is not an audit record (no hash field)"
    body = {key: value for key, value in record.items() if key != "hash"}
    if record_digest(body) != record["hash"]:
        return "record content does not match its hash (edited)"
    seq = record.get("seq")
    if seq != index:
        return f"sequence number {seq!r} at position {index} (a record was deleted, inserted or reordered)"
    if record.get("prev_hash") != expected_prev:
        return "link to the previous record is broken (a record before it was deleted, inserted or replaced)"
    return None


def verify_chain(entries: Iterable[FFChainEntry], head: FFAuditHead | None) -> FFChainVerdict:
    """Check every entry in order against the chain rules and the head; stop at the first break.

    ``head`` None means the head file is missing: an empty log is then fine, a non-empty one is
    not (its tail could have been cut). A head exactly one record behind the log, whose last
    hash the final record links to, is accepted and flagged ``head_lagging``: that is the state a
    crash between the append and the head update leaves, and the next append repairs it.
    """
    expected_prev = GENESIS_HASH
    last_prev = GENESIS_HASH  # prev_hash of the final record: what the head pointed at before it
    index = 0
    for entry in entries:
        if entry.bad_reason is not None:
            what = "truncated record (torn last line)" if entry.torn else f"unreadable record: {entry.bad_reason}"
            return FFChainVerdict(False, index, index, what)
        problem = _check_record(entry.record, index, expected_prev)
        if problem is not None:
            return FFChainVerdict(False, index, index, problem)
        last_prev, expected_prev = expected_prev, entry.record["hash"]
        index += 1
    if head is None:
        if index == 0:
            return FFChainVerdict(True, 0)
        return FFChainVerdict(False, index, None, "audit head is missing, so a truncated tail cannot be ruled out")
    if head.count > index:
        return FFChainVerdict(
            False, index, index, f"log ends after {index} records but the head counts {head.count} (tail truncated)"
        )
    if head.count == index:
        if head.last_hash != expected_prev:
            return FFChainVerdict(False, index, index - 1 if index else None, "last record differs from the head's hash (tail replaced)")
        return FFChainVerdict(True, index)
    if head.count == index - 1 and last_prev == head.last_hash:
        return FFChainVerdict(True, index, head_lagging=True)
    return FFChainVerdict(
        False, index, head.count, f"log holds {index} records but the head counts {head.count} (records appended outside the audit API)"
    )

