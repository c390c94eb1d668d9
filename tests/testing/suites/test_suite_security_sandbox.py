"""The security suite's bubblewrap checks (SEC-SBX-08..11): green on the real managers, red when planted.

The defects are planted through configuration, the way an operator could get it wrong: tools
allowed to run unsandboxed with no bwrap at hand, or extraction limits raised out of reach. The
network-and-manager check also runs with the sandbox's PID namespace planted away (bwrap's
command line without ``--unshare-pid``), so one flag of the sandbox is shown to matter on its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

import testing.suites.security._pdf_bombs as bombs_module
from ff_class_configs import load_config
from ff_class_configs.ff_test_result_dtos import FFSecurityCheckDTO, FFSystemIntegrationReportDTO, FFTestStatus
from testing.ff_integration_test_manager import FFIntegrationTestManager

Runner = Callable[..., Awaitable[tuple[dict[str, Any], FFSystemIntegrationReportDTO]]]
CHECKS = ("sandbox_host_files_and_other_users", "sandbox_network_and_manager", "sandbox_daemon_and_disk_flood")
UNSANDBOXED = {"tools": {"bwrap_path": "/nonexistent/bwrap", "allow_unsandboxed": True}}


@pytest.fixture
def run_checks(tmp_path: Path) -> Runner:
    async def run(*names: str, overrides: dict[str, Any] | None = None) -> tuple[dict[str, Any], FFSystemIntegrationReportDTO]:
        config = {"integration_testing": {"max_retry_attempts": 0, "test_timeout_seconds": 150.0}, **(overrides or {})}
        manager = FFIntegrationTestManager(load_config(environ={}, overrides=config), output_dir=tmp_path / "out")
        try:
            suite = await manager.run_suite("security", only=names)
            report = manager.build_report()
        finally:
            await manager.close()
        return {r.test_id.split(".", 1)[1]: r for r in suite.results}, report

    return run


def _check(result: Any) -> FFSecurityCheckDTO:
    return FFSecurityCheckDTO.model_validate(result.details["security_check"])


async def test_the_sandbox_checks_pass_on_the_real_managers(run_checks: Runner) -> None:
    results, report = await run_checks(*CHECKS, "sandbox_pdf_bombs")
    for name, result in results.items():
        assert result.status == FFTestStatus.PASSED, (name, result.error_message, _check(result).observed)
        assert "sandbox: bwrap" in _check(result).observed or name == "sandbox_pdf_bombs"


async def test_unsandboxed_tools_are_found_by_every_sandbox_check(run_checks: Runner) -> None:
    results, report = await run_checks(*CHECKS, overrides=UNSANDBOXED)
    for name in CHECKS:
        check = _check(results[name])
        assert results[name].status == FFTestStatus.FAILED and check.passed is False, name
        assert "sandbox: none" in check.observed, check.observed
    observed = {name: _check(results[name]).observed for name in CHECKS}
    assert "'read_other_user': True" in observed["sandbox_host_files_and_other_users"]
    assert "'connected': True" in observed["sandbox_network_and_manager"]
    assert "processes alive afterwards: [" in observed["sandbox_daemon_and_disk_flood"]  # the daemon outlived its run
    assert not report.security_tests_passed


async def test_a_sandbox_without_its_pid_namespace_is_found(run_checks: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    spawn = asyncio.base_events.BaseEventLoop.subprocess_exec

    async def without_pid_namespace(self: asyncio.AbstractEventLoop, factory: Any, *args: Any, **kwargs: Any) -> Any:
        # --as-pid-1 (the supervisor is the namespace's init) means nothing without the namespace: it goes too.
        return await spawn(self, factory, *(a for a in args if a not in ("--unshare-pid", "--as-pid-1")), **kwargs)

    monkeypatch.setattr(asyncio.base_events.BaseEventLoop, "subprocess_exec", without_pid_namespace)  # the PID namespace dropped at the spawn
    results, _ = await run_checks("sandbox_network_and_manager")
    check = _check(results["sandbox_network_and_manager"])
    # Visible now (the uid still stops the signal: PermissionError, not ProcessLookupError): red.
    assert check.passed is False and "'manager': 'PermissionError'" in check.observed


async def test_pdf_bombs_are_found_when_the_extraction_limits_are_out_of_reach(
    run_checks: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    limits = {"extract_max_chars": 100_000_000, "extract_max_page_content_mb": 1024, "chunk_size_chars": 100_000}
    # Smaller bombs (2 MB of text each), so that accepting them stays quick on a busy machine.
    text_bomb, stream_bomb = bombs_module.text_bomb_pdf, bombs_module.stream_bomb_pdf
    monkeypatch.setattr(bombs_module, "text_bomb_pdf", lambda: text_bomb(draws=200))
    monkeypatch.setattr(bombs_module, "stream_bomb_pdf", lambda: stream_bomb(repeats=2_000))
    results, _ = await run_checks("sandbox_pdf_bombs", overrides={"knowledge": limits})
    check = _check(results["sandbox_pdf_bombs"])
    assert check.passed is False and "('accepted'" in check.observed
