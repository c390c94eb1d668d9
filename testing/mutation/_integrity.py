"""Did a mutant damage the tree the tests run from? Checked after every mutation run.

mutmut runs each mutant's tests with the working directory inside its ``mutants/`` copy, so a
mutant whose bug is "operate on the wrong directory" operates on that copy. This happened: a
mutant of ``ff_reencrypt_tree`` that lost its root (``os.scandir(None)`` lists the working
directory) encrypted the whole copy, sources included, and every later mutant "was killed" by
an import error. The verdicts after such damage are worthless, so the run is marked invalid and
names the damaged files. (Running in a workspace outside the checkout is what kept the
checkout safe.)
"""

from __future__ import annotations

import ast
import fnmatch
from pathlib import Path

__all__ = ["damaged_files"]

_MUTMUT_FILES = (".meta", ".spans")
_SKIP_PARTS = {"__pycache__", ".pytest_cache", ".hypothesis"}


def damaged_files(workspace: Path, patterns: tuple[str, ...], *, most: int = 20) -> list[str]:
    """Files of ``workspace/mutants`` that differ from the workspace's own copy of the tree (the
    copy mutmut made them from, which no mutant's working directory contains) or, for mutated
    sources, no longer parse; at most ``most`` of them."""
    mutants = workspace / "mutants"
    found: list[str] = []
    if not mutants.is_dir():
        return found
    for path in sorted(mutants.rglob("*")):
        relative = path.relative_to(mutants)
        name = relative.as_posix()
        if not path.is_file() or set(relative.parts) & _SKIP_PARTS or name.endswith(_MUTMUT_FILES) or name.startswith("mutmut"):
            continue
        if any(fnmatch.fnmatch(name, p) for p in patterns):
            try:
                ast.parse(path.read_bytes())
            except (SyntaxError, ValueError):
                found.append(name)
        else:
            original = workspace / relative
            if original.is_file() and (original.stat().st_size != path.stat().st_size or original.read_bytes() != path.read_bytes()):
                found.append(name)
        if len(found) >= most:
            break
    return found
