"""Run history: every run's report kept as JSON, trends over the last runs, and what changed.

Layout under the report output folder::

    <output>/history/<report_id>.json   the full report of one run (atomic replace)
    <output>/history/runs.jsonl          one line per recorded run: id and generation time

The JSONL index lets :meth:`FFRunHistory.recent` find the last runs without parsing every stored
report; each report is parsed only when it is asked for. Recording the same run twice (a retry
of the report step) keeps one entry: readers keep the last line per id.

:func:`compare_runs` and :func:`trend_points` are pure functions over report objects, so what
"newly failing", "fixed" and "slower" mean is tested without a disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ff_class_configs.ff_test_result_dtos import (
    REPORT_SCHEMA_VERSION,
    FFRunComparisonDTO,
    FFSystemIntegrationReportDTO,
    FFTestStatus,
)
from ff_utils.ff_errors import FFCorruptionError, FFNotFoundError, FFValidationError, ff_translate_errors
from ff_utils.ff_file_ops import ff_safe_path
from ff_utils.ff_ids import ff_validate_id
from ff_utils.ff_json_utils import ff_append_jsonl, ff_read_json, ff_read_jsonl, ff_write_json
from ff_utils.ff_logging import get_logger
from testing.reporting._text import clean_data

__all__ = [
    "FFRunHistory",
    "FFTrendPoint",
    "compare_runs",
    "trend_points",
    "report_to_json_data",
    "report_from_json_data",
]

_HISTORY_DIR = "history"
_INDEX = "runs.jsonl"
_FAILING = frozenset({FFTestStatus.FAILED, FFTestStatus.ERROR})
_SUCCEEDED = frozenset({FFTestStatus.PASSED, FFTestStatus.FLAKY})

_log = get_logger("reporting.history")


def report_to_json_data(report: FFSystemIntegrationReportDTO) -> dict[str, object]:
    """The report as plain JSON data, computed figures included (what the JSON file holds).

    Lone surrogates in any string become U+FFFD, so the data always encodes as UTF-8.
    """
    return clean_data(report.model_dump(mode="json"))  # type: ignore[no-any-return]


def report_from_json_data(data: object, *, source: Path | str | None = None) -> FFSystemIntegrationReportDTO:
    """Validate stored report data back into the DTO.

    Raises FFValidationError when the data is not a report, or was written by a newer report
    schema than this code understands (reading it could silently drop fields).
    """
    if isinstance(data, dict):
        version = data.get("report_schema_version")
        if isinstance(version, int) and version > REPORT_SCHEMA_VERSION:
            raise FFValidationError(
                f"report schema version {version} is newer than this program's {REPORT_SCHEMA_VERSION}",
                field="report_schema_version",
                value=version,
                path=source,
            )
    with ff_translate_errors("load report", source):
        return FFSystemIntegrationReportDTO.model_validate(data)


# --------------------------------------------------------------------------- pure logic


@dataclass(frozen=True, slots=True)
class FFTrendPoint:
    """The figures of one run that the trend charts plot."""

    report_id: str
    generated: datetime
    pass_rate_percent: float
    worst_p95_ms: float | None
    duration_seconds: float
    verdict_passed: bool


def trend_points(reports: list[FFSystemIntegrationReportDTO]) -> list[FFTrendPoint]:
    """One point per report, in the order given (callers pass oldest first).

    The latency figure is the worst p95 over all operations: the one a p95 ceiling would catch.
    """
    points = []
    for report in reports:
        operations = report.performance.operations if report.performance else []
        points.append(
            FFTrendPoint(
                report_id=report.report_id,
                generated=report.generation_timestamp,
                pass_rate_percent=100.0 * report.overall_success_rate,
                worst_p95_ms=max((op.p95_ms for op in operations), default=None),
                duration_seconds=max(0.0, (report.finished_at - report.started_at).total_seconds()),
                verdict_passed=report.verdict_passed,
            )
        )
    return points


@dataclass(frozen=True, slots=True)
class _Outcome:
    status: FFTestStatus
    seconds: float


def _outcomes(report: FFSystemIntegrationReportDTO) -> dict[str, _Outcome]:
    """Every test and use case by a stable key ``suite/id``.

    When a report carries use case results, the "use_cases" suite's own entries are the same
    scenarios under another id, so they are left out (as the JUnit and HTML writers do).
    """
    found = {
        f"{suite.suite}/{result.test_id}": _Outcome(result.status, result.execution_time_seconds)
        for suite in report.suites
        if not (suite.suite == "use_cases" and report.use_case_results)
        for result in suite.results
    }
    for use_case in report.use_case_results:
        found[f"use_cases/{use_case.use_case_id}"] = _Outcome(use_case.status, use_case.execution_time_seconds)
    return found


def _percent_slower(previous: float, current: float) -> float:
    return 100.0 * (current - previous) / previous


def compare_runs(
    current: FFSystemIntegrationReportDTO,
    previous: FFSystemIntegrationReportDTO,
    margin_percent: float,
    *,
    min_delta_seconds: float = 0.05,
    min_delta_ms: float = 1.0,
) -> FFRunComparisonDTO:
    """What changed from ``previous`` to ``current``.

    * newly failing: failed or errored now, and did not fail in the previous run (it passed,
      was skipped, or did not exist then);
    * fixed: failed or errored in the previous run and passed (or passed on retry) now;
    * slower: a test that ran in both runs and took more than ``margin_percent`` longer (and at
      least ``min_delta_seconds`` more, so millisecond jitter is not news), or a load-test
      operation whose p95 rose by more than the margin (and at least ``min_delta_ms``).

    Raises FFValidationError for a negative margin.
    """
    if margin_percent < 0:
        raise FFValidationError("margin_percent must be >= 0", field="margin_percent", value=margin_percent)
    now, before = _outcomes(current), _outcomes(previous)
    newly_failing = sorted(
        key
        for key, outcome in now.items()
        if outcome.status in _FAILING and (key not in before or before[key].status not in _FAILING)
    )
    fixed = sorted(
        key
        for key, outcome in now.items()
        if outcome.status in _SUCCEEDED and key in before and before[key].status in _FAILING
    )
    factor = 1.0 + margin_percent / 100.0
    slower = []
    for key in sorted(now.keys() & before.keys()):
        new, old = now[key], before[key]
        if FFTestStatus.SKIPPED in (new.status, old.status) or old.seconds <= 0:
            continue
        if new.seconds > old.seconds * factor and new.seconds - old.seconds >= min_delta_seconds:
            slower.append(
                f"{key}: {old.seconds:.2f} s → {new.seconds:.2f} s (+{_percent_slower(old.seconds, new.seconds):.0f}%)"
            )
    if current.performance is not None and previous.performance is not None:
        old_ops = {op.operation: op for op in previous.performance.operations}
        for op in current.performance.operations:
            old_op = old_ops.get(op.operation)
            if old_op is None or old_op.p95_ms <= 0:
                continue
            if op.p95_ms > old_op.p95_ms * factor and op.p95_ms - old_op.p95_ms >= min_delta_ms:
                slower.append(
                    f"performance/{op.operation}: p95 {old_op.p95_ms:.1f} ms → {op.p95_ms:.1f} ms "
                    f"(+{_percent_slower(old_op.p95_ms, op.p95_ms):.0f}%)"
                )
    return FFRunComparisonDTO(
        previous_run_id=previous.report_id, newly_failing=newly_failing, fixed=fixed, slower=slower
    )


# --------------------------------------------------------------------------- storage


class FFRunHistory:
    """The stored reports of past runs under ``<output_dir>/history``.

    Synchronous on purpose: it is used at the edge (after a run, from the CLI), never inside a
    manager's event loop.
    """

    def __init__(self, output_dir: Path | str) -> None:
        self._root = Path(output_dir)

    @property
    def directory(self) -> Path:
        """Where the stored runs live (not created until the first :meth:`record`)."""
        return ff_safe_path(self._root, _HISTORY_DIR)

    def _report_path(self, report_id: str) -> Path:
        return ff_safe_path(self._root, _HISTORY_DIR, f"{ff_validate_id(report_id, 'report_id')}.json")

    def _index_path(self) -> Path:
        return ff_safe_path(self._root, _HISTORY_DIR, _INDEX)

    def record(self, report: FFSystemIntegrationReportDTO) -> Path:
        """Store ``report`` and add it to the index; returns the stored file.

        The report file is written (atomically) before its index line, so the index never names
        a run whose file is missing because of a crash. Raises FFValidationError for a report id
        that cannot be a file name, FFStorageError when the disk fails.
        """
        path = self._report_path(report.report_id)
        index = self._index_path()
        data = report_to_json_data(report)
        ff_write_json(path, data)
        ff_append_jsonl(index, {"report_id": report.report_id, "generation_timestamp": data["generation_timestamp"]})
        return path

    def load(self, report_id: str) -> FFSystemIntegrationReportDTO:
        """The stored report of one run.

        Raises FFValidationError for a bad id or a report of a newer schema, FFNotFoundError when
        no such run was recorded, FFCorruptionError when its file is not JSON or not a report
        (stored data: never a raw pydantic error, never "bad input").
        """
        path = self._report_path(report_id)
        try:
            data = ff_read_json(path)
        except FFNotFoundError as exc:
            raise FFNotFoundError(f"no stored run {report_id!r} in {self._root}", kind="report", key=report_id) from exc
        try:
            return report_from_json_data(data, source=path)
        except FFValidationError as exc:
            if exc.field == "report_schema_version":
                raise
            raise FFCorruptionError(f"stored run {report_id!r} is not a report: {exc.message}", path=path) from exc

    def run_ids(self) -> list[str]:
        """Every recorded run id, oldest first by generation time (ties keep recording order)."""
        latest: dict[str, tuple[str, int]] = {}
        for position, entry in enumerate(ff_read_jsonl(self._index_path())):
            if isinstance(entry, dict) and isinstance(entry.get("report_id"), str):
                latest[entry["report_id"]] = (str(entry.get("generation_timestamp", "")), position)
        return sorted(latest, key=lambda run_id: latest[run_id])

    def recent(self, n: int, *, before: str | None = None) -> list[FFSystemIntegrationReportDTO]:
        """The last ``n`` stored runs, oldest first.

        With ``before``, only runs that come before that run id (the history a re-rendered old
        report saw); if that id was never recorded, every run counts as before it (the current
        run, not yet stored). A run whose file was deleted by hand is skipped; so is one whose
        file is corrupt or of a newer schema (logged as a warning naming the file), so one bad
        stored run never stops every later report from being written.
        """
        if n <= 0:
            return []
        ids = self.run_ids()
        if before is not None and before in ids:
            ids = ids[: ids.index(before)]
        reports = []
        for run_id in reversed(ids):
            try:
                reports.append(self.load(run_id))
            except FFNotFoundError:
                _log.info("history: run %s is in the index but its file is gone; skipped", run_id)
                continue
            except (FFCorruptionError, FFValidationError) as exc:
                _log.warning("history: run %s skipped: %s", run_id, exc)
                continue
            if len(reports) == n:
                break
        reports.reverse()
        return reports

    @staticmethod
    def compare(
        current: FFSystemIntegrationReportDTO, previous: FFSystemIntegrationReportDTO, margin_percent: float
    ) -> FFRunComparisonDTO:
        """What changed since ``previous``; see :func:`compare_runs` (pure, no disk)."""
        return compare_runs(current, previous, margin_percent)
