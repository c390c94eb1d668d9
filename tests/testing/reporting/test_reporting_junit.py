"""JUnit XML: parses, one suite per report suite plus use_cases, counts match the report."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from ff_class_configs.ff_test_result_dtos import FFSystemIntegrationReportDTO, FFTestStatus
from testing.reporting import render_junit


@pytest.fixture(scope="module")
def report(sample_report: FFSystemIntegrationReportDTO) -> FFSystemIntegrationReportDTO:
    return sample_report  # built once per session (conftest)


@pytest.fixture(scope="module")
def root(report: FFSystemIntegrationReportDTO) -> ET.Element:
    return ET.fromstring(render_junit(report))


def _suite(root: ET.Element, name: str) -> ET.Element:
    found = [s for s in root.findall("testsuite") if s.get("name") == name]
    assert len(found) == 1, f"expected one testsuite {name!r}, found {len(found)}"
    return found[0]


def _expected(statuses: list[FFTestStatus]) -> dict[str, int]:
    return {
        "tests": len(statuses),
        "failures": statuses.count(FFTestStatus.FAILED),
        "errors": statuses.count(FFTestStatus.ERROR),
        "skipped": statuses.count(FFTestStatus.SKIPPED),
    }


def _counts(element: ET.Element) -> dict[str, int]:
    return {key: int(element.get(key, "-1")) for key in ("tests", "failures", "errors", "skipped")}


def test_one_testsuite_per_suite_and_use_cases_once(report: FFSystemIntegrationReportDTO, root: ET.Element) -> None:
    names = [s.get("name") for s in root.findall("testsuite")]
    assert sorted(names) == sorted({s.suite for s in report.suites} | {"use_cases", "cross_system_gates"})
    assert names.count("use_cases") == 1


def test_per_suite_counts_match_the_report(report: FFSystemIntegrationReportDTO, root: ET.Element) -> None:
    for suite in report.suites:
        if suite.suite == "use_cases":
            continue
        element = _suite(root, suite.suite)
        assert _counts(element) == _expected([r.status for r in suite.results]), suite.suite
        assert len(element.findall("testcase")) == len(suite.results)
        assert (
            len(element.findall("testcase/failure"))
            == suite.failed - _expected([r.status for r in suite.results])["errors"]
        )
    use_cases = _suite(root, "use_cases")
    assert _counts(use_cases) == _expected([u.status for u in report.use_case_results])
    assert len(use_cases.findall("testcase")) == len(report.use_case_results) == 22


def test_totals_match_the_report(report: FFSystemIntegrationReportDTO, root: ET.Element) -> None:
    statuses = [r.status for s in report.suites if s.suite != "use_cases" for r in s.results]
    statuses += [u.status for u in report.use_case_results]
    statuses += [FFTestStatus.PASSED if g.outcome == "passed" else FFTestStatus.FAILED for g in report.cross_system.gates]
    assert _counts(root) == _expected(statuses)
    assert sum(int(s.get("tests", "0")) for s in root.findall("testsuite")) == int(root.get("tests", "0"))


def test_failures_and_errors_carry_type_and_message(root: ET.Element) -> None:
    failure = _suite(root, "component").find("testcase/failure")
    assert failure is not None
    assert failure.get("type") == "AssertionError"
    assert "found 3" in (failure.get("message") or "")
    assert "chunks of the deleted document are gone" in (failure.text or "")
    error = _suite(root, "failure").find("testcase/error")
    assert error is not None and error.get("type") == "FFCorruptionError"


def test_skipped_has_its_reason(root: ET.Element) -> None:
    skipped = _suite(root, "migration").find("testcase/skipped")
    assert skipped is not None and "archive key" in (skipped.get("message") or "")


def test_flaky_is_a_passing_case_marked_surefire_style(root: ET.Element) -> None:
    cases = [c for c in _suite(root, "component").findall("testcase") if c.find("flakyFailure") is not None]
    assert len(cases) == 1
    case = cases[0]
    assert case.find("failure") is None and case.find("error") is None
    properties = {p.get("name"): p.get("value") for p in case.findall("properties/property")}
    assert properties["flaky"] == "true"
    assert properties["attempts"] == "2"
    assert "attempt 1" in (case.find("flakyFailure").get("message") or "")  # type: ignore[union-attr]


def test_durations_are_written(report: FFSystemIntegrationReportDTO, root: ET.Element) -> None:
    case = _suite(root, "component").find("testcase")
    assert case is not None
    first = report.suites[0].results[0]
    assert float(case.get("time", "-1")) == pytest.approx(first.execution_time_seconds, abs=1e-3)


def test_hostile_names_and_control_characters_still_parse(report: FFSystemIntegrationReportDTO) -> None:
    suite = report.suites[0]
    bad = suite.results[0].model_copy(
        update={
            "test_name": '<script>alert(1)</script>"><img src=x onerror=alert(1)>\x00\x1b[31m',
            "error_message": "]]>\x07&amp;",
        }
    )
    hostile = report.model_copy(update={"suites": [suite.model_copy(update={"results": [bad]})]})
    root = ET.fromstring(render_junit(hostile))
    case = root.find("testsuite/testcase")
    assert case is not None
    assert case.get("name", "").startswith('<script>alert(1)</script>"><img src=x')
    assert "\x00" not in case.get("name", "")


def test_flaky_failure_carries_the_first_attempts_message_and_failed_assertions(root: ET.Element) -> None:
    case = next(c for c in _suite(root, "component").iter("testcase") if c.find("flakyFailure") is not None)
    flaky = case.find("flakyFailure")
    assert flaky is not None
    assert flaky.get("message") == "attempt 1 of 2: tool exited after 2.31 s, limit 2.00 s (machine under load)"
    assert flaky.get("type") == "AssertionFailed"
    assert "✗ result read back through the manager API: tool exited after 2.31 s" in (flaky.text or "")
    # A use case whose first attempt raised is a flakyError with that error's type.
    use_case = next(c for c in _suite(root, "use_cases").iter("testcase") if c.find("flakyError") is not None)
    error = use_case.find("flakyError")
    assert error is not None and error.get("type") == "FFTimeoutError"
    assert "fetch_weather' timed out after 5.0 s" in (error.get("message") or "")


def test_cross_system_gates_are_test_cases_and_inconclusive_is_not_a_pass(report: FFSystemIntegrationReportDTO, root: ET.Element) -> None:
    suite = _suite(root, "cross_system_gates")
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert set(cases) == {g.name for g in report.cross_system.gates}
    undecided = cases["latency tcp"].find("failure")
    assert undecided is not None and undecided.get("type") == "Inconclusive"
    assert "saturated" in (undecided.get("message") or "")
    props = {p.get("name"): p.get("value") for p in cases["availability"].findall("properties/property")}
    assert props["criterion"] == "Service availability > 99.9%" and props["outcome"] == "failed"
    assert cases["recovery time"].find("failure") is None
