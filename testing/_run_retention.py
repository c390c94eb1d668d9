"""Retention of run folders: ``run-all --keep-runs N`` keeps the newest N under ``<output>/runs/``.

Each run leaves ``<output>/runs/<run_id>/`` behind: its results log and its whole generated test
data root, about 13 MB and 2,000 files for a full run, so a machine that runs the suites on every
commit fills its disk. The reports themselves are not in there: ``<output>/history/<run_id>.json``
holds each run's full report (trends, comparisons and ``main.py report RUN_ID`` read it), so
pruning a run folder loses the raw test data of an old run, never its report, and the history
index is left exactly as it was.

What is never removed:

* the current run's folder (it counts as one of the N);
* a folder that is not a finished run and is younger than :data:`UNFINISHED_GRACE`: without a report
  in the history it may be a run still going in another process (an older one is an interrupted
  run and is pruned like any other);
* anything that is not a plain directory directly under ``runs/`` (a symlink is left alone).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ff_utils.ff_errors import FFValidationError
from ff_utils.ff_file_ops import ff_remove_tree
from testing.reporting import FFRunHistory

__all__ = ["RUNS_DIR", "UNFINISHED_GRACE", "FFPruneResult", "prune_run_folders"]

RUNS_DIR = "runs"
#: How long a run folder without a recorded report is presumed to belong to a run still going.
UNFINISHED_GRACE = timedelta(hours=24)
_RUN_ID_TIME = re.compile(r"^run_(\d{8}T\d{6}Z)_")


@dataclass(slots=True)
class FFPruneResult:
    """What a prune removed and what it kept, oldest first."""

    removed: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)
    left_unfinished: list[Path] = field(default_factory=list)


def _started(folder: Path) -> datetime:
    """When a run started: from its id (``run_YYYYmmddTHHMMSSZ_xxxxxx``), else the folder's mtime."""
    match = _RUN_ID_TIME.match(folder.name)
    if match:
        return datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    return datetime.fromtimestamp(folder.stat().st_mtime, UTC)


def prune_run_folders(output_dir: Path | str, keep: int, *, current: str, now: datetime | None = None) -> FFPruneResult:
    """Remove all but the newest ``keep`` run folders under ``<output_dir>/runs/`` (``current`` always stays).

    Raises FFValidationError when ``keep`` is below 1 (the current run is always kept).
    """
    if keep < 1:
        raise FFValidationError(f"keep must be at least 1 (the current run), got {keep}", field="keep_runs", value=keep)
    runs = Path(output_dir) / RUNS_DIR
    result = FFPruneResult()
    if not runs.is_dir():
        return result
    recorded = {run_id: position for position, run_id in enumerate(FFRunHistory(output_dir).run_ids())}
    folders = [p for p in runs.iterdir() if p.is_dir() and not p.is_symlink() and p.name != current]
    # Newest first. Ids carry the start to the second; runs started in the same second are ordered
    # by when their reports were recorded, then by the folder's modification time.
    folders.sort(key=lambda p: (_started(p), recorded.get(p.name, -1), p.stat().st_mtime, p.name), reverse=True)
    moment = now or datetime.now(UTC)
    for position, folder in enumerate(folders):
        if position < keep - 1:
            result.kept.append(folder)
        elif folder.name not in recorded and moment - _started(folder) < UNFINISHED_GRACE:
            result.left_unfinished.append(folder)
        else:
            ff_remove_tree(folder)
            result.removed.append(folder)
    for listed in (result.removed, result.kept, result.left_unfinished):
        listed.reverse()
    return result
