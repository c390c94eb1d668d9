"""Component suite, part 3: the reports say what the run did (issue 20).

A run is only as good as what its reports tell CI and people. This test writes the JSON, HTML and
JUnit reports of a small, known result set (every status: passed, failed, error, flaky with its
failed attempt, skipped; use cases; a passed and an inconclusive gate) three runs in a row, and
checks each file against figures computed here from the table, not by the writers' code:

* JUnit: per-suite and root ``tests``/``failures``/``errors``/``skipped``, equal to the cases in
  the file and to the table; the use cases counted once; each failure and error carrying its
  message; the flaky test a pass with Surefire's ``<flakyFailure>`` naming the failed attempt;
  an inconclusive gate a ``<failure type="Inconclusive">``, never a pass;
* JSON: loads back; the summary counts and the verdict (``inconclusive``, not a pass);
* HTML: every failed, errored and flaky test's message, the verdict, the tests card;
* history: runs in time order (their ids sort otherwise), ``recent(n)`` the last ``n``, the
  comparison against the latest earlier run;
* the load test's percentiles, by the documented interpolation, against an independent computation.

Cheap: no manager is touched, three small reports are rendered (no PDF: it prints the same HTML).
Registered on the component suite's REGISTRY (component.py imports this module at its end).
"""

from __future__ import annotations

import asyncio
import html
import random
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ff_class_configs.ff_test_result_dtos import (
    FFAssertionDTO,
    FFCrossSystemGateDTO,
    FFCrossSystemSummaryDTO,
    FFIntegrationTestResultDTO,
    FFOperationStatsDTO,
    FFPerformanceSummaryDTO,
    FFQualityGateResultDTO,
    FFSuiteResultDTO,
    FFSystemIntegrationReportDTO,
    FFTestAttemptDTO,
    FFTestStatus,
    FFUseCaseValidationDTO,
)
from ff_utils.ff_ids import ff_new_id
from ff_utils.ff_json_utils import ff_read_json
from testing import _load
from testing._context import FFTestContext
from testing._quality_gates import evaluate_quality_gates
from testing.reporting import FFRunHistory, write_reports
from testing.runner import FFChecker

from .component import REGISTRY

__all__ = ["KNOWN_RESULTS", "known_report"]

_P, _F, _E, _FL, _S = FFTestStatus.PASSED, FFTestStatus.FAILED, FFTestStatus.ERROR, FFTestStatus.FLAKY, FFTestStatus.SKIPPED
KNOWN_RESULTS: tuple[tuple[str, str, FFTestStatus, str], ...] = (
    # (suite, test id, status, message): the table every expected figure is computed from.
    ("component", "t_pass", _P, ""),
    ("component", "t_fail", _F, "expected 3 messages, got 4 <limit & order>"),
    ("component", "t_error", _E, "FFStorageError: disk went away"),
    ("component", "t_flaky", _FL, "first attempt timed out after 30 s"),
    ("component", "t_skip", _S, "depends on t_fail \x0b(a control character XML 1.0 cannot hold)"),
    ("security", "s_one", _P, ""),
    ("security", "s_two", _P, ""),
    ("use_cases", "uc_pass", _P, ""),
    ("use_cases", "uc_fail", _F, "the answer missed the document's fact"),
)
_GATES = (("availability", "passed"), ("latency tcp", "inconclusive"))
# Ids that sort against time: a history ordered by id instead of time shows.
_RUN_IDS = ("zz-run-first", "aa-run-second", "mm-run-third")
_T0 = datetime(2031, 3, 1, 8, 0, tzinfo=UTC)


def _result(suite: str, test_id: str, status: FFTestStatus, message: str, at: datetime) -> FFIntegrationTestResultDTO:
    attempts = [FFTestAttemptDTO(attempt=1, status=_F, duration_seconds=0.5, error_message=message),
                FFTestAttemptDTO(attempt=2, status=_P, duration_seconds=0.4)] if status == _FL else []
    return FFIntegrationTestResultDTO(
        test_id=f"{suite}.{test_id}", test_name=f"{test_id} name", test_suite=suite, status=status,
        start_timestamp=at, end_timestamp=at + timedelta(seconds=1), execution_time_seconds=1.0,
        attempts=2 if status == _FL else (0 if status == _S else 1),
        error_message=message if status in (_F, _E) else "", error_type="FFStorageError" if status == _E else "",
        skip_reason=message if status == _S else "",
        assertions=[FFAssertionDTO(description=f"{test_id} holds", passed=status not in (_F, _E))],
        attempt_results=attempts,
    )


def known_report(run_id: str, at: datetime, *, all_pass: bool = False, failing: tuple[str, ...] = ()) -> FFSystemIntegrationReportDTO:
    """The known result set as a report (``all_pass``: the same tests, every one passed but
    those named in ``failing``)."""
    rows = [(s, t, _P if all_pass else st, "" if all_pass else m) for s, t, st, m in KNOWN_RESULTS]
    rows = [(s, t, _F, "failed that run") if t in failing else (s, t, st, m) for s, t, st, m in rows]
    suites: dict[str, list[FFIntegrationTestResultDTO]] = {}
    for suite, test_id, status, message in rows:
        suites.setdefault(suite, []).append(_result(suite, test_id, status, message, at))
    use_cases = [
        FFUseCaseValidationDTO(use_case_id=t, use_case_name=f"{t} name", use_case_category="basic", required_components=["memory"],
                               status=st, validation_timestamp=at, execution_time_seconds=1.0, first_failure=m)
        for s, t, st, m in rows if s == "use_cases"
    ]
    gates = [FFCrossSystemGateDTO(name=n, criterion=n, target="t", measured="m", outcome=o) for n, o in _GATES]
    return FFSystemIntegrationReportDTO(
        report_id=run_id, generation_timestamp=at + timedelta(minutes=5), started_at=at, finished_at=at + timedelta(minutes=5),
        seed=7, profile="quick", environment="contract",
        suites=[FFSuiteResultDTO(suite=name, results=results) for name, results in suites.items()],
        use_case_results=use_cases,
        cross_system=FFCrossSystemSummaryDTO(profile="quick", instances=2, duration_seconds=1, target_rps=1, attempts=1, gates=gates),
        quality_gates=[FFQualityGateResultDTO(name="pass rate", passed=True, detail="held"),
                       FFQualityGateResultDTO(name="latency tcp", passed=False, inconclusive=True, detail="too few samples")],
    )


def _expected_junit() -> dict[str, dict[str, int]]:
    """Per JUnit suite: tests, failures, errors, skipped, from the table (use cases once; gates as cases)."""
    expected: dict[str, dict[str, int]] = {}
    for suite, _test, status, _message in KNOWN_RESULTS:
        row = expected.setdefault(suite, {"tests": 0, "failures": 0, "errors": 0, "skipped": 0})
        row["tests"] += 1
        row["failures"] += status == _F
        row["errors"] += status == _E
        row["skipped"] += status == _S
    expected["cross_system_gates"] = {"tests": len(_GATES), "failures": sum(o != "passed" for _, o in _GATES), "errors": 0, "skipped": 0}
    return expected


def _check_junit(check: FFChecker, path: Path) -> None:
    root = ET.parse(path).getroot()
    expected = _expected_junit()
    seen = {}
    for suite in root.iter("testsuite"):
        cases = suite.findall("testcase")
        counted = {"tests": len(cases), "failures": sum(c.find("failure") is not None for c in cases),
                   "errors": sum(c.find("error") is not None for c in cases), "skipped": sum(c.find("skipped") is not None for c in cases)}
        seen[suite.get("name")] = counted
        check.equal({k: int(suite.get(k, -1)) for k in counted}, counted, f"JUnit suite {suite.get('name')}: the counts are its test cases'")
    check.equal(seen, expected, "JUnit: every suite's tests, failures, errors and skipped match the known results (use cases once)")
    totals = {k: sum(v[k] for v in expected.values()) for k in ("tests", "failures", "errors", "skipped")}
    check.equal({k: int(root.get(k, -1)) for k in totals}, totals, "JUnit: the root totals add up every suite")
    cases = {c.get("classname", "").rsplit(".", 1)[-1]: c for c in root.iter("testcase")}
    for _suite, test_id, status, message in KNOWN_RESULTS:
        case = cases.get(test_id)
        tag = {_F: "failure", _E: "error"}.get(status)
        if case is None or tag is None:
            continue
        element = case.find(tag)
        check.that(element is not None and message in (element.get("message", "") + (element.text or "")),
                   f"JUnit: {test_id}'s <{tag}> carries its message")
    flaky = cases.get("t_flaky")
    marks = flaky.findall("flakyFailure") if flaky is not None else []
    props = {p.get("name"): p.get("value") for p in flaky.iter("property")} if flaky is not None else {}
    check.that(flaky is not None and flaky.find("failure") is None and len(marks) == 1
               and "first attempt timed out" in (marks[0].get("message", "") if marks else "") and props.get("flaky") == "true",
               "JUnit: the flaky test passes, with one <flakyFailure> naming the failed attempt and flaky=true")
    gate = next((c for c in root.iter("testcase") if c.get("name") == "latency tcp"), None)
    failure = gate.find("failure") if gate is not None else None
    check.that(failure is not None and failure.get("type") == "Inconclusive", "JUnit: the inconclusive gate is a failure of type Inconclusive")


def _check_json(check: FFChecker, data: dict[str, Any]) -> None:
    statuses = [status for _s, _t, status, _m in KNOWN_RESULTS]
    want = {
        "total_tests_executed": sum(s != _S for s in statuses), "tests_passed": statuses.count(_P),
        "tests_failed": statuses.count(_F) + statuses.count(_E), "tests_flaky": statuses.count(_FL),
        "tests_skipped": statuses.count(_S), "verdict": "inconclusive", "verdict_passed": False,
        "overall_success_rate": (statuses.count(_P) + statuses.count(_FL)) / sum(s != _S for s in statuses),
        "use_cases_passing": sum(1 for s, _t, st, _m in KNOWN_RESULTS if s == "use_cases" and st in (_P, _FL)),
    }
    check.equal({k: data.get(k) for k in want}, want, "JSON: the summary counts, success rate and verdict (inconclusive is not a pass)")
    suites = {s["suite"]: (s["passed"], s["failed"], s["flaky"], s["skipped"]) for s in data.get("suites", [])}
    by_suite = {name: tuple(sum(1 for s, _t, st, _m in KNOWN_RESULTS if s == name and st in kinds)
                            for kinds in ((_P,), (_F, _E), (_FL,), (_S,))) for name in {row[0] for row in KNOWN_RESULTS}}
    check.equal(suites, by_suite, "JSON: every suite's passed, failed, flaky and skipped counts")


def _check_html(check: FFChecker, page: str) -> None:
    text = html.unescape(page)
    for _suite, test_id, status, message in KNOWN_RESULTS:
        if status in (_F, _E):  # in the failures list at the top, not only in the test's own row
            check.that(f'<div class="message">{message}</div>' in text, f"HTML: {test_id} ({status.value}) is listed with its message")
        elif status == _FL:
            check.that(message in text, f"HTML: {test_id} (flaky) is shown with its first failure")
    check.that("<limit & order>" not in page, "HTML: markup in a message is escaped")
    check.that('class="verdict verdict-inconclusive"' in page and 'class="verdict verdict-passed"' not in page,
               "HTML: the verdict is inconclusive, not passed")
    executed = sum(st != _S for _s, _t, st, _m in KNOWN_RESULTS)
    succeeded = sum(st in (_P, _FL) for _s, _t, st, _m in KNOWN_RESULTS)
    check.that(f"{succeeded}/{executed}" in page, f"HTML: the tests card reads {succeeded}/{executed}")


def _check_percentiles(check: FFChecker) -> None:
    from ._component_contracts import (
        exact_percentile,  # here: component.py imports both modules at its end
    )

    rng = random.Random(20)
    values = [round(rng.lognormvariate(3, 0.8), 3) for _ in range(137)]
    recorder = _load.FFLatencyRecorder()
    for v in values:
        recorder.success("op", v, v)
    stats = {s.operation: s for s in _load.operation_stats(recorder, 10.0)}["op"]
    got = {q: getattr(stats, f"p{q}_ms") for q in (50, 90, 95, 99)}
    want = {q: exact_percentile(values, q / 100) for q in got}
    check.that(all(abs(got[q] - want[q]) <= 1e-9 * max(1.0, abs(want[q])) for q in got),
               "load statistics: p50/p90/p95/p99 by linear interpolation between closest ranks", f"{got} vs {want}")
    check.equal((stats.count, stats.min_ms, stats.max_ms), (len(values), min(values), max(values)), "load statistics: count, min and max")


def _check_gates(check: FFChecker, config: Any) -> None:
    """The quality gates of the known results, against the table and the configured thresholds."""
    healthy = known_report("gates-healthy", _T0, all_pass=True)
    gates = evaluate_quality_gates(healthy, config)
    tcp = [g for g in gates if "latency tcp" in g.name]
    check.that(len(tcp) == 1 and tcp[0].inconclusive and not tcp[0].passed, "gates: an inconclusive cross-system criterion is an inconclusive gate, not held")
    check.that(all(g.passed for g in gates if g not in tcp), "gates: every other gate of an all-passing run holds")
    judged = healthy.model_copy(update={"quality_gates": gates})
    check.equal((judged.verdict, judged.verdict_passed), ("inconclusive", False), "gates: one inconclusive gate makes the run inconclusive, not passed")
    broken = {g.name: g for g in evaluate_quality_gates(known_report("gates-broken", _T0), config)}
    executed = [st for _s, _t, st, _m in KNOWN_RESULTS if st != _S]
    good = sum(st == _P or (st == _FL and config.quality_gates.allow_flaky) for st in executed)
    want_rate = 100.0 * good / len(executed) >= config.quality_gates.min_pass_rate_percent
    named = set(config.quality_gates.no_failures_in)
    want_clean = not any(s in named and st in (_F, _E) for s, _t, st, _m in KNOWN_RESULTS)
    rate = broken.get("minimum pass rate")
    clean = next((g for name, g in broken.items() if name.startswith("no failures in")), None)
    check.equal((rate.passed if rate else None, clean.passed if clean else None), (want_rate, want_clean),
                "gates: the pass-rate and no-failure gates of the known results, by the configured thresholds")


def _op(p95: float, errors: int = 0) -> FFOperationStatsDTO:
    return FFOperationStatsDTO(operation="op", count=10, errors=errors, p50_ms=p95 / 2, p95_ms=p95, p99_ms=p95,
                               mean_ms=p95 / 2, max_ms=p95, throughput_ops=1.0)


def _check_regressions_and_ceilings(check: FFChecker) -> None:
    """A regression is p95 above baseline x (1 + margin) (strictly); a ceiling fails strictly above it."""
    baseline = FFPerformanceSummaryDTO(profile="quick", concurrent_users=1, duration_seconds=1, target_rps=1, achieved_rps=1,
                                       error_rate_percent=0.0, operations=[_op(100.0)])
    found = {p95: _load.find_regressions([_op(p95)], baseline, 50.0) for p95 in (150.0, 150.5)}
    check.equal({p95: len(lines) for p95, lines in found.items()}, {150.0: 0, 150.5: 1},
                "regressions: p95 at exactly baseline + margin is not one, just above is")
    check.equal(len(_load.find_regressions([_op(100.0, errors=2)], baseline, 50.0)), 1, "regressions: errors where the baseline had none")
    ceilings = {p95: _load.threshold_failures(baseline.model_copy(update={"operations": [_op(p95)], "error_rate_percent": 1.0}),
                                              max_p95_ms=200.0, max_error_rate_percent=1.0, max_memory_mb=1e9, max_cpu_percent=1e9)
                for p95 in (200.0, 200.5)}
    check.equal({p95: len(lines) for p95, lines in ceilings.items()}, {200.0: 0, 200.5: 1},
                "ceilings: p95 and error rate at exactly the ceiling hold, just above fails")


@REGISTRY.test("report contracts: JUnit, JSON and HTML counts, messages and verdict; history order; percentiles")
async def report_contracts(ctx: FFTestContext, check: FFChecker) -> None:
    out = (ctx.run_dir / "report_contracts" / ff_new_id()[:8]).resolve()
    runs = [known_report(_RUN_IDS[0], _T0, all_pass=True),
            known_report(_RUN_IDS[1], _T0 + timedelta(hours=1), all_pass=True, failing=("s_one",)),
            known_report(_RUN_IDS[2], _T0 + timedelta(hours=2))]

    def write_all() -> dict[str, Path]:
        paths: dict[str, Path] = {}
        for report in runs:
            paths = write_reports(report, out, ["json", "html", "junit"], history_runs=2)
        return paths

    with check.step("write three runs' reports"):
        paths = await asyncio.to_thread(write_all)
    with check.step("JUnit"):
        await asyncio.to_thread(_check_junit, check, paths["junit"])
    with check.step("JSON"):
        data = await asyncio.to_thread(ff_read_json, paths["json"])
        _check_json(check, data)
        comparison = data.get("comparison") or {}
        check.equal(comparison.get("previous_run_id"), _RUN_IDS[1], "JSON: compared with the latest earlier run")
        key = {s: (lambda t, s=s: f"use_cases/{t}" if s == "use_cases" else f"{s}/{s}.{t}") for s, *_ in KNOWN_RESULTS}
        newly = sorted(key[s](t) for s, t, st, _m in KNOWN_RESULTS if st in (_F, _E) and t != "s_one")
        check.equal((comparison.get("newly_failing"), comparison.get("fixed")), (newly, [key["security"]("s_one")]),
                    "JSON: the comparison's newly failing and fixed tests")
    with check.step("HTML"):
        _check_html(check, await asyncio.to_thread(paths["html"].read_text, encoding="utf-8"))
    with check.step("history"):
        history = FFRunHistory(out)
        check.equal(await asyncio.to_thread(history.run_ids), list(_RUN_IDS), "history: every run, oldest first by time")
        recent = await asyncio.to_thread(history.recent, 2)
        check.equal([r.report_id for r in recent], list(_RUN_IDS[1:]), "history: recent(2) is the last two runs, oldest first")
        everything = await asyncio.to_thread(history.recent, 10)
        check.equal([r.report_id for r in everything], list(_RUN_IDS), "history: recent(10) holds all three runs")
    with check.step("bad formats and ids write nothing"):
        refused = out.parent / f"{out.name}-refused"

        def refuse() -> list[str]:
            kinds = []
            for formats, report in ((["json", "bogus"], runs[2]), (["json", "junit"], runs[2].model_copy(update={"report_id": "../escape"}))):
                try:
                    write_reports(report, refused, formats)
                    kinds.append("nothing raised")
                except Exception as exc:  # noqa: BLE001 - which error it is, is the check
                    kinds.append(type(exc).__name__)
            return kinds

        check.equal(await asyncio.to_thread(refuse), ["FFValidationError"] * 2, "reports: an unknown format or a bad report id is FFValidationError")
        leftovers = await asyncio.to_thread(lambda: sorted(p.name for p in refused.rglob("*")) if refused.exists() else [])
        check.equal(leftovers, [], "reports: and nothing was written")
    with check.step("quality gates"):
        _check_gates(check, ctx.config.integration_testing)
    with check.step("percentiles, regressions and ceilings"):
        _check_percentiles(check)
        _check_regressions_and_ceilings(check)
