"""The write ledger: lost and duplicated acknowledged writes are found through the API and on disk."""

from __future__ import annotations

import json

from testing.suites._cross_system._ledger import FFWriteLedger, read_session_ids_from_disk, reconcile

A = ("u1", "s1")
B = ("u2", "s2")


def _ledger() -> FFWriteLedger:
    ledger = FFWriteLedger()
    ledger.record("m1", A, True)
    ledger.record("m2", A, False)  # its reply was lost ...
    ledger.record("m2", A, True)  # ... and a retry was acknowledged
    ledger.record("m3", B, True)
    ledger.record("m4", B, False)  # never acknowledged
    return ledger


def test_all_present_once_is_clean_and_unacknowledged_may_be_stored_once():
    ledger = _ledger()
    assert set(ledger.acknowledged) == {"m1", "m2", "m3"} and set(ledger.unacknowledged) == {"m4"}
    stored = {A: ["m1", "m2"], B: ["m3", "m4"]}
    result = reconcile(ledger, stored, stored)
    assert (result.lost, result.duplicated, result.lost_on_disk, result.duplicated_on_disk) == ((), (), (), ())
    assert result.acknowledged == 3 and result.unacknowledged_present == 1


def test_lost_and_duplicated_are_named_per_source():
    ledger = _ledger()
    api = {A: ["m1", "m2", "m2"], B: ["m3"]}
    disk = {A: ["m1", "m2"], B: ["m4", "m4"]}
    result = reconcile(ledger, api, disk)
    assert result.duplicated == ("m2",) and result.lost == ()
    assert result.lost_on_disk == ("m3",) and result.duplicated_on_disk == ("m4",)


def test_a_write_in_the_wrong_session_is_lost():
    ledger = _ledger()
    stored = {A: ["m1", "m2", "m3"], B: []}
    assert reconcile(ledger, stored, stored).lost == ("m3",)


def test_reads_message_ids_from_the_session_file(tmp_path):
    folder = tmp_path / "users" / "u1" / "sessions" / "s1"
    folder.mkdir(parents=True)
    (folder / "messages.jsonl").write_text(
        "\n".join(json.dumps({"message_id": m, "content": "x"}) for m in ("a", "b", "a")) + "\n"
    )
    assert read_session_ids_from_disk(tmp_path, "u1", "s1") == ["a", "b", "a"]
    assert read_session_ids_from_disk(tmp_path, "u1", "missing") == []


def test_the_file_listing_leaves_out_what_comes_and_goes(tmp_path):
    from testing.suites._cross_system._integrity import snapshot_manifest

    (tmp_path / "users" / "u").mkdir(parents=True)
    (tmp_path / "users" / "u" / "messages.jsonl").write_text("{}\n")
    (tmp_path / "users" / "u" / ".messages.jsonl.lock").write_text("")
    (tmp_path / "system" / "service" / "instances").mkdir(parents=True)
    (tmp_path / "system" / "service" / "instances" / "xs-1.json").write_text("{}")
    (tmp_path / "system" / "service" / "ready-probe-1-abc.json").write_text("{}")
    (tmp_path / "system" / "service" / "api_keys.json").write_text("{}")
    assert snapshot_manifest(tmp_path) == {"users/u/messages.jsonl", "system/service/api_keys.json"}
