"""_metrics/audit_chain.py: sealing records and finding the first break, without touching disk."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from ff_managers._metrics.audit_chain import (
    GENESIS_HASH,
    FFAuditHead,
    FFChainEntry,
    head_after,
    head_from_json,
    reconcile_head,
    record_digest,
    seal_record,
    verify_chain,
)


def build_chain(n: int) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    prev = GENESIS_HASH
    for i in range(n):
        record = seal_record(
            seq=i,
            timestamp=f"2026-01-01T00:00:{i:02d}+00:00",
            actor="alice",
            action="tool.refused",
            target=f"tool{i}",
            outcome="refused",
            details={"i": i},
            prev_hash=prev,
        )
        records.append(record)
        prev = record["hash"]
    return records


def entries(records: list[dict[str, Any]]) -> list[FFChainEntry]:
    return [FFChainEntry(record=r) for r in records]


def test_sealed_record_hash_covers_every_other_field() -> None:
    record = build_chain(1)[0]
    assert record["prev_hash"] == GENESIS_HASH and len(record["hash"]) == 64
    body = {k: v for k, v in record.items() if k != "hash"}
    assert record_digest(body) == record["hash"]
    assert list(record) == ["v", "seq", "ts", "actor", "action", "target", "outcome", "details", "prev_hash", "hash"]


def test_intact_chain_verifies() -> None:
    records = build_chain(5)
    verdict = verify_chain(entries(records), head_after(records[-1]))
    assert (verdict.ok, verdict.records_checked, verdict.first_bad_index) == (True, 5, None)


def test_empty_log_without_head_is_fine() -> None:
    assert verify_chain([], None).ok
    assert verify_chain([], FFAuditHead()).ok


def test_edited_record_is_found_where_it_was_edited() -> None:
    records = build_chain(5)
    records[2] = {**records[2], "target": "something else"}
    verdict = verify_chain(entries(records), head_after(records[-1]))
    assert (verdict.ok, verdict.first_bad_index, verdict.records_checked) == (False, 2, 2)
    assert "edited" in (verdict.reason or "")


def test_deleted_record() -> None:
    records = build_chain(5)
    del records[1]
    verdict = verify_chain(entries(records), head_after(records[-1]))
    assert (verdict.ok, verdict.first_bad_index) == (False, 1)
    assert "deleted" in (verdict.reason or "")


def test_swapped_records() -> None:
    records = build_chain(5)
    records[1], records[2] = records[2], records[1]
    verdict = verify_chain(entries(records), head_after(records[-1]))
    assert (verdict.ok, verdict.first_bad_index) == (False, 1)


def test_inserted_forged_record_with_a_valid_hash_is_found() -> None:
    records = build_chain(4)
    forged = seal_record(
        seq=2, timestamp="x", actor="mallory", action="a", target="t", outcome="success", details={}, prev_hash=records[1]["hash"]
    )
    tampered = records[:2] + [forged] + records[2:]
    verdict = verify_chain(entries(tampered), head_after(records[-1]))
    assert (verdict.ok, verdict.first_bad_index) == (False, 2)  # it and the original record 2 claim one place
    assert "inserted" in (verdict.reason or "")


def test_truncated_tail_is_found_through_the_head() -> None:
    records = build_chain(5)
    verdict = verify_chain(entries(records[:3]), head_after(records[-1]))
    assert (verdict.ok, verdict.first_bad_index, verdict.records_checked) == (False, 3, 3)
    assert "truncated" in (verdict.reason or "")


def test_torn_and_corrupt_lines() -> None:
    records = build_chain(3)
    torn = entries(records[:2]) + [FFChainEntry(bad_reason="torn last line", torn=True)]
    verdict = verify_chain(torn, head_after(records[-1]))
    assert (verdict.ok, verdict.first_bad_index) == (False, 2) and "truncated" in (verdict.reason or "")
    corrupt = [entries(records)[0], FFChainEntry(bad_reason="invalid JSON"), *entries(records)[2:]]
    assert verify_chain(corrupt, head_after(records[-1])).first_bad_index == 1


def test_replaced_last_record_is_found_through_the_head() -> None:
    records = build_chain(3)
    replacement = seal_record(
        seq=2, timestamp="x", actor="m", action="a", target="t", outcome="success", details={}, prev_hash=records[1]["hash"]
    )
    verdict = verify_chain(entries(records[:2] + [replacement]), head_after(records[-1]))
    assert (verdict.ok, verdict.first_bad_index) == (False, 2)


def test_missing_head_with_records_is_not_ok() -> None:
    verdict = verify_chain(entries(build_chain(2)), None)
    assert not verdict.ok and "head" in (verdict.reason or "")


def test_head_one_behind_after_a_crash_is_accepted_and_flagged_only_for_its_pending_record() -> None:
    records = build_chain(3)
    crashed = replace(head_after(records[1]), pending=records[2]["hash"])
    verdict = verify_chain(entries(records), crashed)
    assert verdict.ok and verdict.head_lagging
    assert not verify_chain(entries(records), replace(head_after(records[0]), pending=records[1]["hash"])).ok  # two behind


def test_a_record_appended_behind_the_heads_back_is_found_at_its_position() -> None:
    records = build_chain(3)
    verdict = verify_chain(entries(records), head_after(records[1]))  # valid hash and link, head untouched
    assert (verdict.ok, verdict.first_bad_index, verdict.head_lagging) == (False, 2, False)
    assert "appended outside the audit API" in (verdict.reason or "")
    other = replace(head_after(records[1]), pending="f" * 64)  # a pending record that is not this one
    assert verify_chain(entries(records), other).first_bad_index == 2


def test_a_pending_record_that_never_landed_is_fine() -> None:
    records = build_chain(3)
    verdict = verify_chain(entries(records), replace(head_after(records[2]), pending="f" * 64))
    assert (verdict.ok, verdict.head_lagging) == (True, False)


def test_reconcile_head() -> None:
    records = build_chain(3)
    assert reconcile_head(None, None) == FFAuditHead()
    assert reconcile_head(None, records[2]) == head_after(records[2])
    pending = replace(head_after(records[1]), pending=records[2]["hash"])
    assert reconcile_head(pending, records[2]) == head_after(records[2])  # crash after the append: roll forward
    assert reconcile_head(head_after(records[1]), records[2]) == head_after(records[1])  # not pending: appended behind
    # tail cut: keep the head, so the next record visibly does not fit
    assert reconcile_head(head_after(records[2]), records[0]) == head_after(records[2])
    edited = {**records[2], "actor": "x"}
    assert reconcile_head(replace(head_after(records[1]), pending=records[2]["hash"]), edited) == head_after(records[1])


def test_head_from_json() -> None:
    assert head_from_json({"count": 2, "last_hash": "a" * 64}) == FFAuditHead(2, "a" * 64)
    for bad in (None, [], {"count": -1, "last_hash": "a" * 64}, {"count": True, "last_hash": "a" * 64}, {"count": 1, "last_hash": "xyz"}):
        with pytest.raises(ValueError):
            head_from_json(bad)
