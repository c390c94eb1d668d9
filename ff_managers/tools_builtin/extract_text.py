"""extract_text: plain text out of a .txt, .md or .pdf file in the working directory.

Markdown loses its markup (headings, emphasis, links keep their text, code fences their code);
PDF text comes from ``pypdf`` page by page, imported only when a PDF is asked for (it takes a
third of a second to import). Bounded: a PDF with more than ``max_pages`` pages is refused before
a page is read, and extraction stops as soon as ``max_chars`` characters are out (pypdf's text
visitor), so a small PDF that expands to megabytes costs no more than the cap; the sandbox's
CPU, memory and size limits hold the rest (a flate bomb hits pypdf's inflate cap or RLIMIT_AS).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ._protocol import ToolError, run_tool, workspace_path

__all__ = ["extract", "markdown_to_text"]

_TEXT_SUFFIXES = {".txt", ".text", ".log", ".csv"}
_MARKDOWN_SUFFIXES = {".md", ".markdown"}
_MD_RULES = [
    (re.compile(r"^```.*$", re.MULTILINE), ""),  # fence lines (the code stays)
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),  # images -> alt text
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # links -> text
    (re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+", re.MULTILINE), ""),  # headings
    (re.compile(r"^[ \t]{0,3}>[ \t]?", re.MULTILINE), ""),  # block quotes
    (re.compile(r"^[ \t]*(?:[-*+]|\d+\.)[ \t]+", re.MULTILINE), ""),  # list markers
    (re.compile(r"(\*\*|__)(.+?)\1"), r"\2"),  # bold
    (re.compile(r"(?<![\w*])([*_])(?!\s)(.+?)(?<!\s)\1(?![\w*])"), r"\2"),  # italics
    (re.compile(r"`([^`]+)`"), r"\1"),  # inline code
]


def markdown_to_text(markdown: str) -> str:
    text = markdown
    for pattern, replacement in _MD_RULES:
        text = pattern.sub(replacement, text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


class _Enough(Exception):
    """Raised from pypdf's text visitor once the character cap is reached."""


def _pdf_text(path: Path, *, max_chars: int, max_pages: int) -> tuple[str, int, bool]:
    from pypdf import PdfReader
    from pypdf.errors import LimitReachedError, PdfReadError

    texts: list[str] = []
    total = 0
    truncated = False
    try:
        reader = PdfReader(str(path))
        count = len(reader.pages)
        if count > max_pages:
            raise ToolError(f"the PDF has {count:,} pages; the limit max_pages is {max_pages:,}")
        for page in reader.pages:
            pieces: list[str] = []
            seen = [total]

            def visitor(text: str, *_: object, pieces: list[str] = pieces, seen: list[int] = seen) -> None:
                pieces.append(text)
                seen[0] += len(text)
                if seen[0] > max_chars:
                    raise _Enough()

            try:
                text = (page.extract_text(visitor_text=visitor) or "").strip()
            except _Enough:
                text, truncated = "".join(pieces).strip(), True
            if text:
                texts.append(text)
                total += len(text) + 2
            if truncated or total > max_chars:
                truncated = True
                break
    except LimitReachedError as exc:
        raise ToolError(f"the PDF inflates past the decompression limit: {exc}") from exc
    except (PdfReadError, ValueError, KeyError) as exc:
        raise ToolError(f"not a readable PDF: {exc}") from exc
    return "\n\n".join(texts), count, truncated


def extract(path: Path, *, max_chars: int, max_pages: int = 2_000) -> dict[str, Any]:
    """Text of ``path`` by its suffix (or PDF magic bytes); cut at ``max_chars`` and say so."""
    suffix = path.suffix.lower()
    with path.open("rb") as handle:
        is_pdf = handle.read(5) == b"%PDF-"
    pages = None
    cut = False
    if is_pdf or suffix == ".pdf":
        if not is_pdf:
            raise ToolError("file has a .pdf name but is not a PDF")
        text, pages, cut = _pdf_text(path, max_chars=max_chars, max_pages=max_pages)
        kind = "pdf"
    elif suffix in _MARKDOWN_SUFFIXES:
        text, kind = markdown_to_text(path.read_text(encoding="utf-8", errors="replace")), "markdown"
    elif suffix in _TEXT_SUFFIXES or suffix == "":
        text, kind = path.read_text(encoding="utf-8", errors="replace"), "text"
    else:
        raise ToolError(f"unsupported file type {suffix!r}: use .txt, .md or .pdf")
    truncated = cut or len(text) > max_chars
    text = text[:max_chars]
    return {"text": text, "format": kind, "pages": pages, "characters": len(text), "truncated": truncated}


def _handle(args: dict[str, Any]) -> dict[str, Any]:
    return extract(
        workspace_path(args.get("path")),
        max_chars=int(args.get("max_chars", 200_000)),
        max_pages=int(args.get("max_pages", 2_000)),
    )


if __name__ == "__main__":
    run_tool(_handle)
