"""Read Locust's CSV output (``--csv PREFIX``) back into the project's performance DTOs.

Files (Locust 2.x, ``locust/stats.py``): ``PREFIX_stats.csv`` has one row per request name and an
``Aggregated`` row (columns ``Type, Name, Request Count, Failure Count, Median/Average/Min/Max
Response Time, Average Content Size, Requests/s, Failures/s, 50%, 66%, ... 100%``);
``PREFIX_stats_history.csv`` gets one ``Aggregated`` row per second (``Timestamp, User Count, ...,
Requests/s, Failures/s``, the percentiles of the current window, then the running ``Total
Request Count`` and ``Total Failure Count``); ``PREFIX_failures.csv`` has ``Method, Name, Error,
Occurrences``. Locust writes ``N/A`` for a percentile with no requests; that reads as 0.

Pure: everything here takes text or paths and returns DTOs, so it is tested on CSV text without
running Locust. A missing or malformed file raises FFCorruptionError naming it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from pathlib import Path

from ff_class_configs.ff_load_dtos import FFLocustFailureDTO
from ff_class_configs.ff_test_result_dtos import (
    FFLoadIntervalDTO,
    FFOperationStatsDTO,
    FFPerformanceSummaryDTO,
)
from ff_utils.ff_errors import FFCorruptionError, FFNotFoundError

__all__ = ["AGGREGATED", "locust_csv_paths", "parse_failures", "parse_history", "parse_stats", "read_locust_summary"]

AGGREGATED = "Aggregated"


def locust_csv_paths(prefix: Path) -> tuple[Path, Path, Path]:
    """``(stats, history, failures)`` files Locust writes for ``--csv prefix``."""
    return (prefix.with_name(prefix.name + "_stats.csv"), prefix.with_name(prefix.name + "_stats_history.csv"),
            prefix.with_name(prefix.name + "_failures.csv"))  # fmt: skip


def _rows(text: str, required: tuple[str, ...], source: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in required if c not in (reader.fieldnames or [])]
    if missing:
        raise FFCorruptionError(f"{source}: not a Locust CSV of this kind (missing columns {', '.join(missing)})", path=source)
    return list(reader)


def _number(row: Mapping[str, str], column: str, source: str) -> float:
    value = (row.get(column) or "").strip()
    if value in ("", "N/A"):
        return 0.0
    try:
        return float(value)
    except ValueError:
        raise FFCorruptionError(f"{source}: column {column!r} holds {value!r}, not a number", path=source) from None


_STATS_COLUMNS = ("Type", "Name", "Request Count", "Failure Count", "Average Response Time", "Min Response Time",
                  "Max Response Time", "Requests/s", "Failures/s", "50%", "90%", "95%", "99%")  # fmt: skip


def _operation(row: Mapping[str, str], source: str, name: str | None = None) -> FFOperationStatsDTO:
    requests, failures = int(_number(row, "Request Count", source)), int(_number(row, "Failure Count", source))
    return FFOperationStatsDTO(
        operation=name or row["Name"],
        count=requests - failures,
        errors=failures,
        min_ms=_number(row, "Min Response Time", source),
        p50_ms=_number(row, "50%", source),
        p90_ms=_number(row, "90%", source),
        p95_ms=_number(row, "95%", source),
        p99_ms=_number(row, "99%", source),
        mean_ms=_number(row, "Average Response Time", source),
        max_ms=_number(row, "Max Response Time", source),
        throughput_ops=max(_number(row, "Requests/s", source) - _number(row, "Failures/s", source), 0.0),
    )


def parse_stats(text: str, source: str = "_stats.csv") -> tuple[list[FFOperationStatsDTO], FFOperationStatsDTO]:
    """Per-name stats (in Locust's order) and the ``Aggregated`` row as operation ``*``.

    Raises FFCorruptionError when the columns or the Aggregated row are missing."""
    rows = _rows(text, _STATS_COLUMNS, source)
    aggregated = [r for r in rows if r["Name"] == AGGREGATED and not r["Type"]]
    if len(aggregated) != 1:
        raise FFCorruptionError(f"{source}: expected one {AGGREGATED} row, found {len(aggregated)}", path=source)
    operations = [_operation(r, source) for r in rows if r is not aggregated[0]]
    return operations, _operation(aggregated[0], source, "*")


def parse_history(text: str, source: str = "_stats_history.csv") -> list[FFLoadIntervalDTO]:
    """One interval per history row after the first (its deltas of the running totals), from the
    Aggregated rows only; the window percentiles are Locust's current ones at that second."""
    rows = [r for r in _rows(text, ("Timestamp", "Name", "Total Request Count", "Total Failure Count", "50%", "95%"), source)
            if r["Name"] == AGGREGATED]  # fmt: skip
    intervals: list[FFLoadIntervalDTO] = []
    if not rows:
        return intervals
    start = _number(rows[0], "Timestamp", source)
    previous = rows[0]
    for row in rows[1:]:
        seconds = _number(row, "Timestamp", source) - _number(previous, "Timestamp", source)
        if seconds <= 0:
            continue  # two rows in one second: merge into the next slice
        requests = _number(row, "Total Request Count", source) - _number(previous, "Total Request Count", source)
        errors = _number(row, "Total Failure Count", source) - _number(previous, "Total Failure Count", source)
        ok = max(int(requests - errors), 0)
        intervals.append(FFLoadIntervalDTO(
            start_seconds=_number(previous, "Timestamp", source) - start, seconds=seconds, ok=ok, errors=max(int(errors), 0),
            throughput_ops=ok / seconds, p50_ms=_number(row, "50%", source), p90_ms=_number(row, "90%", source),
            p95_ms=_number(row, "95%", source), p99_ms=_number(row, "99%", source), max_ms=_number(row, "100%", source),
        ))  # fmt: skip
        previous = row
    return intervals


def parse_failures(text: str, source: str = "_failures.csv") -> list[FFLocustFailureDTO]:
    rows = _rows(text, ("Method", "Name", "Error", "Occurrences"), source)
    return [FFLocustFailureDTO(method=r["Method"], name=r["Name"], error=r["Error"], occurrences=int(_number(r, "Occurrences", source)))
            for r in rows]  # fmt: skip


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FFNotFoundError(f"Locust wrote no {path.name}", kind="locust_csv", key=str(path), path=path) from None
    except OSError as exc:
        raise FFCorruptionError(f"cannot read {path}: {exc}", path=path) from exc


def read_locust_summary(prefix: Path, *, users: int, rate: float, duration_seconds: float, profile: str = "locust"
                        ) -> tuple[FFPerformanceSummaryDTO, list[FFLocustFailureDTO]]:  # fmt: skip
    """The summary and the failures of the run whose ``--csv`` was ``prefix``.

    Raises FFNotFoundError when the stats file is missing (Locust never got to write it), and
    FFCorruptionError when a file is not the CSV expected."""
    stats, history, failures = locust_csv_paths(prefix)
    operations, overall = parse_stats(_read(stats), str(stats))
    intervals = parse_history(_read(history), str(history)) if history.exists() else []
    failed = parse_failures(_read(failures), str(failures)) if failures.exists() else []
    requests = overall.count + overall.errors
    elapsed = sum(i.seconds for i in intervals) or duration_seconds
    summary = FFPerformanceSummaryDTO(
        profile=profile, concurrent_users=users, duration_seconds=elapsed, target_rps=rate,
        achieved_rps=overall.throughput_ops, error_rate_percent=100.0 * overall.errors / requests if requests else 0.0,
        operations=operations, overall=overall, timeline=intervals,
    )  # fmt: skip
    return summary, failed
