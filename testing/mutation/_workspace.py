"""A mutation run's workspace: a copy of the tree outside the checkout, and mutmut run inside it.

mutmut writes its mutated copy (``mutants/``), its caches and its result files into the directory
it runs in. Running it in a copy keeps the checkout untouched (no ``mutants/`` to ignore or to
leak into a commit, no half-mutated file if a run is killed), and lets a run be bounded in time
by killing its process group without any clean-up in the checkout.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ff_utils.ff_errors import FFConfigError

from ._targets import MutationTarget

__all__ = ["MutmutRun", "generate_mutants", "prepare_workspace", "refresh_workspace", "run_mutmut", "workspace_pyproject"]

# Never copied: version control, environments, caches and generated data.
_SKIP_NAMES = {".git", ".venv", ".venv-ci", "__pycache__", ".pytest_cache", ".hypothesis", "mutants",
               "ff_data", "ff_reports", "build", "dist"}
# The workspace remembers what it was made from, so a resumed run never mixes two trees.
WORKSPACE_MARK = "ff-mutate-workspace.json"
# A sampled run's names and seed (testing.cli._mutate), kept across a refresh like the mark.
SAMPLE_RECORD = "ff-mutate-sample.json"
_MUTMUT = "import sys; from mutmut.__main__ import cli; sys.exit(cli())"
# mutmut's own first step of `mutmut run` (mutmut 3.8: mutmut.__main__._run), alone: a sample is
# drawn from the mutants it writes before any test runs. Internal names: the lock pins mutmut.
_GENERATE = """
import os, sys
from mutmut.__main__ import create_mutants
from mutmut.mutation.trampoline import set_mutant_under_test
from mutmut.utils.file_utils import copy_also_copy_files, copy_src_dir, setup_source_paths
set_mutant_under_test("mutant_generation")
os.makedirs("mutants", exist_ok=True)
copy_src_dir(); copy_also_copy_files(); setup_source_paths()
create_mutants(int(sys.argv[1]))
"""


def _tree_files(checkout: Path) -> list[Path]:
    """The checkout's files as git sees them (tracked and untracked-but-not-ignored), or, outside a
    git checkout, every file but the skipped names."""
    try:
        out = subprocess.run(["git", "-C", str(checkout), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             check=True, capture_output=True, timeout=60).stdout
        names = [Path(n) for n in out.decode("utf-8", "surrogateescape").split("\0") if n]
    except (OSError, subprocess.SubprocessError):
        names = [p.relative_to(checkout) for p in checkout.rglob("*") if p.is_file()]
    return [n for n in names if not (set(n.parts) & _SKIP_NAMES) and (checkout / n).is_file()]


def _toml_value(value: Any) -> str:
    """TOML for the simple values mutmut's settings take (strings, numbers, booleans, lists)."""
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, (bool, int, float, str)):
        return json.dumps(value)
    raise FFConfigError(f"unsupported value in [tool.mutmut]: {value!r}")


def workspace_pyproject(text: str, settings: dict[str, Any], target: MutationTarget, also_copy: list[str]) -> str:
    """The checkout's pyproject.toml with its ``[tool.mutmut*]`` tables replaced by one
    ``[tool.mutmut]`` for this target: the shared settings, the target's files and its tests."""
    kept, skipping = [], False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("[") and not stripped.startswith("[["):
            skipping = stripped.startswith("[tool.mutmut]") or stripped.startswith("[tool.mutmut.")
        if not skipping:
            kept.append(line)
    merged = dict(settings)
    merged["only_mutate"] = list(target.mutate)
    if target.skip:
        merged["do_not_mutate"] = sorted(set(merged.get("do_not_mutate", [])) | set(target.skip))
    merged["pytest_add_cli_args_test_selection"] = list(target.tests)
    if target.test_timeout is not None:
        merged["pytest_add_cli_args"] = [*merged.get("pytest_add_cli_args", []), "--timeout", str(target.test_timeout)]
    merged["also_copy"] = sorted(set(merged.get("also_copy", [])) | set(also_copy))
    table = ["", "[tool.mutmut]"] + [f"{key} = {_toml_value(value)}" for key, value in merged.items()]
    return "\n".join(kept + table) + "\n"


def prepare_workspace(checkout: Path, workspace: Path, target: MutationTarget, settings: dict[str, Any], commit: str,
                      *, refresh: bool = False) -> str:
    """Copy the checkout into ``workspace`` and configure mutmut for ``target``.

    Returns ``"fresh"`` for a new workspace, ``"resumed"`` when it already holds a run of the same
    target and commit (mutmut keeps the verdicts it has and tests only the mutants not yet
    checked), and ``"refreshed"`` when ``refresh`` brought a run of the same target from an
    earlier commit up to this one (see :func:`refresh_workspace`). A workspace of another target,
    or of another commit without ``refresh``, is refused rather than mixed.
    """
    mark_path = workspace / WORKSPACE_MARK
    if mark_path.exists():
        found = json.loads(mark_path.read_text(encoding="utf-8"))
        if found.get("package") != target.name or (found.get("commit") != commit and not refresh):
            shown = {"package": found.get("package"), "commit": found.get("commit")}
            hint = "use another --workspace" if found.get("package") != target.name else "add --refresh to bring it up to this commit"
            raise FFConfigError(f"workspace {workspace} holds a run of {shown}, not {{'package': {target.name!r}, 'commit': {commit!r}}}: {hint}")
        if found.get("commit") == commit:
            return "resumed"
        refresh_workspace(checkout, workspace, target, settings)
        mark_path.write_text(json.dumps({"package": target.name, "commit": commit,
                                         "earlier": found.get("earlier", []) + [found["commit"]]}), encoding="utf-8")
        return "refreshed"
    if workspace.exists() and any(workspace.iterdir()):
        raise FFConfigError(f"workspace {workspace} is not empty and is not a mutation workspace")
    if workspace.resolve().is_relative_to(checkout.resolve()):
        raise FFConfigError(f"workspace {workspace} is inside the checkout {checkout}; choose a folder outside it")
    workspace.mkdir(parents=True, exist_ok=True)
    for name in _tree_files(checkout):
        (workspace / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(checkout / name, workspace / name)
    _write_workspace_pyproject(workspace, target, settings)
    mark_path.write_text(json.dumps({"package": target.name, "commit": commit}), encoding="utf-8")
    return "fresh"


def _write_workspace_pyproject(workspace: Path, target: MutationTarget, settings: dict[str, Any]) -> None:
    source_tops = {Path(p).parts[0] for p in settings.get("source_paths", [])}
    also_copy = sorted(p.name for p in workspace.iterdir()
                       if p.name not in source_tops | {"pyproject.toml", WORKSPACE_MARK, SAMPLE_RECORD, "mutants", "mutmut-run.log"})
    pyproject = workspace / "pyproject.toml"
    pyproject.write_text(workspace_pyproject(pyproject.read_text(encoding="utf-8"), settings, target, also_copy), encoding="utf-8")


def refresh_workspace(checkout: Path, workspace: Path, target: MutationTarget, settings: dict[str, Any]) -> list[str]:
    """Bring a workspace's copy of the tree up to the checkout, keeping mutmut's verdicts.

    Every file that changed or disappeared is replaced (or removed) in the workspace, and its copy
    under ``mutants/`` is removed so that mutmut copies or mutates it again. mutmut's own
    incremental mode does the rest: it keeps the verdict of every mutant whose function's source
    is unchanged (its ``.meta`` holds a hash per function), resets the others, and resets
    everything when the test selection changed. Verdicts of unchanged functions were reached with
    the earlier tests, so the caller re-checks the survivors against the new ones. Returns the
    paths that changed.
    """
    wanted = {n.as_posix(): n for n in _tree_files(checkout)}
    changed = []
    for name, relative in wanted.items():
        source, copy = checkout / relative, workspace / relative
        if name == "pyproject.toml" or (copy.is_file() and copy.read_bytes() == source.read_bytes()):
            continue
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, copy)
        changed.append(name)
    kept = {"pyproject.toml", WORKSPACE_MARK, SAMPLE_RECORD, "mutmut-run.log"}
    for folder, dirs, files in os.walk(workspace):
        dirs[:] = [d for d in dirs if d not in _SKIP_NAMES]  # mutants/ included: mutmut's, handled below
        for file in files:
            relative = (Path(folder) / file).relative_to(workspace)
            name = relative.as_posix()
            if name not in wanted and name not in kept and file not in _SKIP_NAMES:
                (workspace / relative).unlink()
                changed.append(name)
    for name in changed:
        (workspace / "mutants" / name).unlink(missing_ok=True)
    shutil.copy2(checkout / "pyproject.toml", workspace / "pyproject.toml")
    _write_workspace_pyproject(workspace, target, settings)
    return sorted(changed)


def generate_mutants(workspace: Path, *, max_children: int, timeout_s: float = 600) -> None:
    """Write every mutant of the workspace's target (``mutants/**.meta``) without running a test."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    try:
        done = subprocess.run([sys.executable, "-c", _GENERATE, str(max_children)], cwd=workspace, env=env,
                              capture_output=True, text=True, timeout=timeout_s, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise FFConfigError(f"mutmut did not finish generating mutants in {timeout_s:g} s") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise FFConfigError(f"mutmut could not generate the mutants (exit {done.returncode}): {last}")


@dataclass(frozen=True)
class MutmutRun:
    returncode: int | None  # None: stopped at the time bound
    log: Path


def run_mutmut(workspace: Path, *, max_children: int, max_minutes: float, mutants: list[str] | None = None) -> MutmutRun:
    """``mutmut run`` in ``workspace`` in its own process group, stopped (the whole group) after
    ``max_minutes``; the verdicts mutmut saved so far stay in the workspace. ``mutants`` names the
    mutants to (re-)check, whatever their verdict; without it mutmut checks those not yet checked."""
    log = workspace / "mutmut-run.log"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    with open(log, "ab") as out:
        proc = subprocess.Popen([sys.executable, "-c", _MUTMUT, "run", "--max-children", str(max_children), *(mutants or [])],
                                cwd=workspace, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=env, start_new_session=True)
        try:
            return MutmutRun(proc.wait(timeout=max_minutes * 60), log)
        except subprocess.TimeoutExpired:
            return MutmutRun(None, log)
        finally:
            _stop_group(proc)


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    """End mutmut and every worker it forked (they share its session's process group)."""
    for sig, grace in ((signal.SIGTERM, 15), (signal.SIGKILL, 15)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            continue
        if sig is signal.SIGTERM:
            # The leader is gone; SIGKILL any worker that outlived it.
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            break
