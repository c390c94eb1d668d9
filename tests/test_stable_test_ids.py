"""Every test id is the same from one collection to the next (slow: collects the suite twice).

A named run finds a test by its id: `mutate --sample` (mutmut runs the tests that reach a mutant
by id), pytest's `--lf`, and a rerun of one failure from CI's log. An id built from a value that
changes (a gzip header's time, a random draw, a hash-ordered set) made mutmut stop with
"Failed to run pytest" on ff_utils. The two collections run with different hash seeds, a second
apart, as two runs on two days would.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _collect(hash_seed: str) -> set[str]:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:randomly", "-p", "no:cacheprovider", "tests"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return {line for line in done.stdout.splitlines() if "::" in line}


def test_every_test_id_is_the_same_in_two_collections() -> None:
    first = _collect("1")
    time.sleep(1.1)
    second = _collect("2")
    assert len(first) > 1000
    assert first == second, f"ids that changed: {sorted(first ^ second)[:10]}"
