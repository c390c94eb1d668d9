"""A realistic sample report with every section filled, for tests and for previewing the renderers.

The figures are fixed sample data (no clock, no randomness), shaped like a real ``run-all``: six
suites with passed, failed, flaky, errored and skipped tests, the 22 use cases, a load test with
per-operation percentiles and psutil samples, security attempts with their ASVS ids, a legacy
migration, quality gates and a comparison with the previous run. :func:`build_sample_history`
gives earlier runs for the trend charts.

Preview every format (with five earlier runs in the history)::

    python -m testing.reporting.sample /tmp/ff-report-preview
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ff_class_configs.ff_integration_testing_config import FFTestingLevel
from ff_class_configs.ff_test_result_dtos import (
    FFAssertionDTO,
    FFCrossSystemEventDTO,
    FFCrossSystemGateDTO,
    FFCrossSystemIntervalDTO,
    FFCrossSystemSummaryDTO,
    FFFaultOutcomeDTO,
    FFTransportStatsDTO,
    FFIntegrationTestResultDTO,
    FFLoadIntervalDTO,
    FFLogRecordDTO,
    FFMigrationSummaryDTO,
    FFOperationStatsDTO,
    FFPerformanceSummaryDTO,
    FFQualityGateResultDTO,
    FFResourceSampleDTO,
    FFRunComparisonDTO,
    FFSecurityCheckDTO,
    FFStepTimingDTO,
    FFSuiteResultDTO,
    FFSystemIntegrationReportDTO,
    FFTestAttemptDTO,
    FFTestStatus,
    FFUseCaseValidationDTO,
)

__all__ = [
    "SAMPLE_REPORT_ID",
    "SAMPLE_USE_CASES",
    "build_passing_sample_report",
    "build_sample_history",
    "build_sample_report",
    "main",
]

SAMPLE_REPORT_ID = "run-20250301T101500Z-a1b2c3"
_START = datetime(2025, 3, 1, 10, 15, 0, tzinfo=UTC)
P, F, K, S, E = (FFTestStatus.PASSED, FFTestStatus.FAILED, FFTestStatus.FLAKY, FFTestStatus.SKIPPED, FFTestStatus.ERROR)

#: (id, name, category, managers) of the 22 use cases, as in docs/USE_CASES.md.
SAMPLE_USE_CASES: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("basic_chat", "Basic chat", "basic", ("memory", "analytics")),
    ("multimodal_chat", "Multimodal chat", "basic", ("memory", "tools", "analytics")),
    ("rag_chat", "RAG chat", "basic", ("knowledge", "memory")),
    ("multimodal_rag", "Multimodal RAG", "basic", ("knowledge", "tools", "memory")),
    ("translation_chat", "Translation chat", "specialized", ("tools", "memory", "panel(persona)")),
    ("personal_assistant", "Personal assistant", "specialized", ("tools", "memory")),
    ("interactive_tutor", "Interactive tutor", "specialized", ("panel(persona)", "memory", "analytics")),
    ("language_tutor", "Language tutor", "specialized", ("tools", "panel(persona)")),
    ("exam_assistant", "Exam assistant", "specialized", ("knowledge", "memory")),
    ("ai_notetaker", "AI notetaker", "specialized", ("tools", "knowledge", "memory")),
    ("chatops_assistant", "ChatOps assistant", "specialized", ("tools", "analytics")),
    ("cross_team_concierge", "Cross-team concierge", "specialized", ("knowledge", "tools", "memory")),
    ("scene_critic", "Scene critic", "specialized", ("panel(persona)", "tools")),
    ("multi_ai_panel", "Multi-AI panel", "multi-participant", ("panel", "memory")),
    ("ai_debate", "AI debate", "multi-participant", ("panel", "analytics")),
    ("topic_delegation", "Topic delegation", "multi-participant", ("panel", "knowledge")),
    ("ai_game_master", "AI game master", "multi-participant", ("panel", "memory")),
    ("auto_task_agent", "Auto task agent", "multi-participant", ("tools", "panel", "memory")),
    ("memory_chat", "Memory chat", "context & memory", ("memory",)),
    ("thought_partner", "Thought partner", "context & memory", ("memory", "knowledge")),
    ("story_world_chat", "Story world chat", "context & memory", ("memory", "panel(persona)")),
    ("prompt_sandbox", "Prompt sandbox", "development", ("tools", "analytics")),
)


class _Clock:
    """Hands out consecutive start/end times so every result has plausible timestamps."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def span(self, seconds: float) -> tuple[datetime, datetime]:
        begin = self.now
        self.now = begin + timedelta(seconds=seconds)
        return begin, self.now


def _assertions(passed: list[str], failed: list[tuple[str, str]] = ()) -> list[FFAssertionDTO]:  # type: ignore[assignment]
    return [FFAssertionDTO(description=d, passed=True, detail="") for d in passed] + [
        FFAssertionDTO(description=d, passed=False, detail=detail) for d, detail in failed
    ]


def _attempt_history(
    status: FFTestStatus,
    seconds: float,
    assertions: list[FFAssertionDTO],
    error_type: str,
    message: str,
    first_failure: str,
    first_failure_type: str,
) -> list[FFTestAttemptDTO]:
    """What the runner records per attempt: a flaky test failed once (``first_failure``), then passed."""
    failed = [a for a in assertions if not a.passed]
    if status == S:
        return []
    if status == K:
        return [
            FFTestAttemptDTO(
                attempt=1,
                status=E if first_failure_type not in ("", "AssertionFailed") else F,
                duration_seconds=round(seconds * 0.6, 3),
                error_type=first_failure_type or "AssertionFailed",
                error_message=first_failure,
                failed_assertions=[] if first_failure_type else [
                    FFAssertionDTO(description=assertions[0].description, passed=False, detail=first_failure)
                ],
            ),
            FFTestAttemptDTO(attempt=2, status=P, duration_seconds=round(seconds * 0.4, 3)),
        ]
    return [
        FFTestAttemptDTO(
            attempt=1,
            status=status,
            duration_seconds=seconds,
            error_type=error_type if status != P else "",
            error_message=message if status != P else "",
            failed_assertions=failed,
        )
    ]


def _result(
    clock: _Clock,
    suite: str,
    test_id: str,
    name: str,
    status: FFTestStatus,
    seconds: float,
    *,
    level: FFTestingLevel = FFTestingLevel.INTEGRATION,
    components: tuple[str, ...] = (),
    checks: tuple[str, ...] = ("result read back through the manager API",),
    failed: tuple[tuple[str, str], ...] = (),
    error_type: str = "",
    error_message: str = "",
    skip_reason: str = "",
    attempts: int | None = None,
    metrics: dict[str, float] | None = None,
    logs: tuple[tuple[str, str, str], ...] = (),
) -> FFIntegrationTestResultDTO:
    """One result as the runner builds it; for a flaky result ``error_message`` is the first attempt's failure."""
    begin, end = clock.span(seconds)
    if attempts is None:
        attempts = 0 if status == S else (2 if status == K else 1)
    first_failure = ""
    if status == K:
        first_failure, error_message = error_message or "attempt 1 failed", ""
    assertions = [] if status == S else _assertions(list(checks), list(failed))
    return FFIntegrationTestResultDTO(
        test_id=test_id,
        test_name=name,
        test_suite=suite,
        status=status,
        test_level=level,
        start_timestamp=begin,
        end_timestamp=end,
        execution_time_seconds=0.0 if status == S else seconds,
        attempts=attempts,
        error_message=error_message,
        error_type="" if status == K else error_type,
        skip_reason=skip_reason,
        components=list(components),
        assertions=assertions,
        metrics=metrics or {},
        warnings_generated=[f"passed only after a retry; attempt 1: {first_failure}"] if status == K else [],
        attempt_results=_attempt_history(status, seconds, assertions, error_type, error_message, first_failure, error_type if status == K else ""),
        logs=[
            FFLogRecordDTO(attempt=1, level=level_name, logger=logger, message=text, elapsed_seconds=round(seconds / 3, 3))
            for level_name, logger, text in logs
        ],
    )


def _suite(suite: str, results: list[FFIntegrationTestResultDTO]) -> FFSuiteResultDTO:
    return FFSuiteResultDTO(
        suite=suite, results=results, duration_seconds=round(sum(r.execution_time_seconds for r in results), 3)
    )


def _component_suite(clock: _Clock, failing: frozenset[str]) -> FFSuiteResultDTO:
    c = FFTestingLevel.COMPONENT
    rows = [
        ("memory_session_roundtrip", "Memory: session and messages survive a manager restart", ("memory",), 0.41),
        ("memory_retention_moves_down", "Memory: retention moves expired memories down a layer", ("memory",), 0.36),
        ("panel_turn_order", "Panel: out-of-turn message is refused", ("panel",), 0.22),
        ("knowledge_ingest_search", "Knowledge: ingested document is retrieved with citations", ("knowledge",), 0.93),
        ("knowledge_reindex", "Knowledge: re-index after delete drops the chunks", ("knowledge",), 0.58),
        ("tools_sandbox_limits", "Tools: time and memory limits end a runaway tool", ("tools",), 1.84),
        ("metrics_percentiles", "Metrics: p50/p95/p99 match a known distribution", ("analytics",), 0.12),
        ("event_bus_analytics", "Event bus: memory.stored reaches analytics", ("memory", "analytics"), 0.27),
    ]
    results = []
    for test_id, name, components, seconds in rows:
        status = P
        failed: tuple[tuple[str, str], ...] = ()
        message, kind = "", ""
        if test_id in failing:
            status, kind = F, "AssertionError"
            failed = (("chunks of the deleted document are gone", "expected 0 chunks, found 3"),)
            message = "expected 0 chunks for doc_7f3a after delete, found 3"
        elif test_id == "tools_sandbox_limits":
            status = K
            message = "tool exited after 2.31 s, limit 2.00 s (machine under load)"
        results.append(
            _result(
                clock,
                "component",
                test_id,
                name,
                status,
                seconds,
                level=c,
                components=components,
                failed=failed,
                error_type=kind,
                error_message=message,
                logs=(("WARNING", "ff.event_bus", "handler analytics_probe failed on memory.session_created: RuntimeError: handler broke on memory.session_created"),)
                if test_id == "event_bus_analytics"
                else (),
            )
        )
    return _suite("component", results)


def _use_cases(clock: _Clock, failing: frozenset[str]) -> tuple[list[FFUseCaseValidationDTO], FFSuiteResultDTO]:
    use_cases: list[FFUseCaseValidationDTO] = []
    results: list[FFIntegrationTestResultDTO] = []
    for index, (uc_id, name, category, managers) in enumerate(SAMPLE_USE_CASES):
        steps = [
            FFStepTimingDTO(name=step, duration_ms=round(9.0 + 6.5 * ((index * 3 + k) % 7) + 2.3 * k + 1.9 * index, 1))
            for k, step in enumerate(
                ("set up data", "run scripted turns", "read back", "restart managers", "verify on disk")
            )
        ]
        status, first_failure, kind = P, "", ""
        checks = [
            f"{name}: turns stored in order",
            f"{name}: data read back after restart",
            "no other user's data returned",
        ]
        failed: list[tuple[str, str]] = []
        if uc_id in failing:
            status, kind = F, "AssertionError"
            first_failure = "search for 'budget' in the notes KB returned 0 hits; the summary note was never indexed"
            failed = [("summarised notes are searchable", "expected >= 1 hit for 'budget', got 0")]
        attempt_history: list[FFTestAttemptDTO] = []
        step_seconds = sum(s.duration_ms for s in steps) / 1000
        if uc_id == "auto_task_agent":
            status = K
            attempt_history = _attempt_history(
                K, step_seconds, [], "", "", "step 'fetch_weather' timed out after 5.0 s", "FFTimeoutError"
            )
        else:
            attempt_history = _attempt_history(
                status, step_seconds, _assertions(checks, failed), kind, first_failure, "", ""
            )
        begin, _ = clock.span(step_seconds)
        use_cases.append(
            FFUseCaseValidationDTO(
                use_case_id=uc_id,
                use_case_name=name,
                use_case_category=category,
                required_components=list(managers),
                status=status,
                validation_timestamp=begin,
                execution_time_seconds=round(step_seconds, 3),
                attempts=2 if status == K else 1,
                steps=steps,
                assertions=_assertions(checks, failed),
                first_failure=first_failure,
                error_type=kind,
                attempt_results=attempt_history,
            )
        )
        results.append(
            FFIntegrationTestResultDTO(
                test_id=uc_id,
                test_name=name,
                test_suite="use_cases",
                status=status,
                test_level=FFTestingLevel.END_TO_END,
                start_timestamp=begin,
                end_timestamp=begin + timedelta(seconds=step_seconds),
                execution_time_seconds=round(step_seconds, 3),
                attempts=2 if status == K else 1,
                error_message=first_failure,
                error_type=kind,
                components=list(managers),
                assertions=_assertions(checks, failed),
                steps=steps,
                attempt_results=attempt_history,
            )
        )
    return use_cases, _suite("use_cases", results)


_OPERATIONS = (
    # operation, share of requests, p50, p95, p99 (ms) at factor 1.0
    ("memory.add_message", 0.24, 3.1, 9.8, 17.2),
    ("memory.get_messages", 0.18, 1.9, 6.4, 11.0),
    ("memory.search_memories", 0.10, 6.8, 24.5, 41.3),
    ("knowledge.search", 0.14, 14.2, 68.2, 112.9),
    ("knowledge.add_document", 0.04, 38.5, 131.0, 204.4),
    ("panel.add_message", 0.12, 2.7, 8.9, 15.1),
    ("tools.execute_tool", 0.08, 61.0, 188.3, 262.7),
    ("metrics.record_metric", 0.10, 0.6, 1.9, 3.8),
)


def _timeline(duration: float, achieved: float, latency_factor: float) -> list[FFLoadIntervalDTO]:
    """One-second slices: a 2 s ramp-up, then steady load with a slow patch at seconds 6-7."""
    slices = []
    for k in range(int(duration)):
        ramp = min(1.0, (k + 0.5) / 2.0)
        slow = 1.8 if k in (6, 7) else 1.0
        ok = round(achieved * ramp / slow ** 0.5)
        base = 3.0 * latency_factor * slow
        slices.append(
            FFLoadIntervalDTO(
                start_seconds=float(k),
                seconds=1.0,
                ok=ok,
                errors=1 if k == 7 else 0,
                throughput_ops=float(ok),
                min_ms=round(base * 0.2, 1),
                p50_ms=round(base, 1),
                p90_ms=round(base * 9.5, 1),
                p95_ms=round(base * 16.0, 1),
                p99_ms=round(base * 33.0, 1),
                max_ms=round(base * 52.0, 1),
            )
        )
    return slices


def _performance(latency_factor: float) -> FFPerformanceSummaryDTO:
    duration, achieved = 10.0, 187.4
    total = achieved * duration
    operations = []
    for name, share, p50, p95, p99 in _OPERATIONS:
        count = int(total * share)
        errors = 2 if name == "tools.execute_tool" else 0
        operations.append(
            FFOperationStatsDTO(
                operation=name,
                count=count,
                errors=errors,
                min_ms=round(p50 * 0.3 * latency_factor, 1),
                p50_ms=round(p50 * latency_factor, 1),
                p90_ms=round((p50 + (p95 - p50) * 0.7) * latency_factor, 1),
                p95_ms=round(p95 * latency_factor, 1),
                p99_ms=round(p99 * latency_factor, 1),
                mean_ms=round((p50 * 1.3) * latency_factor, 1),
                max_ms=round(p99 * 1.6 * latency_factor, 1),
                throughput_ops=round(count / duration, 1),
            )
        )
    samples = []
    for k in range(21):
        elapsed = k * 0.5
        ramp = min(1.0, elapsed / 2.0)  # 2 s ramp-up, then steady with a small sawtooth
        samples.append(
            FFResourceSampleDTO(
                elapsed_seconds=elapsed,
                cpu_percent=round(8.0 + 134.0 * ramp + 9.0 * ((k * 7) % 5) / 4, 1),
                rss_mb=round(96.0 + 58.0 * ramp + 0.9 * k, 1),
            )
        )
    errors = sum(op.errors for op in operations)
    total_ok = sum(op.count for op in operations)
    overall = FFOperationStatsDTO(
        operation="*",
        count=total_ok,
        errors=errors,
        min_ms=min(op.min_ms or 0.0 for op in operations),
        p50_ms=round(4.1 * latency_factor, 1),
        p90_ms=round(39.5 * latency_factor, 1),
        p95_ms=round(71.8 * latency_factor, 1),
        p99_ms=round(151.2 * latency_factor, 1),
        mean_ms=round(sum(op.mean_ms * op.count for op in operations) / total_ok, 1),
        max_ms=max(op.max_ms for op in operations),
        throughput_ops=round(total_ok / duration, 1),
    )
    return FFPerformanceSummaryDTO(
        overall=overall,
        timeline=_timeline(duration, achieved, latency_factor),
        profile="quick",
        concurrent_users=8,
        duration_seconds=duration,
        target_rps=200.0,
        achieved_rps=achieved,
        error_rate_percent=round(100.0 * errors / sum(op.count for op in operations), 3),
        operations=operations,
        resource_samples=samples,
        peak_rss_mb=max(s.rss_mb for s in samples),
        peak_cpu_percent=max(s.cpu_percent for s in samples),
        p95_threshold_ms=150.0,
        baseline_run_id="run-20250228T101500Z-9f8e7d",
        regressions=["knowledge.search p95 68.2 ms vs 41.0 ms baseline (+66%, margin 50%)"]
        if latency_factor >= 1
        else [],
        threshold_failures=[
            f"{op.operation} p95 {op.p95_ms:.1f} ms > 150 ms" for op in operations if op.p95_ms > 150.0
        ],
    )


def _performance_suite(clock: _Clock, performance: FFPerformanceSummaryDTO) -> FFSuiteResultDTO:
    lvl = FFTestingLevel.PERFORMANCE
    over = "; ".join(performance.threshold_failures)
    results = [
        _result(
            clock,
            "performance",
            "load_quick_profile",
            "Load: 8 users for 10 s at 200 ops/s",
            F if over else P,
            round(10.0 + 2.4 * max(op.p95_ms for op in performance.operations) / 188.3, 2),
            level=lvl,
            components=("memory", "knowledge", "panel", "tools", "analytics"),
            checks=("error rate below 1%", "memory below 1024 MB", "CPU below 400%"),
            failed=(("p95 of every operation below 150 ms", over),) if over else (),
            error_type="ThresholdExceeded" if over else "",
            error_message=over,
        ),
        _result(
            clock,
            "performance",
            "jsonl_tail_flat",
            "JSONL tail cost is flat in file length",
            P,
            3.2,
            level=lvl,
            components=("memory",),
            checks=("tail of 50 from 10k lines within 2x of tail from 100 lines",),
        ),
    ]
    return _suite("performance", results)


_SECURITY = (
    (
        "sec.path_traversal.user_id",
        "Path traversal through a user id",
        "path traversal",
        "V12.3.1",
        "create_session('../../etc', ...)",
        "FFValidationError; nothing written",
        "FFValidationError; no file created",
        True,
        "high",
    ),
    (
        "sec.path_traversal.attachment",
        "Path traversal through an attachment name",
        "path traversal",
        "V12.3.2",
        "attachment named '../../ff_meta.json'",
        "refused before any write",
        "FFValidationError; data root unchanged",
        True,
        "high",
    ),
    (
        "sec.symlink_escape",
        "Symlink inside the data root pointing outside",
        "path traversal",
        "V12.3.2",
        "users/mallory/sessions -> /tmp",
        "write refused",
        "FFValidationError: symlink below the data root",
        True,
        "high",
    ),
    (
        "sec.isolation.session_read",
        "Read another user's session by id",
        "access control",
        "V4.2.1",
        "bob asks for alice's session id",
        "not found for bob",
        "FFNotFoundError; no content returned",
        True,
        "critical",
    ),
    (
        "sec.isolation.kb_search",
        "Search another team's knowledge base",
        "access control",
        "V4.2.1",
        "search(user='bob', kb_id=alice_kb)",
        "refused",
        "FFPermissionError",
        True,
        "critical",
    ),
    (
        "sec.injection.tool_args",
        "Shell metacharacters in tool arguments",
        "injection",
        "V5.3.8",
        "{'text': '; rm -rf / #'}",
        "passed as data, no shell",
        "argv passed verbatim; exit 0; nothing deleted",
        True,
        "critical",
    ),
    (
        "sec.injection.jsonl_newline",
        "Newline injection into a JSONL log",
        "injection",
        "V7.3.1",
        'message content with \'\\n{"role":"system"}\'',
        "one record per line",
        "one record; newline escaped",
        True,
        "high",
    ),
    (
        "sec.sandbox.escape_workspace",
        "Tool reads outside its workspace",
        "sandbox",
        "V12.3.5",
        "open('/etc/passwd') inside a tool",
        "sandbox violation",
        "FFSandboxViolationError; run logged",
        True,
        "high",
    ),
    (
        "sec.oversized.message",
        "Oversized message payload",
        "resource limits",
        "V12.1.1",
        "32 MiB message content",
        "refused before writing",
        "FFValidationError: record exceeds 16 MiB",
        True,
        "medium",
    ),
    (
        "sec.deserialization.pickle",
        "Pickle payload offered as a document",
        "deserialization",
        "V5.5.3",
        "document with a pickle opcode stream",
        "stored as inert text",
        "stored as text; never unpickled",
        True,
        "high",
    ),
    (
        "sec.audit.tamper",
        "Edit an audit log line in place",
        "audit integrity",
        "V7.3.3",
        "rewrite line 12 of audit.jsonl with a new actor",
        "verify reports the edit",
        "verify passed: edit not detected",
        False,
        "medium",
    ),
)


def _security(clock: _Clock) -> tuple[list[FFSecurityCheckDTO], FFSuiteResultDTO]:
    checks: list[FFSecurityCheckDTO] = []
    results: list[FFIntegrationTestResultDTO] = []
    for check_id, name, category, asvs, attack, expected, observed, passed, severity in _SECURITY:
        checks.append(
            FFSecurityCheckDTO(
                check_id=check_id,
                name=name,
                category=category,
                asvs_id=asvs,
                attack=attack,
                expected=expected,
                observed=observed,
                passed=passed,
                severity=severity,
            )
        )
        results.append(
            _result(
                clock,
                "security",
                check_id,
                name,
                P if passed else F,
                0.08 + 0.01 * len(results),
                level=FFTestingLevel.SECURITY,
                checks=(f"{asvs}: {expected}",) if passed else (),
                failed=() if passed else ((f"{asvs}: {expected}", f"observed: {observed}"),),
                error_type="" if passed else "SecurityFinding",
                error_message="" if passed else observed,
            )
        )
    return checks, _suite("security", results)


def _failure_suite(clock: _Clock) -> FFSuiteResultDTO:
    rows = [
        ("kill_during_append", "Process killed mid-append: torn line repaired", P, 0.84, ""),
        ("disk_full_on_write", "Disk full during atomic write: old file intact", P, 0.31, ""),
        ("lock_holder_crash", "Lock holder crashes: lock released, next writer proceeds", P, 1.27, ""),
        (
            "corrupt_session_json",
            "Corrupt session.json: reported, other sessions readable",
            E,
            2.05,
            "FFCorruptionError escaped the recovery path: users/u2/sessions/s1/session.json: invalid JSON",
        ),
    ]
    results = [
        _result(
            clock,
            "failure",
            test_id,
            name,
            status,
            seconds,
            level=FFTestingLevel.INTEGRATION,
            components=("memory",),
            error_type="FFCorruptionError" if status == E else "",
            error_message=message,
            metrics={"recovery_seconds": seconds},
        )
        for test_id, name, status, seconds, message in rows
    ]
    return _suite("failure", results)


def _migration_suite(clock: _Clock) -> tuple[FFMigrationSummaryDTO, FFSuiteResultDTO]:
    lvl = FFTestingLevel.MIGRATION
    source = {"users": 4, "sessions": 12, "messages": 318, "memories": 57, "documents": 9, "personas": 3}
    summary = FFMigrationSummaryDTO(
        source="shared/fixtures/legacy_v1",
        from_version=1,
        to_version=2,
        records_source=source,
        records_target=dict(source),
        files_before=61,
        bytes_before=412_388,
        manifest_digest_before="sha256:6f1c0e2b9d7a4f35c8e1b0a9d2f4e6c8b1a3d5f7e9c0b2a4d6f8e0c2b4a6d8f0",
        manifest_digest_after_rollback="sha256:6f1c0e2b9d7a4f35c8e1b0a9d2f4e6c8b1a3d5f7e9c0b2a4d6f8e0c2b4a6d8f0",
        differences=[],
        skipped_items=[
            "complex/users/bob/sessions/s3/messages.jsonl line 17: torn record at end of file (quarantined)"
        ],
        rollback_identical=True,
        reapply_identical=True,
        duration_seconds=4.62,
        timeout_minutes=60.0,
    )
    results = [
        _result(
            clock,
            "migration",
            "legacy_import",
            "Legacy v1 layout imports with every record accounted for",
            P,
            2.1,
            level=lvl,
            checks=("record counts equal per kind", "every message text equal after import"),
        ),
        _result(
            clock,
            "migration",
            "rollback_identical",
            "Rollback restores byte-identical files",
            P,
            1.3,
            level=lvl,
            checks=("SHA-256 manifest equal after rollback",),
        ),
        _result(
            clock,
            "migration",
            "reapply_identical",
            "Re-applying after rollback gives the same result",
            P,
            1.2,
            level=lvl,
        ),
        _result(
            clock,
            "migration",
            "encrypted_archive",
            "Encrypted legacy archive import",
            S,
            0.0,
            level=lvl,
            skip_reason="no archive key configured (FF_MIGRATION__ARCHIVE_KEY unset)",
        ),
    ]
    return summary, _suite("migration", results)


def _cross_system(all_passed: bool = False) -> FFCrossSystemSummaryDTO:
    """Two instances for 36 s at 40 requests/s, a SIGKILL and a freeze, one gate undecided."""
    timeline = []
    for second in range(36):
        hit = second in (9, 10, 20)
        ok = 40 - (3 if hit and not all_passed else 0)
        timeline.append(FFCrossSystemIntervalDTO(start_seconds=float(second), seconds=1.0, attempts=40, ok=ok, errors=40 - ok,
                                                 throughput_ops=float(ok), p95_ms=18.0 + (140.0 if hit else (second % 5))))
    events = [
        FFCrossSystemEventDTO(at_seconds=9.2, kind="fault", label="SIGKILL ff-1", endpoint="ff-1"),
        FFCrossSystemEventDTO(at_seconds=9.6, kind="ejected", label="ff-1 http ejected", endpoint="ff-1-http"),
        FFCrossSystemEventDTO(at_seconds=12.1, kind="cleared", label="ff-1 restarted", endpoint="ff-1"),
        FFCrossSystemEventDTO(at_seconds=13.0, kind="recovered", label="ff-1 serving", endpoint="ff-1"),
        FFCrossSystemEventDTO(at_seconds=20.0, kind="fault", label="SIGSTOP ff-0", endpoint="ff-0"),
        FFCrossSystemEventDTO(at_seconds=21.5, kind="cleared", label="SIGCONT ff-0", endpoint="ff-0"),
        FFCrossSystemEventDTO(at_seconds=22.4, kind="recovered", label="ff-0 serving", endpoint="ff-0"),
    ]
    faults = [
        FFFaultOutcomeDTO(fault="SIGKILL, restart on the same port", target="ff-1", injected_at_seconds=9.2, cleared_at_seconds=12.1,
                          recovered_at_seconds=13.0, recovery_seconds=0.9, outage_seconds=3.8, errors_during=0 if all_passed else 6,
                          back_in_rotation=True),
        FFFaultOutcomeDTO(fault="SIGSTOP 1.5 s, then SIGCONT", target="ff-0", injected_at_seconds=20.0, cleared_at_seconds=21.5,
                          recovered_at_seconds=22.4, recovery_seconds=0.9, outage_seconds=2.4, errors_during=0 if all_passed else 3,
                          back_in_rotation=True),
    ]
    transports = [
        FFTransportStatsDTO(transport=name, attempts=480, ok=480 if all_passed else 477 - i, errors=0 if all_passed else 3 + i,
                            availability_percent=100.0 if all_passed else 100.0 * (477 - i) / 480, throughput_ops=13.3,
                            steady_count=420, p50_ms=6.0 + i, p95_ms=19.0 + 4 * i, p99_ms=31.0 + 5 * i, max_ms=80.0 + i,
                            failover_count=60, failover_p95_ms=180.0 + 10 * i)
        for i, name in enumerate(("http", "websocket", "tcp"))
    ]
    undecided = "passed" if all_passed else "inconclusive"
    gates = [
        FFCrossSystemGateDTO(name="availability", criterion="Service availability > 99.9%", target=">= 99.9 % of >= 1000 attempts",
                             measured="100.000 % of 1440 (0 failed)" if all_passed else "98.958 % of 1440 (15 failed)",
                             outcome="passed" if all_passed else "failed"),
        *(FFCrossSystemGateDTO(name=f"latency {t.transport}", criterion="Communication latency < 100ms",
                               target="steady-state p95 < 100 ms", measured=f"p95 {t.p95_ms:.1f} ms of 420", outcome="passed")
          for t in transports[:2]),
        FFCrossSystemGateDTO(name="latency tcp", criterion="Communication latency < 100ms", target="steady-state p95 < 100 ms",
                             measured="p95 27.0 ms of 420", outcome=undecided,
                             detail="" if all_passed else "load generator saturated (mean CPU 93 %, 0 shed): it measured itself"),
        FFCrossSystemGateDTO(name="recovery time", criterion="Recovery time < 5s", target="< 5 s per fault", measured="worst 0.90 s of 2 faults",
                             outcome="passed"),
        FFCrossSystemGateDTO(name="acknowledged writes", criterion="State consistency > 99%", target="0 lost, 0 duplicated (API and files)",
                             measured="0 lost, 0 duplicated of 560", outcome="passed"),
        FFCrossSystemGateDTO(name="udp delivery", criterion="Data exchange success > 99%",
                             target=">= 99 % of >= 100 datagrams (drop fault excluded)", measured="100.00 % of 400", outcome="passed"),
        FFCrossSystemGateDTO(name="error recovery", criterion="Error recovery > 95%", target=">= 95 % of faults", measured="100.0 % (2 of 2)",
                             outcome="passed"),
    ]
    return FFCrossSystemSummaryDTO(
        profile="quick", instances=2, duration_seconds=36.0, target_rps=40.0, attempts=1440, transports=transports,
        timeline=timeline, events=events, faults=faults, gates=gates, acknowledged_writes=560, udp_sent=500, udp_delivered=462,
        generator_peak_cpu_percent=71.0 if all_passed else 97.0, generator_mean_cpu_percent=38.0 if all_passed else 93.0,
        generator_saturated=not all_passed, max_dispatch_lag_ms=4.2,
    )


def build_sample_report(
    *,
    report_id: str = SAMPLE_REPORT_ID,
    started_at: datetime = _START,
    latency_factor: float = 1.0,
    failing: frozenset[str] = frozenset({"ai_notetaker", "knowledge_reindex"}),
    with_comparison: bool = True,
) -> FFSystemIntegrationReportDTO:
    """A complete report: every section filled, failures of every kind, deterministic.

    ``failing`` names component tests and use cases that fail in this run; ``latency_factor``
    scales every latency (earlier runs of :func:`build_sample_history` use it for trends).
    """
    clock = _Clock(started_at + timedelta(seconds=1.5))
    component = _component_suite(clock, failing)
    use_cases, use_case_suite = _use_cases(clock, failing)
    performance = _performance(latency_factor)
    performance_suite = _performance_suite(clock, performance)
    checks, security_suite = _security(clock)
    failure_suite = _failure_suite(clock)
    migration, migration_suite = _migration_suite(clock)
    cross_system = _cross_system()
    finished = clock.now + timedelta(seconds=2.0)
    suites = [component, use_case_suite, performance_suite, security_suite, failure_suite, migration_suite]
    executed = [r for s in suites for r in s.results if r.status != S]
    good = [r for r in executed if r.status in (P, K)]
    broken_named = [
        f"{r.test_suite}:{r.test_id}"
        for s in suites
        if s.suite in ("security", "migration", "use_cases")
        for r in s.results
        if r.status in (F, E)
    ]
    over = [op for op in performance.operations if op.p95_ms > 150.0]
    gates = [
        FFQualityGateResultDTO(
            name="minimum pass rate",
            passed=len(good) == len(executed),
            detail=f"{100.0 * len(good) / len(executed):.1f}% of {len(executed)} executed tests passed (minimum 100%)",
        ),
        FFQualityGateResultDTO(
            name="no failures in security, migration, use_cases",
            passed=not broken_named,
            detail="none failed" if not broken_named else f"{len(broken_named)} failed: " + ", ".join(broken_named),
        ),
        FFQualityGateResultDTO(
            name="p95 latency at most 150 ms",
            passed=not over,
            detail="; ".join(f"{op.operation} p95 {op.p95_ms:.1f} ms" for op in over)
            or "all operations within the ceiling",
        ),
        FFQualityGateResultDTO(
            name="no regression beyond 50% of the baseline",
            passed=not performance.regressions,
            detail=f"baseline {performance.baseline_run_id}: "
            + ("; ".join(performance.regressions) or "no regression"),
        ),
        FFQualityGateResultDTO(
            name="at most 0 security finding(s)",
            passed=False,
            detail=f"1 finding(s) in {len(checks)} attempts: sec.audit.tamper",
        ),
        FFQualityGateResultDTO(
            name="migration verified, rollback byte-identical",
            passed=True,
            detail="verified: no differences, rollback identical, re-apply identical",
        ),
        *(
            FFQualityGateResultDTO(
                name=f"cross-system {g.name}: {g.target}",
                passed=g.outcome == "passed",
                inconclusive=g.outcome == "inconclusive",
                detail=g.measured + (f"; {g.detail}" if g.detail else ""),
            )
            for g in cross_system.gates
        ),
    ]
    comparison = None
    if with_comparison:
        comparison = FFRunComparisonDTO(
            previous_run_id="run-20250228T101500Z-9f8e7d",
            newly_failing=sorted(["use_cases/ai_notetaker", "failure/corrupt_session_json"]),
            fixed=["component/panel_turn_order"],
            slower=["performance/knowledge.search: p95 41.0 ms → 68.2 ms (+66%)"],
        )
    return FFSystemIntegrationReportDTO(
        report_id=report_id,
        generation_timestamp=finished,
        started_at=started_at,
        finished_at=finished,
        seed=20_250_101,
        profile="quick",
        environment="development",
        platform={
            "python": "3.11.9",
            "os": "Linux 6.1.0 x86_64",
            "cpu_count": "2",
            "package_version": "0.1.0",
            "durability": "always",
        },
        git_commit="3f9c2d1e8b7a6f5e4d3c2b1a09f8e7d6c5b4a392",
        packages={
            "ff-platform": "0.1.0",
            "jinja2": "3.1.6",
            "matplotlib": "3.11.2",
            "orjson": "3.13.0",
            "pydantic": "2.14.3",
            "rich": "15.0.0",
            "weasyprint": "70.0",
        },
        suites=suites,
        use_case_results=use_cases,
        performance=performance,
        security_checks=checks,
        migration=migration,
        cross_system=cross_system,
        quality_gates=gates,
        comparison=comparison,
        critical_issues=[
            "Security finding (V7.3.3): an audit log line edited in place was not detected by verification.",
            "Failure simulation: a corrupt session.json made the recovery path raise instead of isolating the session.",
        ],
    )


def build_passing_sample_report(*, report_id: str = "run-20250302T101500Z-d4e5f6") -> FFSystemIntegrationReportDTO:
    """The sample report of a green run: every test, use case, check and gate passed, nothing flaky.

    Built from :func:`build_sample_report` with the faults taken out (no failing test, the audit
    check holds, the corrupt-session scenario recovers, the load within its ceilings and error
    free), so every section is filled. The test that no PASSED report shows a failing row uses it.
    """
    report = build_sample_report(report_id=report_id, latency_factor=0.5, failing=frozenset(), with_comparison=False)

    def passed(result: FFIntegrationTestResultDTO) -> FFIntegrationTestResultDTO:
        if result.status == S:
            return result
        assertions = [a.model_copy(update={"passed": True, "detail": ""}) for a in result.assertions]
        return result.model_copy(
            update={
                "status": P,
                "attempts": 1,
                "error_message": "",
                "error_type": "",
                "assertions": assertions,
                "warnings_generated": [],
                "attempt_results": [
                    FFTestAttemptDTO(attempt=1, status=P, duration_seconds=result.execution_time_seconds)
                ],
            }
        )

    suites = [s.model_copy(update={"results": [passed(r) for r in s.results]}) for s in report.suites]
    use_cases = [
        u.model_copy(
            update={
                "status": P,
                "attempts": 1,
                "first_failure": "",
                "error_type": "",
                "assertions": [a.model_copy(update={"passed": True, "detail": ""}) for a in u.assertions],
                "attempt_results": [FFTestAttemptDTO(attempt=1, status=P, duration_seconds=u.execution_time_seconds)],
            }
        )
        for u in report.use_case_results
    ]
    performance = report.performance
    assert performance is not None
    operations = [op.model_copy(update={"errors": 0}) for op in performance.operations]
    performance = performance.model_copy(
        update={
            "operations": operations,
            "overall": (performance.overall or operations[0]).model_copy(update={"errors": 0}),
            "timeline": [s.model_copy(update={"errors": 0}) for s in performance.timeline],
            "error_rate_percent": 0.0,
            "regressions": [],
            "threshold_failures": [],
        }
    )
    return report.model_copy(
        update={
            "suites": suites,
            "use_case_results": use_cases,
            "performance": performance,
            "security_checks": [
                c.model_copy(update={"passed": True, "observed": "FFValidationError: the edited line breaks the hash chain"})
                if not c.passed
                else c
                for c in report.security_checks
            ],
            "cross_system": _cross_system(all_passed=True),
            "quality_gates": [
                g.model_copy(update={"passed": True, "inconclusive": False, "detail": "held"}) for g in report.quality_gates
            ],
            "critical_issues": [],
        }
    )


def build_sample_history(count: int = 5, *, before: datetime = _START) -> list[FFSystemIntegrationReportDTO]:
    """``count`` earlier runs, a day apart and oldest first, with drifting latency and failures."""
    runs = []
    for k in range(count):
        age = count - k
        failing = frozenset(
            {"panel_turn_order"} if k % 2 else {"knowledge_reindex", "ai_notetaker"} if k == 0 else set()
        )
        runs.append(
            build_sample_report(
                report_id=f"run-{(before - timedelta(days=age)).strftime('%Y%m%dT%H%M%SZ')}-h{k:02d}",
                started_at=before - timedelta(days=age),
                latency_factor=round(0.55 + 0.09 * k, 2),
                failing=failing,
                with_comparison=False,
            )
        )
    return runs


def main(argv: list[str] | None = None) -> int:
    """Write the sample report in every format, after recording earlier sample runs."""
    from testing.reporting import write_reports

    args = sys.argv[1:] if argv is None else argv
    output = Path(args[0] if args else "ff_report_preview")
    for earlier in build_sample_history():
        write_reports(earlier, output, ["json"])
    paths = write_reports(build_sample_report(), output)
    for report_format, path in paths.items():
        print(f"{report_format:6} {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
