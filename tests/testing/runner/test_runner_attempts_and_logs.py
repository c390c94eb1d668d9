"""Every attempt of a retried test is kept, and log records land in the result of the test that caused them."""

from __future__ import annotations

import asyncio
import logging

import pytest

from ff_class_configs import FFTestStatus
from ff_utils.ff_logging import get_logger
from testing.runner import FFChecker, FFOutsideTestsFilter, FFSuiteRegistry, FFTestLogHandler, FFTestRunner
from testing.runner._log_capture import MAX_RECORDS_PER_ATTEMPT

_log = get_logger("toy.manager")


@pytest.fixture
def capture():
    """The handler run-all installs on ``ff``, installed here for one test."""
    handler = FFTestLogHandler()
    logger = logging.getLogger("ff")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


async def test_a_flaky_test_keeps_the_first_attempts_failure_message_and_duration():
    reg = FFSuiteRegistry("toy")
    calls = {"n": 0}

    @reg.test("flaky")
    async def flaky(ctx, check: FFChecker):
        calls["n"] += 1
        check.equal(calls["n"], 2, "the second call is the good one")

    (result,) = await FFTestRunner(max_retries=2).run(reg.specs, {})
    assert result.status == FFTestStatus.FLAKY and result.error_message == ""
    first, second = result.attempt_results
    assert (first.attempt, first.status, second.status) == (1, FFTestStatus.FAILED, FFTestStatus.PASSED)
    assert first.error_type == "AssertionFailed" and "expected 2, got 1" in first.error_message
    assert [a.description for a in first.failed_assertions] == ["the second call is the good one"]
    assert first.duration_seconds >= 0 and second.error_message == ""
    assert result.first_failed_attempt == first


async def test_an_error_attempt_is_recorded_as_error_and_a_plain_pass_has_one_attempt():
    reg = FFSuiteRegistry("toy")
    calls = {"n": 0}

    @reg.test("breaks once")
    async def breaks_once(ctx, check: FFChecker):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("disk hiccup")
        check.that(True, "fine now")

    @reg.test("passes")
    async def passes(ctx, check: FFChecker):
        check.that(True, "fine")

    flaky, passed = await FFTestRunner(max_retries=1).run(reg.specs, {})
    assert [(a.status, a.error_type, a.error_message) for a in flaky.attempt_results] == [
        (FFTestStatus.ERROR, "RuntimeError", "disk hiccup"),
        (FFTestStatus.PASSED, "", ""),
    ]
    assert [a.status for a in passed.attempt_results] == [FFTestStatus.PASSED]


async def test_log_records_are_attributed_to_the_test_that_caused_them(capture):
    reg = FFSuiteRegistry("toy")

    @reg.test("logs in a thread")
    async def logs_in_a_thread(ctx, check: FFChecker):
        await asyncio.sleep(0.01)  # the other test runs meanwhile
        await asyncio.to_thread(_log.warning, "skipped corrupt line at byte %d", 40)
        check.that(True, "ran")

    @reg.test("logs in a task")
    async def logs_in_a_task(ctx, check: FFChecker):
        async def handler() -> None:
            _log.warning("handler broke on %s", "memory.session_created")

        await asyncio.create_task(handler())
        check.that(True, "ran")

    @reg.test("quiet")
    async def quiet(ctx, check: FFChecker):
        check.that(True, "ran")

    _log.warning("outside any test: not captured")
    results = {r.test_id: r for r in await FFTestRunner(max_parallel=3).run(reg.specs, {})}
    thread_logs = results["toy.logs_in_a_thread"].logs
    assert [(r.level, r.logger, r.message, r.attempt) for r in thread_logs] == [
        ("WARNING", "ff.toy.manager", "skipped corrupt line at byte 40", 1)
    ]
    assert [r.message for r in results["toy.logs_in_a_task"].logs] == ["handler broke on memory.session_created"]
    assert results["toy.quiet"].logs == []


async def test_records_of_each_attempt_are_kept_and_a_chatty_test_is_capped(capture):
    reg = FFSuiteRegistry("toy")
    calls = {"n": 0}

    @reg.test("chatty")
    async def chatty(ctx, check: FFChecker):
        calls["n"] += 1
        count = MAX_RECORDS_PER_ATTEMPT + 5 if calls["n"] == 1 else 1
        for i in range(count):
            _log.warning("line %d of attempt %d", i, calls["n"])
        check.that(calls["n"] == 2, "second attempt passes")

    (result,) = await FFTestRunner(max_retries=1).run(reg.specs, {})
    assert result.logs_dropped == 5
    assert [r.attempt for r in result.logs].count(1) == MAX_RECORDS_PER_ATTEMPT
    assert result.logs[-1].attempt == 2 and result.logs[-1].message == "line 0 of attempt 2"


async def test_the_console_filter_passes_only_records_outside_tests():
    seen: list[str] = []

    class Console(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())

    console = Console()
    console.addFilter(FFOutsideTestsFilter())
    logging.getLogger("ff").addHandler(console)
    reg = FFSuiteRegistry("toy")

    @reg.test("noisy")
    async def noisy(ctx, check: FFChecker):
        _log.warning("injected fault, expected")
        check.that(True, "ran")

    try:
        _log.warning("before the run")
        await FFTestRunner().run(reg.specs, {})
    finally:
        logging.getLogger("ff").removeHandler(console)
    assert seen == ["before the run"]
