"""Turn what a caller hands the knowledge base (text, Markdown, PDF bytes) into plain text.

Pure: bytes in, text out, no disk. Every failure is one :class:`FFValidationError`, raised before
the manager writes anything. The text that comes out is normalised (``\\r\\n`` and ``\\r`` become
``\\n``, a UTF-8 BOM is dropped) because chunk offsets and citations index it.
"""

from __future__ import annotations

import io
import logging
import zlib
from dataclasses import dataclass

import pypdf
import pypdf.errors

from ff_class_configs.ff_knowledge_dtos import FFDocumentFormat
from ff_utils.ff_errors import FFValidationError

__all__ = ["FFExtractedText", "resolve_format", "extract_text", "normalise_text", "FORMAT_MIME_TYPES"]

FORMAT_MIME_TYPES: dict[FFDocumentFormat, str] = {
    "text": "text/plain",
    "markdown": "text/markdown",
    "pdf": "application/pdf",
}

# Everything a caller may name a format by: our short names, MIME types, file extensions.
_ALIASES: dict[str, FFDocumentFormat] = {
    "text": "text",
    "txt": "text",
    "plain": "text",
    "text/plain": "text",
    "markdown": "markdown",
    "md": "markdown",
    "text/markdown": "markdown",
    "text/x-markdown": "markdown",
    "pdf": "pdf",
    "application/pdf": "pdf",
}

# pypdf reports damaged files with its own errors, but a hostile or truncated file also reaches
# plain Python errors deep in its parser (a missing dict key, a bad int, a broken zlib stream).
# These are the ones its parser is known to let through; each means "not a readable PDF".
_PDF_PARSE_ERRORS: tuple[type[BaseException], ...] = (
    pypdf.errors.PyPdfError,
    ValueError,
    KeyError,
    TypeError,
    IndexError,
    AttributeError,
    AssertionError,
    RecursionError,
    zlib.error,
)


@dataclass(frozen=True, slots=True)
class FFExtractedText:
    """The text of a document and what we learnt while extracting it."""

    text: str
    format: FFDocumentFormat
    mime_type: str
    source_bytes: bytes
    page_count: int | None = None


def resolve_format(fmt: str | None, *, has_bytes: bool) -> FFDocumentFormat:
    """Map a short name, MIME type or extension to a format; FFValidationError when unknown.

    Without a format, text given as ``content=`` is plain text and bytes given as ``data=`` must
    say what they are (guessing PDF versus text from bytes would hide caller mistakes).
    """
    if fmt is None:
        if has_bytes:
            raise FFValidationError(
                "data= needs format= (one of text, markdown, pdf or their MIME types)", field="format"
            )
        return "text"
    if not isinstance(fmt, str):
        raise FFValidationError("format must be a string", field="format", value=fmt)
    key = fmt.strip().lower().split(";", 1)[0].strip().lstrip(".")
    found = _ALIASES.get(key)
    if found is None:
        allowed = ", ".join(sorted(set(_ALIASES)))
        raise FFValidationError(f"unsupported document format {fmt[:60]!r}; use one of {allowed}", field="format", value=fmt)
    return found


def normalise_text(text: str) -> str:
    """One newline convention and no BOM, so offsets mean the same thing everywhere."""
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _check_text(text: str) -> str:
    if "\x00" in text:
        raise FFValidationError("document text contains NUL bytes: binary data sent as text?", field="content")
    normalised = normalise_text(text)
    if not normalised.strip():
        raise FFValidationError("document is empty (no text after extraction)", field="content")
    return normalised


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FFValidationError(
            f"text document is not UTF-8 (byte {exc.start}: {exc.reason})", field="data"
        ) from exc


def _pdf_text(data: bytes) -> tuple[str, int]:
    if not data.lstrip()[:5] == b"%PDF-":
        raise FFValidationError("not a PDF: the data does not start with %PDF-", field="data")
    # pypdf logs every recoverable oddity of a damaged file as a warning; the caller gets our
    # one error instead, so keep its logger quiet for the duration.
    pdf_logger = logging.getLogger("pypdf")
    previous = pdf_logger.level
    pdf_logger.setLevel(logging.ERROR)
    try:
        reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise FFValidationError("encrypted PDFs are not supported", field="data")
        pages = [page.extract_text() or "" for page in reader.pages]
    except FFValidationError:
        raise
    except _PDF_PARSE_ERRORS as exc:
        raise FFValidationError(f"corrupt or unreadable PDF: {type(exc).__name__}: {str(exc)[:200]}", field="data") from exc
    finally:
        pdf_logger.setLevel(previous)
    # Pages become paragraphs: a blank line between them lets the chunker break there.
    text = "\n\n".join(page.strip("\n") for page in pages)
    # Some fonts map glyphs to NUL; in extracted text that is noise, not a sign of binary input.
    return text.replace("\x00", ""), len(pages)


def extract_text(
    *,
    content: str | None,
    data: bytes | None,
    fmt: str | None,
    max_bytes: int,
) -> FFExtractedText:
    """Validate one document and return its text; raise FFValidationError for anything unusable.

    Exactly one of ``content`` (text) and ``data`` (bytes) must be given. ``max_bytes`` bounds
    the source: the UTF-8 size of ``content`` or the length of ``data``, checked before parsing.
    """
    if (content is None) == (data is None):
        raise FFValidationError("give exactly one of content= (text) or data= (bytes)", field="content")
    if content is not None and not isinstance(content, str):
        raise FFValidationError("content must be str (use data= for bytes)", field="content", value=type(content).__name__)
    if data is not None and not isinstance(data, (bytes, bytearray, memoryview)):
        raise FFValidationError("data must be bytes", field="data", value=type(data).__name__)
    document_format = resolve_format(fmt, has_bytes=data is not None)
    if content is not None:
        if document_format == "pdf":
            raise FFValidationError("a PDF must be given as data= bytes, not content=", field="format")
        try:
            source = content.encode("utf-8")
        except UnicodeEncodeError as exc:  # lone surrogates cannot be stored as UTF-8
            raise FFValidationError("content is not valid Unicode text", field="content") from exc
    else:
        source = bytes(data)  # type: ignore[arg-type]
    if not source:
        raise FFValidationError("document is empty", field="content" if content is not None else "data")
    if len(source) > max_bytes:
        raise FFValidationError(
            f"document of {len(source):,} bytes exceeds max_document_bytes ({max_bytes:,})",
            field="content" if content is not None else "data",
            value=len(source),
        )
    page_count: int | None = None
    if document_format == "pdf":
        raw_text, page_count = _pdf_text(source)
    else:
        raw_text = content if content is not None else _decode(source)
    text = _check_text(raw_text)
    return FFExtractedText(text, document_format, FORMAT_MIME_TYPES[document_format], source, page_count)
