"""extract_text: plain text out of a .txt, .md or .pdf file in the working directory.

Markdown loses its markup (headings, emphasis, links keep their text, code fences their code);
PDF text comes from ``pypdf`` page by page, imported only when a PDF is asked for (it takes a
third of a second to import).
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


def _pdf_text(path: Path) -> tuple[str, int]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        pages = [(page.extract_text() or "").strip() for page in reader.pages]
    except (PdfReadError, ValueError, KeyError) as exc:
        raise ToolError(f"not a readable PDF: {exc}") from exc
    return "\n\n".join(p for p in pages if p), len(pages)


def extract(path: Path, *, max_chars: int) -> dict[str, Any]:
    """Text of ``path`` by its suffix (or PDF magic bytes); cut at ``max_chars`` and say so."""
    suffix = path.suffix.lower()
    with path.open("rb") as handle:
        is_pdf = handle.read(5) == b"%PDF-"
    pages = None
    if is_pdf or suffix == ".pdf":
        if not is_pdf:
            raise ToolError("file has a .pdf name but is not a PDF")
        text, pages = _pdf_text(path)
        kind = "pdf"
    elif suffix in _MARKDOWN_SUFFIXES:
        text, kind = markdown_to_text(path.read_text(encoding="utf-8", errors="replace")), "markdown"
    elif suffix in _TEXT_SUFFIXES or suffix == "":
        text, kind = path.read_text(encoding="utf-8", errors="replace"), "text"
    else:
        raise ToolError(f"unsupported file type {suffix!r}: use .txt, .md or .pdf")
    truncated = len(text) > max_chars
    text = text[:max_chars]
    return {"text": text, "format": kind, "pages": pages, "characters": len(text), "truncated": truncated}


def _handle(args: dict[str, Any]) -> dict[str, Any]:
    return extract(workspace_path(args.get("path")), max_chars=int(args.get("max_chars", 200_000)))


if __name__ == "__main__":
    run_tool(_handle)
