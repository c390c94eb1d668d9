"""The packages `mutate` knows: which files mutmut mutates and which fast tests judge the mutants.

They are configured in pyproject.toml, ``[tool.mutmut.packages.<name>]``, beside mutmut's own
settings, so adding a package or a test file is a configuration change, not a code change.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ff_utils.ff_errors import FFConfigError

__all__ = ["MutationTarget", "load_targets", "mutmut_settings"]


@dataclass(frozen=True)
class MutationTarget:
    """One package: ``mutate`` are glob patterns of the files to mutate (mutmut's ``only_mutate``),
    ``tests`` the pytest paths (or node ids) whose failures count as kills, ``skip`` patterns of
    files left unmutated (mutmut's ``do_not_mutate``), ``test_timeout`` seconds a test may take
    under a mutant before pytest-timeout fails it (default: pytest's own setting). mutmut stops a
    mutant that spins on the CPU, but one that waits (a lock, a poll) runs into that timeout."""

    name: str
    mutate: tuple[str, ...]
    tests: tuple[str, ...]
    skip: tuple[str, ...] = ()
    test_timeout: int | None = None


def _mutmut_table(pyproject: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise FFConfigError(f"cannot read {pyproject}: {exc}") from exc
    table = data.get("tool", {}).get("mutmut")
    if not isinstance(table, dict):
        raise FFConfigError(f"{pyproject} has no [tool.mutmut] table")
    return table


def mutmut_settings(pyproject: Path) -> dict[str, Any]:
    """mutmut's own keys of ``[tool.mutmut]`` (everything but our package map)."""
    return {key: value for key, value in _mutmut_table(pyproject).items() if key != "packages"}


def load_targets(pyproject: Path) -> dict[str, MutationTarget]:
    """Every package of ``[tool.mutmut.packages]``; a malformed entry is a config error, not a skip."""
    packages = _mutmut_table(pyproject).get("packages")
    if not isinstance(packages, dict) or not packages:
        raise FFConfigError(f"{pyproject} has no [tool.mutmut.packages.<name>] tables")
    targets = {}
    for name, entry in packages.items():
        mutate, tests = entry.get("mutate"), entry.get("tests")
        if not (isinstance(mutate, list) and mutate and all(isinstance(m, str) for m in mutate)):
            raise FFConfigError(f"[tool.mutmut.packages.{name}] needs mutate = [glob, ...]")
        if not (isinstance(tests, list) and tests and all(isinstance(t, str) for t in tests)):
            raise FFConfigError(f"[tool.mutmut.packages.{name}] needs tests = [path, ...]")
        skip = entry.get("skip", [])
        if not (isinstance(skip, list) and all(isinstance(k, str) for k in skip)):
            raise FFConfigError(f"[tool.mutmut.packages.{name}] skip must be a list of globs")
        test_timeout = entry.get("test_timeout")
        if test_timeout is not None and not (isinstance(test_timeout, int) and not isinstance(test_timeout, bool) and test_timeout > 0):
            raise FFConfigError(f"[tool.mutmut.packages.{name}] test_timeout must be a whole number of seconds > 0")
        targets[name] = MutationTarget(name, tuple(mutate), tuple(tests), tuple(skip), test_timeout)
    return targets
