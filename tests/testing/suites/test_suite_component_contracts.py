"""The component suite's contract checks: green on the real managers, red on every planted defect.

The contract tests (``testing/suites/_component_contracts.py``) check what README.md promises:
bounds, order and exact counts, content at the size limits, every field read back, retention per
layer, exact percentiles. Each planted defect of the catalogue (``tests/planted_defects``) is a
plausible bug in one manager, or a surviving mutant of a package's code; the suite test meant for
it must come back red (it, or a test it depends on).
"""

from __future__ import annotations

import random
import statistics
from pathlib import Path

import pytest

from ff_class_configs.ff_test_result_dtos import FFTestStatus
from testing.suites._component_contracts import exact_percentile, text_of_chars
from testing.suites.component import REGISTRY
from tests._suite_helpers import run_suite
from tests.planted_defects import CATALOGUE, caught, planted, run_defect

_CONTRACTS = ("memory_contracts", "memory_retention_per_layer", "panel_contracts", "panel_detail_contracts", "knowledge_contracts",
              "knowledge_detail_contracts", "knowledge_input_contracts", "memory_detail_contracts",
              "tools_contracts", "metrics_contracts", "metrics_detail_contracts")  # fmt: skip
# The storage layer's and the reports' checks: apart, so the managers' mutation runs (which use
# the test above) do not pay for them; ff_utils' mutation run uses the one below.
_PLATFORM_CONTRACTS = ("storage_contracts", "report_contracts")


async def test_contract_checks_pass_on_the_real_managers(tmp_path: Path) -> None:
    results = await run_suite(tmp_path, "component", *_CONTRACTS)
    assert {name: r.status for name, r in results.items() if r.status != FFTestStatus.PASSED} == {}, {
        name: r.error_message for name, r in results.items() if r.status != FFTestStatus.PASSED
    }
    assert set(_CONTRACTS) <= set(results)
    assert all(len(results[name].assertions) >= 10 for name in _CONTRACTS)


async def test_storage_and_report_contracts_pass(tmp_path: Path) -> None:
    results = await run_suite(tmp_path, "component", *_PLATFORM_CONTRACTS, "stray_files_ignored")
    assert {name: r.error_message for name, r in results.items() if r.status != FFTestStatus.PASSED} == {}
    assert all(len(results[name].assertions) >= 25 for name in _PLATFORM_CONTRACTS)


@pytest.mark.parametrize("defect", CATALOGUE, ids=[d.name for d in CATALOGUE])
async def test_a_planted_defect_turns_the_suite_red(defect, tmp_path: Path) -> None:
    statuses = await run_defect(defect, tmp_path)
    assert caught(statuses), f"{defect.name} ({defect.what}) went through: {statuses}"


def test_every_contract_test_has_planted_defects_and_the_catalogue_is_well_formed() -> None:
    names = [d.name for d in CATALOGUE]
    assert len(names) == len(set(names))
    registered = {spec.test_id.split(".", 1)[1] for spec in REGISTRY.specs}
    assert {d.test for d in CATALOGUE if d.suite == "component"} <= registered
    assert set(_CONTRACTS) | set(_PLATFORM_CONTRACTS) <= {d.test for d in CATALOGUE}
    assert all(d.what.strip() and (d.origin == "README" or d.origin.startswith("mutant ")) for d in CATALOGUE)


def test_planted_restores_every_patched_function() -> None:
    defect = next(d for d in CATALOGUE if d.patches)
    originals = [getattr(module, attribute) for module, attribute, _ in defect.patches]
    with pytest.raises(RuntimeError), planted(defect):
        assert all(getattr(module, attribute) is replacement for module, attribute, replacement in defect.patches)
        raise RuntimeError("a failing run")
    assert [getattr(module, attribute) for module, attribute, _ in defect.patches] == originals


def test_the_independent_percentile_is_the_documented_interpolation() -> None:
    rng = random.Random(20)
    for n in (1, 2, 3, 7, 13, 100):
        values = [rng.uniform(-50, 50) for _ in range(n)]
        if n >= 2:
            inclusive = statistics.quantiles(values, n=100, method="inclusive")
            for q in (50, 95, 99):
                assert exact_percentile(values, q / 100) == pytest.approx(inclusive[q - 1], rel=1e-12, abs=1e-12)
        assert exact_percentile(values, 0.0) == min(values) and exact_percentile(values, 1.0) == max(values)


def test_text_of_chars_has_the_exact_length_and_wide_characters() -> None:
    for n in (2, 3, 100, 50_000):
        text = text_of_chars(n, "seed")
        assert len(text) == n and text[0] == "x" and text[-1] == "z"
    wide = text_of_chars(1000)
    assert len(wide.encode("utf-8")) > 1500 and "😀" in wide
