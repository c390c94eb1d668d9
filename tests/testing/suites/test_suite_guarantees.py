"""The use-case and security suites' guarantee checks: green on the real managers, red on each
planted defect of ``tests/planted_defects/guarantees.py`` (issue 20).

The checks (``testing/suites/use_cases/_guarantees.py``, the at-limit round trips of
``security/oversized.py``, the "answers like a missing id" comparisons of ``security/isolation.py``)
assert what README.md promises on the data the scenarios already produce. Each defect is run on
the use case or security check named with it (``run_defect``), which must come back red.
"""

from __future__ import annotations

import random
import statistics
from pathlib import Path

import pytest

from ff_class_configs.ff_test_result_dtos import FFTestStatus
from testing.suites.security import REGISTRY as SECURITY
from testing.suites.use_cases import REGISTRY as USE_CASES
from testing.suites.use_cases._guarantees import interpolated_percentile
from tests._suite_helpers import run_suite
from tests.planted_defects import CATALOGUE
from tests.planted_defects.guarantees import DEFECTS

_USE_CASES = sorted({d.test for d in DEFECTS if d.suite == "use_cases"})
_SECURITY = sorted({d.test for d in DEFECTS if d.suite == "security"})


def _short_ids(registry: object) -> set[str]:
    return {spec.test_id.split(".", 1)[1] for spec in registry.specs}  # type: ignore[attr-defined]


def test_every_defect_names_a_registered_check_and_is_in_the_catalogue() -> None:
    assert {d.test for d in DEFECTS if d.suite == "use_cases"} <= _short_ids(USE_CASES)
    assert {d.test for d in DEFECTS if d.suite == "security"} <= _short_ids(SECURITY)
    assert {d.name for d in DEFECTS} <= {d.name for d in CATALOGUE}  # run, expecting red, with the whole catalogue
    assert len({d.name for d in DEFECTS}) == len(DEFECTS)
    assert all(d.what.strip() and (d.manager_classes or d.patches) for d in DEFECTS)


@pytest.mark.slow
async def test_the_guarantee_checks_pass_on_the_real_managers(tmp_path: Path) -> None:
    for suite, names in (("use_cases", _USE_CASES), ("security", _SECURITY)):
        results = await run_suite(tmp_path / suite, suite, *names)
        assert set(names) <= set(results)
        bad = {name: r.error_message for name, r in results.items() if r.status != FFTestStatus.PASSED}
        assert bad == {}, bad


def test_the_independent_percentile_is_the_documented_interpolation() -> None:
    rng = random.Random(20)
    for n in (2, 3, 5, 17):
        values = [rng.uniform(0, 100) for _ in range(n)]
        inclusive = statistics.quantiles(values, n=100, method="inclusive")
        for q in (50, 95, 99):
            assert interpolated_percentile(values, q / 100) == pytest.approx(inclusive[q - 1], rel=1e-12)
    assert interpolated_percentile([4.0], 0.95) == 4.0
