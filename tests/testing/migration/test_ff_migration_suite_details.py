"""The migration suite's hand-written legacy root (testing/suites/_migration_details.py) passes on the
real code, with every check it makes; its planted defects (tests/ff_managers/migration/planted_defects.py,
test ``legacy_details_survive``) are run by the catalogue's own test."""

from __future__ import annotations

from pathlib import Path

from ff_class_configs.ff_test_result_dtos import FFTestStatus
from tests._suite_helpers import run_suite


async def test_the_legacy_details_pass_on_the_real_code(tmp_path: Path) -> None:
    results = await run_suite(tmp_path, "migration", "legacy_details_survive")
    result = results["legacy_details_survive"]
    assert result.status == FFTestStatus.PASSED, [a for a in result.assertions if not a.passed] or result.error_message
    assert len(result.assertions) >= 7

