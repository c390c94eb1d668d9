"""The report as PDF: the HTML page printed by WeasyPrint with the template's print CSS.

WeasyPrint is given a URL fetcher that allows no protocol at all, so rendering a report can
never reach the network or read a local file, whatever a test name or message contains (the
page has no URL of its own: CSS and charts are inline).
"""

from __future__ import annotations

from pathlib import Path

from ff_class_configs.ff_test_result_dtos import FFSystemIntegrationReportDTO
from testing.reporting._html_writer import render_html
from testing.reporting._templating import TEMPLATES_DIR
from testing.reporting._text import clean_text

__all__ = ["render_pdf", "html_to_pdf"]


def html_to_pdf(html: str) -> bytes:
    """Print an HTML page to PDF bytes (A4, page numbers and running headers from the CSS)."""
    # Imported here: WeasyPrint loads Pango through cffi, which only the PDF path needs.
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    document = HTML(string=clean_text(html), url_fetcher=URLFetcher(allowed_protocols=()))
    return document.write_pdf()  # type: ignore[no-any-return]  # bytes when no target is given


def render_pdf(
    report: FFSystemIntegrationReportDTO,
    history: list[FFSystemIntegrationReportDTO] | None = None,
    *,
    templates_dir: Path = TEMPLATES_DIR,
) -> bytes:
    """The PDF of the report (same template as the HTML, print CSS applies)."""
    return html_to_pdf(render_html(report, history, templates_dir=templates_dir))
