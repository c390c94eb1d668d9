"""Chunking follows headings and paragraphs, overlaps within a section, and covers the text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ff_managers._knowledge.chunking import chunk_text, find_sections

MARKDOWN = """# Guide

Intro paragraph about the guide.

## Install

Run the installer. It takes a minute.

```bash
# not a heading: a shell comment
pip install thing
```

## Use

### Basics

Call the function.
"""

RST_STYLE = """The "if" statement
******************

The if statement selects a suite.

Details
=======

More words here.
"""


def test_sections_follow_markdown_headings_and_skip_code_fences() -> None:
    sections = find_sections(MARKDOWN)
    paths = [s.headings for s in sections]
    assert paths == [("Guide",), ("Guide", "Install"), ("Guide", "Use", "Basics")]
    install = sections[1]
    assert "# not a heading" in MARKDOWN[install.start : install.end]


def test_a_bodiless_heading_is_folded_into_the_next_section() -> None:
    sections = find_sections(MARKDOWN)
    basics = sections[2]
    # "## Use" has no body of its own: it starts the "Basics" section instead of a bare chunk.
    assert MARKDOWN[basics.start : basics.end].startswith("## Use")


def test_underlined_headings_as_in_python_docs() -> None:
    chunks = chunk_text(RST_STYLE, size=1000, overlap=100)
    assert [c.heading for c in chunks] == ['The "if" statement', 'The "if" statement > Details']
    assert RST_STYLE[chunks[1].start : chunks[1].end].startswith("Details\n=======")


def test_chunks_never_cross_a_heading() -> None:
    text = "# A\n\n" + "alpha words. " * 30 + "\n\n# B\n\n" + "beta words. " * 30
    for chunk in chunk_text(text, size=200, overlap=40):
        body = text[chunk.start : chunk.end]
        assert not ("alpha" in body and "beta" in body)


def test_long_sections_split_at_paragraphs_with_overlap() -> None:
    paragraphs = [f"Paragraph {i} " + "word " * 30 for i in range(8)]
    text = "\n\n".join(paragraphs)
    chunks = chunk_text(text, size=400, overlap=80)
    assert len(chunks) > 2
    for chunk in chunks:
        assert chunk.end - chunk.start <= 400
    for before, after in zip(chunks, chunks[1:], strict=False):
        assert after.start < before.end, "consecutive chunks of a section overlap"
        assert before.end - after.start <= 80
        assert text[after.start - 1].isspace(), "overlap starts at a word"


def test_offsets_are_exact_and_trimmed() -> None:
    text = "  \n\nFirst paragraph.\n\nSecond paragraph.  \n"
    [chunk] = chunk_text(text, size=1000, overlap=0)
    assert text[chunk.start : chunk.end] == "First paragraph.\n\nSecond paragraph."


def test_no_overlap_means_chunks_tile_the_section() -> None:
    text = " ".join(f"w{i}" for i in range(400))
    chunks = chunk_text(text, size=300, overlap=0)
    rebuilt = " ".join(text[c.start : c.end] for c in chunks)
    assert rebuilt == text


def test_bad_geometry_is_refused() -> None:
    with pytest.raises(ValueError):
        chunk_text("x", size=100, overlap=60)


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab #=\n.")), min_size=1, max_size=2000))
def test_every_non_space_character_is_in_some_chunk(text: str) -> None:
    chunks = chunk_text(text, size=120, overlap=30)
    covered = [False] * len(text)
    for chunk in chunks:
        assert 0 <= chunk.start < chunk.end <= len(text)
        assert chunk.end - chunk.start <= 120
        for i in range(chunk.start, chunk.end):
            covered[i] = True
    missing = [i for i, ch in enumerate(text) if not ch.isspace() and not covered[i]]
    assert missing == []
    assert [c.index for c in chunks] == list(range(len(chunks)))
