"""Every test id is the same from one collection to the next (slow: collects the suite three times).

A named run finds a test by its id: `mutate --sample` (mutmut collects the tests, then runs the
ones that reach a mutant by id, with pytest.main called again in the same process), pytest's
`--lf`, and a rerun of one failure from CI's log. Two ways an id moved made mutmut stop with
"Failed to run pytest" on ff_utils: an id built from a gzip header (which holds the time it was
made), and ids with backslashes and non-ASCII text, which pytest escapes again on a second
collection in the same process. So: two collections in one process, and a third in another
process with another hash seed, a second later.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow

_COLLECT_TWICE = """
import contextlib, io, json, sys
import pytest

class Ids:
    def pytest_collection_finish(self, session):
        self.ids = [item.nodeid for item in session.items]

found = []
for _ in range(int(sys.argv[1])):
    ids = Ids()
    with contextlib.redirect_stdout(io.StringIO()):
        code = pytest.main(["--collect-only", "-q", "-p", "no:randomly", "-p", "no:cacheprovider", "tests"], plugins=[ids])
    if code != 0:
        sys.exit(f"collection failed: {code}")
    found.append(ids.ids)
print(json.dumps(found))
"""


def _collect(times: int, hash_seed: str) -> list[list[str]]:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    done = subprocess.run([sys.executable, "-c", _COLLECT_TWICE, str(times)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _changed(first: list[str], second: list[str]) -> list[str]:
    return sorted(set(first) ^ set(second))[:10]


def test_every_test_id_is_the_same_in_every_collection() -> None:
    first, again = _collect(2, "1")
    time.sleep(1.1)
    (other_process,) = _collect(1, "2")
    assert len(first) > 1000
    assert first == again, f"ids that changed on a second collection in the same process: {_changed(first, again)}"
    assert sorted(first) == sorted(other_process), f"ids that changed in another process: {_changed(first, other_process)}"
