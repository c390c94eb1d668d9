"""`mutate PACKAGE`: mutation testing of one package, bounded in time, results kept in docs/.

A nightly-style command, not part of CI's default run: mutmut mutates the package's files one
change at a time and runs the fast tests configured for it (pyproject.toml,
``[tool.mutmut.packages.<name>]``) against each mutant. The run happens in a copy of the tree
outside the checkout; the checkout only receives docs/mutation/<package>.json and the score table
in docs/MUTATION.md.
"""

from __future__ import annotations

import argparse
import json
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING


from rich.console import Console

from ff_class_configs import FFConfigurationManagerConfigDTO
from ff_utils.ff_errors import FFConfigError, FFValidationError

from ._registry import EXIT_CHECK_FAILED, EXIT_OK, command

if TYPE_CHECKING:
    from testing.mutation import MutationResult, MutationTarget
    from testing.mutation._workspace import MutmutRun

__all__ = ["cmd_mutate"]

CHECKOUT = Path(__file__).resolve().parents[2]
_SHOW = "import sys; from mutmut.__main__ import cli; sys.exit(cli())"


def _mutate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("package", nargs="?", help="package to mutate (see --list)")
    parser.add_argument("--list", action="store_true", help="list the configured packages and their tests")
    parser.add_argument("--max-minutes", type=float, default=30.0, help="stop mutmut after this long (default 30); what it checked is kept")
    parser.add_argument("--max-children", type=int, default=2, help="parallel test processes (default 2, for a 2-core machine)")
    parser.add_argument("--workspace", type=Path,
                        help="keep the run here (outside the checkout) and resume it on the next call; default: a temp folder removed afterwards")
    parser.add_argument("--refresh", action="store_true",
                        help="bring a --workspace run of an earlier commit up to this one: changed functions and every survivor are checked again")
    parser.add_argument("--sample", type=int, metavar="N",
                        help="check N mutants drawn uniformly from the whole package: an unbiased estimate of its score with a 95 %% interval "
                             "(written to <package>.sample-<seed>.json); resumable with the same --workspace")
    parser.add_argument("--seed", type=int, help="the sample's seed (default: a random one, recorded in the result)")
    parser.add_argument("--results-dir", type=Path, default=CHECKOUT / "docs" / "mutation", help="where <package>.json goes")
    parser.add_argument("--doc", type=Path, default=CHECKOUT / "docs" / "MUTATION.md", help="Markdown file whose score table is updated")
    parser.add_argument("--equivalents", type=Path, default=CHECKOUT / "docs" / "mutation" / "equivalent",
                        help="the reviewed survivors listed as equivalent (<package>/*.toml), left out of the second score")


def _commit(checkout: Path, outputs: tuple[Path, ...] = ()) -> str:
    """HEAD, with ``+dirty`` when tracked files differ from it; ``outputs`` (this command's own result
    files and score doc, rewritten by every run) do not count, so runs in a row stay clean."""
    excluded = [f":(exclude){path.resolve().relative_to(checkout.resolve()).as_posix()}" for path in outputs
                if path.resolve().is_relative_to(checkout.resolve())]
    try:
        head = subprocess.run(["git", "-C", str(checkout), "rev-parse", "HEAD"], check=True, capture_output=True, text=True, timeout=30).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(checkout), "status", "--porcelain", "--untracked-files=no", "--", ".", *excluded],
                               check=True, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head}+dirty" if dirty else head


def _mutmut_version() -> str:
    try:
        return version("mutmut")
    except PackageNotFoundError:
        raise FFConfigError("mutmut is not installed: run scripts/setup.sh (it installs the locked 'mutation' extra)") from None


def _survivor_diffs(workspace: Path, survivors: list[dict[str, str]], budget_s: float = 300) -> None:
    """Attach ``mutmut show``'s diff to each survivor, so docs can say why it is harmless."""
    deadline = time.monotonic() + budget_s
    for survivor in survivors:
        if time.monotonic() > deadline:
            break
        try:
            shown = subprocess.run([sys.executable, "-c", _SHOW, "show", survivor["name"]], cwd=workspace,
                                   capture_output=True, text=True, timeout=60)
        except subprocess.TimeoutExpired:
            continue
        diff = [line for line in shown.stdout.splitlines() if line.startswith(("-", "+")) and not line.startswith(("---", "+++"))]
        survivor["diff"] = "\n".join(diff)


def _sample_names(workspace: Path, target: MutationTarget, args: argparse.Namespace, console: Console) -> tuple[list[str], int]:
    """The workspace's sample: the one it recorded (a resumed run checks the same mutants), or a
    new one drawn from every mutant mutmut generates for the package."""
    from testing.mutation._sample import all_mutant_names, draw_sample, sample_record
    from testing.mutation._workspace import SAMPLE_RECORD, generate_mutants

    record = workspace / SAMPLE_RECORD
    if record.exists():
        found = json.loads(record.read_text(encoding="utf-8"))
        if (args.seed is not None and args.seed != found["seed"]) or min(args.sample, found["population"]) != len(found["names"]):
            raise FFConfigError(f"workspace {workspace} holds a sample of {len(found['names'])} (seed {found['seed']}); "
                                f"use the same --sample and --seed, or another --workspace")
        return found["names"], found["seed"]
    console.print(f"generating every mutant of {target.name} to draw the sample from")
    generate_mutants(workspace, max_children=args.max_children)
    population = all_mutant_names(workspace, target.mutate)
    if not population:
        raise FFConfigError(f"mutmut generated no mutant of {target.name}")
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    names = draw_sample(population, args.sample, seed)
    record.write_text(sample_record(names, seed, len(population)), encoding="utf-8")
    return names, seed


def _run_sample(workspace: Path, target: MutationTarget, names: list[str], args: argparse.Namespace, console: Console,
                *, recheck_survivors: bool = False) -> MutmutRun:
    """Check the sample's mutants not yet checked (and, after a refresh, its survivors) within
    ``--max-minutes``. mutmut re-checks every mutant it is given by name; a refresh may also reset
    verdicts when it starts (changed functions), so it goes round until none of the sample is left."""
    from testing.mutation import run_mutmut
    from testing.mutation._results import DETECTED, tally_statuses
    from testing.mutation._workspace import MutmutRun

    deadline = time.monotonic() + args.max_minutes * 60
    run = MutmutRun(0, workspace / "mutmut-run.log")
    done: set[str] = set()
    for _round in range(3):
        statuses = tally_statuses(workspace, target.mutate)[0]
        pending = [name for name in names if statuses.get(name, "not checked") == "not checked"
                   or (recheck_survivors and name not in done and statuses[name] not in DETECTED + ("skipped",))]
        if not pending or deadline - time.monotonic() < 30:
            break
        console.print(f"checking {len(pending)} of the sample's {len(names)} mutants ({len(statuses)} in the package)")
        run = run_mutmut(workspace, max_children=args.max_children, max_minutes=(deadline - time.monotonic()) / 60, mutants=pending)
        done |= set(pending)
        if run.returncode != 0:  # stopped at the time bound, or mutmut failed (its log says why)
            break
    return run


def _run(workspace: Path, target: MutationTarget, state: str, args: argparse.Namespace, console: Console) -> MutmutRun:
    """One mutmut run within ``--max-minutes``. After a refresh the recorded survivors come first:
    mutmut keeps the verdict of a mutant whose function did not change, but the tests may have."""
    from testing.mutation import run_mutmut, tally_workspace

    deadline = time.monotonic() + args.max_minutes * 60
    if state == "refreshed":
        survivors = [s["name"] for s in tally_workspace(workspace, target.name, target.mutate).survivors]
        if survivors:
            console.print(f"re-checking {len(survivors)} recorded survivors against the current tests")
            run = run_mutmut(workspace, max_children=args.max_children, max_minutes=args.max_minutes, mutants=survivors)
            if run.returncode is None or deadline - time.monotonic() < 30:
                return run
    return run_mutmut(workspace, max_children=args.max_children, max_minutes=max(0.5, (deadline - time.monotonic()) / 60))


def _without_equivalents(result: MutationResult, equivalents: Path) -> str:
    """The sample's survivors a review listed as equivalent, and its score without them."""
    from testing.mutation._equivalent import list_survivors, load_equivalents
    from testing.mutation._sample import wilson_interval

    listing = list_survivors(result.survivors, load_equivalents(equivalents, result.package))
    detected = result.killed + result.timeout + result.other.get("caught by type check", 0)
    checked = result.mutants - result.not_checked - result.other.get("skipped", 0) - len(listing.equivalent)
    line = f"{len(listing.equivalent)} of its {len(result.survivors)} survivors are listed as equivalent in {equivalents}"
    if checked > 0:
        low, high = wilson_interval(detected, checked)
        line += f"; without them: {100 * detected / checked:.1f} % (95 % interval {low:.1f}-{high:.1f} %)"
    if listing.stale:
        line += f"; {len(listing.stale)} entries name another change now (stale): {', '.join(listing.stale[:5])}"
    return line


@command("mutate", "mutation testing of one package with mutmut, bounded in time (issue 20; nightly, not CI)", _mutate_arguments)
def cmd_mutate(args: argparse.Namespace, config: FFConfigurationManagerConfigDTO, console: Console) -> int:
    from testing.mutation import load_targets, prepare_workspace, tally_workspace, update_scores_doc, write_result
    from testing.mutation._targets import mutmut_settings
    from testing.mutation._workspace import WORKSPACE_MARK

    pyproject = CHECKOUT / "pyproject.toml"
    targets = load_targets(pyproject)
    if args.list or not args.package:
        for target in targets.values():
            console.print(f"{target.name}: mutate {', '.join(target.mutate)}; tests {' '.join(target.tests)}")
        return EXIT_OK
    target = targets.get(args.package)
    if target is None:
        raise FFValidationError(f"unknown package {args.package!r}; configured: {', '.join(targets)}")
    if args.max_minutes <= 0 or args.max_children < 1:
        raise FFValidationError("--max-minutes must be > 0 and --max-children >= 1")
    if args.refresh and args.workspace is None:
        raise FFValidationError("--refresh brings an existing --workspace up to date; name it")
    if args.sample is not None and args.sample < 1:
        raise FFValidationError("--sample takes a number of mutants >= 1")
    mutmut_version = _mutmut_version()
    commit = _commit(CHECKOUT, (args.results_dir, args.doc))
    temporary = args.workspace is None
    workspace = Path(tempfile.mkdtemp(prefix=f"ff-mutate-{target.name}-")) if temporary else args.workspace.resolve()
    started = time.monotonic()
    try:
        state = prepare_workspace(CHECKOUT, workspace, target, mutmut_settings(pyproject), commit, refresh=args.refresh)
        console.print(f"{ {'fresh': 'mutating', 'resumed': 'resuming', 'refreshed': 'refreshing'}[state]} {target.name} in {workspace} "
                      f"(at most {args.max_minutes:g} min, {args.max_children} children)")
        sample, seed = _sample_names(workspace, target, args, console) if args.sample else (None, None)
        run = (_run_sample(workspace, target, sample, args, console, recheck_survivors=state == "refreshed") if sample
               else _run(workspace, target, state, args, console))
        result = tally_workspace(workspace, target.name, target.mutate, only=sample)
        result.seed = seed
        if result.mutants == 0 or (result.not_checked == result.mutants and run.returncode not in (None, 0)):
            tail = run.log.read_text(encoding="utf-8", errors="replace").splitlines()[-25:]
            console.print("\n".join(tail), markup=False, highlight=False)
            console.print(f"mutmut checked no mutant of {target.name} (exit {run.returncode}); log above")
            return EXIT_CHECK_FAILED
        from testing.mutation._integrity import damaged_files

        result.damaged = result.damaged + damaged_files(workspace, target.mutate)
        if result.damaged:
            result.complete = False
            console.print(f"a mutant damaged the workspace ({', '.join(result.damaged[:5])}...): this run's verdicts are invalid")
        _survivor_diffs(workspace, result.survivors)
        result.date = datetime.now(UTC).isoformat(timespec="seconds")
        result.commit, result.mutmut_version, result.max_children = commit, mutmut_version, args.max_children
        result.earlier_commits = json.loads((workspace / WORKSPACE_MARK).read_text(encoding="utf-8")).get("earlier", [])
        result.minutes = round((time.monotonic() - started) / 60, 1)
        path = write_result(result, args.results_dir)
        update_scores_doc(args.doc, list(targets), args.results_dir, args.equivalents)
    finally:
        if temporary:
            shutil.rmtree(workspace, ignore_errors=True)
    score = "n/a" if result.score is None else f"{result.score:.1f} %"
    state = "complete" if result.complete else f"stopped at {args.max_minutes:g} min, {result.not_checked} not checked"
    if result.damaged:
        state = "INVALID: a mutant damaged the workspace"
    if result.sample_of:
        low, high = result.interval or (None, None)
        score = score if low is None else f"{score}, 95 % interval {low:.1f}-{high:.1f} %"
        console.print(f"{target.name}: a sample of {result.mutants} of {result.sample_of} mutants (seed {result.seed}): {result.killed} killed, "
                      f"{result.timeout} timeouts, {result.survived} survived; estimated score {score} ({state}); written to {path}")
        console.print(_without_equivalents(result, args.equivalents))
        return EXIT_CHECK_FAILED if result.damaged else EXIT_OK
    console.print(f"{target.name}: {result.mutants} mutants, {result.killed} killed, {result.timeout} timeouts, "
                  f"{result.survived} survived, score {score} ({state}); written to {path}")
    return EXIT_CHECK_FAILED if result.damaged else EXIT_OK
