"""Judge a ``load`` run and write its report (JSON and HTML) to the output folder.

The verdict is red when Locust's master exited non-zero, wrote no stats, sent no request, or saw
a failure, or when our open loop saw an error: a load run's job is to show that the target
served every request, so one failed request is a finding, not noise.
"""

from __future__ import annotations

from pathlib import Path

from ff_class_configs.ff_load_dtos import FFDistributedLoadReportDTO
from ff_utils.ff_file_ops import ff_atomic_write
from testing.reporting._templating import report_environment

__all__ = ["LOAD_TEMPLATE", "judge", "write_load_report"]

LOAD_TEMPLATE = "load_report.html.j2"


def judge(report: FFDistributedLoadReportDTO) -> list[str]:
    """The problems of ``report`` (empty: it passed)."""
    problems: list[str] = []
    if report.locust_exit_code not in (None, 0):
        problems.append(f"the Locust master exited with {report.locust_exit_code}")
    if report.locust is None:
        problems.append("Locust wrote no statistics")
    elif report.locust.overall is not None:
        total = report.locust.overall.count + report.locust.overall.errors
        if total == 0:
            problems.append("Locust sent no request")
        elif report.locust.overall.errors:
            problems.append(f"{report.locust.overall.errors} of {total} Locust requests failed")
    if report.open_loop is not None and report.open_loop.overall is not None and report.open_loop.overall.errors:
        total = report.open_loop.overall.count + report.open_loop.overall.errors
        problems.append(f"{report.open_loop.overall.errors} of {total} open-loop requests failed")
    return problems


def write_load_report(report: FFDistributedLoadReportDTO, output_dir: Path) -> dict[str, Path]:
    """``{"json": path, "html": path}`` under ``output_dir`` (written atomically)."""
    output_dir.mkdir(parents=True, exist_ok=True)
    json_path = output_dir / f"{report.report_id}.json"
    html_path = output_dir / f"{report.report_id}.html"
    ff_atomic_write(json_path, report.model_dump_json(indent=2).encode())
    html = report_environment().get_template(LOAD_TEMPLATE).render(report=report)
    ff_atomic_write(html_path, html.encode())
    return {"json": json_path, "html": html_path}
