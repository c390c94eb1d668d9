"""The security suite's audit attacks pass on the real audit log and go red when a defence is removed.

(Here rather than in tests/testing/suites/ because the defects are planted inside ff_managers/_metrics.)

Planted defects, each the removal of one defence of ``ff_managers/_metrics/``:

* a verifier that takes the log's own length and last hash as the head (the head is no longer
  compared): a record appended behind the head's back, and a cut tail, pass;
* a metrics manager that ignores the configured audit key (keyless chain): rewriting the log and
  the head together passes;
* a verifier that always says ok: every attack passes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from ff_class_configs import load_config
from ff_class_configs.ff_metrics_dtos import FFAuditVerificationDTO
from ff_class_configs.ff_test_result_dtos import FFSecurityCheckDTO, FFSystemIntegrationReportDTO, FFTestStatus
from ff_managers import FFMetricsCollectionManager
from ff_managers._metrics import audit_log
from ff_managers._metrics.audit_chain import FFAuditHead, FFChainEntry, FFChainVerdict, verify_chain
from ff_managers._metrics.audit_seal import FFAuditSeal
from testing.ff_integration_test_manager import FFIntegrationTestManager

Runner = Callable[..., Awaitable[tuple[dict[str, Any], FFSystemIntegrationReportDTO]]]
NEW = (
    "audit_append_forged_record",
    "audit_insert_forged_record",
    "audit_rewrite_log_and_head_with_key",
    "audit_cut_tail_and_head_with_key",
)
ALL = ("audit_edit_record", "audit_edit_and_reseal_record", "audit_delete_record", "audit_reorder_records", "audit_truncate_tail", *NEW)


@pytest.fixture
def run_security(tmp_path: Path) -> Runner:
    async def run(*names: str, **parts: Any) -> tuple[dict[str, Any], FFSystemIntegrationReportDTO]:
        overrides = {"integration_testing": {"max_retry_attempts": 0, "test_timeout_seconds": 120.0}}
        manager = FFIntegrationTestManager(load_config(environ={}, overrides=overrides), output_dir=tmp_path / "out", **parts)
        try:
            suite = await manager.run_suite("security", only=names)
            report = manager.build_report()
        finally:
            await manager.close()
        return {r.test_id.split(".", 1)[1]: r for r in suite.results}, report

    return run


def _found(results: dict[str, Any], name: str, *observed: str) -> None:
    result = results[name]
    check = FFSecurityCheckDTO.model_validate(result.details["security_check"])
    assert result.status == FFTestStatus.FAILED and check.passed is False, (name, check.observed)
    for text in observed:
        assert text in check.observed, f"{text!r} not in {check.observed!r}"


async def test_the_audit_attacks_pass_on_the_real_audit_log(run_security: Runner) -> None:
    results, report = await run_security(*ALL)
    assert {name: r.status for name, r in results.items()} == dict.fromkeys(ALL, FFTestStatus.PASSED)
    observed = {c.check_id: c.observed for c in report.security_checks}
    assert "head untouched" in observed["SEC-AUD-06"] and "first_bad_index=5" in observed["SEC-AUD-06"]
    assert "head rewritten to fit" in observed["SEC-AUD-08"] and "mode=hmac-sha256" in observed["SEC-AUD-08"]


def _head_not_compared(entries: Iterable[FFChainEntry], head: FFAuditHead | None, seal: FFAuditSeal = FFAuditSeal()) -> FFChainVerdict:
    """The planted defect: the log's own length and last hash stand in for the head."""
    listed = list(entries)
    records = [e.record for e in listed if isinstance(e.record, dict) and "hash" in e.record]
    if head is not None and records:
        head = replace(head, count=len(records), last_hash=records[-1]["hash"], pending=None)
    return verify_chain(listed, head, seal)


async def test_a_verifier_that_does_not_compare_the_head_is_found(run_security: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit_log, "verify_chain", _head_not_compared)
    results, _ = await run_security("audit_append_forged_record", "audit_truncate_tail")
    _found(results, "audit_append_forged_record", "head untouched): ok=True")
    _found(results, "audit_truncate_tail", "ok=True")


async def test_a_manager_that_ignores_the_audit_key_is_found(run_security: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("ff_managers.ff_metrics_collection_manager.audit_seal_from_settings", lambda settings, root: FFAuditSeal())
    results, _ = await run_security("audit_rewrite_log_and_head_with_key", "audit_cut_tail_and_head_with_key")
    _found(results, "audit_rewrite_log_and_head_with_key", "head rewritten to fit): ok=True", "it checked with the audit key")
    _found(results, "audit_cut_tail_and_head_with_key", "head rewritten to fit): ok=True")


class AuditAlwaysOk(FFMetricsCollectionManager):
    """verify_audit_log says ok whatever the log holds."""

    async def verify_audit_log(self) -> FFAuditVerificationDTO:
        return FFAuditVerificationDTO(ok=True, records_checked=5)


async def test_a_verify_audit_log_that_always_says_ok_fails_the_new_attacks(run_security: Runner) -> None:
    results, _ = await run_security(*NEW, manager_classes={"metrics": AuditAlwaysOk})
    for name in NEW:
        _found(results, name, "verify_audit_log reports the tampering")
