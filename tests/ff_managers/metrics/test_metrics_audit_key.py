"""The audit log's key mode: HMAC-SHA256 records and head, so a consistent rewrite is caught too."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import orjson
import pytest

from ff_class_configs import FFConfigurationManagerConfigDTO, load_config
from ff_managers import FFEventBus, FFMetricsCollectionManager
from ff_utils.ff_errors import FFConfigError, FFConflictError, FFCorruptionError

KEY = "correct horse battery staple 42"


def keyed(tmp_path: Path, **metrics: Any) -> FFConfigurationManagerConfigDTO:
    return load_config(base_path=tmp_path / "root", environ={}, overrides={"metrics": metrics})


async def written(config: FFConfigurationManagerConfigDTO, n: int = 4) -> FFMetricsCollectionManager:
    metrics = FFMetricsCollectionManager(config, bus=FFEventBus())
    for i in range(n):
        await metrics.audit("alice", "tool.run", f"tool{i}", "refused" if i == 2 else "success", {"i": i})
    return metrics


def rewrite_consistently(root: Path, index: int) -> None:
    """What an attacker without the key can do: edit record ``index``, re-seal every record from
    there with SHA-256 and write a head that fits (count, last hash, plain mode, no MAC)."""
    log, head_path = root / "audit" / "audit.jsonl", root / "audit" / "audit_head.json"
    records = [orjson.loads(line) for line in log.read_bytes().splitlines()]
    records[index]["outcome"] = "success"
    prev = records[index - 1]["hash"] if index else "0" * 64
    for record in records[index:]:
        body = {k: v for k, v in record.items() if k != "hash"} | {"prev_hash": prev}
        record.clear()
        record.update(body, hash=hashlib.sha256(orjson.dumps(body)).hexdigest())
        prev = record["hash"]
    log.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    head = orjson.loads(head_path.read_bytes())
    head.update(count=len(records), last_hash=prev, pending=None)
    head_path.write_bytes(orjson.dumps(head))


async def test_without_a_key_a_consistent_rewrite_is_the_stated_limit(tmp_path: Path) -> None:
    config = keyed(tmp_path)
    metrics = await written(config)
    rewrite_consistently(config.storage.base_path, 2)
    verdict = await metrics.verify_audit_log()
    assert (verdict.ok, verdict.mode) == (True, "sha256")  # what the key mode exists for
    await metrics.shutdown()


async def test_with_a_key_a_consistent_rewrite_of_log_and_head_is_found(tmp_path: Path) -> None:
    config = keyed(tmp_path, audit_key=KEY)
    metrics = await written(config)
    clean = await metrics.verify_audit_log()
    assert (clean.ok, clean.mode, clean.records_checked) == (True, "hmac-sha256", 4)
    rewrite_consistently(config.storage.base_path, 2)
    verdict = await metrics.verify_audit_log()
    assert (verdict.ok, verdict.first_bad_index, verdict.mode) == (False, 2, "hmac-sha256")
    assert "HMAC" in (verdict.reason or "")
    await metrics.shutdown()


async def test_with_a_key_a_head_rewritten_to_fit_a_cut_log_is_found(tmp_path: Path) -> None:
    config = keyed(tmp_path, audit_key=KEY)
    metrics = await written(config)
    root = config.storage.base_path
    log, head_path = root / "audit" / "audit.jsonl", root / "audit" / "audit_head.json"
    lines = log.read_bytes().splitlines()
    log.write_bytes(b"".join(line + b"\n" for line in lines[:-1]))
    head = orjson.loads(head_path.read_bytes())
    head.update(count=3, last_hash=orjson.loads(lines[2])["hash"])
    head_path.write_bytes(orjson.dumps(head))
    verdict = await metrics.verify_audit_log()
    assert not verdict.ok and "head does not match its HMAC" in (verdict.reason or "")
    await metrics.shutdown()


async def test_records_and_head_carry_the_mode_but_never_the_key(tmp_path: Path) -> None:
    config = keyed(tmp_path, audit_key=KEY)
    metrics = await written(config, 2)
    head = orjson.loads((config.storage.base_path / "audit" / "audit_head.json").read_bytes())
    assert head["mode"] == "hmac-sha256" and len(head["mac"]) == 64 and len(head["key_id"]) == 16
    everything = b"".join(p.read_bytes() for p in config.storage.base_path.rglob("*") if p.is_file())
    assert KEY.encode() not in everything
    await metrics.shutdown()


async def test_verifying_or_appending_without_the_key_or_with_another_says_so(tmp_path: Path) -> None:
    config = keyed(tmp_path, audit_key=KEY)
    await (await written(config, 2)).shutdown()
    for other in ({}, {"audit_key": "another key of enough length"}):
        reader = FFMetricsCollectionManager(keyed(tmp_path, **other), bus=FFEventBus())
        verdict = await reader.verify_audit_log()
        assert not verdict.ok and "key" in (verdict.reason or "") and verdict.first_bad_index is None
        with pytest.raises(FFConflictError, match="sealed with hmac-sha256"):
            await reader.audit("alice", "tool.run", "x")
        await reader.shutdown()
    assert len((config.storage.base_path / "audit" / "audit.jsonl").read_bytes().splitlines()) == 2


async def test_a_key_file_outside_the_root_works_and_one_inside_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "secrets" / "audit.key"
    outside.parent.mkdir()
    outside.write_text(KEY + "\n", encoding="utf-8")
    from_file = keyed(tmp_path, audit_key_file=str(outside))
    metrics = await written(from_file, 2)
    assert (await metrics.verify_audit_log()).mode == "hmac-sha256"
    await metrics.shutdown()
    same_key = FFMetricsCollectionManager(keyed(tmp_path, audit_key=KEY), bus=FFEventBus())
    assert (await same_key.verify_audit_log()).ok  # the file's trailing newline is not part of the key
    await same_key.shutdown()

    inside = tmp_path / "root" / "audit.key"
    inside.write_text(KEY, encoding="utf-8")
    with pytest.raises(FFConfigError, match="inside the data root"):
        FFMetricsCollectionManager(keyed(tmp_path, audit_key_file=str(inside)), bus=FFEventBus())


@pytest.mark.parametrize("metrics", [{"audit_key": "short"}, {"audit_key": KEY, "audit_key_file": "/nonexistent"}, {"audit_key_file": "/nonexistent/key"}])
def test_bad_key_settings_are_config_errors(tmp_path: Path, metrics: dict[str, Any]) -> None:
    with pytest.raises(FFConfigError):
        FFMetricsCollectionManager(keyed(tmp_path, **metrics), bus=FFEventBus())


def test_the_key_comes_from_the_environment_and_is_never_shown(tmp_path: Path) -> None:
    config = load_config(base_path=tmp_path, environ={"FF_METRICS__AUDIT_KEY": KEY})
    assert config.metrics.audit_key is not None and config.metrics.audit_key.get_secret_value() == KEY
    assert KEY not in config.model_dump_json() and KEY not in repr(config)


async def test_with_a_key_an_append_never_launders_a_forged_or_missing_head(tmp_path: Path) -> None:
    config = keyed(tmp_path, audit_key=KEY)
    metrics = await written(config)
    root = config.storage.base_path
    log, head_path = root / "audit" / "audit.jsonl", root / "audit" / "audit_head.json"
    lines = log.read_bytes().splitlines()
    log.write_bytes(b"".join(line + b"\n" for line in lines[:-1]))  # cut the last record ...
    head = orjson.loads(head_path.read_bytes())
    head.update(count=3, last_hash=orjson.loads(lines[2])["hash"])  # ... and make the head fit
    head_path.write_bytes(orjson.dumps(head))
    with pytest.raises(FFCorruptionError, match="HMAC"):
        await metrics.audit("alice", "tool.run", "after")  # sealing this head would hide the cut
    head_path.unlink()
    with pytest.raises(FFCorruptionError, match="missing"):
        await metrics.audit("alice", "tool.run", "after")
    assert len(log.read_bytes().splitlines()) == 3
    assert not (await metrics.verify_audit_log()).ok
    await metrics.shutdown()
