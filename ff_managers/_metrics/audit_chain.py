"""The audit log's chain: sealing a record and the head, and verifying a sequence of records.

Each record is a JSON object whose keys, in this order, are::

    v, seq, ts, actor, action, target, outcome, details, prev_hash, hash

``hash`` is the digest of the record's other fields serialised exactly as they are stored
(orjson, key order as written): SHA-256, or HMAC-SHA256 when an audit key is configured (see
audit_seal.py). ``prev_hash`` is the previous record's ``hash`` (64 zeros for the first) and
``seq`` the record's 0-based position. A separate head is kept beside the log, because a chain
alone cannot show that records were cut off its end or added to it::

    {schema_version, mode, key_id, count, last_hash, pending, updated_at, mac}

The head and the log must agree: the log holds exactly ``count`` records and the last one's hash
is ``last_hash``. The append is two-phase so that a crash cannot leave a state an attacker could
also produce: the head first records the hash of the record about to be appended (``pending``),
then the record is appended, then the head moves to it. So a log one record longer than the head
is accepted only when that record is the pending one (a crash between append and head update,
flagged ``head_lagging``); a record appended behind the head's back, even with a valid hash and
link, is reported at its position. In key mode the head carries ``mac`` (HMAC-SHA256 of its other
fields but ``updated_at``), so it cannot be rewritten to fit a cut or extended log either.

What verification catches, and where it points (``first_bad_index``):

* a changed byte: the line no longer parses, or its content no longer matches its ``hash``;
* a deleted, inserted or reordered record: ``seq`` differs from the position, or the
  ``prev_hash`` link to the record before breaks (an inserted record that copies its
  neighbour's place is reported where it was inserted);
* a truncated tail or an appended record: a torn last line, or a record count or last hash that
  differs from the head's.

Limits, stated plainly: without a key, someone who rewrites the whole file *and* the head
consistently is not caught. With a key, nobody without it can forge a record or the head, but
an old copy of the whole audit folder can still be put back (a rollback): that needs an anchor
outside the machine. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from ff_managers._metrics.audit_seal import AuditMode, FFAuditSeal
from ff_utils.ff_json_utils import ff_dumps

__all__ = [
    "AUDIT_SCHEMA_VERSION",
    "HEAD_SCHEMA_VERSION",
    "GENESIS_HASH",
    "FFAuditHead",
    "FFChainEntry",
    "FFChainVerdict",
    "record_digest",
    "seal_record",
    "head_after",
    "head_from_json",
    "head_to_json",
    "head_is_sealed",
    "reconcile_head",
    "verify_chain",
]

AUDIT_SCHEMA_VERSION = 1
HEAD_SCHEMA_VERSION = 2
GENESIS_HASH = "0" * 64
_PLAIN = FFAuditSeal()


@dataclass(frozen=True, slots=True)
class FFAuditHead:
    """How many records the log holds, the last one's hash, and how the log is sealed.

    ``pending`` is the hash of a record being appended (set before the append, cleared after);
    ``mac`` is the head's own HMAC in key mode (None otherwise, and for heads built in memory).
    """

    count: int = 0
    last_hash: str = GENESIS_HASH
    pending: str | None = None
    mode: AuditMode = "sha256"
    key_id: str | None = None
    mac: str | None = None


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
    mode: AuditMode = "sha256"


def record_digest(body: dict[str, Any], seal: FFAuditSeal = _PLAIN) -> str:
    """The digest (hex) of a record without its ``hash`` field, serialised as stored."""
    return seal.digest(ff_dumps(body))


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
    seal: FFAuditSeal = _PLAIN,
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
    return {**body, "hash": record_digest(body, seal)}


def head_after(record: dict[str, Any], seal: FFAuditSeal = _PLAIN) -> FFAuditHead:
    """The head once ``record`` is the last one in the log."""
    return FFAuditHead(count=int(record["seq"]) + 1, last_hash=str(record["hash"]), mode=seal.mode, key_id=seal.key_id)


def _head_body(head: FFAuditHead) -> dict[str, Any]:
    return {
        "schema_version": HEAD_SCHEMA_VERSION,
        "mode": head.mode,
        "key_id": head.key_id,
        "count": head.count,
        "last_hash": head.last_hash,
        "pending": head.pending,
    }


def head_to_json(head: FFAuditHead, seal: FFAuditSeal, updated_at: str) -> dict[str, Any]:
    """The head as stored, in ``seal``'s mode (with its MAC in key mode)."""
    body = _head_body(replace(head, mode=seal.mode, key_id=seal.key_id))
    mac = seal.digest(ff_dumps(body)) if seal.key is not None else None
    return {**body, "updated_at": updated_at, "mac": mac}


def head_is_sealed(head: FFAuditHead, seal: FFAuditSeal) -> bool:
    """True when ``head`` carries a valid MAC under ``seal``'s key (always True without a key)."""
    return seal.key is None or seal.matches(ff_dumps(_head_body(head)), head.mac)


def _is_hex64(value: object) -> bool:
    return isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)


def head_from_json(data: Any) -> FFAuditHead:
    """Parse the stored head (schema 1 or 2); ValueError when it is not one."""
    if not isinstance(data, dict):
        raise ValueError("audit head is not a JSON object")
    count, last_hash = data.get("count"), data.get("last_hash")
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"audit head count {count!r} is not a non-negative integer")
    if not _is_hex64(last_hash):
        raise ValueError("audit head last_hash is not a hex SHA-256")
    pending, mode, key_id, mac = data.get("pending"), data.get("mode", "sha256"), data.get("key_id"), data.get("mac")
    if pending is not None and not _is_hex64(pending):
        raise ValueError("audit head pending is not a hex SHA-256")
    if mode not in ("sha256", "hmac-sha256"):
        raise ValueError(f"audit head mode {mode!r} is not sha256 or hmac-sha256")
    if not (key_id is None or isinstance(key_id, str)) or not (mac is None or isinstance(mac, str)):
        raise ValueError("audit head key_id and mac must be text or null")
    return FFAuditHead(count, last_hash, pending, mode, key_id, mac)


def reconcile_head(head: FFAuditHead | None, tail: Any, seal: FFAuditSeal = _PLAIN) -> FFAuditHead:
    """The head to chain the next record from, given the stored head and the log's last record.

    * The head names a pending record and the log's last record is that record, intact and
      linked to the head: a crash came between the append and the head update, so the head
      moves forward to it. A pending record that never reached the log is simply dropped.
    * The head is missing: continue after the last intact record (or from the start); the
      missing head itself is what ``verify_chain`` reports.
    * Anything else: trust the head. If the log was cut, extended or edited, the next record
      then carries a sequence number and link that do not fit, so the damage stays visible
      instead of being papered over by a chain that restarts from the damaged tail.
    """
    intact = tail if isinstance(tail, dict) and _check_self(tail, seal) else None
    if head is None:
        return head_after(intact, seal) if intact is not None else FFAuditHead(mode=seal.mode, key_id=seal.key_id)
    if (
        head.pending is not None
        and intact is not None
        and intact.get("hash") == head.pending
        and intact.get("seq") == head.count
        and intact.get("prev_hash") == head.last_hash
    ):
        return head_after(intact, seal)
    return replace(head, pending=None, mac=None)


def _check_self(record: dict[str, Any], seal: FFAuditSeal) -> bool:
    """True when ``record`` has an int ``seq`` and its content matches its own hash."""
    if not isinstance(record.get("hash"), str) or isinstance(record.get("seq"), bool) or not isinstance(record.get("seq"), int):
        return False
    body = {key: value for key, value in record.items() if key != "hash"}
    return seal.matches(ff_dumps(body), record["hash"])


def _check_record(record: Any, index: int, expected_prev: str, seal: FFAuditSeal) -> str | None:
    """Why ``record`` at position ``index`` breaks the chain, or None when it fits."""
    if not isinstance(record, dict) or not isinstance(record.get("hash"), str):
        return "record is not an audit record (no hash field)"
    body = {key: value for key, value in record.items() if key != "hash"}
    if not seal.matches(ff_dumps(body), record["hash"]):
        if seal.key is None:
            return "record content does not match its hash (edited)"
        return "record does not match its HMAC under the configured key (edited, forged, or sealed without this key)"
    seq = record.get("seq")
    if seq != index:
        return f"sequence number {seq!r} at position {index} (a record was deleted, inserted or reordered)"
    if record.get("prev_hash") != expected_prev:
        return "link to the previous record is broken (a record before it was deleted, inserted or replaced)"
    return None


def _mode_problem(head: FFAuditHead | None, seal: FFAuditSeal) -> str | None:
    """Why this log cannot be checked with ``seal`` at all (no key, or another key), or None."""
    if head is None or head.mode != "hmac-sha256":
        return None
    if seal.key is None:
        return "the log is sealed with an audit key (hmac-sha256) but none is configured (metrics.audit_key)"
    if head.key_id != seal.key_id:
        return f"the log is sealed with another audit key (key id {head.key_id!r}; the configured key's id is {seal.key_id!r})"
    return None


def verify_chain(entries: Iterable[FFChainEntry], head: FFAuditHead | None, seal: FFAuditSeal = _PLAIN) -> FFChainVerdict:
    """Check every entry in order against the chain rules and the head; stop at the first break.

    ``head`` None means the head file is missing: an empty log is then fine, a non-empty one is
    not (its tail could have been cut). A log one record longer than the head is accepted only
    when that record is the head's ``pending`` one, and flagged ``head_lagging``: the state a
    crash between the append and the head update leaves (the next append repairs it).
    """
    mode = seal.mode
    problem = _mode_problem(head, seal)
    if problem is not None:
        return FFChainVerdict(False, 0, None, problem, mode=mode)
    expected_prev = GENESIS_HASH
    last_prev = GENESIS_HASH  # prev_hash of the latest record: what the head pointed at before it
    last_record: Any = None
    index = 0
    for entry in entries:
        if entry.bad_reason is not None:
            what = "truncated record (torn last line)" if entry.torn else f"unreadable record: {entry.bad_reason}"
            return FFChainVerdict(False, index, index, what, mode=mode)
        problem = _check_record(entry.record, index, expected_prev, seal)
        if problem is not None:
            record = entry.record
            if index > 0 and isinstance(record, dict) and record.get("seq") == index - 1 and record.get("prev_hash") == last_prev:
                # Two records claim the same place after the same predecessor: the earlier one was
                # put in front of this one (the later one is what was there before).
                why = f"records at positions {index - 1} and {index} both claim sequence number {index - 1} (one was inserted)"
                return FFChainVerdict(False, index - 1, index - 1, why, mode=mode)
            return FFChainVerdict(False, index, index, problem, mode=mode)
        last_prev, expected_prev = entry.record["prev_hash"], entry.record["hash"]
        last_record = entry.record
        index += 1
    if head is None:
        if index == 0:
            return FFChainVerdict(True, 0, mode=mode)
        return FFChainVerdict(False, index, None, "audit head is missing, so a truncated tail cannot be ruled out", mode=mode)
    if not head_is_sealed(head, seal):
        return FFChainVerdict(False, index, None, "audit head does not match its HMAC under the configured key (rewritten)", mode=mode)
    if head.count > index:
        return FFChainVerdict(
            False, index, index, f"log ends after {index} records but the head counts {head.count} (tail truncated)", mode=mode
        )
    if head.count == index:
        if head.last_hash != expected_prev:
            bad = index - 1 if index else None
            return FFChainVerdict(False, index, bad, "last record differs from the head's hash (tail replaced)", mode=mode)
        return FFChainVerdict(True, index, mode=mode)
    lagging = (
        head.count == index - 1
        and head.pending is not None
        and last_record["hash"] == head.pending
        and last_prev == head.last_hash
    )
    if lagging:
        return FFChainVerdict(True, index, head_lagging=True, mode=mode)
    return FFChainVerdict(
        False,
        head.count,
        head.count,
        f"log holds {index} records but the head counts {head.count} (records appended outside the audit API)",
        mode=mode,
    )
