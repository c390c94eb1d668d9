"""FFTestRunner: runs specs in dependency order with bounded parallelism, timeouts and retries.

Statuses mean exactly one thing each:

* passed   every assertion held on the first attempt;
* flaky    an attempt failed and a retry passed (reported, never counted as plain passed);
* failed   an assertion did not hold on the last attempt;
* error    the test itself broke (exception, timeout, or no assertion recorded at all);
* skipped  a dependency did not succeed, or the run stopped after a first failure.

A spec's ``after`` tests only order it: it starts once they finished, whatever their outcome.

Each finished result is handed to ``on_result`` at once (the test manager appends it to the run's
JSONL), so an interrupted run keeps what it finished.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from ff_class_configs.ff_test_result_dtos import FFIntegrationTestResultDTO, FFLogRecordDTO, FFTestAttemptDTO, FFTestStatus
from testing.runner._checker import FFChecker, FFCheckFailed
from testing.runner._log_capture import attempt_log
from testing.runner._spec import FFTestSpec

__all__ = ["FFTestRunner", "FFRunnerError"]

ResultSink = Callable[[FFIntegrationTestResultDTO], Awaitable[None]]
StartHook = Callable[[FFTestSpec], None]


class FFRunnerError(ValueError):
    """The specs themselves are inconsistent (unknown dependency, cycle, duplicate id)."""


def _check_graph(specs: Sequence[FFTestSpec]) -> None:
    ids = [s.test_id for s in specs]
    if len(ids) != len(set(ids)):
        raise FFRunnerError("duplicate test ids: " + ", ".join(sorted({i for i in ids if ids.count(i) > 1})))
    known = set(ids)
    for spec in specs:
        missing = [d for d in spec.depends_on if d not in known]
        if missing:
            raise FFRunnerError(f"{spec.test_id} depends on unknown test(s) {', '.join(missing)}")
    by_id = {s.test_id: s for s in specs}
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(test_id: str, path: tuple[str, ...]) -> None:
        if state.get(test_id) == 2:
            return
        if state.get(test_id) == 1:
            raise FFRunnerError("dependency cycle: " + " -> ".join((*path, test_id)))
        state[test_id] = 1
        for dep in (*by_id[test_id].depends_on, *(a for a in by_id[test_id].after if a in known)):
            visit(dep, (*path, test_id))
        state[test_id] = 2

    for spec in specs:
        visit(spec.test_id, ())


class FFTestRunner:
    """Runs a list of specs against one shared context object."""

    def __init__(
        self,
        *,
        max_parallel: int = 4,
        default_timeout: float = 120.0,
        max_retries: int = 0,
        stop_on_first_failure: bool = False,
        on_result: ResultSink | None = None,
        on_start: StartHook | None = None,
    ) -> None:
        self._semaphore = asyncio.Semaphore(max_parallel)
        self._default_timeout = default_timeout
        self._max_retries = max_retries
        self._stop_on_first_failure = stop_on_first_failure
        self._on_result = on_result
        self._on_start = on_start
        self._stopped = False

    async def run(self, specs: Sequence[FFTestSpec], context: Any) -> list[FFIntegrationTestResultDTO]:
        """Run every spec; return results in the order the specs were given."""
        _check_graph(specs)
        loop = asyncio.get_running_loop()
        done: dict[str, asyncio.Future[FFIntegrationTestResultDTO]] = {s.test_id: loop.create_future() for s in specs}

        async def one(spec: FFTestSpec) -> None:
            try:
                result = await self._run_when_ready(spec, context, done)
            except asyncio.CancelledError:  # the run was interrupted: dependents stop waiting too
                done[spec.test_id].cancel()
                raise
            except BaseException as exc:  # never leave a dependent waiting forever
                if not done[spec.test_id].done():
                    done[spec.test_id].set_exception(exc)
                raise
            if self._stop_on_first_failure and not result.success and result.status != FFTestStatus.SKIPPED:
                self._stopped = True
            if self._on_result is not None:
                await self._on_result(result)
            done[spec.test_id].set_result(result)

        await asyncio.gather(*(one(s) for s in specs))
        return [done[s.test_id].result() for s in specs]

    async def _run_when_ready(
        self, spec: FFTestSpec, context: Any, done: dict[str, asyncio.Future[FFIntegrationTestResultDTO]]
    ) -> FFIntegrationTestResultDTO:
        for dep in spec.depends_on:
            dep_result = await asyncio.shield(done[dep])
            if not dep_result.success:
                return self._skipped(spec, f"dependency {dep} {dep_result.status.value}")
        for earlier in spec.after:  # ordering only: wait for it, whatever its outcome
            if earlier in done:
                await asyncio.gather(asyncio.shield(done[earlier]), return_exceptions=True)
        if self._stopped:
            return self._skipped(spec, "run stopped after the first failure")
        async with self._semaphore:
            if self._stopped:
                return self._skipped(spec, "run stopped after the first failure")
            if self._on_start is not None:
                self._on_start(spec)
            return await self._attempts(spec, context)

    def _skipped(self, spec: FFTestSpec, reason: str) -> FFIntegrationTestResultDTO:
        now = datetime.now(UTC)
        return FFIntegrationTestResultDTO(
            test_id=spec.test_id,
            test_name=spec.name,
            test_suite=spec.suite,
            test_level=spec.level,
            status=FFTestStatus.SKIPPED,
            start_timestamp=now,
            end_timestamp=now,
            execution_time_seconds=0.0,
            attempts=0,
            skip_reason=reason,
            components=list(spec.components),
        )

    async def _attempts(self, spec: FFTestSpec, context: Any) -> FFIntegrationTestResultDTO:
        started_at = datetime.now(UTC)
        started = time.perf_counter()
        earlier_failures: list[str] = []
        history: list[FFTestAttemptDTO] = []
        logs: list[FFLogRecordDTO] = []
        dropped = 0
        attempt = 0
        while True:
            attempt += 1
            attempt_started = time.perf_counter()
            with attempt_log(spec.test_id, attempt) as log:
                checker, error_type, error_message = await self._attempt(spec, context)
            logs += log.records
            dropped += log.dropped
            failed_claims = checker.failed_assertions
            reason = error_message or checker.first_failure()
            history.append(
                FFTestAttemptDTO(
                    attempt=attempt,
                    status=FFTestStatus.ERROR if error_type else (FFTestStatus.FAILED if failed_claims else FFTestStatus.PASSED),
                    duration_seconds=time.perf_counter() - attempt_started,
                    error_type=error_type or ("AssertionFailed" if failed_claims else ""),
                    error_message=reason,
                    failed_assertions=failed_claims,
                )
            )
            if not error_type and not failed_claims:
                status = FFTestStatus.PASSED if attempt == 1 else FFTestStatus.FLAKY
                break
            if attempt > self._max_retries:
                status = FFTestStatus.ERROR if error_type else FFTestStatus.FAILED
                break
            earlier_failures.append(f"attempt {attempt}: {reason}")
        warnings = list(checker.warnings)
        if status == FFTestStatus.FLAKY:
            warnings.insert(0, "passed only after a retry; " + "; ".join(earlier_failures))
        return FFIntegrationTestResultDTO(
            test_id=spec.test_id,
            test_name=spec.name,
            test_suite=spec.suite,
            test_level=spec.level,
            status=status,
            start_timestamp=started_at,
            end_timestamp=datetime.now(UTC),
            execution_time_seconds=time.perf_counter() - started,
            attempts=attempt,
            error_message="" if status in (FFTestStatus.PASSED, FFTestStatus.FLAKY) else reason,
            error_type="" if status in (FFTestStatus.PASSED, FFTestStatus.FLAKY) else (error_type or "AssertionFailed"),
            components=list(spec.components),
            assertions=checker.assertions,
            steps=checker.steps,
            metrics=checker.metrics,
            warnings_generated=warnings,
            details=checker.details,
            attempt_results=history,
            logs=logs,
            logs_dropped=dropped,
        )

    async def _attempt(self, spec: FFTestSpec, context: Any) -> tuple[FFChecker, str, str]:
        """Run setup, the test and cleanup once; return the evidence and any error."""
        checker = FFChecker()
        error_type = error_message = ""
        timeout = spec.timeout_seconds or self._default_timeout
        try:
            if spec.setup is not None:
                await spec.setup(context)
            await asyncio.wait_for(spec.run(context, checker), timeout=timeout)
        except FFCheckFailed:
            pass  # the failed claim is already recorded; later steps depended on it
        except TimeoutError:
            error_type, error_message = "Timeout", f"timed out after {timeout:g}s"
        except Exception as exc:  # a broken test must become a result, not crash the run
            error_type, error_message = type(exc).__name__, str(exc) or type(exc).__name__
        finally:
            if spec.cleanup is not None:
                try:
                    await spec.cleanup(context)
                except Exception as exc:  # cleanup failure is reported, and fails the attempt
                    if not error_type:
                        error_type, error_message = type(exc).__name__, f"cleanup failed: {exc}"
        if not error_type and not checker.assertions:
            error_type, error_message = "NoAssertions", "the test recorded no assertion, so it could not fail"
        return checker, error_type, error_message
