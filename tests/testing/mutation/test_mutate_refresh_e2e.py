"""Refreshed and sampled mutation runs with the real mutmut, on a two-function package (slow: ~1 min).

The scenario ``--refresh`` exists for: a run leaves a survivor, a stronger test is committed, and
``--refresh`` must report the survivor killed without checking the whole package again, while a
function whose source changed gets its mutants checked again. And ``--sample``: exactly the drawn
mutants are checked, the rest stay unchecked, and a resumed run keeps the same sample.
"""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

import pytest
from rich.console import Console

from ff_utils.ff_errors import FFConfigError
from testing.cli._mutate import _run, _run_sample, _sample_names
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


def _two_function_checkout(tmp_path: Path) -> Path:
    """A git checkout of ``pkg.mod`` (f and g) whose test of f is weak: ``x + 2`` for ``x + 1`` survives."""
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    subprocess.run(["git", "init", "-q", str(checkout)], check=True, timeout=30)
    _commit(checkout, {
        "pyproject.toml": _PYPROJECT,
        "pkg/__init__.py": "",
        "pkg/mod.py": "def f(x):\n    return x + 1\n\n\ndef g(x):\n    return x * 2\n",
        "tests/test_mod.py": "from pkg.mod import f, g\n\n\ndef test_f():\n    assert f(1) > 0\n\n\ndef test_g():\n    assert g(2) == 4\n",
    })
    return checkout


def test_a_refresh_rechecks_survivors_and_changed_functions_only(tmp_path: Path) -> None:
    checkout, workspace = _two_function_checkout(tmp_path), tmp_path / "ws"
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


def test_a_sampled_run_checks_exactly_the_drawn_mutants_and_resumes_the_same_sample(tmp_path: Path) -> None:
    checkout, workspace = _two_function_checkout(tmp_path), tmp_path / "ws"
    target = load_targets(checkout / "pyproject.toml")["pkg"]
    args = argparse.Namespace(max_minutes=3, max_children=1, sample=2, seed=5)
    prepare_workspace(checkout, workspace, target, mutmut_settings(checkout / "pyproject.toml"), "c1")

    names, seed = _sample_names(workspace, target, args, Console(quiet=True))
    assert seed == 5 and len(names) == 2
    assert _run_sample(workspace, target, names, args, Console(quiet=True)).returncode == 0

    sampled = tally_workspace(workspace, "pkg", ("pkg/*",), only=names)
    everything = tally_workspace(workspace, "pkg", ("pkg/*",))
    assert sampled.not_checked == 0 and sampled.complete and sampled.sample_of == everything.mutants > 2
    assert everything.not_checked == everything.mutants - 2  # nothing outside the sample was checked
    assert _sample_names(workspace, target, args, Console(quiet=True)) == (names, 5)
    with pytest.raises(FFConfigError, match="holds a sample"):
        _sample_names(workspace, target, argparse.Namespace(max_children=1, sample=2, seed=6), Console(quiet=True))


def test_a_refreshed_sample_rechecks_its_survivors_against_the_new_tests(tmp_path: Path) -> None:
    checkout, workspace = _two_function_checkout(tmp_path), tmp_path / "ws"
    target = load_targets(checkout / "pyproject.toml")["pkg"]
    settings = mutmut_settings(checkout / "pyproject.toml")
    args = argparse.Namespace(max_minutes=3, max_children=1, sample=100, seed=1)  # the whole (small) package
    prepare_workspace(checkout, workspace, target, settings, "c1")
    names, _seed = _sample_names(workspace, target, args, Console(quiet=True))
    _run_sample(workspace, target, names, args, Console(quiet=True))
    assert [s["name"] for s in tally_workspace(workspace, "pkg", ("pkg/*",), only=names).survivors] == ["pkg.mod.x_f__mutmut_2"]

    _commit(checkout, {"tests/test_mod.py": "from pkg.mod import f, g\n\n\ndef test_f():\n    assert f(1) == 2\n\n\ndef test_g():\n    assert g(2) == 4\n"})
    assert prepare_workspace(checkout, workspace, target, settings, "c2", refresh=True) == "refreshed"
    # The record outlives the refresh: without a --seed the same sample comes back, not a new draw.
    assert _sample_names(workspace, target, argparse.Namespace(**{**vars(args), "seed": None}), Console(quiet=True)) == (names, 1)
    _run_sample(workspace, target, names, args, Console(quiet=True), recheck_survivors=True)

    after = tally_workspace(workspace, "pkg", ("pkg/*",), only=names)
    assert after.survivors == [] and after.complete
