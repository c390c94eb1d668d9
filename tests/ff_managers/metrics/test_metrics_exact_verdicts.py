"""Every verdict of the audit chain compared whole: position, first bad index, reason and mode
(issue 20: mutation testing of ``_metrics`` found the reasons and the keyed mode unpinned; a
verdict that names the wrong record or loses its mode misleads whoever investigates)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from ff_managers._metrics.audit_chain import (
    GENESIS_HASH,
    FFAuditHead,
    FFChainEntry,
    FFChainVerdict,
    head_after,
    head_from_json,
    head_to_json,
    reconcile_head,
    record_digest,
    seal_record,
    verify_chain,
)
from ff_managers._metrics.audit_seal import FFAuditSeal

KEY = FFAuditSeal(b"k" * 32)
OTHER_KEY = FFAuditSeal(b"o" * 32)
HMAC = "hmac-sha256"
EDITED_KEYED = "record does not match its HMAC under the configured key (edited, forged, or sealed without this key)"


def chain(n: int, seal: FFAuditSeal = KEY) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    prev = GENESIS_HASH
    for i in range(n):
        records.append(forged(i, prev, seal, target=f"tool{i}"))
        prev = records[-1]["hash"]
    return records


def forged(seq: int, prev: str, seal: FFAuditSeal = KEY, target: str = "t") -> dict[str, Any]:
    return seal_record(seq=seq, timestamp="2026-01-01T00:00:00+00:00", actor="alice", action="tool.refused",
                       target=target, outcome="refused", details={}, prev_hash=prev, seal=seal)


def sealed_head(head: FFAuditHead, seal: FFAuditSeal = KEY) -> FFAuditHead:
    """The head as the audit log stores and reads it back (with its MAC in key mode)."""
    return head_from_json(head_to_json(head, seal, "2026-01-01T00:00:00+00:00"))


def check(records: list[Any], head: FFAuditHead | None, seal: FFAuditSeal = KEY) -> FFChainVerdict:
    return verify_chain([FFChainEntry(record=r) for r in records], head, seal)


def test_intact_empty_and_lagging_chains_keep_the_keyed_mode() -> None:
    records = chain(4)
    assert check(records, sealed_head(head_after(records[-1], KEY))) == FFChainVerdict(True, 4, mode=HMAC)
    assert check([], None) == FFChainVerdict(True, 0, mode=HMAC)
    lagging = sealed_head(replace(head_after(records[2], KEY), pending=records[3]["hash"]))
    assert check(records, lagging) == FFChainVerdict(True, 4, head_lagging=True, mode=HMAC)


def test_an_edited_record_names_the_digest_that_failed() -> None:
    records = chain(4)
    records[2] = {**records[2], "target": "elsewhere"}
    assert check(records, sealed_head(head_after(records[-1], KEY))) == FFChainVerdict(False, 2, 2, EDITED_KEYED, mode=HMAC)
    plain = chain(3, FFAuditSeal())
    plain[1] = {**plain[1], "target": "elsewhere"}
    assert check(plain, head_after(plain[-1]), FFAuditSeal()) == FFChainVerdict(False, 1, 1, "record content does not match its hash (edited)")


def test_a_deleted_record_is_a_sequence_gap_at_its_position() -> None:
    records = chain(4)
    del records[1]
    assert check(records, sealed_head(head_after(records[-1], KEY))) == FFChainVerdict(
        False, 1, 1, "sequence number 2 at position 1 (a record was deleted, inserted or reordered)", mode=HMAC)


@pytest.mark.parametrize("at", [0, 2])
def test_an_inserted_record_is_named_with_the_one_it_displaced(at: int) -> None:
    records = chain(4)
    prev = records[at - 1]["hash"] if at else GENESIS_HASH
    tampered = records[:at] + [forged(at, prev)] + records[at:]
    why = f"records at positions {at} and {at + 1} both claim sequence number {at} (one was inserted)"
    assert check(tampered, sealed_head(head_after(records[-1], KEY))) == FFChainVerdict(False, at, at, why, mode=HMAC)


def test_only_a_record_that_repeats_its_predecessors_place_counts_as_inserted() -> None:
    records = chain(3)
    # same predecessor link as record 0 but a far sequence number: not an insertion
    odd = [records[0], forged(5, GENESIS_HASH)]
    assert check(odd, None) == FFChainVerdict(False, 1, 1, "sequence number 5 at position 1 (a record was deleted, inserted or reordered)", mode=HMAC)
    # the first record cannot have been put in front of anything
    first = [forged(-1, GENESIS_HASH)]
    assert check(first, None) == FFChainVerdict(False, 0, 0, "sequence number -1 at position 0 (a record was deleted, inserted or reordered)", mode=HMAC)


def test_a_line_that_is_no_record_and_unreadable_lines_are_named() -> None:
    records = chain(3)
    head = sealed_head(head_after(records[-1], KEY))
    for thing in ({"seq": 0}, ["not", "a", "record"]):
        assert check([thing], head) == FFChainVerdict(False, 0, 0, "record is not an audit record (no hash field)", mode=HMAC)
    torn = [FFChainEntry(record=records[0]), FFChainEntry(bad_reason="torn last line", torn=True)]
    assert verify_chain(torn, head, KEY) == FFChainVerdict(False, 1, 1, "truncated record (torn last line)", mode=HMAC)
    corrupt = [FFChainEntry(record=records[0]), FFChainEntry(bad_reason="invalid JSON")]
    assert verify_chain(corrupt, head, KEY) == FFChainVerdict(False, 1, 1, "unreadable record: invalid JSON", mode=HMAC)


def test_the_head_verdicts_are_exact() -> None:
    records = chain(4)
    assert check(records, None) == FFChainVerdict(False, 4, None, "audit head is missing, so a truncated tail cannot be ruled out", mode=HMAC)
    unsealed = head_after(records[-1], KEY)  # no MAC: rewritten by someone without the key
    assert check(records, unsealed) == FFChainVerdict(
        False, 4, None, "audit head does not match its HMAC under the configured key (rewritten)", mode=HMAC)
    assert check(records[:2], sealed_head(head_after(records[-1], KEY))) == FFChainVerdict(
        False, 2, 2, "log ends after 2 records but the head counts 4 (tail truncated)", mode=HMAC)
    replaced = records[:3] + [forged(3, records[2]["hash"], target="other")]
    assert check(replaced, sealed_head(head_after(records[-1], KEY))) == FFChainVerdict(
        False, 4, 3, "last record differs from the head's hash (tail replaced)", mode=HMAC)
    wiped = sealed_head(FFAuditHead(0, "a" * 64, mode=HMAC, key_id=KEY.key_id))
    assert check([], wiped) == FFChainVerdict(False, 0, None, "last record differs from the head's hash (tail replaced)", mode=HMAC)
    behind = sealed_head(head_after(records[1], KEY))
    assert check(records, behind) == FFChainVerdict(
        False, 2, 2, "log holds 4 records but the head counts 2 (records appended outside the audit API)", mode=HMAC)


def test_a_log_sealed_with_a_key_cannot_be_checked_without_it_or_with_another() -> None:
    records = chain(2)
    head = sealed_head(head_after(records[-1], KEY))
    assert check(records, head, FFAuditSeal()) == FFChainVerdict(
        False, 0, None, "the log is sealed with an audit key (hmac-sha256) but none is configured (metrics.audit_key)")
    assert check(records, head, OTHER_KEY) == FFChainVerdict(
        False, 0, None, f"the log is sealed with another audit key (key id {KEY.key_id!r}; the configured key's id is {OTHER_KEY.key_id!r})",
        mode=HMAC)


def test_reconcile_ignores_a_tail_that_is_not_a_self_consistent_record() -> None:
    fresh = FFAuditHead(mode=HMAC, key_id=KEY.key_id)
    assert reconcile_head(None, {"seq": 0, "prev_hash": GENESIS_HASH}, KEY) == fresh  # no hash
    body = {"seq": "2", "prev_hash": GENESIS_HASH}  # hash fits, but seq is not an int
    assert reconcile_head(None, {**body, "hash": record_digest(body, KEY)}, KEY) == fresh
    flag = {"seq": True, "prev_hash": GENESIS_HASH}  # a bool is not a sequence number
    assert reconcile_head(None, {**flag, "hash": record_digest(flag, KEY)}, KEY) == fresh


def test_a_broken_link_is_named() -> None:
    records = chain(3)
    relinked = [records[0], forged(1, "f" * 64)]  # right place, valid seal, wrong predecessor
    assert check(relinked, None) == FFChainVerdict(
        False, 1, 1, "link to the previous record is broken (a record before it was deleted, inserted or replaced)", mode=HMAC)


@pytest.mark.parametrize(
    "data, message",
    [
        ([], "audit head is not a JSON object"),
        ({"count": -1, "last_hash": "a" * 64}, "audit head count -1 is not a non-negative integer"),
        ({"count": 1, "last_hash": "abc"}, "audit head last_hash is not a hex SHA-256"),
        ({"count": 1, "last_hash": "X" * 64}, "audit head last_hash is not a hex SHA-256"),
        ({"count": 1, "last_hash": "a" * 64, "pending": "b" * 63}, "audit head pending is not a hex SHA-256"),
        ({"count": 1, "last_hash": "a" * 64, "mode": "md5"}, "audit head mode 'md5' is not sha256 or hmac-sha256"),
        ({"count": 1, "last_hash": "a" * 64, "key_id": 5}, "audit head key_id and mac must be text or null"),
        ({"count": 1, "last_hash": "a" * 64, "mac": 5}, "audit head key_id and mac must be text or null"),
    ],
)
def test_each_unreadable_head_says_why(data: object, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        head_from_json(data)
    assert str(caught.value) == message


def test_heads_carry_the_seal_they_were_made_with() -> None:
    records = chain(2)
    assert head_after(records[-1], KEY) == FFAuditHead(2, records[-1]["hash"], mode=HMAC, key_id=KEY.key_id)
    stored = head_to_json(FFAuditHead(), KEY, "t")
    assert (stored["schema_version"], stored["mode"], stored["key_id"], stored["updated_at"]) == (2, HMAC, KEY.key_id, "t")
    assert head_to_json(FFAuditHead(), FFAuditSeal(), "t")["mac"] is None
    assert reconcile_head(None, records[-1], KEY) == head_after(records[-1], KEY)
    pending = sealed_head(replace(head_after(records[0], KEY), pending=records[1]["hash"]))
    assert reconcile_head(pending, records[1], KEY) == head_after(records[1], KEY)
    kept = reconcile_head(sealed_head(head_after(records[1], KEY)), records[0], KEY)  # not its pending record: kept, resealed later
    assert (kept.count, kept.pending, kept.mac) == (2, None, None)
