"""The failure suite: green on the real managers, red on each injected defect; its fault tools.

Defects in the managers go in through the validation platform's seams, for this run only: a
document write that is not atomic (an FFStore subclass as ``store_factory``), a restart that loses
a session (a memory manager subclass in ``manager_classes``). Defects inside ff_utils' storage
primitives are planted with monkeypatch, since what they break is ff_utils' own guarantee: an
append that skips fsync under durability "always", reads that crash with a raw parser exception
instead of an FFError, an append that leaves half a line behind when the disk fills up. The
suite test meant to catch each must fail or error.
"""

from __future__ import annotations

import errno
import os
import types
from pathlib import Path
from typing import Any

import orjson
import pytest

import ff_utils.ff_file_ops as ff_file_ops_module
import ff_utils._jsonl_append as jsonl_append_module
import ff_utils._jsonl_read as jsonl_read_module
import ff_utils.ff_json_utils as ff_json_utils_module
from ff_class_configs.ff_test_result_dtos import FFTestStatus
from ff_utils.ff_errors import FFStorageError, ff_translate_errors
from ff_utils.ff_json_utils import ff_append_jsonl, ff_dumps, ff_write_json
from ff_utils.ff_store import FFStore
from testing.suites._faults import fsync_spy, os_fault
from testing.suites._killed_writer import message_text
from testing.suites.failure import RECOVERY_GOAL_SECONDS
from tests._suite_helpers import BROKEN, SessionsLostOnRestart, run_suite

# ---------------------------------------------------------------------------------- green


@pytest.mark.slow
async def test_failure_suite_passes_on_the_real_managers(tmp_path: Path) -> None:
    results = await run_suite(tmp_path, "failure")
    assert len(results) >= 8
    assert {r.status for r in results.values()} == {FFTestStatus.PASSED}, {
        name: (r.status, r.error_message) for name, r in results.items() if r.status != FFTestStatus.PASSED
    }
    restart = results["restart_mid_workload"].metrics
    assert 0 < restart["recovery_seconds"] < RECOVERY_GOAL_SECONDS
    assert {"recovery_seconds_memory", "recovery_seconds_panel", "recovery_seconds_metrics"} <= set(restart)
    killed = results["killed_writer"].metrics
    assert killed["acknowledged_messages"] >= 20 and 0 < killed["recovery_seconds"] < RECOVERY_GOAL_SECONDS
    assert killed["unacknowledged_extra"] in (0.0, 1.0)
    torn = results["writer_killed_inside_write"].metrics
    assert torn["torn_bytes_repaired"] > 1000 and torn["acknowledged_messages"] == 11 and torn["unacknowledged_extra"] == 0
    io_tests = ("disk_full_append", "fsync_failure_append", "failed_document_replace", "failed_catalog_commit")
    assert all(0 < results[name].metrics["recovery_seconds"] < RECOVERY_GOAL_SECONDS for name in io_tests)


# ---------------------------------------------------------------------------------- defects


async def test_an_append_that_skips_fsync_fails_the_durability_test(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_group = jsonl_append_module._GroupCommitAppender._write_group

    def lazy(self: Any, payload: bytes, durability: str, batch_interval: float, **options: Any) -> None:
        write_group(self, payload, "never" if durability == "always" else durability, batch_interval, **options)

    monkeypatch.setattr(jsonl_append_module._GroupCommitAppender, "_write_group", lazy)
    results = await run_suite(tmp_path, "failure", "durable_appends_fsynced")
    result = results["durable_appends_fsynced"]
    assert result.status in BROKEN
    failed = {a.description.split(":")[0] for a in result.assertions if not a.passed}
    assert failed == {"memory message", "panel message", "tool run", "audit record"}


async def test_reads_that_crash_on_bad_json_error_the_corruption_tests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def raw_loads(data: bytes | str, *, path: Path | None = None) -> Any:
        return orjson.loads(data)  # no translation: orjson.JSONDecodeError escapes

    def raw_parse(line: bytes, path: Path, offset: int, line_number: int | None) -> tuple[Any, None]:
        return orjson.loads(line), None

    monkeypatch.setattr(ff_json_utils_module, "ff_loads", raw_loads)
    monkeypatch.setattr(jsonl_read_module, "_parse_line", raw_parse)
    results = await run_suite(tmp_path, "failure", "garbled_session_line", "truncated_documents", "garbage_catalog")
    for name in ("garbled_session_line", "truncated_documents", "garbage_catalog"):
        assert results[name].status == FFTestStatus.ERROR, name
        assert results[name].error_type == "JSONDecodeError", (name, results[name].error_type)


async def test_an_append_without_rollback_fails_the_disk_full_tests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    no_rollback = types.SimpleNamespace(**vars(os))
    no_rollback.ftruncate = lambda fd, length: None  # the failed group's bytes stay in the file
    monkeypatch.setattr(jsonl_append_module, "os", no_rollback)
    results = await run_suite(tmp_path, "failure", "disk_full_append", "fsync_failure_append")
    for name in ("disk_full_append", "fsync_failure_append"):
        assert results[name].status == FFTestStatus.FAILED, name
        assert "byte-identical" in results[name].error_message


def _write_in_place(path: Path | str, data: bytes, *, fsync: bool = True) -> None:
    # Errors are translated like the real writer's; only the atomicity is missing.
    with ff_translate_errors("write file", path):
        fd = ff_file_ops_module.os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            ff_file_ops_module.os.write(fd, data)
            if fsync:
                ff_file_ops_module.os.fsync(fd)
        finally:
            ff_file_ops_module.os.close(fd)


class InPlaceWriterStore(FFStore):
    """Overwrites documents in place instead of writing a temp file and renaming it over."""

    def write_json(self, path: Path, data: Any) -> None:
        self.write_bytes(path, ff_dumps(data, indent=True) + b"\n")

    def write_bytes(self, path: Path, data: bytes) -> None:
        _write_in_place(path, data, fsync=self.durability != "never")


async def test_a_document_write_in_place_fails_the_replace_test(tmp_path: Path) -> None:
    results = await run_suite(tmp_path, "failure", "failed_document_replace", store_factory=InPlaceWriterStore.from_config)
    assert results["failed_document_replace"].status in BROKEN
    assert "byte-identical" in results["failed_document_replace"].error_message


async def test_a_restart_that_loses_a_session_fails_the_mid_workload_test(tmp_path: Path) -> None:
    results = await run_suite(tmp_path, "failure", "restart_mid_workload", manager_classes={"memory": SessionsLostOnRestart})
    assert results["restart_mid_workload"].status in BROKEN


# ---------------------------------------------------------------------------------- fault tools


def test_os_fault_fails_only_the_target_and_restores_the_module(tmp_path: Path) -> None:
    target, bystander = tmp_path / "target.jsonl", tmp_path / "other.jsonl"
    ff_append_jsonl(target, {"n": 1})
    real_os = jsonl_append_module.os
    with os_fault(jsonl_append_module, "fsync", target) as fault:
        ff_append_jsonl(bystander, {"n": 1})  # other files keep their real fsync
        with pytest.raises(FFStorageError) as caught:
            ff_append_jsonl(target, {"n": 2})
    assert jsonl_append_module.os is real_os
    assert caught.value.context["errno"] == errno.ENOSPC
    assert fault.failed_calls == 1 and fault.paths == [str(target.resolve())]
    assert target.read_bytes() == b'{"n":1}\n'
    ff_append_jsonl(target, {"n": 3})
    assert target.read_bytes() == b'{"n":1}\n{"n":3}\n'


def test_os_fault_partial_write_writes_half_then_fails(tmp_path: Path) -> None:
    target = tmp_path / "doc.jsonl"
    with os_fault(jsonl_append_module, "write", target, partial_write=True) as fault, pytest.raises(FFStorageError):
        ff_append_jsonl(target, {"text": "x" * 100})
    assert fault.partial_bytes > 40 and fault.failed_calls == 1
    assert target.read_bytes() == b""  # the appender rolled the half line back


def test_os_fault_restores_the_module_when_the_block_raises(tmp_path: Path) -> None:
    real_os = ff_file_ops_module.os
    with pytest.raises(RuntimeError), os_fault(ff_file_ops_module, "replace", tmp_path / "x.json"):
        raise RuntimeError("boom")
    assert ff_file_ops_module.os is real_os
    with pytest.raises(ValueError):
        with os_fault(ff_file_ops_module, "no_such_function", tmp_path):
            pass


def test_fsync_spy_sees_the_file_and_its_size(tmp_path: Path) -> None:
    target = tmp_path / "d.json"
    with fsync_spy(ff_file_ops_module) as seen:
        ff_write_json(target, {"a": 1})
    size = target.stat().st_size
    assert any(record.path is not None and record.path.name.startswith(".d.json.") and record.size == size for record in seen)
    assert any(record.path == tmp_path.resolve() for record in seen)  # the directory fsync after the rename


def test_killed_writer_messages_are_short_and_large_in_turn() -> None:
    assert message_text(0) == "durable message 00000"
    assert len(message_text(3)) > 100_000 and message_text(3).startswith("durable message 00003 ")
    assert [len(message_text(i)) > 1_000 for i in range(8)] == [False, False, False, True] * 2
