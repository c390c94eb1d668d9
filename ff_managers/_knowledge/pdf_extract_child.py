"""The child program that turns PDF bytes into text within limits (stdlib + pypdf only).

Run by :func:`ff_managers._knowledge.extract.extract_text` through
:func:`ff_managers._core.sandboxed_call.ff_run_python_child` as
``python -I -B pdf_extract_child.py MAX_PAGES MAX_CHARS MAX_CONTENT_BYTES`` with the PDF on stdin, so a bomb spends
the child's CPU and memory limits, not the manager's. It stops as soon as a limit is passed: the
page count is checked before any page is read, a page whose decoded content streams are larger
than MAX_CONTENT_BYTES is refused before pypdf parses them (parsing is what costs), and characters are counted as pypdf emits them
(its ``visitor_text`` hook), so a page that would expand to megabytes is abandoned at the cap.

stdout is one JSON document: ``{"text", "pages"}``, or ``{"limit": "pages"|"characters"|"page_content",
"message"}``, or ``{"error": "unreadable"|"encrypted", "message"}``.
"""

from __future__ import annotations

import io
import json
import logging
import sys
import zlib

__all__ = ["main"]


class _OverLimit(Exception):
    """Raised from pypdf's text visitor once the character cap is passed."""


def _emit(document: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(document, ensure_ascii=False))
    sys.stdout.flush()


def _content_bytes(page: object) -> int:
    contents = page.get_contents()  # type: ignore[attr-defined]
    return len(contents.get_data()) if contents is not None else 0


def _extract(data: bytes, max_pages: int, max_chars: int, max_content: int) -> dict[str, object]:
    import pypdf
    import pypdf.errors

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    parse_errors = (
        pypdf.errors.PyPdfError, ValueError, KeyError, TypeError, IndexError, AttributeError,
        AssertionError, RecursionError, zlib.error,
    )  # fmt: skip
    try:
        reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            return {"error": "encrypted", "message": "encrypted PDFs are not supported"}
        count = len(reader.pages)
        if count > max_pages:
            return {"limit": "pages", "message": f"the PDF has {count:,} pages; the limit is {max_pages:,}"}
        texts: list[str] = []
        total = 0
        for number, page in enumerate(reader.pages, start=1):
            content = _content_bytes(page)
            if content > max_content:
                return {
                    "limit": "page_content",
                    "message": f"page {number} has {content:,} bytes of content; the limit is {max_content:,}",
                }
            seen = [0]

            def visitor(text: str, *_: object, seen: list[int] = seen) -> None:
                seen[0] += len(text)
                if total + seen[0] > max_chars:
                    raise _OverLimit()

            text = (page.extract_text(visitor_text=visitor) or "").strip("\n")
            total += len(text) + 2
            if total > max_chars:
                raise _OverLimit()
            texts.append(text)
    except pypdf.errors.LimitReachedError as exc:  # a flate (or LZW...) bomb: pypdf stops inflating it
        return {"limit": "page_content", "message": f"a stream inflates past the decompression limit ({exc})"}
    except _OverLimit:
        return {"limit": "characters", "message": f"the PDF's text is longer than the limit of {max_chars:,} characters"}
    except parse_errors as exc:
        return {"error": "unreadable", "message": f"{type(exc).__name__}: {str(exc)[:200]}"}
    return {"text": "\n\n".join(texts).replace("\x00", ""), "pages": count}


def main(argv: list[str]) -> int:
    max_pages, max_chars, max_content = int(argv[1]), int(argv[2]), int(argv[3])
    data = sys.stdin.buffer.read()
    try:
        _emit(_extract(data, max_pages, max_chars, max_content))
    except MemoryError:
        _emit({"limit": "memory", "message": "extraction ran out of its memory limit"})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
