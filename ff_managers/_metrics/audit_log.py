"""The audit log on disk: the atomic append of a sealed record, the tail, and verification.

Layout (under the data root)::

    audit/audit.jsonl         hash-chained records (the chain rules are in audit_chain.py)
    audit/audit_head.json     {schema_version, mode, key_id, count, last_hash, pending, updated_at, mac}

The append is atomic across processes: the lock of ``audit_head.json`` is held around "read
head, read the log's last record, write the head with the new record as ``pending``, append the
sealed record, write the head moved to it" (two-phase, so a crash leaves a state no attacker can
fake: see audit_chain.py). Records and head are sealed with SHA-256, or HMAC-SHA256 when an
audit key is configured (audit_seal.py); a log sealed in another mode or with another key is
not appended to (FFConflictError), since the result could never verify. The head is
written with ``FFStore.write_json`` (which takes no lock) and the log with ``FFStore.append``
(which takes the log's own lock), so no lock is taken twice. Verification holds the same lock,
so it sees a consistent log and head. Both files go through the audit store
(``FFStore.with_settings(durability=audit_durability)``, ``always`` by default: security evidence).
"""

from __future__ import annotations

from collections import deque
from dataclasses import replace
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from ff_class_configs.ff_metrics_config import FFMetricsConfigDTO
from ff_class_configs.ff_metrics_dtos import FFAuditRecordDTO, FFAuditVerificationDTO
from ff_managers._core.checks import check_json_object, check_text
from ff_managers._metrics.audit_chain import (
    FFAuditHead,
    FFChainEntry,
    head_after,
    head_from_json,
    head_is_sealed,
    head_to_json,
    reconcile_head,
    seal_record,
    verify_chain,
)
from ff_managers._metrics.audit_seal import FFAuditSeal
from ff_managers._metrics.buckets import to_utc
from ff_managers._metrics.checks import validate_event_type
from ff_managers._metrics.counts import FFWorkCounts
from ff_utils.ff_errors import FFConflictError, FFCorruptionError
from ff_utils.ff_json_utils import FFBadLine
from ff_utils.ff_store import FFStore

__all__ = ["FFAuditLog"]


class FFAuditLog:
    """Checks, appends, reads and verifies the hash-chained audit log."""

    def __init__(self, store: FFStore, settings: FFMetricsConfigDTO, counts: FFWorkCounts, seal: FFAuditSeal) -> None:
        self._store = store
        self._settings = settings
        self._counts = counts
        self._seal = seal

    @property
    def mode(self) -> str:
        return self._seal.mode

    @property
    def enabled(self) -> bool:
        return self._settings.audit_enabled

    def _log_path(self) -> Path:
        return self._store.path("audit", "audit.jsonl")

    def _head_path(self) -> Path:
        return self._store.path("audit", "audit_head.json")

    def check_fields(self, actor: object, action: object, target: object, outcome: object, details: object) -> dict[str, Any]:
        """The record's fields, validated; FFValidationError for a bad one, FFConflictError when disabled."""
        fields = {
            "actor": check_text(actor, field="actor", max_chars=256, single_line=True),
            "action": validate_event_type(action, "action"),
            "target": check_text(target, field="target", max_chars=1024, single_line=True),
            "outcome": validate_event_type(outcome, "outcome"),
            "details": check_json_object(details, field="details", max_bytes=self._settings.max_event_data_bytes),
        }
        if not self._settings.audit_enabled:
            raise FFConflictError("the audit log is disabled (metrics.audit_enabled = false)")
        return fields

    def _read_head(self) -> FFAuditHead | None:
        path = self._head_path()
        data = self._store.read_json(path, None)
        if data is None:
            return None
        try:
            return head_from_json(data)
        except ValueError as exc:
            raise FFCorruptionError(f"audit head unreadable: {exc}", path=path) from exc

    def append(self, fields: dict[str, Any], moment: datetime) -> FFAuditRecordDTO:
        """Seal ``fields`` (from :meth:`check_fields`) onto the chain and return the record.

        FFConflictError when the log was sealed in another mode or with another key.
        """
        log_path, head_path, seal = self._log_path(), self._head_path(), self._seal
        with self._store.lock(head_path):
            # A crash mid-append can leave a torn last line; drop it so the chain continues on a
            # fresh line. A tail cut by someone else stays visible: the head still counts it.
            self._store.repair_jsonl(log_path)
            stored = self._read_head()
            self._refuse_other_seal(stored)
            tail = next(iter(self._store.tail_jsonl(log_path, 1)), None)
            self._refuse_forged_head(stored, tail)
            head = reconcile_head(stored, tail, seal)
            when = to_utc(moment).isoformat()
            record = seal_record(seq=head.count, timestamp=when, prev_hash=head.last_hash, seal=seal, **fields)
            self._store.write_json(head_path, head_to_json(replace(head, pending=record["hash"]), seal, when))
            self._store.append(log_path, record)
            self._store.write_json(head_path, head_to_json(head_after(record, seal), seal, when))
        self._counts.bump("audit_records")
        return self._store.load(FFAuditRecordDTO, record, log_path)

    def _refuse_other_seal(self, head: FFAuditHead | None) -> None:
        """FFConflictError when a non-empty log is sealed in another mode or with another key."""
        seal = self._seal
        if head is None or head.count == 0 or (head.mode, head.key_id) == (seal.mode, seal.key_id):
            return
        raise FFConflictError(
            f"the audit log is sealed with {head.mode} (key id {head.key_id!r}) but {seal.mode} (key id "
            f"{seal.key_id!r}) is configured; configure the same key, or move audit/ aside to start a new log",
            path=self._head_path(),
        )

    def _refuse_forged_head(self, head: FFAuditHead | None, tail: Any) -> None:
        """In key mode, FFCorruptionError for a head without a valid MAC, or none beside records.

        Chaining on from such a head would seal it anew and so launder the damage (a tail cut
        with the head rewritten to fit would verify from then on). Without a key there is
        nothing to check: anyone can write a plausible head, as the chain's limits say.
        """
        if self._seal.key is None:
            return
        if head is None and tail is not None:
            raise FFCorruptionError("audit head is missing while the log holds records; appends are refused", path=self._head_path())
        if head is not None and not head_is_sealed(head, self._seal):
            raise FFCorruptionError(
                "audit head does not match its HMAC under the configured key (rewritten); appends are refused",
                path=self._head_path(),
            )

    def tail(self, limit: int) -> list[FFAuditRecordDTO]:
        """The last ``limit`` lines that are audit records, oldest first (verify reports the rest)."""
        log_path = self._log_path()
        found = (self._audit_dto(record, log_path) for record in self._store.tail_jsonl(log_path, limit))
        return [dto for dto in found if dto is not None]

    def _audit_dto(self, record: Any, log_path: Path) -> FFAuditRecordDTO | None:
        """A stored audit record as a DTO, or None for a line that is not one (verify reports those)."""
        try:
            return self._store.load(FFAuditRecordDTO, record, log_path)
        except FFCorruptionError:
            return None

    def verify(self) -> FFAuditVerificationDTO:
        """Check the whole chain and the head under the audit lock (see audit_chain.verify_chain)."""
        log_path, head_path = self._log_path(), self._head_path()
        with self._store.lock(head_path):
            try:
                head = self._read_head()
            except FFCorruptionError as exc:
                return FFAuditVerificationDTO(ok=False, records_checked=0, reason=str(exc.message), mode=self._seal.mode)
            verdict = verify_chain(_chain_entries(self._store, log_path), head, self._seal)
        return FFAuditVerificationDTO(
            ok=verdict.ok,
            records_checked=verdict.records_checked,
            first_bad_index=verdict.first_bad_index,
            reason=verdict.reason,
            head_count=head.count if head is not None else None,
            head_lagging=verdict.head_lagging,
            mode=verdict.mode,
        )


def _chain_entries(store: FFStore, log_path: Path) -> Iterator[FFChainEntry]:
    """Every line of the audit log in order, as parsed records or bad lines, in constant memory."""
    pending: deque[FFChainEntry] = deque()

    def on_bad_line(bad: FFBadLine) -> None:
        pending.append(FFChainEntry(bad_reason=bad.reason, torn=bad.torn))

    for record in store.read_jsonl(log_path, on_bad_line=on_bad_line):
        while pending:  # bad lines before this record were reported before it was yielded
            yield pending.popleft()
        yield FFChainEntry(record=record)
    yield from pending
