"""A refreshed mutation run with the real mutmut, on a two-function package (slow: ~1 min).

The scenario the option exists for: a run leaves a survivor, a stronger test is committed, and
``--refresh`` must report the survivor killed without checking the whole package again, while a
function whose source changed gets its mutants checked again.
"""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

import pytest
from rich.console import Console

from testing.cli._mutate import _run
from testing.mutation import load_targets, prepare_workspace, tally_workspace
from testing.mutation._targets import mutmut_settings

pytest.importorskip("mutmut", reason="the mutation extra is not installed")
pytestmark = pytest.mark.slow

_PYPROJECT = """[project]
name = "p"
version = "0"

[tool.mutmut]
source_paths = ["pkg"]

[tool.mutmut.packages.pkg]
mutate = ["pkg/*"]
tests = ["tests"]
"""


def _commit(checkout: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (checkout / name).parent.mkdir(parents=True, exist_ok=True)
        (checkout / name).write_text(text, encoding="utf-8")
    git = ["git", "-C", str(checkout), "-c", "user.email=t@t", "-c", "user.name=t"]
    subprocess.run(git + ["add", "-A"], check=True, timeout=30)
    subprocess.run(git + ["commit", "-qm", "step"], check=True, timeout=30)


def test_a_refresh_rechecks_survivors_and_changed_functions_only(tmp_path: Path) -> None:
    checkout, workspace = tmp_path / "checkout", tmp_path / "ws"
    checkout.mkdir()
    subprocess.run(["git", "init", "-q", str(checkout)], check=True, timeout=30)
    _commit(checkout, {
        "pyproject.toml": _PYPROJECT,
        "pkg/__init__.py": "",
        "pkg/mod.py": "def f(x):\n    return x + 1\n\n\ndef g(x):\n    return x * 2\n",
        "tests/test_mod.py": "from pkg.mod import f, g\n\n\ndef test_f():\n    assert f(1) > 0\n\n\ndef test_g():\n    assert g(2) == 4\n",
    })
    target = load_targets(checkout / "pyproject.toml")["pkg"]
    settings = mutmut_settings(checkout / "pyproject.toml")
    args = argparse.Namespace(max_minutes=3, max_children=1)

    state = prepare_workspace(checkout, workspace, target, settings, "c1")
    assert _run(workspace, target, state, args, Console(quiet=True)).returncode == 0
    first = tally_workspace(workspace, "pkg", ("pkg/*",))
    assert [s["name"] for s in first.survivors] == ["pkg.mod.x_f__mutmut_2"]  # `x + 2` passes `f(1) > 0`

    # A stronger test for f, and g rewritten: the survivor is checked again and killed.
    _commit(checkout, {
        "tests/test_mod.py": "from pkg.mod import f, g\n\n\ndef test_f():\n    assert f(1) == 2\n\n\ndef test_g():\n    assert g(2) == 4\n",
        "pkg/mod.py": "def f(x):\n    return x + 1\n\n\ndef g(x):\n    return x * 2 + 0\n",
    })
    state = prepare_workspace(checkout, workspace, target, settings, "c2", refresh=True)
    assert state == "refreshed"
    assert _run(workspace, target, state, args, Console(quiet=True)).returncode == 0
    second = tally_workspace(workspace, "pkg", ("pkg/*",))
    assert second.survivors == [] or all(s["name"].startswith("pkg.mod.x_g") for s in second.survivors)
    assert "pkg.mod.x_f__mutmut_2" not in {s["name"] for s in second.survivors}
    assert second.not_checked == 0 and second.mutants > first.mutants  # g's new mutants were generated and checked
