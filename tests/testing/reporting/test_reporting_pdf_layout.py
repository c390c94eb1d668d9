"""PDF layout: no blank, mostly blank or footer-only page, and table headers that do not run together.

Read from the PDF itself (pypdf: text per page, with positions), so it checks what a reader of
the printed report sees, not the CSS that was meant to produce it.
"""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from testing.reporting import render_pdf
from testing.reporting.sample import build_sample_history, build_sample_report

pytestmark = pytest.mark.slow  # WeasyPrint lays out a dozen pages: several seconds

_RUNNING = re.compile(r"^(FF Platform validation report|run-[\w-]+|Verdict: \w+|Page \d+ of \d+)$")


def _pages(pdf: bytes) -> list[tuple[float, list[tuple[float, str]]]]:
    """Per page: its height and the (y, text) of every piece of text on it (y from the bottom)."""
    pages = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        pieces: list[tuple[float, str]] = []

        def visit(text: str, cm: list[float], tm: list[float], font: object, size: float) -> None:
            if text.strip():
                pieces.append((tm[4] * cm[1] + tm[5] * cm[3] + cm[5], text.strip()))

        page.extract_text(visitor_text=visit)
        pages.append((float(page.mediabox.height), pieces))
    return pages


def body_lines(pieces: list[tuple[float, str]]) -> list[str]:
    """The page's text without the running header and footer."""
    return [text for _, text in pieces if not _RUNNING.match(text)]


def layout_problems(pdf: bytes) -> list[str]:
    """Pages that are blank, footer-only, or (except the cover and the last) mostly blank."""
    pages = _pages(pdf)
    problems = []
    for number, (height, pieces) in enumerate(pages, start=1):
        body = body_lines(pieces)
        if sum(len(text) for text in body) < 200:
            problems.append(f"page {number}: no body content ({' | '.join(body)[:80]!r})")
            continue
        if 1 < number < len(pages):
            lowest = min(y for y, text in pieces if not _RUNNING.match(text))
            if lowest > 0.4 * height:  # the page's text ends in its upper 60 %
                problems.append(f"page {number}: mostly blank (text ends {100 * (1 - lowest / height):.0f}% down)")
    return problems


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return render_pdf(build_sample_report(), build_sample_history(3))


def test_every_page_has_body_content_and_none_is_mostly_blank(pdf: bytes) -> None:
    assert layout_problems(pdf) == []


def test_the_last_page_is_not_only_a_footer(pdf: bytes) -> None:
    _, pieces = _pages(pdf)[-1]
    assert "Environment" in body_lines(pieces) or "Packages" in body_lines(pieces)


def test_the_check_finds_a_mostly_blank_page() -> None:
    """The layout check can fail: the old print CSS (a page break before every section) is reported."""
    from testing.reporting import render_html
    from testing.reporting._pdf_writer import html_to_pdf

    html = render_html(build_sample_report())
    broken = html.replace("</style>", "@media print { section { break-before: page; } }</style>", 1)
    problems = layout_problems(html_to_pdf(broken))
    assert any("mostly blank" in p for p in problems), problems


@pytest.mark.parametrize(
    "header",
    [
        r"Suite\s+Tests\s+Passed\s+Failed\s+Flaky\s+Skipped\s+Duration",
        r"tools\s+analyt\W*\s*ics\s+Checks\s+Steps\s+Time\s+First failure",
        r"Operation\s+Count\s+Errors\s+Min ms\s+p50 ms\s+p90 ms\s+p95 ms\s+p99 ms\s+Max ms\s+Mean ms\s+ops/s",
        r"ASVS\s+Check\s+Outcome\s+Attack\s+Expected\s+Observed\s+Severity",
        r"Scenario\s+Status\s+Recovery\s+Message",
        r"Kind\s+Source\s+Target\s+Match",
    ],
)
def test_table_headers_do_not_run_into_each_other(pdf: bytes, header: str) -> None:
    """Header cells that overflow their column print over the next one: their words then touch."""
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert re.search(header, text, re.IGNORECASE), header
