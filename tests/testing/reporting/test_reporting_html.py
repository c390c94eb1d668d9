"""HTML report: self-contained, escapes hostile names, failures first, every section present."""

from __future__ import annotations

import re

import pytest

from ff_class_configs.ff_test_result_dtos import FFSystemIntegrationReportDTO
from testing.reporting import render_html
from testing.reporting.sample import build_sample_history, build_sample_report

HOSTILE = ["<script>alert(1)</script>", '"><img src=x onerror=alert(2)>', "{{ 7*7 }}"]


@pytest.fixture(scope="module")
def report(sample_report: FFSystemIntegrationReportDTO) -> FFSystemIntegrationReportDTO:
    return sample_report  # built once per session (conftest)


@pytest.fixture(scope="module")
def html(report: FFSystemIntegrationReportDTO) -> str:
    return render_html(report, build_sample_history(4))


def test_no_external_resource(html: str) -> None:
    assert not re.search(r"https?://", html, re.IGNORECASE)
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*//""", html, re.IGNORECASE)
    assert not re.search(r"\bsrc\s*=", html, re.IGNORECASE)
    assert not re.search(r"url\(\s*['\"]?\s*(?:https?:)?//", html, re.IGNORECASE)
    assert not re.search(r"@import", html, re.IGNORECASE)
    # One inline script (the filters), which loads and sends nothing.
    scripts = re.findall(r"<script\b[^>]*>(.*?)</script>", html, re.IGNORECASE | re.DOTALL)
    assert len(scripts) == 1 and html.lower().count("<script") == 1
    assert not re.search(r"fetch|XMLHttpRequest|import\(|location|cookie|eval|innerHTML|src", scripts[0])
    assert "<link" not in html.lower()
    # every href is an in-page anchor
    assert all(h.startswith("#") for h in re.findall(r'href="([^"]*)"', html))


def test_page_is_one_file_with_inline_css_and_svg_charts(html: str) -> None:
    assert html.lstrip().startswith("<!DOCTYPE html>")
    assert "<style>" in html and "@page" in html and "@media print" in html
    assert 'name="viewport"' in html
    assert html.count("<svg ") >= 7  # latency, throughput, resources, recovery, 3 trends
    assert "<?xml" not in html and "<!DOCTYPE svg" not in html


def _hostile_report(report: FFSystemIntegrationReportDTO) -> FFSystemIntegrationReportDTO:
    suite = report.suites[0]
    results = [
        suite.results[0].model_copy(update={"test_name": HOSTILE[0], "error_message": HOSTILE[1], "test_id": "evil_1"}),
        *suite.results[1:],
    ]
    perf = report.performance
    assert perf is not None
    operations = [perf.operations[0].model_copy(update={"operation": HOSTILE[0] + "$x$"}), *perf.operations[1:]]
    use_case = report.use_case_results[9].model_copy(update={"use_case_name": HOSTILE[1], "first_failure": HOSTILE[2]})
    return report.model_copy(
        update={
            "suites": [suite.model_copy(update={"results": results}), *report.suites[1:]],
            "performance": perf.model_copy(update={"operations": operations}),
            "use_case_results": [*report.use_case_results[:9], use_case, *report.use_case_results[10:]],
            "critical_issues": [HOSTILE[1]],
            "platform": {"os": HOSTILE[0]},
        }
    )


def test_hostile_names_are_escaped(report: FFSystemIntegrationReportDTO) -> None:
    html = render_html(_hostile_report(report))
    assert html.lower().count("<script") == 1  # only the report's own filter script
    assert "<img" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&#34;&gt;&lt;img src=x onerror=alert(2)&gt;" in html
    assert "{{ 7*7 }}" in html and ">49<" not in html
    # the chart label went through matplotlib's XML escaping, not mathtext
    assert "&lt;script&gt;alert(1)&lt;/script&gt;$x$" in html


def test_verdict_and_failures_come_first(html: str, report: FFSystemIntegrationReportDTO) -> None:
    verdict = html.index("FAILED</div>")
    failures = html.index('id="failures"')
    suites = html.index('id="suites"')
    assert verdict < failures < suites
    # the first failure listed is the error (errors before failures), with its message
    first_item = html[failures : html.index("</div>", html.index('class="failure ', failures))]
    assert "ERROR" in first_item.upper() and "Corrupt session.json" in first_item
    assert "FFCorruptionError escaped the recovery path" in html[failures:suites]
    for message in ("expected 0 chunks for doc_7f3a after delete, found 3", "verify passed: edit not detected"):
        assert message in html[failures:suites]


def test_passing_report_says_so() -> None:
    report = build_sample_report(failing=frozenset(), with_comparison=False)
    passing = report.model_copy(
        update={"quality_gates": [g.model_copy(update={"passed": True, "inconclusive": False}) for g in report.quality_gates]}
    )
    html = render_html(passing)
    assert "PASSED</div>" in html
    assert f"All {len(passing.quality_gates)} quality gates held." in html
    assert "No previous run is stored" in html


def test_use_case_matrix_rows_and_manager_columns(html: str, report: FFSystemIntegrationReportDTO) -> None:
    section = html[html.index('id="use-cases"') : html.index('id="performance"')]
    body = section[section.index("<tbody>") : section.index("</tbody>")]
    assert body.count("<tr") == len(report.use_case_results) == 22
    header = section[section.index("<thead>") : section.index("</thead>")]
    for column in ("memory", "panel", "knowledge", "tools", "analytics"):
        assert f">{column}</th>" in header
    notetaker = body[body.index("ai_notetaker") :]
    notetaker = notetaker[: notetaker.index("</tr>")]
    assert notetaker.count('class="cell failed"') == 3  # tools, knowledge, memory
    assert "21 of 22 use cases pass" in section


def test_performance_security_recovery_migration_sections(html: str, report: FFSystemIntegrationReportDTO) -> None:
    performance = html[html.index('id="performance"') : html.index('id="security"')]
    assert "latency (ms)" in performance and "throughput (operations/s)" in performance
    assert "CPU (%)" in performance and "RSS (MB)" in performance
    assert "188.3" in performance
    security = html[html.index('id="security"') : html.index('id="failure-simulation"')]
    for check in report.security_checks:
        assert check.asvs_id in security and check.check_id in security
    assert security.index("sec.audit.tamper") < security.index("sec.path_traversal.user_id")  # findings first
    recovery = html[html.index('id="failure-simulation"') : html.index('id="migration"')]
    assert "2.05 s" in recovery and "time to recover (s)" in recovery
    migration = html[html.index('id="migration"') : html.index('id="environment"')]
    assert "torn record" in migration and "v1 → v2" in migration


def test_changes_and_trends(html: str) -> None:
    changes = html[html.index('id="changes"') : html.index('id="suites"')]
    assert "use_cases/ai_notetaker" in changes
    assert "component/panel_turn_order" in changes
    assert "Trends over the last 5 runs" in changes
    assert "Pass rate" in changes and "Worst p95 latency" in changes and "Run duration" in changes


def test_minimal_report_renders(report: FFSystemIntegrationReportDTO) -> None:
    bare = FFSystemIntegrationReportDTO(
        report_id="bare",
        generation_timestamp=report.generation_timestamp,
        started_at=report.started_at,
        finished_at=report.finished_at,
        seed=1,
        profile="quick",
        environment="development",
    )
    html = render_html(bare)
    assert "NO VERDICT" in html
    assert 'id="performance"' not in html and 'id="use-cases"' not in html


def test_cross_system_section_shows_seed_criteria_timeline_and_transports(html: str) -> None:
    start = html.index('<section id="cross-system">')
    section = html[start:html.index("</section>", start)]
    assert "Service availability &gt; 99.9%" in section and "Recovery time &lt; 5s" in section
    assert 'aria-label="Cross-system load per second' in section  # the timeline chart
    for transport in ("http", "websocket", "tcp"):
        assert f'<td class="title-cell" data-label="">{transport}</td>' in section
    assert "SIGKILL, restart on the same port" in section
    assert '<span class="badge warn">inconclusive</span>' in section
    assert "saturated: latency gates inconclusive" in section


def test_an_undecided_gate_makes_the_verdict_inconclusive_not_passed(report: FFSystemIntegrationReportDTO) -> None:
    gates = [g if g.inconclusive else g.model_copy(update={"passed": True}) for g in report.quality_gates]
    html = render_html(report.model_copy(update={"quality_gates": gates}))
    assert "INCONCLUSIVE</div>" in html and "PASSED</div>" not in html
    assert "could not be decided (not a pass)" in html
