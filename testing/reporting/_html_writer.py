"""The report as one self-contained HTML page (inline CSS, inline SVG charts, no script)."""

from __future__ import annotations

from pathlib import Path

from ff_class_configs.ff_test_result_dtos import FFSystemIntegrationReportDTO
from testing.reporting._text import clean_text
from testing.reporting._templating import REPORT_TEMPLATE, TEMPLATES_DIR, report_environment
from testing.reporting._view import build_view

__all__ = ["render_html"]


def render_html(
    report: FFSystemIntegrationReportDTO,
    history: list[FFSystemIntegrationReportDTO] | None = None,
    *,
    templates_dir: Path = TEMPLATES_DIR,
) -> str:
    """Render the report page.

    ``history`` is the previous runs, oldest first, for the trend charts (the current run is
    appended to them). The same page is what the PDF writer prints. Lone surrogates in any
    text become U+FFFD, so the page always encodes as UTF-8. Raises FFConfigError when
    the template folder is missing.
    """
    template = report_environment(templates_dir).get_template(REPORT_TEMPLATE)
    return clean_text(template.render(view=build_view(report, history)))
