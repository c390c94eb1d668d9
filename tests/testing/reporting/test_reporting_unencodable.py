"""A lone surrogate in one test's text costs nothing: every format is written, the character shown as U+FFFD."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from rich.console import Console

from ff_class_configs.ff_test_result_dtos import FFSystemIntegrationReportDTO
from testing._progress import FFRichProgress
from testing.reporting import load_report_json, render_html, render_json, render_junit, write_reports
from testing.reporting._text import clean_data, clean_text
from testing.reporting.sample import build_sample_report

LONE = "\ud800"


@pytest.fixture(scope="module")
def report() -> FFSystemIntegrationReportDTO:
    report = build_sample_report()
    suite = report.suites[0]
    bad = suite.results[0].model_copy(
        update={"test_name": f"name {LONE} here", "error_message": f"message \udfff{LONE} here", "warnings_generated": [LONE]}
    )
    report.suites[0] = suite.model_copy(update={"results": [bad, *suite.results[1:]]})
    report.critical_issues = [f"critical {LONE}"]
    return report


def test_clean_text_replaces_only_surrogates() -> None:
    assert clean_text(f"a{LONE}b\udfffc €😀") == "a\ufffdb\ufffdc €😀"
    assert clean_data({f"k{LONE}": [LONE, 1, None, {"x": LONE}]}) == {"k\ufffd": ["\ufffd", 1, None, {"x": "\ufffd"}]}


def test_json_is_written_and_shows_the_replacement(report: FFSystemIntegrationReportDTO) -> None:
    data = json.loads(render_json(report))
    assert data["suites"][0]["results"][0]["test_name"] == "name \ufffd here"
    assert data["critical_issues"] == ["critical \ufffd"]


def test_html_encodes_as_utf8(report: FFSystemIntegrationReportDTO) -> None:
    page = render_html(report).encode("utf-8")
    assert "name \ufffd here".encode() in page and "message \ufffd\ufffd here".encode() in page


def test_junit_parses(report: FFSystemIntegrationReportDTO) -> None:
    root = ET.fromstring(render_junit(report))
    assert any(case.get("name") == "name \ufffd here" for case in root.iter("testcase"))


def test_write_reports_writes_every_format_and_the_history(report: FFSystemIntegrationReportDTO, tmp_path: Path) -> None:
    paths = write_reports(report, tmp_path)
    assert set(paths) == {"json", "html", "pdf", "junit"}
    assert all(path.stat().st_size > 0 for path in paths.values())
    assert paths["pdf"].read_bytes().startswith(b"%PDF")
    assert load_report_json(paths["json"]).suites[0].results[0].test_name == "name \ufffd here"
    assert (tmp_path / "history").is_dir()


def test_the_progress_line_prints(report: FFSystemIntegrationReportDTO) -> None:
    out = io.StringIO()
    console = Console(file=out, width=200, force_terminal=False)
    failed = next(r for r in report.suites[1].results if r.status.value == "failed")
    failed = failed.model_copy(update={"error_message": f"bad {LONE} [red]not markup[/]"})
    with FFRichProgress(console) as progress:
        progress.suite_started("use_cases", 1)
        progress.test_started("use_cases", f"name {LONE} [/]")
        progress.test_finished(failed)
    assert "bad \ufffd [red]not markup[/]" in out.getvalue()
