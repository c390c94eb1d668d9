"""`python main.py mutate`: its configuration, workspace, time bound and result files.

mutmut itself is not run here (a package takes minutes to hours); the pieces around it are: the
package map in pyproject.toml points at files and tests that exist, the workspace is a copy
outside the checkout with a [tool.mutmut] for one package, a run is stopped with its whole
process group at the time bound, and mutmut's verdict files become counts, a score and a table.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import psutil
import pytest
from rich.console import Console

from ff_utils.ff_errors import FFConfigError
from testing.cli import main
from testing.mutation import MutationTarget, load_targets, prepare_workspace, tally_workspace, update_scores_doc, write_result
from testing.mutation import _workspace
from testing.mutation._targets import mutmut_settings
from testing.mutation._workspace import run_mutmut, workspace_pyproject

ROOT = Path(__file__).resolve().parents[3]
PYPROJECT = ROOT / "pyproject.toml"


def test_every_configured_package_points_at_files_and_tests_that_exist() -> None:
    targets = load_targets(PYPROJECT)
    assert set(targets) == {"ff_utils", "_core", "_memory", "_panel", "_knowledge", "_tools", "_metrics", "_migration"}
    for target in targets.values():
        for pattern in target.mutate:
            assert list(ROOT.glob(pattern)), f"{target.name}: {pattern} matches no file"
        for test in target.tests:
            path, _, node = test.partition("::")
            assert (ROOT / path).exists(), f"{target.name}: {path} does not exist"
            if node:
                assert f"def {node}(" in (ROOT / path).read_text(encoding="utf-8"), f"{target.name}: no test {node} in {path}"
    assert "packages" not in mutmut_settings(PYPROJECT)


def test_a_package_map_entry_without_tests_is_a_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "pyproject.toml"
    bad.write_text('[tool.mutmut]\nsource_paths = ["x"]\n[tool.mutmut.packages.x]\nmutate = ["x/*"]\n', encoding="utf-8")
    with pytest.raises(FFConfigError, match="tests"):
        load_targets(bad)
    bad.write_text('[project]\nname = "x"\n', encoding="utf-8")
    with pytest.raises(FFConfigError, match=r"\[tool.mutmut\]"):
        load_targets(bad)


def test_the_workspace_pyproject_configures_mutmut_for_one_package_only() -> None:
    text = PYPROJECT.read_text(encoding="utf-8")
    target = MutationTarget("_x", ("ff_managers/_x/*",), ("tests/a.py", "tests/b.py::test_c"), ("ff_managers/_x/child.py",))
    out = tomllib.loads(workspace_pyproject(text, mutmut_settings(PYPROJECT), target, ["testing", "tests"]))
    table = out["tool"]["mutmut"]
    assert "packages" not in table
    assert table["only_mutate"] == ["ff_managers/_x/*"]
    assert table["pytest_add_cli_args_test_selection"] == ["tests/a.py", "tests/b.py::test_c"]
    assert table["do_not_mutate"] == ["ff_managers/_x/child.py"]
    assert {"testing", "tests"} <= set(table["also_copy"])
    assert table["source_paths"] == mutmut_settings(PYPROJECT)["source_paths"]
    original = tomllib.loads(text)
    assert out["project"] == original["project"] and out["tool"]["pytest"] == original["tool"]["pytest"]
    assert table["pytest_add_cli_args"] == mutmut_settings(PYPROJECT)["pytest_add_cli_args"]  # no test_timeout: pytest's own


def test_a_package_test_timeout_goes_to_pytest_for_that_package_only(tmp_path: Path) -> None:
    text = PYPROJECT.read_text(encoding="utf-8")
    target = MutationTarget("_x", ("ff_managers/_x/*",), ("tests/a.py",), test_timeout=45)
    table = tomllib.loads(workspace_pyproject(text, mutmut_settings(PYPROJECT), target, []))["tool"]["mutmut"]
    assert table["pytest_add_cli_args"] == [*mutmut_settings(PYPROJECT)["pytest_add_cli_args"], "--timeout", "45"]
    assert load_targets(PYPROJECT)["ff_utils"].test_timeout == 60 and load_targets(PYPROJECT)["_knowledge"].test_timeout is None
    bad = tmp_path / "pyproject.toml"
    for value in ("0", "true", '"60"', "1.5"):
        bad.write_text(f'[tool.mutmut]\n[tool.mutmut.packages.x]\nmutate = ["x/*"]\ntests = ["t"]\ntest_timeout = {value}\n', encoding="utf-8")
        with pytest.raises(FFConfigError, match="test_timeout"):
            load_targets(bad)


def _git_checkout(path: Path) -> Path:
    (path / "pkg").mkdir(parents=True)
    (path / "pkg" / "mod.py").write_text("def f(x):\n    return x + 1\n", encoding="utf-8")
    (path / "ignored.log").write_text("noise", encoding="utf-8")
    (path / ".gitignore").write_text("*.log\n", encoding="utf-8")
    (path / "pyproject.toml").write_text(
        '[project]\nname = "p"\n\n[tool.mutmut]\nsource_paths = ["pkg"]\n\n[tool.mutmut.packages.pkg]\nmutate = ["pkg/*"]\ntests = ["tests"]\n',
        encoding="utf-8",
    )
    subprocess.run(["git", "init", "-q", str(path)], check=True, timeout=30)
    return path


def test_the_workspace_is_a_copy_outside_the_checkout_and_resumes_only_the_same_run(tmp_path: Path) -> None:
    checkout = _git_checkout(tmp_path / "checkout")
    before = sorted(p.relative_to(checkout).as_posix() for p in checkout.rglob("*") if ".git" not in p.parts)
    target = load_targets(checkout / "pyproject.toml")["pkg"]
    settings = mutmut_settings(checkout / "pyproject.toml")
    workspace = tmp_path / "ws"
    assert prepare_workspace(checkout, workspace, target, settings, "abc") == "fresh"
    assert (workspace / "pkg" / "mod.py").read_text(encoding="utf-8") == (checkout / "pkg" / "mod.py").read_text(encoding="utf-8")
    assert not (workspace / "ignored.log").exists() and not (workspace / ".git").exists()
    assert tomllib.loads((workspace / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mutmut"]["only_mutate"] == ["pkg/*"]
    assert prepare_workspace(checkout, workspace, target, settings, "abc") == "resumed"  # as is
    with pytest.raises(FFConfigError, match="holds a run .* add --refresh"):
        prepare_workspace(checkout, workspace, target, settings, "def")
    other = MutationTarget("other", ("pkg/*",), ("tests",))
    with pytest.raises(FFConfigError, match="holds a run .* use another --workspace"):
        prepare_workspace(checkout, workspace, other, settings, "abc", refresh=True)
    with pytest.raises(FFConfigError, match="inside the checkout"):
        prepare_workspace(checkout, checkout / "ws", target, settings, "abc")
    stray = tmp_path / "stray"
    stray.mkdir()
    (stray / "file").write_text("x", encoding="utf-8")
    with pytest.raises(FFConfigError, match="not empty"):
        prepare_workspace(checkout, stray, target, settings, "abc")
    after = sorted(p.relative_to(checkout).as_posix() for p in checkout.rglob("*") if ".git" not in p.parts)
    assert after == before  # the checkout was never touched


def test_a_run_past_its_time_bound_is_stopped_with_every_process_it_started(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A shell stands in for mutmut (it starts in milliseconds, so a loaded machine cannot make it
    # miss the bound): it starts a child, records its pid, and hangs.
    pid_file = tmp_path / "child.pid"
    monkeypatch.setattr(_workspace.sys, "executable", "/bin/sh")
    monkeypatch.setattr(_workspace, "_MUTMUT", f"sleep 120 & echo $! > {pid_file}; sleep 120")
    run = run_mutmut(tmp_path, max_children=1, max_minutes=0.05)
    assert run.returncode is None
    assert pid_file.exists(), "the stand-in never started its child"
    try:
        child = psutil.Process(int(pid_file.read_text()))
    except psutil.NoSuchProcess:
        return  # gone already
    # Killed, but a process can still be on its way out for a moment (seen as running): give it
    # that moment. A process the stop missed would sleep on for two minutes.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            if child.status() == psutil.STATUS_ZOMBIE:
                break
        except psutil.NoSuchProcess:
            break
        time.sleep(0.02)
    else:
        pytest.fail(f"the child {child.pid} outlived the stop")


def test_a_refresh_brings_the_workspace_to_the_checkout_and_keeps_mutmuts_verdicts(tmp_path: Path) -> None:
    checkout = _git_checkout(tmp_path / "checkout")
    (checkout / "tests").mkdir()
    (checkout / "tests" / "test_mod.py").write_text("def test(): pass\n", encoding="utf-8")
    (checkout / "tests" / "test_gone.py").write_text("def test(): pass\n", encoding="utf-8")
    target = load_targets(checkout / "pyproject.toml")["pkg"]
    settings = mutmut_settings(checkout / "pyproject.toml")
    workspace = tmp_path / "ws"
    prepare_workspace(checkout, workspace, target, settings, "abc")
    # What a run leaves: mutmut's copies and a verdict file.
    for name in ("pkg/mod.py", "tests/test_mod.py", "tests/test_gone.py"):
        (workspace / "mutants" / name).parent.mkdir(parents=True, exist_ok=True)
        (workspace / "mutants" / name).write_bytes((workspace / name).read_bytes())
    _meta(workspace, "pkg/mod.py", {"pkg.mod.x_f__mutmut_1": 0})

    (checkout / "tests" / "test_mod.py").write_text("def test(): assert 1\n", encoding="utf-8")
    (checkout / "tests" / "test_new.py").write_text("def test(): pass\n", encoding="utf-8")
    (checkout / "tests" / "test_gone.py").unlink()
    (checkout / "pyproject.toml").write_text((checkout / "pyproject.toml").read_text(encoding="utf-8").replace('name = "p"', 'name = "p2"'), encoding="utf-8")
    assert prepare_workspace(checkout, workspace, target, settings, "def", refresh=True) == "refreshed"

    assert (workspace / "tests" / "test_mod.py").read_text(encoding="utf-8") == "def test(): assert 1\n"
    assert (workspace / "tests" / "test_new.py").exists() and not (workspace / "tests" / "test_gone.py").exists()
    # mutmut copies the changed files again; the unchanged source keeps its mutated copy and verdicts.
    assert not (workspace / "mutants" / "tests" / "test_mod.py").exists()
    assert not (workspace / "mutants" / "tests" / "test_gone.py").exists()
    assert (workspace / "mutants" / "pkg" / "mod.py").exists()
    assert tally_workspace(workspace, "pkg", ("pkg/*",)).survivors == [{"name": "pkg.mod.x_f__mutmut_1", "status": "survived"}]
    pyproject = (workspace / "pyproject.toml").read_text(encoding="utf-8")
    assert tomllib.loads(pyproject)["project"]["name"] == "p2" and tomllib.loads(pyproject)["tool"]["mutmut"]["only_mutate"] == ["pkg/*"]
    assert "mutants" not in tomllib.loads(pyproject)["tool"]["mutmut"]["also_copy"]
    mark = json.loads((workspace / _workspace.WORKSPACE_MARK).read_text(encoding="utf-8"))
    assert mark == {"package": "pkg", "commit": "def", "earlier": ["abc"]}
    assert prepare_workspace(checkout, workspace, target, settings, "def", refresh=True) == "resumed"


def _meta(workspace: Path, source: str, codes: dict[str, int | None]) -> None:
    path = workspace / "mutants" / (source + ".meta")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"exit_code_by_key": codes, "durations_by_key": {}, "estimated_durations_by_key": {}}), encoding="utf-8")


def test_verdicts_become_counts_a_score_and_the_survivors(tmp_path: Path) -> None:
    _meta(tmp_path, "pkg/a.py", {"pkg.a.x_f__mutmut_1": 1, "pkg.a.x_f__mutmut_2": 0, "pkg.a.x_f__mutmut_3": 36, "pkg.a.x_f__mutmut_4": 33})
    _meta(tmp_path, "pkg/b.py", {"pkg.b.x_g__mutmut_1": 1, "pkg.b.x_g__mutmut_2": None, "pkg.b.x_g__mutmut_3": 34})
    _meta(tmp_path, "other/c.py", {"other.c.x_h__mutmut_1": 0})
    result = tally_workspace(tmp_path, "pkg", ("pkg/*",))
    assert (result.mutants, result.killed, result.timeout, result.survived, result.not_checked) == (7, 2, 1, 1, 1)
    assert result.other == {"no tests": 1, "skipped": 1}
    assert result.score == round(100 * 3 / 5, 1)  # detected (2 killed + 1 timeout) / checked (7 - 1 skipped - 1 not checked)
    assert result.complete is False
    assert [s["name"] for s in result.survivors] == ["pkg.a.x_f__mutmut_2", "pkg.a.x_f__mutmut_4"]
    _meta(tmp_path, "pkg/b.py", {"pkg.b.x_g__mutmut_1": 1})
    assert tally_workspace(tmp_path, "pkg", ("pkg/*",)).complete is True


def test_results_go_to_one_json_per_package_and_a_table_between_markers(tmp_path: Path) -> None:
    _meta(tmp_path, "pkg/a.py", {"pkg.a.x_f__mutmut_1": 1, "pkg.a.x_f__mutmut_2": 0})
    result = tally_workspace(tmp_path, "pkg", ("pkg/*",))
    result.date, result.commit = "2026-12-05T08:00:00+00:00", "0123456789abcdef"
    path = write_result(result, tmp_path / "results")
    assert path.name == "pkg.json" and json.loads(path.read_text(encoding="utf-8"))["score"] == 50.0
    doc = tmp_path / "MUTATION.md"
    doc.write_text("# Mutation\n\nintro\n\n## Survivors\n\nkept text\n", encoding="utf-8")
    update_scores_doc(doc, ["pkg", "later"], tmp_path / "results")
    update_scores_doc(doc, ["pkg", "later"], tmp_path / "results")
    text = doc.read_text(encoding="utf-8")
    assert text.count("mutation-scores:start") == 1 and "kept text" in text
    assert "| `pkg` | 2 | 1 | 0 | 1 | 0 | 50.0 % | yes | 2026-12-05 | 0123456789 |" in text
    assert "| `later` | | | | | | not yet scored |" in text


def test_the_command_lists_packages_and_refuses_an_unknown_one(capsys: pytest.CaptureFixture[str]) -> None:
    console = Console(record=True, width=300)
    assert main(["mutate", "--list"], console=console) == 0
    assert "_metrics: mutate ff_managers/_metrics/*" in console.export_text()
    assert main(["mutate", "_nope"], console=console) == 2
    assert "unknown package '_nope'" in capsys.readouterr().err
    assert main(["mutate", "_core", "--max-minutes", "0"], console=console) == 2


def test_a_workspace_a_mutant_damaged_is_found_and_its_verdicts_marked_invalid(tmp_path: Path) -> None:
    from testing.mutation._integrity import damaged_files

    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_a.py").write_text("def test(): pass\n", encoding="utf-8")
    (tmp_path / "mutants" / "tests").mkdir(parents=True)
    (tmp_path / "mutants" / "pkg").mkdir()
    (tmp_path / "mutants" / "tests" / "test_a.py").write_text("def test(): pass\n", encoding="utf-8")
    (tmp_path / "mutants" / "pkg" / "mod.py").write_text("def f():\n    return 1\n", encoding="utf-8")
    _meta(tmp_path, "pkg/mod.py", {"pkg.mod.x_f__mutmut_1": 1})
    assert damaged_files(tmp_path, ("pkg/*",)) == []
    # What the key-rotation mutant did: every file under the working directory re-encrypted.
    for path in [tmp_path / "mutants" / "tests" / "test_a.py", tmp_path / "mutants" / "pkg" / "mod.py", tmp_path / "mutants" / "pkg" / "mod.py.meta"]:
        path.write_bytes(b"FFE1:\x0f\x90\xc5" + path.read_bytes()[::-1])
    assert damaged_files(tmp_path, ("pkg/*",)) == ["pkg/mod.py", "tests/test_a.py"]
    result = tally_workspace(tmp_path, "pkg", ("pkg/*",))
    assert result.damaged == ["mutants/pkg/mod.py.meta"] and result.complete is False
    result.date, result.commit = "2026-12-05T08:00:00+00:00", "abc"
    write_result(result, tmp_path / "results")
    doc = tmp_path / "M.md"
    update_scores_doc(doc, ["pkg"], tmp_path / "results")
    assert "invalid (n/a: a mutant damaged the workspace)" in doc.read_text(encoding="utf-8")


def test_under_a_mutmut_worker_a_mutants_tests_run_fastest_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    from tests.conftest import pytest_collection_modifyitems

    items = [SimpleNamespace(nodeid=n) for n in ("t::slow", "t::unknown", "t::fast")]
    (tmp_path / "mutmut-stats.json").write_text(json.dumps({"duration_by_test": {"t::slow": 9.0, "t::fast": 0.01}}), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MUTANT_UNDER_TEST", raising=False)
    pytest_collection_modifyitems(None, items)  # type: ignore[arg-type]
    assert [i.nodeid for i in items] == ["t::slow", "t::unknown", "t::fast"]  # not a mutant's run: as collected
    monkeypatch.setenv("MUTANT_UNDER_TEST", "ff_utils.ff_store.x_f__mutmut_3")
    pytest_collection_modifyitems(None, items)  # type: ignore[arg-type]
    assert [i.nodeid for i in items] == ["t::unknown", "t::fast", "t::slow"]


def test_the_recorded_commit_is_dirty_for_changed_code_but_not_for_the_commands_own_results(tmp_path: Path) -> None:
    from testing.cli._mutate import _commit

    checkout = _git_checkout(tmp_path / "c")
    (checkout / "docs" / "mutation").mkdir(parents=True)
    (checkout / "docs" / "MUTATION.md").write_text("# M\n", encoding="utf-8")
    (checkout / "docs" / "mutation" / "pkg.json").write_text("{}", encoding="utf-8")
    git = ["git", "-C", str(checkout), "-c", "user.email=t@t", "-c", "user.name=t"]
    subprocess.run(git + ["add", "-A"], check=True, timeout=30)
    subprocess.run(git + ["commit", "-qm", "c"], check=True, timeout=30)
    head = subprocess.run(git + ["rev-parse", "HEAD"], check=True, capture_output=True, text=True, timeout=30).stdout.strip()
    outputs = (checkout / "docs" / "mutation", checkout / "docs" / "MUTATION.md")

    (checkout / "docs" / "MUTATION.md").write_text("# M\nnew table\n", encoding="utf-8")
    (checkout / "docs" / "mutation" / "pkg.json").write_text('{"score": 1}', encoding="utf-8")
    assert _commit(checkout, outputs) == head
    assert _commit(checkout) == f"{head}+dirty"
    (checkout / "pkg" / "mod.py").write_text("def f(x):\n    return x + 2\n", encoding="utf-8")
    assert _commit(checkout, outputs) == f"{head}+dirty"
