"""The migration suite's refusal checks pass on the real code (their planted defects, in
tests/ff_managers/migration/planted_defects.py, are run by the catalogue's own test)."""

from __future__ import annotations

from pathlib import Path

from ff_class_configs.ff_test_result_dtos import FFTestStatus
from tests._suite_helpers import run_suite


async def test_the_refusal_checks_pass_on_the_real_code(tmp_path: Path) -> None:
    results = await run_suite(tmp_path, "migration", "newer_root_refused", "registry_reports_every_problem", "bad_paths_refused")
    for name in ("newer_root_refused", "registry_reports_every_problem", "bad_paths_refused"):
        assert results[name].status == FFTestStatus.PASSED, [a for a in results[name].assertions if not a.passed]

