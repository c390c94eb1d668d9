"""prune_run_folders: the newest N run folders stay, the current one always, reports and history untouched."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ff_utils.ff_errors import FFValidationError
from ff_utils.ff_json_utils import ff_append_jsonl
from testing._run_retention import UNFINISHED_GRACE, prune_run_folders

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def _run_id(hours_ago: float, suffix: str = "abcdef") -> str:
    return (NOW - timedelta(hours=hours_ago)).strftime("run_%Y%m%dT%H%M%SZ_") + suffix


def _make_run(output: Path, run_id: str, *, finished: bool = True) -> Path:
    folder = output / "runs" / run_id
    (folder / "test_data" / "users").mkdir(parents=True)
    (folder / "results.jsonl").write_text("{}\n")
    if finished:
        (output / "history").mkdir(exist_ok=True)
        (output / "history" / f"{run_id}.json").write_text("{}")
        ff_append_jsonl(output / "history" / "runs.jsonl", {"report_id": run_id, "generation_timestamp": run_id[4:20]})
    return folder


def _names(paths: list[Path]) -> list[str]:
    return [p.name for p in paths]


def test_keeps_the_newest_n_including_the_current_and_leaves_history_alone(tmp_path: Path) -> None:
    ids = [_run_id(h) for h in (50, 40, 30, 20, 10)]  # oldest first
    for run_id in ids:
        _make_run(tmp_path, run_id)
    current = _run_id(0.1)
    _make_run(tmp_path, current)
    index_before = (tmp_path / "history" / "runs.jsonl").read_bytes()
    result = prune_run_folders(tmp_path, 3, current=current, now=NOW)
    assert _names(result.removed) == ids[:3] and _names(result.kept) == ids[3:]
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == sorted([*ids[3:], current])
    assert (tmp_path / "history" / "runs.jsonl").read_bytes() == index_before
    assert all((tmp_path / "history" / f"{run_id}.json").is_file() for run_id in ids)


def test_the_current_run_stays_even_when_it_sorts_oldest(tmp_path: Path) -> None:
    for hours in (3, 2, 1):
        _make_run(tmp_path, _run_id(hours))
    current = "a-custom-id"  # no timestamp in the id: ordered by mtime, and old
    folder = _make_run(tmp_path, current)
    os.utime(folder, (0, 0))
    result = prune_run_folders(tmp_path, 1, current=current, now=NOW)
    assert _names(result.removed) == [_run_id(3), _run_id(2), _run_id(1)]
    assert [p.name for p in (tmp_path / "runs").iterdir()] == [current]


def test_a_recent_unfinished_run_is_left_alone_an_old_one_is_pruned(tmp_path: Path) -> None:
    going = _make_run(tmp_path, _run_id(1, "going1"), finished=False)  # maybe running in another process
    crashed_hours = UNFINISHED_GRACE.total_seconds() / 3600 + 5
    crashed = _make_run(tmp_path, _run_id(crashed_hours, "crash1"), finished=False)
    current = _run_id(0)
    _make_run(tmp_path, current)
    result = prune_run_folders(tmp_path, 1, current=current, now=NOW)
    assert result.left_unfinished == [going] and going.is_dir()
    assert result.removed == [crashed] and not crashed.exists()


def test_runs_started_in_the_same_second_are_ordered_by_their_recorded_reports(tmp_path: Path) -> None:
    same_second = [_run_id(1, suffix) for suffix in ("ffffff", "000000", "888888")]  # recorded in this order
    for age, run_id in enumerate(same_second):
        folder = _make_run(tmp_path, run_id)
        os.utime(folder, (1_000_000 - age, 1_000_000 - age))  # modification times say the opposite order
    result = prune_run_folders(tmp_path, 2, current=_run_id(0), now=NOW)
    assert _names(result.removed) == same_second[:2] and _names(result.kept) == same_second[2:]


def test_symlinks_and_files_under_runs_are_not_touched(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("x")
    _make_run(tmp_path, _run_id(5))
    (tmp_path / "runs" / "link").symlink_to(elsewhere)
    (tmp_path / "runs" / "notes.txt").write_text("x")
    prune_run_folders(tmp_path, 1, current=_run_id(0), now=NOW)
    assert (elsewhere / "keep.txt").is_file() and (tmp_path / "runs" / "notes.txt").is_file()
    assert (tmp_path / "runs" / "link").is_symlink()


def test_nothing_to_prune_and_bad_keep(tmp_path: Path) -> None:
    assert prune_run_folders(tmp_path, 10, current="x").removed == []
    with pytest.raises(FFValidationError):
        prune_run_folders(tmp_path, 0, current="x")
