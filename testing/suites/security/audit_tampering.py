"""Audit-log tampering: someone with write access to the files edits the log behind the API's back.

The audit log is a hash chain with a head file (``ff_managers/_metrics/audit_chain.py``). Each attack
writes five records through ``audit()`` on a data root of its own (the shared root's audit log
is written by every test, so it is never touched), checks that ``verify_audit_log`` accepts the
untouched log, tampers with ``audit/audit.jsonl`` (and, where the attack says so, the head)
directly, and demands that verification fails and points at the first damaged position.
ASVS 4.0.3 V7.3.3 (security logs protected from modification).

Keyless (``sha256``) the chain catches piecemeal changes, including a forged record appended or
inserted with a valid hash while the head is left alone. An attacker who rewrites the log *and*
the head consistently is caught only in key mode (``metrics.audit_key``: HMAC-SHA256), so those
attacks run with a key kept beside the data root, never inside it, as the configuration demands.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import secrets
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from ff_utils.ff_file_ops import ff_atomic_write, ff_read_bytes, ff_safe_path
from ff_utils.ff_json_utils import ff_dumps, ff_loads
from testing._context import FFTestContext
from testing.runner import FFChecker
from testing.suites.security._support import FFAttack, FFObservation, scratch_dir, security_check

__all__ = [
    "tamper_edit",
    "tamper_edit_and_reseal",
    "tamper_delete",
    "tamper_reorder",
    "tamper_truncate",
    "tamper_append_forged",
    "tamper_insert_forged",
    "tamper_rewrite_with_head",
    "tamper_cut_with_head",
    "audit_edit_record",
    "audit_edit_and_reseal_record",
    "audit_delete_record",
    "audit_reorder_records",
    "audit_truncate_tail",
    "audit_append_forged_record",
    "audit_insert_forged_record",
    "audit_rewrite_log_and_head_with_key",
    "audit_cut_tail_and_head_with_key",
]

_RECORDS = 5
Tamper = Callable[[list[bytes]], list[bytes]]
HeadTamper = Callable[[list[bytes], dict[str, Any]], tuple[list[bytes], dict[str, Any]]]


def _sha256_sealed(body: dict[str, Any]) -> bytes:
    """A record sealed the way the keyless chain does: all an attacker without the key can do."""
    return ff_dumps({**body, "hash": hashlib.sha256(ff_dumps(body)).hexdigest()})


def _forged(after: bytes, **changes: Any) -> bytes:
    """A record that follows ``after`` in the chain (next seq, linked to its hash), with ``changes``."""
    previous = ff_loads(after)
    body = {key: value for key, value in previous.items() if key != "hash"}
    return _sha256_sealed({**body, "seq": previous["seq"] + 1, "prev_hash": previous["hash"], **changes})


def tamper_edit(lines: list[bytes]) -> list[bytes]:
    """Change record 2's target, keeping its stored hash."""
    record = ff_loads(lines[2])
    record["target"] = "nothing-to-see"
    return [*lines[:2], ff_dumps(record), *lines[3:]]


def tamper_edit_and_reseal(lines: list[bytes]) -> list[bytes]:
    """Change record 2's outcome and recompute its own hash the way the chain does."""
    record = ff_loads(lines[2])
    body = {key: value for key, value in record.items() if key != "hash"}
    body["outcome"] = "success"
    resealed = {**body, "hash": hashlib.sha256(ff_dumps(body)).hexdigest()}
    return [*lines[:2], ff_dumps(resealed), *lines[3:]]


def tamper_delete(lines: list[bytes]) -> list[bytes]:
    """Remove record 2."""
    return [*lines[:2], *lines[3:]]


def tamper_reorder(lines: list[bytes]) -> list[bytes]:
    """Swap records 1 and 3."""
    swapped = list(lines)
    swapped[1], swapped[3] = swapped[3], swapped[1]
    return swapped


def tamper_truncate(lines: list[bytes]) -> list[bytes]:
    """Drop the last record (the head still counts it)."""
    return lines[:-1]


def tamper_append_forged(lines: list[bytes]) -> list[bytes]:
    """Append a sixth record with a valid hash and link (seq 5), leaving the head untouched."""
    return [*lines, _forged(lines[-1], actor="mallory", outcome="success")]


def tamper_insert_forged(lines: list[bytes]) -> list[bytes]:
    """Insert a record with a valid hash at position 2, linked to record 1 (seq 2)."""
    return [*lines[:2], _forged(lines[1], actor="mallory", target="nothing-to-see"), *lines[2:]]


def tamper_rewrite_with_head(lines: list[bytes], head: dict[str, Any]) -> tuple[list[bytes], dict[str, Any]]:
    """Turn record 2's 'refused' into 'success', re-seal it and every later record, and rewrite
    the head to fit (count, last hash, no pending): consistent for anyone without the key."""
    records = [ff_loads(line) for line in lines]
    rewritten, prev = list(lines[:2]), records[1]["hash"]
    for record in records[2:]:
        body = {key: value for key, value in record.items() if key != "hash"}
        body.update(prev_hash=prev, outcome="success" if record["seq"] == 2 else body["outcome"])
        rewritten.append(_sha256_sealed(body))
        prev = ff_loads(rewritten[-1])["hash"]
    return rewritten, {**head, "count": len(rewritten), "last_hash": prev, "pending": None}


def tamper_cut_with_head(lines: list[bytes], head: dict[str, Any]) -> tuple[list[bytes], dict[str, Any]]:
    """Cut the last record and point the head at the new last one (its hash is in the log)."""
    kept = lines[:-1]
    return kept, {**head, "count": len(kept), "last_hash": ff_loads(kept[-1])["hash"], "pending": None}


def _log_only(tamper: Tamper) -> HeadTamper:
    return lambda lines, head: (tamper(lines), head)


@contextlib.asynccontextmanager
async def _audit_root(ctx: FFTestContext, label: str, *, keyed: bool) -> AsyncIterator[tuple[Any, Path]]:
    """A fresh metrics manager on a root of its own; ``keyed``: with a random audit key in a file
    beside the root (a key inside the root is refused by the configuration)."""
    folder = scratch_dir(ctx, label)
    root = folder / "root"
    config = ctx.config.with_base_path(root)
    if keyed:
        key_file = folder / "audit.key"
        await asyncio.to_thread(ff_atomic_write, key_file, secrets.token_hex(32).encode(), fsync=False)
        config.metrics.audit_key = None
        config.metrics.audit_key_file = key_file
    metrics = ctx.fresh_manager("metrics", config=config)
    await metrics.initialize()
    try:
        yield metrics, root
    finally:
        await metrics.shutdown()


async def _attack_audit(
    ctx: FFTestContext,
    check: FFChecker,
    seen: FFObservation,
    label: str,
    tamper: HeadTamper,
    expected_index: int | None,
    *,
    keyed: bool = False,
) -> None:
    async with _audit_root(ctx, label, keyed=keyed) as (metrics, root):
        for number in range(_RECORDS):
            outcome = "refused" if number == 2 else "success"
            await metrics.audit(f"user{number}", "tool.run", f"tool{number}", outcome, details={"n": number})
        clean = await metrics.verify_audit_log()
        check.require(clean.ok and clean.records_checked == _RECORDS, "precondition: the untouched log verifies", str(clean))
        log, head_file = ff_safe_path(root, "audit", "audit.jsonl"), ff_safe_path(root, "audit", "audit_head.json")

        def rewrite() -> tuple[int, int, bool]:
            lines, head = ff_read_bytes(log).splitlines(), ff_loads(ff_read_bytes(head_file))
            changed, new_head = tamper(lines, head)
            ff_atomic_write(log, b"".join(line + b"\n" for line in changed), fsync=False)
            if new_head != head:
                ff_atomic_write(head_file, ff_dumps(new_head), fsync=False)
            return len(lines), len(changed), new_head != head

        before, after, head_changed = await asyncio.to_thread(rewrite)
        verdict = await metrics.verify_audit_log()
    seen.note(f"untouched log: ok={clean.ok} over {clean.records_checked} records, mode={clean.mode}")
    seen.note(
        f"tampered audit.jsonl ({before} -> {after} lines{', head rewritten to fit' if head_changed else ', head untouched'}): "
        f"ok={verdict.ok}, first_bad_index={verdict.first_bad_index}, reason={verdict.reason!r}"
    )
    check.that(not verdict.ok, "verify_audit_log reports the tampering")
    check.equal(verdict.first_bad_index, expected_index, "it points at the first damaged position")
    if keyed:
        check.equal(verdict.mode, "hmac-sha256", "it checked with the audit key")


def _attack(check_id: str, name: str, attack: str, index: int | None, *, keyed: bool = False) -> FFAttack:
    where = "(5 records written through audit() with an audit key)" if keyed else "(5 records written through audit())"
    return FFAttack(
        check_id=check_id,
        name=name,
        category="log integrity",
        asvs_id="V7.3.3",
        attack=f"{attack} in audit/audit.jsonl {where}, by rewriting the files directly",
        expected=f"verify_audit_log returns ok=False with first_bad_index={index}" + (" in mode hmac-sha256" if keyed else ""),
    )


@security_check(_attack("SEC-AUD-01", "audit record edited", "change record 2's target, keeping its hash", 2), group="test_audit_tampering", components=("metrics",))
async def audit_edit_record(ctx: FFTestContext, check: FFChecker, seen: FFObservation) -> None:
    await _attack_audit(ctx, check, seen, "SEC-AUD-01", _log_only(tamper_edit), 2)


@security_check(
    _attack("SEC-AUD-02", "audit record edited and re-hashed", "turn record 2's outcome 'refused' into 'success' and recompute its hash", 3),
    group="test_audit_tampering",
    components=("metrics",),
)
async def audit_edit_and_reseal_record(ctx: FFTestContext, check: FFChecker, seen: FFObservation) -> None:
    await _attack_audit(ctx, check, seen, "SEC-AUD-02", _log_only(tamper_edit_and_reseal), 3)


@security_check(_attack("SEC-AUD-03", "audit record deleted", "delete record 2", 2), group="test_audit_tampering", components=("metrics",))
async def audit_delete_record(ctx: FFTestContext, check: FFChecker, seen: FFObservation) -> None:
    await _attack_audit(ctx, check, seen, "SEC-AUD-03", _log_only(tamper_delete), 2)


@security_check(_attack("SEC-AUD-04", "audit records reordered", "swap records 1 and 3", 1), group="test_audit_tampering", components=("metrics",))
async def audit_reorder_records(ctx: FFTestContext, check: FFChecker, seen: FFObservation) -> None:
    await _attack_audit(ctx, check, seen, "SEC-AUD-04", _log_only(tamper_reorder), 1)


@security_check(_attack("SEC-AUD-05", "audit log tail cut", "delete the last record", 4), group="test_audit_tampering", components=("metrics",))
async def audit_truncate_tail(ctx: FFTestContext, check: FFChecker, seen: FFObservation) -> None:
    await _attack_audit(ctx, check, seen, "SEC-AUD-05", _log_only(tamper_truncate), 4)


@security_check(
    _attack("SEC-AUD-06", "forged audit record appended", "append a record with a valid hash and link, head untouched,", 5),
    group="test_audit_tampering",
    components=("metrics",),
)
async def audit_append_forged_record(ctx: FFTestContext, check: FFChecker, seen: FFObservation) -> None:
    await _attack_audit(ctx, check, seen, "SEC-AUD-06", _log_only(tamper_append_forged), 5)


@security_check(
    _attack("SEC-AUD-07", "forged audit record inserted", "insert a record with a valid hash and link at position 2", 2),
    group="test_audit_tampering",
    components=("metrics",),
)
async def audit_insert_forged_record(ctx: FFTestContext, check: FFChecker, seen: FFObservation) -> None:
    await _attack_audit(ctx, check, seen, "SEC-AUD-07", _log_only(tamper_insert_forged), 2)


@security_check(
    _attack(
        "SEC-AUD-08",
        "audit log and head rewritten together",
        "turn record 2's 'refused' into 'success', re-seal it and every later record, and rewrite the head to fit,",
        2,
        keyed=True,
    ),
    group="test_audit_tampering",
    components=("metrics",),
)
async def audit_rewrite_log_and_head_with_key(ctx: FFTestContext, check: FFChecker, seen: FFObservation) -> None:
    await _attack_audit(ctx, check, seen, "SEC-AUD-08", tamper_rewrite_with_head, 2, keyed=True)


@security_check(
    _attack(
        "SEC-AUD-09",
        "audit tail cut and head rewritten to fit",
        "delete the last record and point the head at the new last one,",
        None,
        keyed=True,
    ),
    group="test_audit_tampering",
    components=("metrics",),
)
async def audit_cut_tail_and_head_with_key(ctx: FFTestContext, check: FFChecker, seen: FFObservation) -> None:
    await _attack_audit(ctx, check, seen, "SEC-AUD-09", tamper_cut_with_head, None, keyed=True)
