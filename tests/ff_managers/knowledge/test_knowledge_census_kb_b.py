"""Census of ``extract``, ``chunking`` and ``catalog`` (issue 20): the survivors, pinned by behaviour.

Every mutant of the three modules was run; the ones no earlier test noticed are killed here (the
others are listed in ``docs/mutation/equivalent/_knowledge/kb-b.toml``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import ff_managers._knowledge.extract as extract_module
from ff_class_configs import load_config
from ff_managers import FFKnowledgeBaseManager
from ff_managers._core.sandboxed_call import FFChildLimits, FFChildResult
from ff_managers._knowledge.chunking import chunk_text
from ff_managers._knowledge.extract import FFExtractLimits, extract_text, normalise_text, resolve_format
from ff_utils.ff_errors import FFValidationError

PDF = b"%PDF-1.4\nnot really parsed here\n%%EOF\n"


class _Child:
    """Stands in for the sandboxed extraction child: records the call, answers one page of text."""

    def __init__(self) -> None:
        self.calls: list[dict[str, object]] = []

    def __call__(self, script: Path, stdin: bytes, **kwargs: object) -> FFChildResult:
        self.calls.append({"script": script, "stdin": stdin, **kwargs})
        stdout = json.dumps({"text": "Lenses bend light.", "pages": 1}).encode()
        return FFChildResult(stdout, 0, None, None, True, b"", 0.0)


# ---------------------------------------------------------------- extract


async def test_the_managers_extract_settings_reach_the_pdf_child(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``FFExtractLimits.from_settings`` 1-10: each ``knowledge.extract_*`` setting is the one handed on."""
    settings = {
        "extract_max_pages": 7, "extract_max_chars": 1_234, "extract_max_page_content_mb": 3,
        "extract_cpu_seconds": 11, "extract_memory_mb": 333, "extract_wall_seconds": 17.5,
        "extract_bwrap_path": "/opt/bwrap-test", "extract_require_sandbox": True,
    }  # fmt: skip
    config = load_config(base_path=tmp_path, environ={}, overrides={"knowledge": settings})
    child = _Child()
    monkeypatch.setattr(extract_module, "ff_run_python_child", child)
    async with FFKnowledgeBaseManager(config) as kb:
        kb_id = (await kb.create_knowledge_base("alice", "Optics")).kb_id
        document = await kb.add_document("alice", kb_id, data=PDF, format="pdf", title="Lenses")
    assert document.page_count == 1
    assert len(child.calls) == 1
    call = child.calls[0]
    assert call["args"] == ("7", "1234", str(3 * 1024 * 1024))
    assert call["limits"] == FFChildLimits(cpu_seconds=11, memory_mb=333, wall_seconds=17.5, max_output=1_234 * 6 + 4096)
    assert call["bwrap_path"] == "/opt/bwrap-test" and call["require_sandbox"] is True


@pytest.mark.parametrize(("fmt", "expected"), [(".md", "markdown"), (" .PDF ", "pdf"), ("text/plain; charset=utf-8", "text"), (".txt", "text")])
def test_a_format_named_by_its_extension_with_a_dot_is_resolved(fmt: str, expected: str) -> None:
    """``resolve_format`` 25, 26: the leading dot of an extension is dropped (not whitespace, not a trailing dot)."""
    assert resolve_format(fmt, has_bytes=True) == expected


@pytest.mark.parametrize("fmt", ["md.", "pdf.", "..md."])
def test_a_format_with_a_trailing_dot_is_refused(fmt: str) -> None:
    with pytest.raises(FFValidationError) as caught:
        resolve_format(fmt, has_bytes=False)
    assert caught.value.field == "format" and caught.value.value == fmt
    assert caught.value.message.startswith(f"unsupported document format {fmt!r}; use one of ")


def test_every_newline_convention_becomes_one_newline() -> None:
    """``normalise_text`` 16: a lone carriage return is one newline, nothing more."""
    assert normalise_text("\ufeffa\rb\r\nc\n\rd") == "a\nb\nc\n\nd"
    extracted = extract_text(content="one\rtwo\r\nthree", data=None, fmt=None, max_bytes=1_000)
    assert extracted.text == "one\ntwo\nthree"


@pytest.mark.parametrize("given", ["content", "data"])
def test_text_with_a_nul_character_is_refused_exactly(given: str) -> None:
    """``_check_text`` 3-11: the NUL refusal's message and field (``content`` whichever way it came)."""
    text = "binary\x00data"
    arguments = {"content": text, "data": None} if given == "content" else {"content": None, "data": text.encode()}
    with pytest.raises(FFValidationError) as caught:
        extract_text(**arguments, fmt="text", max_bytes=1_000)
    assert caught.value.message == "document text contains NUL bytes: binary data sent as text?"
    assert caught.value.field == "content" and caught.value.value is None


@pytest.mark.parametrize(("fmt", "expected"), [("text/markdown;charset=utf-8;variant=gfm", "markdown"), ("application/pdf ;x=1", "pdf")])
def test_only_what_comes_before_the_first_semicolon_names_the_format(fmt: str, expected: str) -> None:
    """``resolve_format`` 27, 31, 33: MIME parameters after the first ``;`` are ignored."""
    assert resolve_format(fmt, has_bytes=True) == expected


def test_an_unknown_format_is_refused_listing_every_name_accepted() -> None:
    """``resolve_format`` 40-53: message (the name cut at 60 characters), field and value."""
    fmt = "y" * 70
    with pytest.raises(FFValidationError) as caught:
        resolve_format(fmt, has_bytes=True)
    allowed = (
        "application/pdf, markdown, md, pdf, plain, text, text/markdown, text/plain, text/x-markdown, txt"
    )
    assert caught.value.message == f"unsupported document format {'y' * 60!r}; use one of {allowed}"
    assert caught.value.field == "format" and caught.value.value == fmt


@pytest.mark.parametrize(("content", "data"), [(None, None), ("text", b"text")], ids=["neither", "both"])
def test_content_and_data_are_exclusive(content: str | None, data: bytes | None) -> None:
    """``extract_text`` 4-11."""
    with pytest.raises(FFValidationError) as caught:
        extract_text(content=content, data=data, fmt="text", max_bytes=1_000)
    assert caught.value.message == "give exactly one of content= (text) or data= (bytes)"
    assert caught.value.field == "content" and caught.value.value is None


def test_data_that_is_not_bytes_is_refused_naming_its_type() -> None:
    """``extract_text`` 29-39."""
    with pytest.raises(FFValidationError) as caught:
        extract_text(content=None, data=[104, 105], fmt="text", max_bytes=1_000)  # type: ignore[arg-type]
    assert caught.value.message == "data must be bytes"
    assert caught.value.field == "data" and caught.value.value == "list"


def test_content_that_cannot_be_utf8_is_refused() -> None:
    """``extract_text`` 63-71: a lone surrogate."""
    with pytest.raises(FFValidationError) as caught:
        extract_text(content="half \ud800 a pair", data=None, fmt="text", max_bytes=1_000)
    assert caught.value.message == "content is not valid Unicode text"
    assert caught.value.field == "content" and caught.value.value is None


@pytest.mark.parametrize(("content", "data", "field"), [("", None, "content"), (None, b"", "data")])
def test_an_empty_document_is_refused_naming_what_was_empty(content: str | None, data: bytes | None, field: str) -> None:
    """``extract_text`` 75-87."""
    with pytest.raises(FFValidationError) as caught:
        extract_text(content=content, data=data, fmt="text", max_bytes=1_000)
    assert caught.value.message == "document is empty"
    assert caught.value.field == field and caught.value.value is None


def test_a_document_of_exactly_the_byte_limit_is_accepted_and_one_more_is_refused() -> None:
    """``extract_text`` 88, 96, 100, 101: ``max_bytes`` itself fits; bytes over it are refused naming ``data``."""
    assert extract_text(content=None, data=b"a" * 10, fmt="text", max_bytes=10).text == "a" * 10
    assert extract_text(content="é" * 5, data=None, fmt="text", max_bytes=10).text == "é" * 5
    with pytest.raises(FFValidationError) as caught:
        extract_text(content=None, data=b"a" * 1_001, fmt="text", max_bytes=1_000)
    assert caught.value.message == "document of 1,001 bytes exceeds max_document_bytes (1,000)"
    assert caught.value.field == "data" and caught.value.value == 1_001


@pytest.mark.parametrize("given", ["content", "data"])
def test_a_text_of_exactly_the_character_limit_is_accepted(given: str) -> None:
    """``extract_text`` 118: ``max_chars`` characters fit (characters, not bytes)."""
    text = "ü" * 8
    arguments = {"content": text, "data": None} if given == "content" else {"content": None, "data": text.encode()}
    extracted = extract_text(**arguments, fmt="text", max_bytes=1_000, limits=FFExtractLimits(max_chars=8))
    assert extracted.text == text
    with pytest.raises(FFValidationError) as caught:
        extract_text(**arguments, fmt="text", max_bytes=1_000, limits=FFExtractLimits(max_chars=7))
    assert caught.value.field == given and caught.value.context == {"limit": "extract_max_chars"}


# ---------------------------------------------------------------- chunking


def test_an_indented_heading_starts_its_own_chunk_at_the_heading() -> None:
    """``_trim`` 3 (``start = 1``): a section starting with spaces was trimmed back to offset 1."""
    text = "Intro text here.\n\n  ## Optics\n\nLenses bend light."
    chunks = chunk_text(text, size=200, overlap=0)
    assert [(c.start, c.end, c.heading) for c in chunks] == [(0, 16, ""), (20, len(text), "Optics")]
    assert text[chunks[1].start:chunks[1].end] == "## Optics\n\nLenses bend light."


def test_a_section_of_exactly_the_chunk_size_is_one_chunk() -> None:
    """``_chunk_section`` 15 (``limit > section_end``): a section that just fits was cut at its paragraph break."""
    text = "Alpha beta gamma.\n\nDelta"
    assert [(c.start, c.end) for c in chunk_text(text, size=len(text), overlap=0)] == [(0, len(text))]
    assert [(c.start, c.end) for c in chunk_text(text, size=len(text) - 1, overlap=0)] == [(0, 17), (19, len(text))]


def test_a_break_in_the_first_half_of_a_chunk_is_not_used() -> None:
    """``_chunk_section`` 24 (window from ``size // 3``): a paragraph break before half the size ended the chunk."""
    text = "a" * 12 + "\n\n" + "b" * 12 + " " + "c" * 20
    chunks = chunk_text(text, size=30, overlap=0)
    assert [(c.start, c.end) for c in chunks] == [(0, 26), (27, 47)]


def test_an_overlap_inside_one_long_word_starts_the_next_chunk_at_the_cut() -> None:
    """``_chunk_section`` 52 (``following = None``): no word start in the overlap, so no overlap at all."""
    assert [(c.start, c.end) for c in chunk_text("a" * 25, size=10, overlap=3)] == [(0, 10), (10, 20), (20, 25)]


def test_the_smallest_chunk_size_is_two() -> None:
    """``chunk_text`` 3, 4: size 2 makes progress and is accepted; 1 is refused."""
    assert [(c.start, c.end) for c in chunk_text("ab cd", size=2, overlap=1)] == [(0, 2), (3, 5)]
    with pytest.raises(ValueError, match=r"^bad chunk geometry: size=1 overlap=0$"):
        chunk_text("ab cd", size=1, overlap=0)


def test_an_overlap_of_exactly_half_the_size_is_accepted() -> None:
    """``chunk_text`` 2, 8, 9: overlap up to half of ``size`` fits; more, or a negative one, is refused."""
    assert [(c.start, c.end) for c in chunk_text("abc defg hij", size=4, overlap=2)] == [(0, 3), (4, 8), (9, 12)]
    for size, overlap in ((4, 3), (4, -1), (1, 0)):
        with pytest.raises(ValueError, match=rf"^bad chunk geometry: size={size} overlap={overlap}$"):
            chunk_text("abc defg hij", size=size, overlap=overlap)


@pytest.mark.parametrize(("text", "expected"), [
    pytest.param("Title\n~~~~~\n\nBody\n\n## Next\n\nMore", [("Title\n~~~~~\n\nBody", "Title"), ("## Next\n\nMore", "Title > Next")], id="tilde-underline-is-not-a-fence"),
    pytest.param("# A\nx\n# B\ny", [("# A\nx", "A"), ("# B\ny", "B")], id="atx-one-character-body"),
    pytest.param("A\n===\nx\n\nB\n===\ny", [("A\n===\nx", "A"), ("B\n===\ny", "B")], id="setext-one-character-body"),
    pytest.param("A\n===\n\nB\n===\ny", [("A\n===\n\nB\n===\ny", "B")], id="setext-without-body-folded"),
    pytest.param("Intro\n\nTitle\n=====", [("Intro", ""), ("Title\n=====", "Title")], id="underline-on-the-last-line"),
    pytest.param("para line\nTitle\n=====\n\nbody", [("para line\nTitle\n=====\n\nbody", "")], id="after-a-text-line-no-heading"),
    pytest.param("intro\nTitle\n===\n\nbody", [("intro\nTitle\n===\n\nbody", "")], id="second-line-after-text"),
    pytest.param("Title\n=====\n\nBody", [("Title\n=====\n\nBody", "Title")], id="first-line-no-final-newline"),
    pytest.param("# Top\n\nx\n\nPart\n====\n\ny", [("# Top\n\nx", "Top"), ("Part\n====\n\ny", "Part")], id="first-underline-is-level-1"),
    pytest.param("Part\n====\n\nx\n\n# H\n\ny", [("Part\n====\n\nx", "Part"), ("# H\n\ny", "H")], id="level-1-closes-first-underline"),
    pytest.param("x\n# A\nbody", [("x", ""), ("# A\nbody", "A")], id="one-character-before-the-first-heading"),
])  # fmt: skip
def test_headings_cut_sections_exactly(text: str, expected: list[tuple[str, str]]) -> None:
    """``_headings`` 23, 33, 43, 44, 60, 61, 63-67 and ``find_sections`` 5: each chunk's text and heading path."""
    assert [(text[c.start:c.end], c.heading) for c in chunk_text(text, size=500, overlap=0)] == expected
