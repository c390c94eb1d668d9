"""HTML report usability: per-test details, filters, environment, performance over time, phone layout."""

from __future__ import annotations

import re

import pytest

from ff_class_configs.ff_test_result_dtos import FFSystemIntegrationReportDTO
from testing.reporting import render_html
from testing.reporting._charts import NARROW_IN, WIDE_IN


@pytest.fixture(scope="module")
def html(sample_report: FFSystemIntegrationReportDTO) -> str:
    return render_html(sample_report)


def _details(html: str) -> dict[str, str]:
    """test id -> the whole <details> element of that test."""
    found = {}
    for block in re.findall(r'<details class="test.*?</details>', html, re.DOTALL):
        test_id = re.search(r"<code>([^<]+)</code>", block)
        assert test_id is not None
        found[test_id.group(1)] = block
    return found


def test_every_test_has_an_expandable_details_element(html: str, sample_report: FFSystemIntegrationReportDTO) -> None:
    details = _details(html)
    results = [r for s in sample_report.suites for r in s.results]
    assert set(details) == {r.test_id for r in results}  # use case tests included
    for result in results:
        block = details[result.test_id]
        opened = block.split(">", 1)[0].endswith(" open")
        assert opened == (result.status.value in ("failed", "error", "flaky")), result.test_id
        assert f'data-suite="{result.test_suite}"' in block
        for assertion in result.assertions:
            assert assertion.description.replace("'", "&#39;") in block


def test_details_hold_steps_assertions_attempts_and_logs(html: str) -> None:
    details = _details(html)
    rag = details["rag_chat"]
    assert "<h4>Steps</h4>" in rag and "run scripted turns" in rag and "restart managers" in rag
    assert "<h4>Assertions</h4>" in rag and "RAG chat: turns stored in order" in rag
    flaky = details["tools_sandbox_limits"]
    attempts = flaky[flaky.index("<h4>Attempts</h4>") :]
    assert attempts.index("failed") < attempts.index("tool exited after 2.31 s") < attempts.index("passed")
    logs = details["event_bus_analytics"]
    assert "Log lines caused by this test" in logs and "handler broke on memory.session_created" in logs
    assert "1 log line" in logs
    assert "Log lines" not in details["panel_turn_order"]  # only the test that caused them


def test_filters_work_offline_and_are_hidden_without_the_script(html: str, sample_report: FFSystemIntegrationReportDTO) -> None:
    form = html[html.index('<form class="filters"') : html.index("</form>")]
    assert " hidden " in form.split(">", 1)[0] + " "
    statuses = dict(re.findall(r'value="(\w+)"[^>]*> \w+ <span class="n">(\d+)</span>', form))
    results = [r for s in sample_report.suites for r in s.results]
    assert int(statuses["all"]) == len(results)
    assert int(statuses["failed"]) == sum(1 for r in results if r.status.value in ("failed", "error"))
    assert int(statuses["flaky"]) == sum(1 for r in results if r.status.value == "flaky")
    suites = re.findall(r'<option value="(\w+)">', form)
    assert suites == ["all", *[s.suite for s in sample_report.suites]]
    script = html[html.index("<script>") : html.index("</script>")]
    assert 'getElementById("filters")' in script and "bar.hidden = false" in script


def test_environment_lists_the_commit_and_package_versions(html: str, sample_report: FFSystemIntegrationReportDTO) -> None:
    environment = html[html.index('id="environment"') :]
    assert sample_report.git_commit and sample_report.git_commit in environment
    for name, installed in sample_report.packages.items():
        assert f"<code>{name}</code></th><td>{installed}</td>" in environment
    bare = render_html(sample_report.model_copy(update={"git_commit": "", "packages": {}}))
    assert "unknown (not run from a git checkout)" in bare and "<h3>Packages</h3>" not in bare


def test_performance_shows_min_p90_and_figures_over_time(html: str) -> None:
    performance = html[html.index('id="performance"') : html.index('id="security"')]
    header = performance[performance.index('<table class="stack ops">') :]
    header = header[: header.index("</thead>")]
    assert [h for h in ("Min ms", "p50 ms", "p90 ms", "p95 ms", "p99 ms") if h in header] == [
        "Min ms", "p50 ms", "p90 ms", "p95 ms", "p99 ms",
    ]
    assert "Latency of all requests" in performance and ">39.5<small> ms" in performance
    assert "Throughput over time" in performance and "Latency over time" in performance
    assert "requests/s" in performance and "elapsed (s)" in performance


def test_phone_layout_has_cards_and_narrow_charts(html: str) -> None:
    css = html[html.index("<style>") : html.index("</style>")]
    phone = css[css.index("@media (max-width: 640px)") :]
    assert "table.stack thead { display: none; }" in phone and "content: attr(data-label)" in phone
    assert ".chart-narrow { display: block; }" in phone and ".chart-wide { display: none; }" in phone
    # every cell of a stacking table says what it is
    for table in re.findall(r'<table class="[^"]*stack[^"]*">.*?</table>', html, re.DOTALL):
        body = table[table.index("<tbody>") :]
        assert body.count("<td") == body.count("data-label="), table[:80]
    # every chart figure carries a wide and a narrow drawing, the narrow one drawn at phone width
    wide = re.findall(r'<div class="chart-wide"><svg[^>]*width="([\d.]+)pt"', html)
    narrow = re.findall(r'<div class="chart-narrow"><svg[^>]*width="([\d.]+)pt"', html)
    assert len(wide) == len(narrow) >= 6
    assert {round(float(w) / 72, 1) for w in wide} == {WIDE_IN}
    assert {round(float(w) / 72, 1) for w in narrow} == {NARROW_IN}


def test_a_kind_counted_on_one_side_only_is_not_a_failure(sample_report: FFSystemIntegrationReportDTO) -> None:
    migration = sample_report.migration
    assert migration is not None
    target = {k: v for k, v in migration.records_target.items() if k != "messages"}
    html = render_html(sample_report.model_copy(update={"migration": migration.model_copy(update={"records_target": target})}))
    records = html[html.index("<h3>Records</h3>") : html.index("<h3>Differences</h3>")]
    row = records[records.index(">messages<") :]
    row = row[: row.index("</tr>")]
    assert "not counted" in row and "fail" not in row and "row-failed" not in records


def test_element_ids_are_unique_and_every_reference_resolves(html: str) -> None:
    """matplotlib repeats ids (figure_1, text_3...) in every chart; the page must not."""
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})[:10]
    references = set(re.findall(r'(?:url\(#|href="#)([^)"]+)', html))
    assert references <= set(ids), sorted(references - set(ids))[:10]
