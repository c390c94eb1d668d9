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

__all__ = ["MutationResult", "STATUS_BY_EXIT_CODE", "render_scores_table", "tally_workspace", "update_scores_doc", "write_result"]

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


def _status(code: int | None) -> str:
    return STATUS_BY_EXIT_CODE.get(code, "suspicious")


def tally_workspace(workspace: Path, package: str, patterns: tuple[str, ...]) -> MutationResult:
    """Count the verdicts of every mutant of the files matching ``patterns`` in ``workspace``."""
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
            unreadable.append(meta.relative_to(workspace).as_posix())  # overwritten by a mutant: see _integrity
            continue
        statuses.update({name: _status(code) for name, code in codes.items()})
    counts = Counter(statuses.values())
    checked = len(statuses) - counts["not checked"] - counts["skipped"]
    detected = sum(counts[s] for s in DETECTED)
    other = {s: n for s, n in sorted(counts.items()) if s not in ("killed", "timeout", "survived", "not checked")}
    survivors = [{"name": n, "status": s} for n, s in sorted(statuses.items()) if s not in DETECTED + ("not checked", "skipped")]
    return MutationResult(
        package=package, mutants=len(statuses), killed=counts["killed"], timeout=counts["timeout"],
        survived=counts["survived"], other=other, not_checked=counts["not checked"],
        score=round(100 * detected / checked, 1) if checked else None,
        complete=bool(statuses) and counts["not checked"] == 0 and not unreadable, survivors=survivors, damaged=unreadable)


def write_result(result: MutationResult, results_dir: Path) -> Path:
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"{result.package}.json"
    path.write_text(json.dumps(asdict(result), indent=2) + "\n", encoding="utf-8")
    return path


def _load_results(results_dir: Path) -> dict[str, dict]:
    found = {}
    for path in sorted(results_dir.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and "package" in data:
            found[data["package"]] = data
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


def update_scores_doc(doc: Path, packages: list[str], results_dir: Path) -> None:
    """Replace the table between the markers of ``doc`` (added at the end if it has none)."""
    table = f"{START}\n{render_scores_table(packages, results_dir)}\n{END}"
    text = doc.read_text(encoding="utf-8") if doc.exists() else "# Mutation testing\n"
    if START in text and END in text:
        text = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _m: table, text, flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n" + table + "\n"
    doc.write_text(text, encoding="utf-8")
