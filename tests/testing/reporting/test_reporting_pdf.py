"""PDF report: WeasyPrint prints the same template; it parses, has pages, and holds the summary."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from testing.reporting import render_pdf
from testing.reporting.sample import SAMPLE_REPORT_ID, build_sample_history, build_sample_report

pytestmark = pytest.mark.slow  # WeasyPrint lays out a dozen pages: several seconds


@pytest.fixture(scope="module")
def pdf_text() -> tuple[int, list[str]]:
    pdf = render_pdf(build_sample_report(), build_sample_history(3))
    assert pdf.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(pdf))
    return len(reader.pages), [page.extract_text() for page in reader.pages]


def test_pdf_has_several_pages(pdf_text: tuple[int, list[str]]) -> None:
    pages, _ = pdf_text
    assert pages > 1


def test_cover_page_holds_the_summary(pdf_text: tuple[int, list[str]]) -> None:
    _, texts = pdf_text
    cover = texts[0]
    assert SAMPLE_REPORT_ID in cover
    assert "FAILED" in cover
    assert "quality gates failed" in cover
    assert "21/22" in cover


def test_page_numbers_and_running_headers(pdf_text: tuple[int, list[str]]) -> None:
    pages, texts = pdf_text
    assert f"Page 1 of {pages}" in texts[0]
    assert f"Page {pages} of {pages}" in texts[-1]
    # running header on later pages (not on the cover)
    assert "FF Platform validation report" in texts[1] and SAMPLE_REPORT_ID in texts[1]


def test_every_section_is_printed(pdf_text: tuple[int, list[str]]) -> None:
    _, texts = pdf_text
    text = "\n".join(texts)
    for heading in ("What failed", "Tests", "Use cases", "Performance", "Security", "Failure simulation", "Migration"):
        assert heading in text
    assert "V7.3.3" in text
    assert "latency (ms)" in text  # chart text survives as text
