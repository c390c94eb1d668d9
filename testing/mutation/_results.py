"""What a mutation run leaves in the repository: one JSON per package and the table of scores.

mutmut keeps each mutated file's verdicts in ``mutants/<file>.meta`` (an exit code per mutant).
They are tallied here into counts and a score, so the result files do not depend on mutmut's
terminal output, and a run stopped at its time bound still reports what it checked (marked
incomplete, with the number of mutants not yet checked).
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ._equivalent import list_survivors, load_equivalents
from ._sample import wilson_interval

__all__ = ["MutationResult", "STATUS_BY_EXIT_CODE", "render_scores_table", "tally_statuses", "tally_workspace", "update_scores_doc",
           "write_result"]

# mutmut 3's meaning of the exit codes it records (mutmut.stats.status_by_exit_code); anything
# else is "suspicious". Kept here so reading results does not need mutmut installed.
STATUS_BY_EXIT_CODE: dict[int | None, str] = {
    1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 2: "interrupted",
    None: "not checked", 34: "skipped", 35: "suspicious", 36: "timeout", 37: "caught by type check",
    -24: "timeout", 24: "timeout", 152: "timeout", 255: "timeout", -11: "segfault", -9: "segfault",
}
# Verdicts that detect the mutant: a failing test, a hang the time limit caught, a type error.
DETECTED = ("killed", "timeout", "caught by type check")
START, END = "<!-- mutation-scores:start -->", "<!-- mutation-scores:end -->"
SAMPLE_START, SAMPLE_END = "<!-- mutation-samples:start -->", "<!-- mutation-samples:end -->"


@dataclass
class MutationResult:
    """One package's figures. ``score`` is detected / checked (mutants minus skipped and not yet
    checked), in percent; None when nothing was checked."""

    package: str
    mutants: int
    killed: int
    timeout: int
    survived: int
    other: dict[str, int]
    not_checked: int
    score: float | None
    complete: bool
    date: str = ""
    commit: str = ""
    mutmut_version: str = ""
    max_children: int = 0
    minutes: float = 0.0
    survivors: list[dict[str, str]] = field(default_factory=list)
    damaged: list[str] = field(default_factory=list)  # files a mutant damaged: the verdicts are not to be trusted
    earlier_commits: list[str] = field(default_factory=list)  # a refreshed run: kept verdicts of unchanged functions date from these
    sample_of: int = 0  # a sampled run: how many mutants the package has (``mutants`` is the sample's size); 0 for a full run
    seed: int | None = None  # the sample's seed (draw_sample), so the same mutants can be checked again
    interval: list[float] = field(default_factory=list)  # Wilson 95 % interval of the whole package's score, from the sample


def _status(code: int | None) -> str:
    return STATUS_BY_EXIT_CODE.get(code, "suspicious")


def tally_statuses(workspace: Path, patterns: tuple[str, ...]) -> tuple[dict[str, str], list[str]]:
    """Each mutant's status for the files matching ``patterns``, and the ``.meta`` files that could
    not be read (a mutant overwrote them: see _integrity)."""
    statuses: dict[str, str] = {}
    unreadable: list[str] = []
    mutants_dir = workspace / "mutants"
    for meta in sorted(mutants_dir.rglob("*.py.meta")):
        source = meta.relative_to(mutants_dir).as_posix()[: -len(".meta")]
        if not any(fnmatch.fnmatch(source, p) for p in patterns):
            continue
        try:
            codes = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
        except (UnicodeDecodeError, ValueError, KeyError, TypeError):
            unreadable.append(meta.relative_to(workspace).as_posix())
            continue
        statuses.update({name: _status(code) for name, code in codes.items()})
    return statuses, unreadable


def tally_workspace(workspace: Path, package: str, patterns: tuple[str, ...], *, only: list[str] | None = None) -> MutationResult:
    """Count the verdicts of every mutant of the files matching ``patterns`` in ``workspace``, or
    of the mutants named in ``only`` (a sample; ``sample_of`` then says how many there are)."""
    statuses, unreadable = tally_statuses(workspace, patterns)
    population = len(statuses)
    if only is not None:
        statuses = {name: statuses.get(name, "not checked") for name in only}
    counts = Counter(statuses.values())
    checked = len(statuses) - counts["not checked"] - counts["skipped"]
    detected = sum(counts[s] for s in DETECTED)
    other = {s: n for s, n in sorted(counts.items()) if s not in ("killed", "timeout", "survived", "not checked")}
    survivors = [{"name": n, "status": s} for n, s in sorted(statuses.items()) if s not in DETECTED + ("not checked", "skipped")]
    result = MutationResult(
        package=package, mutants=len(statuses), killed=counts["killed"], timeout=counts["timeout"],
        survived=counts["survived"], other=other, not_checked=counts["not checked"],
        score=round(100 * detected / checked, 1) if checked else None,
        complete=bool(statuses) and counts["not checked"] == 0 and not unreadable, survivors=survivors, damaged=unreadable)
    if only is not None:
        result.sample_of = population
        result.interval = list(wilson_interval(detected, checked)) if checked else []
    return result


def write_result(result: MutationResult, results_dir: Path) -> Path:
    """``<package>.json`` for a full run; ``<package>.sample-<seed>.json`` for a sample (one file per
    seed, so a fresh sample drawn after a review sits beside the one that was reviewed)."""
    results_dir.mkdir(parents=True, exist_ok=True)
    name = f"{result.package}.sample-{result.seed}.json" if result.sample_of else f"{result.package}.json"
    path = results_dir / name
    path.write_text(json.dumps(asdict(result), indent=2) + "\n", encoding="utf-8")
    return path


def _is_sample(path: Path) -> bool:
    return ".sample" in path.name


def _load_results(results_dir: Path) -> dict[str, dict]:
    """The full runs (``<package>.json``), by package."""
    found = {}
    for path in sorted(results_dir.glob("*.json")):
        data = None if _is_sample(path) else json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and "package" in data:
            found[data["package"]] = data
    return found


def _load_samples(results_dir: Path) -> list[dict]:
    """Every sampled run (``<package>.sample-<seed>.json``)."""
    found = []
    for path in sorted(results_dir.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8")) if _is_sample(path) else None
        if isinstance(data, dict) and "package" in data and data.get("sample_of"):
            found.append(data)
    return found


def render_scores_table(packages: list[str], results_dir: Path) -> str:
    """A Markdown table of every configured package; one without a result says so."""
    results = _load_results(results_dir)
    rows = ["| package | mutants | killed | timeout | survived | other | score | complete | date | commit |",
            "|---|---:|---:|---:|---:|---:|---:|---|---|---|"]
    for name in packages:
        r = results.get(name)
        if r is None:
            rows.append(f"| `{name}` | | | | | | not yet scored | | | |")
            continue
        other = sum(r["other"].values())
        score = "n/a" if r["score"] is None else f"{r['score']:.1f} %"
        if r.get("damaged"):
            score = f"invalid ({score}: a mutant damaged the workspace)"
        complete = "yes" if r["complete"] else f"no ({r['not_checked']} not checked)"
        rows.append(f"| `{name}` | {r['mutants']} | {r['killed']} | {r['timeout']} | {r['survived']} | {other} | "
                    f"{score} | {complete} | {r['date'][:10]} | {r['commit'][:10]} |")
    return "\n".join(rows)


def _percent(detected: int, checked: int) -> str:
    return "n/a" if checked <= 0 else f"{100 * detected / checked:.1f} %"


def _interval(detected: int, checked: int) -> str:
    if checked <= 0:
        return ""
    low, high = wilson_interval(detected, checked)
    return f"{low:.1f} - {high:.1f} %"


def render_sample_table(packages: list[str], results_dir: Path, equivalents_dir: Path | None = None) -> str:
    """A Markdown table of the sampled runs, each package's samples in the order they were drawn:
    the estimate of the whole package's score and its 95 % interval, then the same without the
    survivors a review listed as equivalent (``equivalents_dir``, default ``<results_dir>/equivalent``;
    see _equivalent), the usual measure: detected over the mutants that are not equivalent."""
    equivalents_dir = equivalents_dir if equivalents_dir is not None else results_dir / "equivalent"
    order = {name: i for i, name in enumerate(packages)}
    samples = sorted(_load_samples(results_dir), key=lambda r: (order.get(r["package"], len(order)), r["package"], r["date"]))
    listed = {package: load_equivalents(equivalents_dir, package) for package in {r["package"] for r in samples}}
    rows = ["| package | all mutants | sample (seed) | detected | survived | not checked | estimated score | 95 % interval "
            "| listed equivalent | score without them | 95 % interval | date | commit |",
            "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---|---|---|"]
    for r in samples:
        detected = r["killed"] + r["timeout"] + r["other"].get("caught by type check", 0)
        checked = r["mutants"] - r["not_checked"] - r["other"].get("skipped", 0)
        score, interval = _percent(detected, checked), _interval(detected, checked)
        if r.get("damaged"):
            score = f"invalid ({score}: a mutant damaged the workspace)"
        equivalent = len(list_survivors(r.get("survivors", []), listed[r["package"]]).equivalent)
        rows.append(f"| `{r['package']}` | {r['sample_of']} | {r['mutants']} ({r['seed']}) | {detected} | {r['survived']} | "
                    f"{r['not_checked']} | {score} | {interval} | {equivalent} | {_percent(detected, checked - equivalent)} | "
                    f"{_interval(detected, checked - equivalent)} | {r['date'][:10]} | {r['commit'][:10]} |")
    return "\n".join(rows) if len(rows) > 2 else "No sampled run yet."


def _replace_between(text: str, start: str, end: str, table: str) -> str:
    block = f"{start}\n{table}\n{end}"
    if start in text and end in text:
        return re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _m: block, text, flags=re.S)
    return text.rstrip("\n") + "\n\n" + block + "\n"


def update_scores_doc(doc: Path, packages: list[str], results_dir: Path, equivalents_dir: Path | None = None) -> None:
    """Replace the tables between the markers of ``doc`` (each added at the end if missing): the
    full runs' scores, and, once a sampled run exists, the sampled estimates (with and without the
    survivors listed as equivalent in ``equivalents_dir``)."""
    text = doc.read_text(encoding="utf-8") if doc.exists() else "# Mutation testing\n"
    text = _replace_between(text, START, END, render_scores_table(packages, results_dir))
    if _load_samples(results_dir) or SAMPLE_START in text:
        text = _replace_between(text, SAMPLE_START, SAMPLE_END, render_sample_table(packages, results_dir, equivalents_dir))
    doc.write_text(text, encoding="utf-8")
