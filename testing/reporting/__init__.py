"""Reports of a validation run: JSON, HTML, PDF and JUnit XML from one report object, plus history.

Every writer only reads :class:`~ff_class_configs.ff_test_result_dtos.FFSystemIntegrationReportDTO`
(pytest-html's split: results collected elsewhere, renderers here). Files land in the output
folder, named after the run::

    <output>/<report_id>.json        the report, validated by report.schema.json
    <output>/<report_id>.html        one self-contained page (inline CSS, SVG and a small filter script)
    <output>/<report_id>.pdf         the same page printed by WeasyPrint
    <output>/<report_id>.junit.xml   for CI test tabs
    <output>/history/...             every run's report, for trends and comparisons

Typical use after a run::

    paths = write_reports(report, "ff_reports", ["json", "html", "pdf", "junit"])

and ``rerender("ff_reports", run_id, ["pdf"])`` re-renders a stored run (``main.py report``).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Literal, get_args

from ff_class_configs.ff_test_result_dtos import FFSystemIntegrationReportDTO
from ff_utils.ff_errors import FFValidationError
from ff_utils.ff_file_ops import ff_atomic_write, ff_safe_path
from ff_utils.ff_ids import ff_validate_id
from testing.reporting._environment import git_commit, package_versions
from testing.reporting._history import FFRunHistory, FFTrendPoint, compare_runs, trend_points
from testing.reporting._html_writer import render_html
from testing.reporting._json_writer import load_report_json, render_json
from testing.reporting._junit_writer import render_junit
from testing.reporting._pdf_writer import html_to_pdf, render_pdf
from testing.reporting._schema import SCHEMA_PATH, build_report_schema, write_report_schema

__all__ = [
    "REPORT_FORMATS",
    "ReportFormat",
    "FFRunHistory",
    "FFTrendPoint",
    "SCHEMA_PATH",
    "build_report_schema",
    "compare_runs",
    "git_commit",
    "load_report_json",
    "package_versions",
    "render_html",
    "render_json",
    "render_junit",
    "render_pdf",
    "report_file_name",
    "rerender",
    "trend_points",
    "write_report_schema",
    "write_reports",
]

ReportFormat = Literal["json", "html", "pdf", "junit"]
REPORT_FORMATS: tuple[str, ...] = get_args(ReportFormat)
_SUFFIX = {"json": ".json", "html": ".html", "pdf": ".pdf", "junit": ".junit.xml"}
DEFAULT_HISTORY_RUNS = 10
DEFAULT_MARGIN_PERCENT = 50.0


def report_file_name(report_id: str, report_format: str) -> str:
    """``<report_id>.json`` / ``.html`` / ``.pdf`` / ``.junit.xml``. Raises FFValidationError."""
    _check_formats([report_format])
    return f"{ff_validate_id(report_id, 'report_id')}{_SUFFIX[report_format]}"


def _check_formats(formats: Iterable[str]) -> list[str]:
    if isinstance(formats, str):
        formats = [part.strip() for part in formats.split(",")]
    chosen: list[str] = []
    for item in formats:
        if item not in _SUFFIX:
            raise FFValidationError(
                f"unknown report format {item!r}: choose from {', '.join(REPORT_FORMATS)}", field="formats", value=item
            )
        if item not in chosen:
            chosen.append(item)
    if not chosen:
        raise FFValidationError("no report format chosen", field="formats")
    return chosen


def _render_all(
    report: FFSystemIntegrationReportDTO, formats: list[str], history: list[FFSystemIntegrationReportDTO]
) -> dict[str, bytes]:
    rendered: dict[str, bytes] = {}
    html = render_html(report, history) if {"html", "pdf"} & set(formats) else ""
    for item in formats:
        if item == "json":
            rendered[item] = render_json(report)
        elif item == "html":
            rendered[item] = html.encode("utf-8")
        elif item == "pdf":
            rendered[item] = html_to_pdf(html)
        else:
            rendered[item] = render_junit(report)
    return rendered


def _write(output_dir: Path, report_id: str, rendered: dict[str, bytes]) -> dict[str, Path]:
    paths = {}
    for item, data in rendered.items():
        path = ff_safe_path(output_dir, report_file_name(report_id, item))
        ff_atomic_write(path, data)
        paths[item] = path
    return paths


def write_reports(
    report: FFSystemIntegrationReportDTO,
    output_dir: Path | str,
    formats: Iterable[str] | str = REPORT_FORMATS,
    *,
    history_runs: int = DEFAULT_HISTORY_RUNS,
    margin_percent: float = DEFAULT_MARGIN_PERCENT,
    record_history: bool = True,
) -> dict[str, Path]:
    """Render ``report`` in each format, write the files, and record the run in the history.

    When the report carries no comparison yet and an earlier run is stored, the comparison with
    the latest earlier run (``margin_percent`` for "slower") is filled in before rendering, so
    every format shows the same one. Everything is rendered before the first byte is written:
    an unknown format, a report id that cannot be a file name or a rendering error writes
    nothing. Returns ``{format: path}``. Raises FFValidationError for bad formats or ids,
    FFStorageError when the disk fails.
    """
    chosen = _check_formats(formats)
    ff_validate_id(report.report_id, "report_id")
    root = Path(output_dir)
    history = FFRunHistory(root)
    previous = history.recent(history_runs, before=report.report_id)
    if report.comparison is None and previous:
        report = report.model_copy(update={"comparison": compare_runs(report, previous[-1], margin_percent)})
    rendered = _render_all(report, chosen, previous)
    paths = _write(root, report.report_id, rendered)
    if record_history:
        history.record(report)
    return paths


def rerender(
    output_dir: Path | str,
    report_id: str,
    formats: Iterable[str] | str,
    *,
    history_runs: int = DEFAULT_HISTORY_RUNS,
) -> dict[str, Path]:
    """Render a stored run again (``main.py report RUN_ID --formats pdf``), with the history it had.

    Raises FFValidationError (bad id or format), FFNotFoundError (no such stored run).
    """
    chosen = _check_formats(formats)
    history = FFRunHistory(output_dir)
    report = history.load(report_id)
    previous = history.recent(history_runs, before=report_id)
    return _write(Path(output_dir), report.report_id, _render_all(report, chosen, previous))
