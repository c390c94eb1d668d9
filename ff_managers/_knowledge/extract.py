"""Turn what a caller hands the knowledge base (text, Markdown, PDF bytes) into plain text.

Bytes in, text out, no disk. Every failure is one :class:`FFValidationError`, raised before the
manager writes anything. The text that comes out is normalised (``\\r\\n`` and ``\\r`` become
``\\n``, a UTF-8 BOM is dropped) because chunk offsets and citations index it.

Bounded: a PDF is parsed in a child process (:mod:`ff_managers._knowledge.pdf_extract_child`,
started by :func:`ff_managers._core.sandboxed_call.ff_run_python_child`: bubblewrap when it can
sandbox here, rlimits always), never in the manager's process, so a 17 KB file that expands to
tens of megabytes of text or a flate bomb spends the child's CPU and memory limits and is
refused with one FFValidationError naming the limit (``knowledge.extract_*``). Text and
Markdown are held to the same character limit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ff_class_configs.ff_knowledge_config import FFKnowledgeConfigDTO
from ff_class_configs.ff_knowledge_dtos import FFDocumentFormat
from ff_managers._core.sandboxed_call import FFChildLimits, ff_run_python_child
from ff_utils.ff_errors import FFValidationError

__all__ = ["FFExtractLimits", "FFExtractedText", "resolve_format", "extract_text", "normalise_text", "FORMAT_MIME_TYPES"]

_CHILD = Path(__file__).resolve().with_name("pdf_extract_child.py")

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

@dataclass(frozen=True, slots=True)
class FFExtractLimits:
    """How much one document may cost to extract (``knowledge.extract_*``)."""

    max_pages: int = 2_000
    max_chars: int = 2_000_000
    max_page_content_mb: int = 16
    cpu_seconds: int = 20
    memory_mb: int = 768
    wall_seconds: float = 60.0
    bwrap_path: str = "/usr/bin/bwrap"
    require_sandbox: bool = False

    @classmethod
    def from_settings(cls, settings: FFKnowledgeConfigDTO) -> FFExtractLimits:
        return cls(
            max_pages=settings.extract_max_pages,
            max_chars=settings.extract_max_chars,
            max_page_content_mb=settings.extract_max_page_content_mb,
            cpu_seconds=settings.extract_cpu_seconds,
            memory_mb=settings.extract_memory_mb,
            wall_seconds=settings.extract_wall_seconds,
            bwrap_path=settings.extract_bwrap_path,
            require_sandbox=settings.extract_require_sandbox,
        )


_LIMIT_SETTINGS = {
    "pages": "extract_max_pages",
    "characters": "extract_max_chars",
    "page_content": "extract_max_page_content_mb",
    "cpu_time": "extract_cpu_seconds",
    "memory": "extract_memory_mb",
    "wall_time": "extract_wall_seconds",
}


def _over(limit: str, message: str) -> FFValidationError:
    name = _LIMIT_SETTINGS[limit]
    return FFValidationError(f"PDF refused: {message} (limit knowledge.{name})", field="data", limit=name)


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


def _pdf_text(data: bytes, limits: FFExtractLimits) -> tuple[str, int]:
    if not data.lstrip()[:5] == b"%PDF-":
        raise FFValidationError("not a PDF: the data does not start with %PDF-", field="data")
    child_limits = FFChildLimits(
        cpu_seconds=limits.cpu_seconds,
        memory_mb=limits.memory_mb,
        wall_seconds=limits.wall_seconds,
        max_output=limits.max_chars * 6 + 4096,  # JSON of max_chars characters, escapes included
    )
    result = ff_run_python_child(
        _CHILD, data, args=(str(limits.max_pages), str(limits.max_chars), str(limits.max_page_content_mb * 1024 * 1024)), limits=child_limits,
        bwrap_path=limits.bwrap_path, require_sandbox=limits.require_sandbox,
    )  # fmt: skip
    if result.limit is not None:
        raise _over(result.limit, f"extraction stopped at its {result.limit.replace('_', ' ')} limit")
    try:
        document = json.loads(result.stdout)
    except (json.JSONDecodeError, UnicodeDecodeError):
        document = None
    if not isinstance(document, dict):
        detail = result.stderr_tail.decode("utf-8", errors="replace").strip().splitlines()[-1:] or [f"exit {result.exit_code}"]
        raise FFValidationError(f"corrupt or unreadable PDF: the extraction failed ({detail[0][:200]})", field="data")
    if "limit" in document:
        raise _over(str(document["limit"]), str(document.get("message", "")))
    if document.get("error") == "encrypted":
        raise FFValidationError("encrypted PDFs are not supported", field="data")
    if "error" in document:
        raise FFValidationError(f"corrupt or unreadable PDF: {document.get('message', '')}", field="data")
    return str(document["text"]), int(document["pages"])


def extract_text(
    *,
    content: str | None,
    data: bytes | None,
    fmt: str | None,
    max_bytes: int,
    limits: FFExtractLimits | None = None,
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
    limits = limits or FFExtractLimits()
    page_count: int | None = None
    if document_format == "pdf":
        raw_text, page_count = _pdf_text(source, limits)
    else:
        raw_text = content if content is not None else _decode(source)
        if len(raw_text) > limits.max_chars:
            raise FFValidationError(
                f"document of {len(raw_text):,} characters exceeds the limit of {limits.max_chars:,} "
                "(limit knowledge.extract_max_chars)",
                field="content" if content is not None else "data",
                limit="extract_max_chars",
            )
    text = _check_text(raw_text)
    return FFExtractedText(text, document_format, FORMAT_MIME_TYPES[document_format], source, page_count)
