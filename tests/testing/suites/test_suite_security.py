"""The security suite: it passes on the real managers, and it catches real vulnerabilities.

Each vulnerability is planted in the managers the suite attacks: through the validation
platform's seams where the defect lives in a store or a manager (a safe-path helper that accepts
``..``, a memory search that ignores the user, a JSONL writer that lets newlines through, a
verify_audit_log that always says ok: FFStore / manager subclasses handed to
FFIntegrationTestManager), with monkeypatch where it lives in a module function or the event
loop (a manager that forgets to validate ids or lengths, a sandbox that passes the parent's
environment). The matching checks must then
report ``passed=False`` with an observation that names what happened, and the "security findings"
quality gate of the report must fail.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from ff_class_configs import load_config
from ff_class_configs.ff_integration_testing_config import FFSecurityTestConfigDTO
from ff_class_configs.ff_metrics_dtos import FFAuditVerificationDTO
from ff_class_configs.ff_test_result_dtos import FFSecurityCheckDTO, FFSystemIntegrationReportDTO, FFTestStatus
from ff_managers import FFMetricsCollectionManager, FFPanelSessionManager, FFToolExecutionManager
from ff_utils.ff_errors import FFPermissionError
from ff_utils.ff_store import FFStore
from testing.ff_integration_test_manager import FFIntegrationTestManager
from testing.suites.security import REGISTRY
from tests._suite_helpers import SharedMemoryFolderStore

ASVS_4_0_3 = re.compile(r"V(?:[1-9]|1[0-4])\.\d{1,2}\.\d{1,2}")
GATE = "security finding"

Runner = Callable[..., Awaitable[tuple[dict[str, Any], FFSystemIntegrationReportDTO]]]


@pytest.fixture
def run_security(tmp_path: Path) -> Runner:
    """Run chosen security tests (all by default) through FFIntegrationTestManager; return results by name and the report.

    Keyword ``parts`` go to FFIntegrationTestManager's seams (``store_factory``, ``manager_classes``...).
    """

    async def run(
        *names: str, security: dict[str, bool] | None = None, retries: int = 0, timeout: float = 120.0, **parts: Any
    ) -> tuple[dict[str, Any], FFSystemIntegrationReportDTO]:
        overrides = {
            "integration_testing": {"max_retry_attempts": retries, "test_timeout_seconds": timeout, "security_config": security or {}}
        }
        manager = FFIntegrationTestManager(load_config(environ={}, overrides=overrides), output_dir=tmp_path / "out", **parts)
        try:
            suite = await manager.run_suite("security", only=names or None)
            report = manager.build_report()
        finally:
            await manager.close()
        return {r.test_id.split(".", 1)[1]: r for r in suite.results}, report

    return run


def _check(result: Any) -> FFSecurityCheckDTO:
    return FFSecurityCheckDTO.model_validate(result.details["security_check"])


def _gate(report: FFSystemIntegrationReportDTO) -> Any:
    return next(g for g in report.quality_gates if GATE in g.name)


def _assert_found(results: dict[str, Any], report: FFSystemIntegrationReportDTO, name: str, *observed: str) -> FFSecurityCheckDTO:
    """The check failed, says why in ``observed``, and the security gate names it."""
    result = results[name]
    check = _check(result)
    assert result.status == FFTestStatus.FAILED, (result.status, result.error_message)
    assert check.passed is False
    for text in observed:
        assert text in check.observed, f"{text!r} not in {check.observed!r}"
    gate = _gate(report)
    assert gate.passed is False and check.check_id in gate.detail
    assert report.vulnerabilities_found >= 1 and not report.security_tests_passed
    return check


# ---------------------------------------------------------------------------- shape of the suite


def test_registry_holds_named_attacks_with_asvs_ids() -> None:
    specs = REGISTRY.specs
    assert len(specs) >= 25
    check_ids = [s.tags["check_id"] for s in specs]
    assert len(set(check_ids)) == len(check_ids)
    assert all(ASVS_4_0_3.fullmatch(s.tags["asvs"]) for s in specs), [s.tags["asvs"] for s in specs]
    assert {s.tags["group"] for s in specs} == set(FFSecurityTestConfigDTO.model_fields)
    asvs = {s.tags["check_id"]: s.tags["asvs"] for s in specs}
    assert asvs["SEC-PATH-01"] == "V12.3.1" and asvs["SEC-SBX-01"] == "V5.3.8"
    assert asvs["SEC-ISO-01"] == "V4.2.1" and asvs["SEC-AUD-01"] == "V7.3.3" and asvs["SEC-ENC-01"] == "V6.1.1"
    isolation = [s for s in specs if s.tags["group"] == "test_user_isolation"]
    assert {c for s in isolation for c in s.components} == {"memory", "panel", "knowledge", "tools", "metrics"}


@pytest.mark.slow
async def test_suite_passes_on_the_real_managers(run_security: Runner) -> None:
    results, report = await run_security()
    failed = {name: r.error_message for name, r in results.items() if r.status != FFTestStatus.PASSED}
    assert failed == {}
    checks = report.security_checks
    assert len(checks) == len(REGISTRY.specs) >= 25
    assert all(c.passed and c.observed and "FAILED" not in c.observed for c in checks)
    assert _gate(report).passed and report.security_tests_passed
    encryption = next(c for c in checks if c.check_id == "SEC-ENC-01")
    assert "throwaway key" in encryption.observed and "0 of " in encryption.observed  # really checked (issue 12)


async def test_a_disabled_group_attempts_nothing_and_records_no_check(run_security: Runner, tmp_path: Path) -> None:
    results, report = await run_security("audit_edit_record", "audit_delete_record", security={"test_audit_tampering": False})
    for result in results.values():
        assert result.status == FFTestStatus.PASSED and "security_check" not in result.details
        assert result.warnings_generated and "not attempted" in result.warnings_generated[0]
    assert report.security_checks == []
    assert not (tmp_path / "out" / "runs" / report.report_id / "security").exists()  # no attack data root was made


# ---------------------------------------------------------------------------- injected vulnerabilities


class DotDotPathStore(FFStore):
    """A safe-path helper that joins whatever it is given, ``..`` included (and opens files
    without the no-follow walk from the root, the second layer that would refuse ``..``)."""

    confine_to_root = False

    def path(self, *parts: str) -> Path:
        return self.root.joinpath(*parts)


async def test_traversal_is_found_when_ids_are_not_validated_and_safe_path_accepts_dotdot(
    run_security: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ff_managers.ff_tool_execution_manager as tools_module

    monkeypatch.setattr(tools_module, "ff_validate_id", lambda value, kind="id": value)
    results, report = await run_security("traversal_ids_tools", "traversal_ids_panel", store_factory=DotDotPathStore.from_config)
    _assert_found(
        results,
        report,
        "traversal_ids_tools",
        "grant_tool(user_id)=traversal '../../etc' was accepted",
        "outside the data root: added l1/l2/etc, added l1/l2/etc/tools",
    )
    assert results["traversal_ids_panel"].status == FFTestStatus.PASSED  # the panel manager still validates


async def test_untyped_errors_count_as_findings_even_when_a_model_stops_the_write(
    run_security: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ff_managers.ff_memory_layer_manager as memory_module

    monkeypatch.setattr(memory_module, "ff_validate_id", lambda value, kind="id": value)
    results, report = await run_security("traversal_ids_memory")
    _assert_found(results, report, "traversal_ids_memory", "create_session(user_id)=traversal '../../etc' raised untyped ValidationError")


async def test_a_memory_search_that_ignores_the_user_is_found(run_security: Runner) -> None:
    results, report = await run_security(
        "isolation_memories_and_search", "isolation_chat_sessions", store_factory=SharedMemoryFolderStore.from_config
    )
    _assert_found(results, report, "isolation_memories_and_search", "search_memories(B, canary): 1 hit(s)", "canary in text: yes")
    assert results["isolation_chat_sessions"].status == FFTestStatus.PASSED


class _PlantedOwnerCheck(FFPanelSessionManager):
    """A panel manager whose owner check is replaced by ``planted(real_check, owner_of, user_id, panel_id)``."""

    @staticmethod
    def planted(check: Any, owner_of: Any, user_id: Any, panel_id: str) -> str:
        raise NotImplementedError

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owners, owner_of = self._parts.owners, self._parts.store.owner_of
        real = owners.resolve
        owners.resolve = lambda user_id, panel_id: self.planted(real, owner_of, user_id, panel_id)


class OwnerUncheckedPanels(_PlantedOwnerCheck):
    """The owner is never checked: any user_id reaches any panel."""

    @staticmethod
    def planted(check: Any, owner_of: Any, user_id: Any, panel_id: str) -> str:
        return owner_of(panel_id)


class AnonymousBypassPanels(_PlantedOwnerCheck):
    """The old optional user_id: without one (None or ''), the owner is not checked."""

    @staticmethod
    def planted(check: Any, owner_of: Any, user_id: Any, panel_id: str) -> str:
        return owner_of(panel_id) if not user_id else check(user_id, panel_id)


class TellingPanels(_PlantedOwnerCheck):
    """Refuses another user's panel, but says that it exists (FFPermissionError, not "no panel")."""

    @staticmethod
    def planted(check: Any, owner_of: Any, user_id: Any, panel_id: str) -> str:
        owner = owner_of(panel_id)
        if owner != user_id:
            raise FFPermissionError(f"panel {panel_id!r} belongs to another user")
        return owner


async def test_a_panel_owner_check_that_ignores_user_id_is_found(run_security: Runner) -> None:
    results, report = await run_security(
        "isolation_panels", "oversized_panel_message", retries=1, manager_classes={"panel": OwnerUncheckedPanels}
    )
    _assert_found(results, report, "isolation_panels", "get_panel(B, A's panel) was accepted", "add_message(B, A's panel) was accepted")
    assert results["isolation_panels"].attempts == 2  # the retry attacked again from scratch and failed the same way
    assert results["oversized_panel_message"].status == FFTestStatus.PASSED


async def test_a_panel_call_without_user_id_that_skips_the_owner_check_is_found(run_security: Runner) -> None:
    results, report = await run_security("isolation_panels", manager_classes={"panel": AnonymousBypassPanels})
    check = _assert_found(results, report, "isolation_panels", "get_messages(user_id=None) was accepted")
    assert "as B: 16/16 calls refused" in check.observed  # B alone is still refused: only the bypass is found


async def test_a_panel_refusal_that_tells_the_panel_exists_is_found(run_security: Runner) -> None:
    results, report = await run_security("isolation_panels", manager_classes={"panel": TellingPanels})
    _assert_found(results, report, "isolation_panels", "answers unlike a missing panel's: 16", "FFPermissionError")


class HangingRunLookup(FFToolExecutionManager):
    """Looking up a tool run never returns."""

    async def get_run(self, user_id: str, run_id: str) -> Any:
        await asyncio.sleep(3600)


async def test_an_attack_that_hangs_is_recorded_as_a_finding(run_security: Runner) -> None:
    results, report = await run_security("isolation_tool_runs", timeout=2.0, manager_classes={"tools": HangingRunLookup})
    result = results["isolation_tool_runs"]
    assert result.status == FFTestStatus.ERROR and result.error_type == "Timeout"
    check = _check(result)
    assert check.passed is False and "cancelled: the attack ran past the test's time limit" in check.observed
    assert _gate(report).passed is False


async def test_a_sandbox_that_passes_the_parent_environment_is_found(run_security: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    spawn = asyncio.base_events.BaseEventLoop.subprocess_exec

    async def leaky_spawn(self: asyncio.AbstractEventLoop, factory: Any, *args: Any, env: Any = None, **kwargs: Any) -> Any:
        args = tuple(a for a in args if a != "--clearenv")  # under bubblewrap the leak needs its --clearenv gone too
        return await spawn(self, factory, *args, env=None if env is None else {**os.environ, **env}, **kwargs)

    monkeypatch.setattr(asyncio.base_events.BaseEventLoop, "subprocess_exec", leaky_spawn)  # the allow-list skipped at the spawn
    results, report = await run_security("sandbox_environment_secret")
    check = _assert_found(results, report, "sandbox_environment_secret", "secret name or value visible to the tool: yes")
    assert "FF_SECURITY_PROBE_SECRET_" in check.observed  # the leaked variable is named


class StringFormattedJsonlStore(FFStore):
    """Writes chat messages as JSON built by string formatting, so string values go out unescaped."""

    def append_many(self, path: Path, records: Any) -> None:
        if path.name != "messages.jsonl":
            return super().append_many(path, records)
        with open(path, "ab") as handle:
            for record in records:
                fields = (f'"{k}": "{v}"' if isinstance(v, str) else f'"{k}": {json.dumps(v)}' for k, v in record.items())
                handle.write(("{" + ", ".join(fields) + "}\n").encode())


async def test_a_jsonl_writer_that_lets_newlines_through_is_found(run_security: Runner) -> None:
    results, report = await run_security("injection_chat_messages", store_factory=StringFormattedJsonlStore.from_config)
    _assert_found(results, report, "injection_chat_messages", "one line per accepted add_message call", "forged message_id in API or file: yes")


class AuditAlwaysOk(FFMetricsCollectionManager):
    """verify_audit_log says ok whatever the log holds."""

    async def verify_audit_log(self) -> FFAuditVerificationDTO:
        return FFAuditVerificationDTO(ok=True, records_checked=5)


async def test_a_verify_audit_log_that_always_says_ok_is_found(run_security: Runner) -> None:
    names = ("audit_edit_record", "audit_edit_and_reseal_record", "audit_delete_record", "audit_reorder_records", "audit_truncate_tail")
    results, report = await run_security(*names, manager_classes={"metrics": AuditAlwaysOk})
    for name in names:
        _assert_found(results, report, name, "ok=True, first_bad_index=None", "verify_audit_log reports the tampering")
    assert _gate(report).detail.startswith("5 finding(s) in 5 attempts")


async def test_a_missing_length_check_is_found(run_security: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    import ff_managers.ff_memory_layer_manager as memory_module

    monkeypatch.setattr(memory_module, "check_content", lambda value, **kw: value)
    results, report = await run_security("oversized_chat_message", "oversized_memory", retries=1)
    assert results["oversized_chat_message"].attempts == 2  # the retry got a data root of its own
    _assert_found(results, report, "oversized_chat_message", "add_message(content=limit+1) was accepted", "added l1/l2/root/users/victim")
    _assert_found(results, report, "oversized_memory", "store_memory(immediate, limit+1) was accepted")


def test_survivor_scan_finds_a_live_process_of_a_run() -> None:
    from testing.suites.security.sandbox import run_survivors

    run_id = "run-survivor-probe"
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], env={**os.environ, "FF_TOOL_RUN_ID": run_id})
    try:
        deadline = time.monotonic() + 5
        while child.pid not in run_survivors(run_id) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert run_survivors(run_id) == [child.pid]
    finally:
        child.kill()
        child.wait()
    assert run_survivors(run_id) == []
