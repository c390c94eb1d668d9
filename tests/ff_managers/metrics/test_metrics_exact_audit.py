"""The audit log's refusals read back whole: type, message, ``field`` and ``path``, each bound at its
edge (issue 20: the third ``_metrics`` mutation run left them unpinned -- a refusal that names the
wrong field, loses the head's path or accepts one character too many passed every test).

What a caller relies on: a bad audit field names the argument to fix; an append refused because
of the head names the head file to look at (it is what an operator moves aside or restores);
the key settings name the setting to change; ``verify_audit_log`` keeps the configured mode even
when the head cannot be read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from ff_class_configs import FFConfigurationManagerConfigDTO, load_config
from ff_class_configs.ff_metrics_dtos import FFAuditVerificationDTO
from ff_managers import FFEventBus, FFMetricsCollectionManager
from ff_managers._metrics.audit_seal import MIN_KEY_BYTES, audit_seal_from_settings
from ff_utils.ff_errors import (
    FFConfigError,
    FFConflictError,
    FFCorruptionError,
    FFValidationError,
)

KEY = "correct horse battery staple 42"
OTHER = "another key of enough length"
EVENT_RULE = "use dot-separated segments of A-Z a-z 0-9 _ -, starting with a letter, at most 200 characters"
FORGED = "audit head does not match its HMAC under the configured key (rewritten); appends are refused"
MISSING = "audit head is missing while the log holds records; appends are refused"


def configured(tmp_path: Path, **metrics: Any) -> FFConfigurationManagerConfigDTO:
    return load_config(base_path=tmp_path / "root", environ={}, overrides={"metrics": metrics})


def audit_files(config: FFConfigurationManagerConfigDTO) -> tuple[Path, Path]:
    audit = config.storage.base_path / "audit"
    return audit / "audit.jsonl", audit / "audit_head.json"


async def write_records(config: FFConfigurationManagerConfigDTO, n: int) -> None:
    metrics = FFMetricsCollectionManager(config, bus=FFEventBus())
    for i in range(n):
        await metrics.audit("alice", "tool.run", f"tool{i}")
    await metrics.shutdown()


async def refusal(config: FFConfigurationManagerConfigDTO, **fields: Any) -> Exception:
    """What ``audit`` raises for ``fields`` over a valid record, the log left as it was."""
    log, _ = audit_files(config)
    before = log.read_bytes() if log.exists() else None
    metrics = FFMetricsCollectionManager(config, bus=FFEventBus())
    call = {"actor": "alice", "action": "tool.run", "target": "t", "outcome": "success", "details": {}} | fields
    try:
        with pytest.raises(Exception) as caught:
            await metrics.audit(call["actor"], call["action"], call["target"], call["outcome"], call["details"])
    finally:
        await metrics.shutdown()
    assert (log.read_bytes() if log.exists() else None) == before  # a refused record writes nothing
    return caught.value


@pytest.mark.parametrize(
    ("fields", "message", "field"),
    [
        ({"actor": "a\nb"}, "actor holds the control character U+000A at position 1", "actor"),
        ({"actor": "x" * 257}, "actor has 257 characters; the limit is 256", "actor"),
        ({"actor": ""}, "actor is empty", "actor"),
        ({"action": "Bad Action"}, f"invalid action 'Bad Action': {EVENT_RULE}", "action"),
        ({"target": "t\nu"}, "target holds the control character U+000A at position 1", "target"),
        ({"target": "x" * 1025}, "target has 1,025 characters; the limit is 1,024", "target"),
        ({"outcome": "nope nope"}, f"invalid outcome 'nope nope': {EVENT_RULE}", "outcome"),
        ({"details": {"a": "x" * 300}}, "details is 308 bytes as JSON; the limit is 256", "details"),
        ({"details": [1]}, "details must be a mapping, not list", "details"),
    ],
)
async def test_each_bad_audit_field_is_refused_by_name(tmp_path: Path, fields: dict[str, Any], message: str, field: str) -> None:
    caught = await refusal(configured(tmp_path, max_event_data_bytes=256), **fields)
    assert type(caught) is FFValidationError
    assert (caught.message, caught.field) == (message, field)


async def test_actor_and_target_at_their_limits_are_kept_whole(tmp_path: Path) -> None:
    config = configured(tmp_path)
    metrics = FFMetricsCollectionManager(config, bus=FFEventBus())
    record = await metrics.audit("a" * 256, "tool.run", "t" * 1024)
    assert (record.actor, record.target) == ("a" * 256, "t" * 1024)
    assert [(r.actor, r.target) for r in await metrics.get_audit_records()] == [("a" * 256, "t" * 1024)]
    await metrics.shutdown()


async def test_a_disabled_audit_log_says_which_setting_disables_it(tmp_path: Path) -> None:
    caught = await refusal(configured(tmp_path, audit_enabled=False))
    assert type(caught) is FFConflictError
    assert caught.message == "the audit log is disabled (metrics.audit_enabled = false)"
    assert not (tmp_path / "root" / "audit").exists()


@pytest.mark.parametrize("records", [1, 3])
async def test_an_append_under_another_key_names_both_seals_and_the_head(tmp_path: Path, records: int) -> None:
    await write_records(configured(tmp_path, audit_key=KEY), records)  # one record is enough to be "sealed"
    key_id = orjson.loads(audit_files(configured(tmp_path))[1].read_bytes())["key_id"]
    assert isinstance(key_id, str) and len(key_id) == 16
    for settings, mode in (({}, "sha256"), ({"audit_key": OTHER}, "hmac-sha256")):
        config = configured(tmp_path, **settings)
        caught = await refusal(config)
        assert type(caught) is FFConflictError
        other_id = audit_seal_from_settings(config.metrics, config.storage.base_path).key_id
        assert caught.message == (
            f"the audit log is sealed with hmac-sha256 (key id {key_id!r}) but {mode} (key id {other_id!r}) is configured; "
            "configure the same key, or move audit/ aside to start a new log")
        assert caught.path == audit_files(config)[1]


async def test_an_empty_head_of_another_mode_does_not_block_the_first_append(tmp_path: Path) -> None:
    config = configured(tmp_path)  # no key: a head left by a keyed setup that never wrote a record
    _, head_path = audit_files(config)
    head_path.parent.mkdir(parents=True)
    head_path.write_bytes(orjson.dumps({"count": 0, "last_hash": "0" * 64, "mode": "hmac-sha256", "key_id": "0123456789abcdef"}))
    metrics = FFMetricsCollectionManager(config, bus=FFEventBus())
    assert (await metrics.audit("alice", "tool.run", "first")).seq == 0
    await metrics.shutdown()


async def test_appends_refused_for_a_forged_or_missing_head_name_the_head(tmp_path: Path) -> None:
    config = configured(tmp_path, audit_key=KEY)
    await write_records(config, 3)
    log, head_path = audit_files(config)
    head = orjson.loads(head_path.read_bytes())
    head_path.write_bytes(orjson.dumps({**head, "count": 2}))  # the MAC no longer fits
    caught = await refusal(config)
    assert (type(caught), caught.message, caught.path) == (FFCorruptionError, FORGED, head_path)
    head_path.unlink()
    caught = await refusal(config)
    assert (type(caught), caught.message, caught.path) == (FFCorruptionError, MISSING, head_path)
    assert len(log.read_bytes().splitlines()) == 3


async def test_an_unreadable_head_names_its_file_and_verify_keeps_the_mode(tmp_path: Path) -> None:
    config = configured(tmp_path, audit_key=KEY)
    await write_records(config, 2)
    _, head_path = audit_files(config)
    head_path.write_bytes(b"[]")
    caught = await refusal(config)
    assert (type(caught), caught.message, caught.path) == (
        FFCorruptionError, "audit head unreadable: audit head is not a JSON object", head_path)
    metrics = FFMetricsCollectionManager(config, bus=FFEventBus())
    assert await metrics.verify_audit_log() == FFAuditVerificationDTO(
        ok=False, records_checked=0, reason="audit head unreadable: audit head is not a JSON object", mode="hmac-sha256")
    await metrics.shutdown()


def test_both_key_settings_are_refused_naming_the_key(tmp_path: Path) -> None:
    key_file = tmp_path / "audit.key"
    key_file.write_text(KEY, encoding="utf-8")
    config = configured(tmp_path, audit_key=KEY, audit_key_file=str(key_file))
    with pytest.raises(FFConfigError) as caught:
        audit_seal_from_settings(config.metrics, config.storage.base_path)
    assert (caught.value.message, caught.value.field) == ("set metrics.audit_key or metrics.audit_key_file, not both", "metrics.audit_key")


def test_a_short_key_is_refused_naming_the_setting_it_came_from(tmp_path: Path) -> None:
    short = "k" * (MIN_KEY_BYTES - 1)
    config = configured(tmp_path, audit_key=short)
    with pytest.raises(FFConfigError) as caught:
        audit_seal_from_settings(config.metrics, config.storage.base_path)
    assert (caught.value.message, caught.value.field) == (
        f"metrics.audit_key: the audit key must be at least {MIN_KEY_BYTES} bytes", "metrics.audit_key")
    # counted in bytes of UTF-8: 8 two-byte characters are 16 bytes, enough
    accepted = configured(tmp_path, audit_key="é" * (MIN_KEY_BYTES // 2))
    assert audit_seal_from_settings(accepted.metrics, accepted.storage.base_path).key == ("é" * (MIN_KEY_BYTES // 2)).encode("utf-8")


def test_a_key_file_inside_the_root_is_refused_naming_both_paths(tmp_path: Path) -> None:
    root = (tmp_path / "root").resolve()
    root.mkdir()
    inside = root / "keys" / "audit.key"
    config = configured(tmp_path, audit_key_file=str(inside))
    with pytest.raises(FFConfigError) as caught:
        audit_seal_from_settings(config.metrics, config.storage.base_path)
    assert (caught.value.message, caught.value.field) == (
        (f"metrics.audit_key_file {str(inside)!r} is inside the data root {str(root)!r}; keep the key "
        "elsewhere (whoever can rewrite the log must not be able to read its key)"),
        "metrics.audit_key_file")
    as_root = configured(tmp_path, audit_key_file=str(root))
    with pytest.raises(FFConfigError):
        audit_seal_from_settings(as_root.metrics, as_root.storage.base_path)


def test_an_unreadable_key_file_is_refused_naming_the_file_and_the_cause(tmp_path: Path) -> None:
    missing = (tmp_path / "nowhere" / "audit.key").resolve()
    config = configured(tmp_path, audit_key_file=str(missing))
    with pytest.raises(FFConfigError) as caught:
        audit_seal_from_settings(config.metrics, config.storage.base_path)
    assert (caught.value.message, caught.value.field) == (
        f"cannot read metrics.audit_key_file {str(missing)!r}: No such file or directory", "metrics.audit_key_file")


def test_a_key_file_is_stripped_and_checked_under_its_own_name(tmp_path: Path) -> None:
    key_file = tmp_path / "audit.key"
    key_file.write_bytes(b"  " + b"k" * (MIN_KEY_BYTES - 1) + b"\n")
    config = configured(tmp_path, audit_key_file=str(key_file))
    with pytest.raises(FFConfigError) as caught:
        audit_seal_from_settings(config.metrics, config.storage.base_path)
    assert (caught.value.message, caught.value.field) == (
        f"metrics.audit_key_file: the audit key must be at least {MIN_KEY_BYTES} bytes", "metrics.audit_key_file")
    key_file.write_bytes(b"\n" + b"k" * MIN_KEY_BYTES + b"\n")
    assert audit_seal_from_settings(config.metrics, config.storage.base_path).key == b"k" * MIN_KEY_BYTES


async def test_a_stray_jsonl_beside_the_day_files_is_not_read(tmp_path: Path) -> None:
    """Only ``<YYYY-MM-DD>.jsonl`` files are a user's analytics; another name (a copy an operator
    left, ``notes.jsonl``) is skipped, not read and not an error."""
    config = configured(tmp_path)
    metrics = FFMetricsCollectionManager(config, bus=FFEventBus())
    await metrics.record_event("alice", "login")
    events = config.storage.base_path / "users" / "alice" / "analytics" / "events"
    (events / "notes.jsonl").write_bytes(b'{"v": 1, "t": "2026-01-01T00:00:00+00:00", "type": "login", "data": {}}\n')
    (events / "2026-13-99.jsonl").write_bytes(b"")
    result = await metrics.get_user_analytics("alice")
    assert (result.total_events, result.event_counts) == (1, {"login": 1})
    await metrics.shutdown()


async def test_a_bad_event_type_names_its_field_and_value_and_shows_60_characters(tmp_path: Path) -> None:
    metrics = FFMetricsCollectionManager(configured(tmp_path), bus=FFEventBus())
    bad = "bad type " * 10
    with pytest.raises(FFValidationError) as caught:
        await metrics.record_event("alice", bad)
    assert (caught.value.message, caught.value.field, caught.value.value) == (
        f"invalid event_type {repr(bad)[:60]}: {EVENT_RULE}", "event_type", bad)
    await metrics.shutdown()
