"""Split a document's text into chunks that follow its structure: sections, then paragraphs.

Pure: text in, spans out. A chunk never crosses a heading, so a hit cites one section and its
heading path says which. Inside a section chunks are filled up to ``size`` characters and end at
the best break available in their second half: a blank line (paragraph), then a line end, then a
sentence end, then a space. Consecutive chunks of one section share about ``overlap`` characters
(snapped to a word start), so a sentence cut by a boundary is whole in one of the two.

Headings recognised: Markdown ATX (``## Title``) and underlined titles (Markdown setext and the
reStructuredText style of Python's own docs: a line of ``= - * ~ ^ " + #`` under the title).
Lines inside fenced code blocks are never headings (``# comment`` in a shell snippet is code).

Spans are half-open offsets into the text, trimmed of surrounding whitespace, so
``text[start:end]`` is exactly the chunk and the offsets can be quoted in a citation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["FFChunkSpan", "FFSection", "find_sections", "chunk_text"]

_ATX = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)[ \t#]*$")
_UNDERLINE = re.compile(r"^([=\-*~^\"+#])\1{2,}[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_SENTENCE_END = re.compile(r"[.!?][\"')\]]?\s")
_MAX_HEADING_CHARS = 150


@dataclass(frozen=True, slots=True)
class FFSection:
    """A heading's stretch of text: from its heading line to the next heading."""

    start: int
    end: int
    headings: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FFChunkSpan:
    """One chunk: ``text[start:end]``, its position in the document and its heading path."""

    index: int
    start: int
    end: int
    heading: str


def _lines_with_offsets(text: str) -> list[tuple[int, str]]:
    lines: list[tuple[int, str]] = []
    offset = 0
    for line in text.split("\n"):
        lines.append((offset, line))
        offset += len(line) + 1
    return lines


def _headings(text: str) -> list[tuple[int, int, int, str]]:
    """``(heading offset, body offset, level, title)`` for every heading, in order.

    The body offset is where the text under the heading starts (after its one or two lines).
    """
    lines = _lines_with_offsets(text)
    underline_levels: dict[str, int] = {}
    found: list[tuple[int, int, int, str]] = []
    in_fence = False
    skip_next = False
    for number, (offset, line) in enumerate(lines):
        if skip_next:
            skip_next = False
            continue
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        atx = _ATX.match(line)
        if atx:
            found.append((offset, offset + len(line) + 1, len(atx.group(1)), atx.group(2).strip()))
            continue
        title = line.strip()
        if not title or len(title) > _MAX_HEADING_CHARS or number + 1 >= len(lines):
            continue
        under_offset, under_line = lines[number + 1]
        under = _UNDERLINE.match(under_line)
        previous_blank = number == 0 or not lines[number - 1][1].strip()
        if under and previous_blank and not _UNDERLINE.match(line):
            # Levels follow the order underline characters first appear, as in reStructuredText.
            level = underline_levels.setdefault(under.group(1), len(underline_levels) + 1)
            found.append((offset, under_offset + len(under_line) + 1, level, title))
            skip_next = True
    return found


def find_sections(text: str) -> list[FFSection]:
    """Cut ``text`` at its headings; text before the first heading is a section without one.

    A heading with no body of its own (directly followed by a sub-heading) is folded into the
    next section, so no chunk is a bare title.
    """
    sections: list[FFSection] = []
    stack: list[tuple[int, str]] = []
    start, body_start = 0, 0
    path: tuple[str, ...] = ()
    carried: int | None = None  # start of bodiless headings waiting for the next section
    for offset, next_body, level, title in _headings(text):
        if text[body_start:offset].strip():
            sections.append(FFSection(start if carried is None else carried, offset, path))
            carried = None
        elif path and carried is None:
            carried = start
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, title))
        path = tuple(t for _, t in stack)
        start, body_start = offset, next_body
    if text[start:].strip():
        sections.append(FFSection(start if carried is None else carried, len(text), path))
    return sections


def _best_break(text: str, low: int, high: int) -> int:
    """Where to end a chunk in ``text[low:high]``: after the strongest boundary found, else ``high``."""
    window = text[low:high]
    paragraph = window.rfind("\n\n")
    if paragraph > 0:
        return low + paragraph
    line = window.rfind("\n")
    if line > 0:
        return low + line
    sentence_ends = [m.end() - 1 for m in _SENTENCE_END.finditer(window)]
    if sentence_ends:
        return low + sentence_ends[-1]
    space = max(window.rfind(" "), window.rfind("\t"))
    if space > 0:
        return low + space
    return high


def _word_start_after(text: str, position: int, limit: int) -> int:
    """The first word start at or after ``position`` (not beyond ``limit``)."""
    if position > 0 and not text[position - 1].isspace():
        while position < limit and not text[position].isspace():
            position += 1
    while position < limit and text[position].isspace():
        position += 1
    return position


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _chunk_section(text: str, section: FFSection, size: int, overlap: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    position, section_end = _trim(text, section.start, section.end)
    while position < section_end:
        limit = position + size
        end = section_end if limit >= section_end else _best_break(text, position + size // 2, limit)
        start, stop = _trim(text, position, end)
        if stop > start:
            spans.append((start, stop))
        if end >= section_end:
            break
        following = end
        if overlap:
            following = _word_start_after(text, max(end - overlap, position + 1), end)
            if following >= end:
                following = end
        position = max(following, position + 1)
        position, _ = _trim(text, position, section_end)
    return spans


def chunk_text(text: str, *, size: int, overlap: int) -> list[FFChunkSpan]:
    """Chunks of ``text`` of at most ``size`` characters, following headings and paragraphs.

    Raises ValueError for sizes that cannot make progress (``size < 2`` or ``overlap`` over half
    of ``size``); the configuration refuses those long before they get here.
    """
    if size < 2 or overlap < 0 or overlap * 2 > size:
        raise ValueError(f"bad chunk geometry: size={size} overlap={overlap}")
    chunks: list[FFChunkSpan] = []
    for section in find_sections(text):
        heading = " > ".join(section.headings)
        for start, end in _chunk_section(text, section, size, overlap):
            chunks.append(FFChunkSpan(len(chunks), start, end, heading))
    return chunks
