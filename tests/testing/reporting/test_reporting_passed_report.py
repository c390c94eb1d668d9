"""A PASSED report shows no failing row anywhere: not in JSON, HTML, JUnit, nor the PDF's text.

Once a passed report's migration table showed ``messages 152 → – FAIL`` (the target side of two
kinds was never counted). These tests render a green run in every format, from the sample and
from a real run of the migration suite, and look for anything that reads as a failure.
"""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from pypdf import PdfReader

from ff_class_configs.ff_test_result_dtos import FFSystemIntegrationReportDTO
from testing.ff_run_all import FFRunOptions, run_suites
from testing.reporting import write_reports
from testing.reporting.sample import build_passing_sample_report, build_sample_report

pytestmark = pytest.mark.slow  # renders the PDF

_HTML_FAILURE_MARKS = (
    'class="badge bad"',  # a gate, check or record match that failed
    'class="badge failed"',
    'class="badge error"',
    "row-failed",
    "row-error",
    'class="cell failed"',
    'class="cell error"',
    "verdict-failed",
)


def failing_rows(paths: dict[str, Path]) -> list[str]:
    """Everything in the written files that tells a reader something failed."""
    found: list[str] = []
    data = json.loads(paths["json"].read_text(encoding="utf-8"))
    if not data["verdict_passed"]:
        found.append("json: verdict_passed is false")
    found += [f"json: gate {g['name']} failed" for g in data["quality_gates"] if not g["passed"]]
    found += [
        f"json: {r['test_id']} {r['status']}"
        for s in data["suites"]
        for r in s["results"]
        if r["status"] in ("failed", "error")
    ]
    migration = data.get("migration")
    if migration:
        source, target = migration["records_source"], migration["records_target"]
        found += [f"json: migration {k} {source.get(k)} -> {target.get(k)}" for k in source.keys() | target.keys() if source.get(k) != target.get(k)]
    html = paths["html"].read_text(encoding="utf-8")
    html = re.sub(r"<(style|script)>.*?</\1>", "", html, flags=re.DOTALL)  # the page, not its stylesheet
    found += [f"html: {mark}" for mark in _HTML_FAILURE_MARKS if mark in html]
    found += [f"html: {m}" for m in re.findall(r">\s*(fail|FAIL|FAILED)\s*<", html)]
    root = ET.parse(paths["junit"]).getroot()
    for suite in root.iter("testsuite"):
        if suite.get("failures") != "0" or suite.get("errors") != "0":
            found.append(f"junit: suite {suite.get('name')} failures={suite.get('failures')} errors={suite.get('errors')}")
    found += [f"junit: <{e.tag}>" for e in root.iter() if e.tag in ("failure", "error", "flakyFailure", "flakyError")]
    for number, page in enumerate(PdfReader(io.BytesIO(paths["pdf"].read_bytes())).pages, start=1):
        text = page.extract_text()
        found += [f"pdf page {number}: {line.strip()}" for line in text.splitlines() if re.search(r"\bFAIL", line)]
    return found


def test_the_check_sees_the_failures_of_a_failing_report(tmp_path: Path) -> None:
    found = failing_rows(write_reports(build_sample_report(), tmp_path, record_history=False))
    kinds = {line.split(":", 1)[0].split(" page")[0] for line in found}
    assert kinds == {"json", "html", "junit", "pdf"}, found


def test_a_passed_sample_report_shows_no_failing_row(tmp_path: Path) -> None:
    report = build_passing_sample_report()
    assert report.verdict_passed
    assert failing_rows(write_reports(report, tmp_path, record_history=False)) == []


def test_a_planted_missing_target_count_is_seen(tmp_path: Path) -> None:
    report = build_passing_sample_report()
    assert report.migration is not None
    target = {k: v for k, v in report.migration.records_target.items() if k != "messages"}
    broken = report.model_copy(update={"migration": report.migration.model_copy(update={"records_target": target})})
    found = failing_rows(write_reports(broken, tmp_path, record_history=False))
    assert found == ["json: migration messages 318 -> None"]


async def test_a_real_passed_migration_run_shows_no_failing_row(tmp_path: Path, config) -> None:
    """The real suite, real comparison: every kind is counted on both sides and equal."""
    outcome = await run_suites(config, FFRunOptions(output_dir=tmp_path / "out", suites=("migration",)))
    report: FFSystemIntegrationReportDTO = outcome.report
    assert report.verdict_passed, [g for g in report.quality_gates if not g.passed]
    migration = report.migration
    assert migration is not None
    assert {"messages", "profiles"} <= migration.records_target.keys()
    assert migration.records_target == migration.records_source
    assert failing_rows(outcome.paths) == []
    assert (outcome.report.git_commit or "") == report.git_commit and report.packages.get("pydantic")
