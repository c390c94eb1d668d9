"""``python -m tests.planted_defects``: run every catalogued defect and print the hit rate."""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from tests.planted_defects import CATALOGUE, caught, run_defect


async def _main() -> int:
    red = 0
    for defect in CATALOGUE:
        with tempfile.TemporaryDirectory(prefix="ff-defect-") as tmp:
            statuses = await run_defect(defect, Path(tmp))
        red_tests = caught(statuses)
        red += bool(red_tests)
        print(f"{'red  ' if red_tests else 'GREEN'} {defect.name:34} {defect.suite}.{defect.test} -> red: {', '.join(red_tests) or 'none'} ({defect.origin})")
    print(f"{len(CATALOGUE)} planted defects, {red} turned the suites red: hit rate {100 * red / len(CATALOGUE):.1f} %")
    return 0 if red == len(CATALOGUE) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(_main()))
