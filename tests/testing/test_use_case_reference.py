"""docs/USE_CASES.md is generated from the scenarios: current, complete, and naming real checks."""

from __future__ import annotations

from pathlib import Path

from testing.suites.use_cases._catalog import USE_CASE_CATALOG
from testing.suites.use_cases.reference import render_use_case_reference, scenario_docs

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "USE_CASES.md"


def test_the_committed_use_case_reference_is_current() -> None:
    assert REFERENCE.read_text(encoding="utf-8") == render_use_case_reference(), (
        "docs/USE_CASES.md is stale: run `python -m testing.suites.use_cases.reference > docs/USE_CASES.md`"
    )


def test_every_use_case_has_a_summary_steps_and_checks() -> None:
    docs = scenario_docs()
    assert set(docs) == {spec.use_case_id for spec in USE_CASE_CATALOG} and len(docs) == 22
    for use_case_id, doc in docs.items():
        assert doc.summary, use_case_id
        assert sum(len(checks) for _, checks in doc.steps) >= 3, f"{use_case_id} lists fewer than 3 checks"
    basic = dict(docs["basic_chat"].steps)
    assert "limit=2 gives the last two turns, oldest first" in basic["read history back"]
