"""The report's filter script, run in Node against a small stand-in for the page's DOM.

The script is the only code in the report; this runs it (when Node is installed) on the real
page's test list: choosing a status or a suite hides exactly the other tests, and suites left
empty.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from ff_class_configs.ff_test_result_dtos import FFSystemIntegrationReportDTO
from testing.reporting import render_html

NODE = shutil.which("node")

_DOM = r"""
const tests = DATA.tests.map(t => ({status: t.status, suite: t.suite, hidden: false,
  getAttribute(name) { return name === "data-status" ? this.status : this.suite; }}));
const blocks = DATA.suites.map(s => ({suite: s, hidden: false,
  querySelector() { return tests.find(t => t.suite === this.suite && !t.hidden) || null; }}));
const state = {status: "all", suite: "all"}, listeners = {};
const bar = {hidden: true,
  querySelector(selector) { return selector.startsWith("input") ? {value: state.status} : {value: state.suite}; },
  addEventListener(type, fn) { listeners[type] = fn; }};
const count = {textContent: ""};
global.document = {
  getElementById(id) { return id === "filters" ? bar : count; },
  querySelectorAll(selector) { return selector === "details.test" ? tests : blocks; },
};
SCRIPT
const seen = {};
function choose(status, suite) {
  state.status = status; state.suite = suite; listeners.change();
  seen[status + "/" + suite] = {shown: tests.filter(t => !t.hidden).map(t => t.status + "@" + t.suite),
    blocks: blocks.filter(b => !b.hidden).map(b => b.suite), count: count.textContent};
}
seen.bar_visible = !bar.hidden; seen.initial = count.textContent;
choose("failed", "all"); choose("flaky", "all"); choose("all", "security"); choose("passed", "migration"); choose("all", "all");
console.log(JSON.stringify(seen));
"""


@pytest.mark.skipif(NODE is None, reason="Node is not installed")
def test_filters_hide_exactly_the_other_tests(sample_report: FFSystemIntegrationReportDTO) -> None:
    html = render_html(sample_report)
    script = re.search(r"<script>(.*?)</script>", html, re.DOTALL)
    assert script is not None
    tests = [
        {"status": status, "suite": suite}
        for status, suite in re.findall(r'<details class="test [^"]*" data-status="(\w+)" data-suite="(\w+)"', html)
    ]
    suites = [s.suite for s in sample_report.suites]
    program = _DOM.replace("DATA", json.dumps({"tests": tests, "suites": suites})).replace("SCRIPT", script.group(1))
    completed = subprocess.run([NODE, "-e", program], capture_output=True, text=True, timeout=30, check=True)
    seen = json.loads(completed.stdout)
    total = len(tests)
    assert seen["bar_visible"] and seen["initial"] == f"{total} of {total} tests shown"
    results = [r for s in sample_report.suites for r in s.results]
    failing = sorted(f"failed@{r.test_suite}" for r in results if r.status.value in ("failed", "error"))
    assert sorted(seen["failed/all"]["shown"]) == failing
    assert seen["failed/all"]["count"] == f"{len(failing)} of {total} tests shown"
    assert set(seen["failed/all"]["blocks"]) == {r.test_suite for r in results if r.status.value in ("failed", "error")}
    assert sorted(seen["flaky/all"]["shown"]) == sorted(f"flaky@{r.test_suite}" for r in results if r.status.value == "flaky")
    security = [r for r in results if r.test_suite == "security"]
    assert len(seen["all/security"]["shown"]) == len(security) and seen["all/security"]["blocks"] == ["security"]
    migration_passed = [r for r in results if r.test_suite == "migration" and r.status.value == "passed"]
    assert len(seen["passed/migration"]["shown"]) == len(migration_passed)
    assert len(seen["all/all"]["shown"]) == total and seen["all/all"]["blocks"] == suites
