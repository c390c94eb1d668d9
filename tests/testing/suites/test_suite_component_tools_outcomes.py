"""The component suite's tool-outcome checks (testing/suites/_component_contracts_tools.py) pass on the real manager.

Kept apart from test_suite_component_contracts.py's list, which every manager's mutation run uses:
these runs would cost each of their mutants a second; ``_tools``' own unit tests judge its mutants.
"""

from __future__ import annotations

from pathlib import Path

from ff_class_configs.ff_test_result_dtos import FFTestStatus
from tests._suite_helpers import run_suite


async def test_tool_outcome_checks_pass_on_the_real_manager(tmp_path: Path) -> None:
    results = await run_suite(tmp_path, "component", "tools_outcome_contracts")
    assert {name: r.error_message for name, r in results.items() if r.status != FFTestStatus.PASSED} == {}
    assert "tools_outcome_contracts" in results and len(results["tools_outcome_contracts"].assertions) >= 6
