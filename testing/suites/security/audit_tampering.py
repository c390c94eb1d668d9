"""Audit-log tampering: someone with write access to the files edits the log behind the API's back.

The audit log is a hash chain with a head file (``ff_managers/_metrics/audit_chain.py``). Each attack
writes five records through ``audit()`` on a data root of its own (the shared root's audit log
is written by every test, so it is never touched), checks that ``verify_audit_log`` accepts the
untouched log, tampers with ``audit/audit.jsonl`` directly, and demands that verification fails
and points at the first damaged position. ASVS 4.0.3 V7.3.3 (security logs protected from
modification): a piecemeal change must at least be detected.

Stated limit of the design, not tested here because it cannot pass: the chain is keyless, so an
attacker who rewrites the whole log *and* the head consistently is not detected.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable

from ff_utils.ff_file_ops import ff_atomic_write, ff_read_bytes, ff_safe_path
from ff_utils.ff_json_utils import ff_dumps, ff_loads
from testing._context import FFTestContext
from testing.runner import FFChecker
from testing.suites.security._support import FFAttack, FFObservation, sandbox_root, security_check

__all__ = [
    "tamper_edit",
    "tamper_edit_and_reseal",
    "tamper_delete",
    "tamper_reorder",
    "tamper_truncate",
    "audit_edit_record",
    "audit_edit_and_reseal_record",
    "audit_delete_record",
    "audit_reorder_records",
    "audit_truncate_tail",
]

_RECORDS = 5
Tamper = Callable[[list[bytes]], list[bytes]]


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


async def _attack_audit(
    ctx: FFTestContext, check: FFChecker, seen: FFObservation, label: str, tamper: Tamper, expected_index: int
) -> None:
    async with sandbox_root(ctx, label, "metrics") as box:
        metrics = box["metrics"]
        for number in range(_RECORDS):
            outcome = "refused" if number == 2 else "success"
            await metrics.audit(f"user{number}", "tool.run", f"tool{number}", outcome, details={"n": number})
        clean = await metrics.verify_audit_log()
        check.require(clean.ok and clean.records_checked == _RECORDS, "precondition: the untouched log verifies", str(clean))
        log = ff_safe_path(box.root, "audit", "audit.jsonl")

        def rewrite() -> tuple[int, int]:
            lines = ff_read_bytes(log).splitlines()
            changed = tamper(lines)
            ff_atomic_write(log, b"".join(line + b"\n" for line in changed), fsync=False)
            return len(lines), len(changed)

        before, after = await asyncio.to_thread(rewrite)
        verdict = await metrics.verify_audit_log()
    seen.note(f"untouched log: ok={clean.ok} over {clean.records_checked} records")
    seen.note(f"tampered audit.jsonl ({before} -> {after} lines): ok={verdict.ok}, first_bad_index={verdict.first_bad_index}, reason={verdict.reason!r}")
    check.that(not verdict.ok, "verify_audit_log reports the tampering")
    check.equal(verdict.first_bad_index, expected_index, "it points at the first damaged position")


def _attack(check_id: str, name: str, attack: str, index: int) -> FFAttack:
    return FFAttack(
        check_id=check_id,
        name=name,
        category="log integrity",
        asvs_id="V7.3.3",
        attack=attack + " in audit/audit.jsonl (5 records written through audit()), by rewriting the file directly",
        expected=f"verify_audit_log returns ok=False with first_bad_index={index}",
    )


@security_check(_attack("SEC-AUD-01", "audit record edited", "change record 2's target, keeping its hash", 2), group="test_audit_tampering", components=("metrics",))
async def audit_edit_record(ctx: FFTestContext, check: FFChecker, seen: FFObservation) -> None:
    await _attack_audit(ctx, check, seen, "SEC-AUD-01", tamper_edit, 2)


@security_check(
    _attack("SEC-AUD-02", "audit record edited and re-hashed", "turn record 2's outcome 'refused' into 'success' and recompute its hash", 3),
    group="test_audit_tampering",
    components=("metrics",),
)
async def audit_edit_and_reseal_record(ctx: FFTestContext, check: FFChecker, seen: FFObservation) -> None:
    await _attack_audit(ctx, check, seen, "SEC-AUD-02", tamper_edit_and_reseal, 3)


@security_check(_attack("SEC-AUD-03", "audit record deleted", "delete record 2", 2), group="test_audit_tampering", components=("metrics",))
async def audit_delete_record(ctx: FFTestContext, check: FFChecker, seen: FFObservation) -> None:
    await _attack_audit(ctx, check, seen, "SEC-AUD-03", tamper_delete, 2)


@security_check(_attack("SEC-AUD-04", "audit records reordered", "swap records 1 and 3", 1), group="test_audit_tampering", components=("metrics",))
async def audit_reorder_records(ctx: FFTestContext, check: FFChecker, seen: FFObservation) -> None:
    await _attack_audit(ctx, check, seen, "SEC-AUD-04", tamper_reorder, 1)


@security_check(_attack("SEC-AUD-05", "audit log tail cut", "delete the last record", 4), group="test_audit_tampering", components=("metrics",))
async def audit_truncate_tail(ctx: FFTestContext, check: FFChecker, seen: FFObservation) -> None:
    await _attack_audit(ctx, check, seen, "SEC-AUD-05", tamper_truncate, 4)
