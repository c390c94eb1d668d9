"""The runner's statuses, ordering, parallelism, retries and stop-on-failure, with toy tests."""

from __future__ import annotations

import asyncio

import pytest

from ff_class_configs import FFTestStatus
from testing.runner import FFChecker, FFRunnerError, FFSuiteRegistry, FFTestRunner


def _suite() -> FFSuiteRegistry:
    return FFSuiteRegistry("toy")


async def _run(registry: FFSuiteRegistry, **kwargs):
    return await FFTestRunner(**kwargs).run(registry.specs, context={})


async def test_statuses_follow_the_evidence():
    reg = _suite()

    @reg.test("passes")
    async def passes(ctx, check: FFChecker):
        check.equal(1 + 1, 2, "arithmetic")

    @reg.test("fails")
    async def fails(ctx, check: FFChecker):
        check.equal(1 + 1, 3, "wrong arithmetic")
        check.that(True, "a later claim is still recorded")

    @reg.test("breaks")
    async def breaks(ctx, check: FFChecker):
        raise RuntimeError("boom")

    @reg.test("checks nothing")
    async def checks_nothing(ctx, check: FFChecker):
        pass

    results = {r.test_id: r for r in await _run(reg)}
    assert results["toy.passes"].status == FFTestStatus.PASSED
    failed = results["toy.fails"]
    assert failed.status == FFTestStatus.FAILED
    assert failed.assertions_total == 2 and failed.assertions_failed == 1
    assert "expected 3, got 2" in failed.error_message
    assert results["toy.breaks"].status == FFTestStatus.ERROR
    assert results["toy.breaks"].error_type == "RuntimeError"
    assert results["toy.checks_nothing"].status == FFTestStatus.ERROR
    assert results["toy.checks_nothing"].error_type == "NoAssertions"


async def test_timeout_is_an_error():
    reg = _suite()

    @reg.test("slow", timeout_seconds=0.05)
    async def slow(ctx, check: FFChecker):
        await asyncio.sleep(5)
        check.that(True, "never reached")

    (result,) = await _run(reg)
    assert result.status == FFTestStatus.ERROR and result.error_type == "Timeout"


async def test_pass_after_retry_is_flaky_not_passed():
    reg = _suite()
    calls = {"n": 0}

    @reg.test("flaky")
    async def flaky(ctx, check: FFChecker):
        calls["n"] += 1
        check.that(calls["n"] >= 2, "works the second time")

    (result,) = await _run(reg, max_retries=2)
    assert result.status == FFTestStatus.FLAKY
    assert result.attempts == 2 and result.success
    assert "passed only after a retry" in result.warnings_generated[0]


async def test_retries_exhausted_is_failed():
    reg = _suite()

    @reg.test("always fails")
    async def always(ctx, check: FFChecker):
        check.that(False, "never holds")

    (result,) = await _run(reg, max_retries=2)
    assert result.status == FFTestStatus.FAILED and result.attempts == 3


async def test_dependencies_run_first_and_failures_skip_dependents():
    reg = _suite()
    order: list[str] = []

    @reg.test("base")
    async def base(ctx, check: FFChecker):
        await asyncio.sleep(0.02)
        order.append("base")
        check.that(True, "ok")

    @reg.test("broken base")
    async def broken(ctx, check: FFChecker):
        check.that(False, "broken")

    @reg.test("needs base", depends_on=["base"])
    async def needs_base(ctx, check: FFChecker):
        order.append("needs_base")
        check.that(True, "ok")

    @reg.test("needs broken", depends_on=["broken"])
    async def needs_broken(ctx, check: FFChecker):
        order.append("needs_broken")
        check.that(True, "ok")

    results = {r.test_id: r for r in await _run(reg, max_parallel=4)}
    assert order == ["base", "needs_base"]
    skipped = results["toy.needs_broken"]
    assert skipped.status == FFTestStatus.SKIPPED and skipped.attempts == 0
    assert "toy.broken" in skipped.skip_reason


async def test_after_orders_without_skipping_and_ignores_absent_tests():
    reg = _suite()
    order: list[str] = []

    @reg.test("fault")
    async def fault(ctx, check: FFChecker):
        await asyncio.sleep(0.02)
        order.append("fault")
        check.that(False, "the fault test failed")

    @reg.test("evidence", after=["fault", "not_selected"])
    async def evidence(ctx, check: FFChecker):
        order.append("evidence")
        check.that(True, "ran anyway")

    results = {r.test_id: r for r in await _run(reg, max_parallel=4)}
    assert order == ["fault", "evidence"]
    assert results["toy.fault"].status == FFTestStatus.FAILED
    assert results["toy.evidence"].status == FFTestStatus.PASSED


def test_after_takes_part_in_cycle_detection():
    reg = _suite()

    @reg.test("a", after=["b"])
    async def a(ctx, check):
        check.that(True, "ok")

    @reg.test("b", depends_on=["a"])
    async def b(ctx, check):
        check.that(True, "ok")

    with pytest.raises(FFRunnerError, match="cycle"):
        asyncio.run(FFTestRunner().run(reg.specs, context={}))


async def test_parallelism_is_bounded():
    reg = _suite()
    running = {"now": 0, "peak": 0}

    for index in range(8):

        async def work(ctx, check: FFChecker):
            running["now"] += 1
            running["peak"] = max(running["peak"], running["now"])
            await asyncio.sleep(0.02)
            running["now"] -= 1
            check.that(True, "ok")

        work.__name__ = f"work_{index}"
        reg.test(f"work {index}")(work)

    await _run(reg, max_parallel=3)
    assert running["peak"] == 3


async def test_stop_on_first_failure_skips_the_rest():
    reg = _suite()

    @reg.test("fails first")
    async def first(ctx, check: FFChecker):
        check.that(False, "broken")

    @reg.test("later")
    async def later(ctx, check: FFChecker):
        check.that(True, "ok")

    results = await _run(reg, max_parallel=1, stop_on_first_failure=True)
    assert [r.status for r in results] == [FFTestStatus.FAILED, FFTestStatus.SKIPPED]
    assert "stopped" in results[1].skip_reason


async def test_results_are_handed_over_as_they_complete_and_cleanup_always_runs():
    reg = _suite()
    seen: list[str] = []
    cleaned: list[str] = []

    async def cleanup(ctx):
        cleaned.append("x")

    @reg.test("fails", cleanup=cleanup)
    async def fails(ctx, check: FFChecker):
        raise ValueError("bad")

    async def sink(result):
        seen.append(result.test_id)

    await FFTestRunner(on_result=sink).run(reg.specs, context={})
    assert seen == ["toy.fails"] and cleaned == ["x"]


def test_inconsistent_specs_are_refused():
    reg = _suite()

    @reg.test("a", depends_on=["b"])
    async def a(ctx, check):
        check.that(True, "ok")

    @reg.test("b", depends_on=["a"])
    async def b(ctx, check):
        check.that(True, "ok")

    with pytest.raises(FFRunnerError, match="cycle"):
        asyncio.run(FFTestRunner().run(reg.specs, context={}))

    lone = _suite()

    @lone.test("c", depends_on=["missing"])
    async def c(ctx, check):
        check.that(True, "ok")

    with pytest.raises(FFRunnerError, match="unknown"):
        asyncio.run(FFTestRunner().run(lone.specs, context={}))


async def test_a_cancelled_run_leaves_no_unretrieved_future_exception():
    reg = _suite()
    started = asyncio.Event()

    @reg.test("slow base")
    async def slow_base(ctx, check: FFChecker):
        started.set()
        await asyncio.sleep(10)
        check.that(True, "never reached")

    @reg.test("dependent", depends_on=["slow_base"])
    async def dependent(ctx, check: FFChecker):
        check.that(True, "never reached")

    loop = asyncio.get_running_loop()
    unretrieved: list[dict] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: unretrieved.append(context))
    try:
        task = asyncio.create_task(FFTestRunner().run(reg.specs, context={}))
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        del task
        import gc

        gc.collect()
        await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(previous)
    assert not [c for c in unretrieved if "never retrieved" in c.get("message", "")]


def test_failure_details_show_floats_compactly():
    check = FFChecker()
    check.at_most(652.5903877995005, 250.0, "p95 within 250 ms")
    check.equal(0.1 + 0.2, 0.3, "float sum")
    assert check.assertions[0].detail == "expected <= 250, got 652.59"
    assert check.assertions[1].detail == "expected 0.3, got 0.30000000000000004"


async def test_run_suite_only_adds_dependencies_and_refuses_unknown_ids(tmp_path):
    from ff_class_configs import load_config
    from ff_utils.ff_errors import FFValidationError
    from testing.ff_integration_test_manager import FFIntegrationTestManager

    manager = FFIntegrationTestManager(load_config(environ={}), output_dir=tmp_path)
    try:
        suite = await manager.run_suite("component", only=["tool_run_in_metrics"])
        ran = {r.test_id for r in suite.results}
        assert "component.tool_run_in_metrics" in ran and "component.tools_round_trip" in ran  # its dependency
        assert "component.panel_round_trip" not in ran
        with pytest.raises(FFValidationError, match="no_such_test"):
            await manager.run_suite("component", only=["no_such_test"])
    finally:
        await manager.close()
