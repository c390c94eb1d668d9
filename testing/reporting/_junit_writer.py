"""JUnit XML for CI systems, built with ElementTree from the report object.

Shape (the Ant/Surefire dialect that Jenkins, GitLab, GitHub test reporters and Azure read):

* ``<testsuites>`` with the run totals, one ``<testsuite>`` per suite of the report and one
  called ``use_cases`` built from the use case results (one ``<testcase>`` per use case). When
  the report also carries a suite named ``use_cases`` (the runner's view of the same scenarios),
  the use case results replace it, so no scenario is counted twice.
* failed → ``<failure type message>``, error → ``<error type message>``, skipped →
  ``<skipped message>``; the element text holds the failed assertions.
* flaky (failed, then passed on a retry) → a *passing* test case carrying Maven Surefire's
  ``<flakyFailure type message>`` element (one per failed attempt, with that attempt's message
  and failed assertions as its text; a flaky error is ``<flakyError>``), plus ``<properties>`` with ``flaky=true`` and
  ``attempts=N``. Surefire's convention was picked because Jenkins' JUnit plugin reads
  ``flakyFailure`` natively and parsers that do not know it (GitLab, dorny/test-reporter,
  pytest's junitparser) ignore unknown children and count the test as passed, which is what a
  retry that succeeded means.

* the cross-system suite's gates (seed 000's success criteria) → one more ``<testsuite>``,
  ``cross_system_gates``, one ``<testcase>`` per gate with the criterion, the applied target
  and the measured figure as properties. A broken gate is a ``<failure>``; an *inconclusive* one
  is a ``<failure type="Inconclusive">`` too, because it is not a pass and the run exits 1 on it.

XML 1.0 cannot hold most control characters, so they are replaced with U+FFFD before they reach
the tree; test names from anywhere therefore always yield a file that parses.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from ff_class_configs.ff_test_result_dtos import (
    FFAssertionDTO,
    FFCrossSystemGateDTO,
    FFIntegrationTestResultDTO,
    FFSystemIntegrationReportDTO,
    FFTestAttemptDTO,
    FFTestStatus,
    FFUseCaseValidationDTO,
)

__all__ = ["render_junit", "USE_CASE_SUITE", "CROSS_SYSTEM_GATE_SUITE"]

USE_CASE_SUITE = "use_cases"
CROSS_SYSTEM_GATE_SUITE = "cross_system_gates"
_MESSAGE_ATTR_CHARS = 1_000
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(value: object) -> str:
    return _XML_ILLEGAL.sub("\ufffd", str(value))


def _seconds(value: float) -> str:
    return f"{value:.3f}"


@dataclass(slots=True)
class _Case:
    """One test case, whatever kind of result it came from."""

    name: str
    classname: str
    status: FFTestStatus
    seconds: float
    attempts: int
    error_type: str
    message: str
    skip_reason: str
    failed_assertions: list[FFAssertionDTO] = field(default_factory=list)
    extra: dict[str, str] = field(default_factory=dict)
    attempt_results: list[FFTestAttemptDTO] = field(default_factory=list)


def _from_result(result: FFIntegrationTestResultDTO) -> _Case:
    return _Case(
        name=result.test_name,
        classname=f"ff.{result.test_suite}.{result.test_id}",
        status=result.status,
        seconds=result.execution_time_seconds,
        attempts=result.attempts,
        error_type=result.error_type,
        message=result.error_message,
        skip_reason=result.skip_reason,
        failed_assertions=[a for a in result.assertions if not a.passed],
        extra={"components": ",".join(result.components)} if result.components else {},
        attempt_results=list(result.attempt_results),
    )


def _from_use_case(use_case: FFUseCaseValidationDTO) -> _Case:
    return _Case(
        name=use_case.use_case_name,
        classname=f"ff.{USE_CASE_SUITE}.{use_case.use_case_category}.{use_case.use_case_id}",
        status=use_case.status,
        seconds=use_case.execution_time_seconds,
        attempts=use_case.attempts,
        error_type=use_case.error_type,
        message=use_case.first_failure,
        skip_reason=use_case.first_failure,
        failed_assertions=[a for a in use_case.assertions if not a.passed],
        extra={"components": ",".join(use_case.required_components)},
        attempt_results=list(use_case.attempt_results),
    )


def _body(case: _Case) -> str:
    lines = [case.message] if case.message else []
    lines += [f"✗ {a.description}" + (f": {a.detail}" if a.detail else "") for a in case.failed_assertions]
    return _xml_text("\n".join(lines))


def _outcome_element(parent: ET.Element, tag: str, case: _Case, default_type: str) -> None:
    message = case.message or (case.failed_assertions[0].description if case.failed_assertions else tag)
    element = ET.SubElement(
        parent,
        tag,
        {"type": _xml_text(case.error_type or default_type), "message": _xml_text(message[:_MESSAGE_ATTR_CHARS])},
    )
    element.text = _body(case)


def _flaky_elements(parent: ET.Element, case: _Case) -> None:
    """Surefire's ``<flakyFailure>``/``<flakyError>`` for each attempt that did not pass.

    Results stored before attempts were recorded have none: one ``<flakyFailure>`` then carries
    whatever message the result has.
    """
    failed = [a for a in case.attempt_results if a.status != FFTestStatus.PASSED]
    if not failed:
        _outcome_element(parent, "flakyFailure", case, "AssertionError")
        return
    for attempt in failed:
        tag = "flakyError" if attempt.status == FFTestStatus.ERROR else "flakyFailure"
        shown = _Case(
            name=case.name,
            classname=case.classname,
            status=attempt.status,
            seconds=attempt.duration_seconds,
            attempts=attempt.attempt,
            error_type=attempt.error_type,
            message=f"attempt {attempt.attempt} of {case.attempts}: {attempt.error_message}",
            skip_reason="",
            failed_assertions=list(attempt.failed_assertions),
        )
        _outcome_element(parent, tag, shown, "AssertionError" if tag == "flakyFailure" else "Error")


def _testcase(parent: ET.Element, case: _Case) -> None:
    element = ET.SubElement(
        parent,
        "testcase",
        {"name": _xml_text(case.name), "classname": _xml_text(case.classname), "time": _seconds(case.seconds)},
    )
    properties = dict(case.extra)
    if case.status == FFTestStatus.FLAKY:
        properties = {"flaky": "true", "attempts": str(case.attempts), **properties}
    if properties:
        holder = ET.SubElement(element, "properties")
        for name, value in properties.items():
            ET.SubElement(holder, "property", {"name": name, "value": _xml_text(value)})
    if case.status == FFTestStatus.FAILED:
        _outcome_element(element, "failure", case, "AssertionError")
    elif case.status == FFTestStatus.ERROR:
        _outcome_element(element, "error", case, "Error")
    elif case.status == FFTestStatus.FLAKY:
        _flaky_elements(element, case)
    elif case.status == FFTestStatus.SKIPPED:
        ET.SubElement(element, "skipped", {"message": _xml_text(case.skip_reason or "skipped")})


@dataclass(slots=True)
class _Totals:
    tests: int = 0
    failures: int = 0
    errors: int = 0
    skipped: int = 0
    seconds: float = 0.0

    def add(self, other: _Totals) -> None:
        self.tests += other.tests
        self.failures += other.failures
        self.errors += other.errors
        self.skipped += other.skipped
        self.seconds += other.seconds

    def attributes(self) -> dict[str, str]:
        return {
            "tests": str(self.tests),
            "failures": str(self.failures),
            "errors": str(self.errors),
            "skipped": str(self.skipped),
            "time": _seconds(self.seconds),
        }


def _testsuite(
    parent: ET.Element, name: str, cases: list[_Case], seconds: float, timestamp: datetime, properties: dict[str, str]
) -> _Totals:
    totals = _Totals(
        tests=len(cases),
        failures=sum(1 for c in cases if c.status == FFTestStatus.FAILED),
        errors=sum(1 for c in cases if c.status == FFTestStatus.ERROR),
        skipped=sum(1 for c in cases if c.status == FFTestStatus.SKIPPED),
        seconds=seconds if seconds > 0 else sum(c.seconds for c in cases),
    )
    suite = ET.SubElement(
        parent,
        "testsuite",
        {"name": _xml_text(name), **totals.attributes(), "timestamp": timestamp.isoformat(timespec="seconds")},
    )
    holder = ET.SubElement(suite, "properties")
    for key, value in properties.items():
        ET.SubElement(holder, "property", {"name": key, "value": _xml_text(value)})
    for case in cases:
        _testcase(suite, case)
    return totals


def _suites(report: FFSystemIntegrationReportDTO) -> Iterable[tuple[str, list[_Case], float]]:
    replace_use_cases = bool(report.use_case_results)
    for suite in report.suites:
        if replace_use_cases and suite.suite == USE_CASE_SUITE:
            continue
        yield suite.suite, [_from_result(r) for r in suite.results], suite.duration_seconds
    if replace_use_cases:
        yield USE_CASE_SUITE, [_from_use_case(u) for u in report.use_case_results], 0.0
    if report.cross_system is not None and report.cross_system.gates:
        yield CROSS_SYSTEM_GATE_SUITE, [_from_gate(g) for g in report.cross_system.gates], 0.0


def _from_gate(gate: FFCrossSystemGateDTO) -> _Case:
    failed = gate.outcome != "passed"
    return _Case(
        name=gate.name,
        classname=f"ff.{CROSS_SYSTEM_GATE_SUITE}.{gate.name.replace(' ', '_')}",
        status=FFTestStatus.FAILED if failed else FFTestStatus.PASSED,
        seconds=0.0,
        attempts=1,
        error_type="Inconclusive" if gate.outcome == "inconclusive" else "GateFailed",
        message=f"{gate.outcome}: measured {gate.measured}, required {gate.target}" + (f"; {gate.detail}" if gate.detail else ""),
        skip_reason="",
        extra={"criterion": gate.criterion, "target": gate.target, "measured": gate.measured, "outcome": gate.outcome},
    )


def render_junit(report: FFSystemIntegrationReportDTO) -> bytes:
    """The report as a JUnit XML document (UTF-8 bytes with an XML declaration)."""
    root = ET.Element("testsuites", {"name": _xml_text(f"FF Platform validation {report.report_id}")})
    properties = {
        "report_id": report.report_id,
        "seed": str(report.seed),
        "profile": report.profile,
        "environment": report.environment,
    }
    totals = _Totals()
    for name, cases, seconds in _suites(report):
        totals.add(_testsuite(root, name, cases, seconds, report.started_at, properties))
    totals.seconds = max(0.0, (report.finished_at - report.started_at).total_seconds()) or totals.seconds
    root.attrib.update(totals.attributes())
    tree = ET.ElementTree(root)
    ET.indent(tree, space="  ")
    buffer = io.BytesIO()
    tree.write(buffer, encoding="utf-8", xml_declaration=True)
    return buffer.getvalue() + b"\n"
