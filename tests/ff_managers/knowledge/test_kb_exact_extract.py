"""PDF extraction, exactly: the limits handed to the child and every refusal read back whole.

The extraction child (``pdf_extract_child.py``) runs sandboxed, so its own tests cannot judge
mutants of :func:`ff_managers._knowledge.extract._pdf_text` (docs/MUTATION.md). These tests put a
recorder in place of :func:`ff_run_python_child` (a ``_core`` function, not a mutated one) and
check what the manager's side promises: every ``knowledge.extract_*`` setting reaches the child
(pages, characters, page content, CPU, memory, wall time, sandbox), and each way the child can
end becomes one FFValidationError with its exact message, ``field="data"`` and the ``limit``
setting it names. One test runs the real child, so the canned documents stay its real format.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import ff_managers._knowledge.extract as extract_module
from ff_managers._core.sandboxed_call import FFChildLimits, FFChildResult
from ff_managers._knowledge.extract import FFExtractLimits, extract_text
from ff_utils.ff_errors import FFValidationError
from testing.suites.security._pdf_bombs import one_page_pdf

LIMITS = FFExtractLimits(
    max_pages=7, max_chars=1_234, max_page_content_mb=3, cpu_seconds=11, memory_mb=333,
    wall_seconds=17.5, bwrap_path="/opt/bwrap-test", require_sandbox=True,
)  # fmt: skip
PDF = b"%PDF-1.4\nnot really parsed here\n%%EOF\n"


class _Child:
    """Stands in for the sandboxed child: records the call, answers with a canned result."""

    def __init__(self, stdout: bytes = b"", *, limit: str | None = None, exit_code: int | None = 0, stderr: bytes = b"") -> None:
        self.result = FFChildResult(stdout, exit_code, None, limit, True, stderr, 0.0)
        self.calls: list[dict[str, object]] = []

    def __call__(self, script: Path, stdin: bytes, **kwargs: object) -> FFChildResult:
        self.calls.append({"script": script, "stdin": stdin, **kwargs})
        return self.result


def _document(document: dict[str, object]) -> bytes:
    return json.dumps(document).encode()


def _run(monkeypatch: pytest.MonkeyPatch, child: _Child, data: bytes = PDF) -> object:
    monkeypatch.setattr(extract_module, "ff_run_python_child", child)
    return extract_text(content=None, data=data, fmt="pdf", max_bytes=1_000_000, limits=LIMITS)


def _refusal(monkeypatch: pytest.MonkeyPatch, child: _Child, data: bytes = PDF) -> FFValidationError:
    with pytest.raises(FFValidationError) as caught:
        _run(monkeypatch, child, data)
    assert caught.value.field == "data"
    return caught.value


def test_every_extraction_limit_reaches_the_child(monkeypatch: pytest.MonkeyPatch) -> None:
    child = _Child(_document({"text": "Hello\r\nworld", "pages": 2}))
    extracted = _run(monkeypatch, child)
    assert len(child.calls) == 1
    call = child.calls[0]
    assert call["script"] == Path(extract_module.__file__).resolve().with_name("pdf_extract_child.py")
    assert call["stdin"] == PDF
    assert call["args"] == ("7", "1234", str(3 * 1024 * 1024))
    assert call["limits"] == FFChildLimits(cpu_seconds=11, memory_mb=333, wall_seconds=17.5, max_output=1_234 * 6 + 4096)
    assert call["bwrap_path"] == "/opt/bwrap-test" and call["require_sandbox"] is True
    assert set(call) == {"script", "stdin", "args", "limits", "bwrap_path", "require_sandbox"}
    assert (extracted.text, extracted.page_count, extracted.format, extracted.mime_type) == ("Hello\nworld", 2, "pdf", "application/pdf")
    assert extracted.source_bytes == PDF


def test_leading_whitespace_before_the_pdf_header_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    child = _Child(_document({"text": "x", "pages": 1}))
    assert _run(monkeypatch, child, b" \n\t" + PDF).page_count == 1
    assert child.calls[0]["stdin"] == b" \n\t" + PDF  # the bytes as given, not stripped


def test_bytes_that_are_not_a_pdf_never_reach_the_child(monkeypatch: pytest.MonkeyPatch) -> None:
    child = _Child(_document({"text": "x", "pages": 1}))
    error = _refusal(monkeypatch, child, b"%PDF 1.4 no dash")
    assert error.message == "not a PDF: the data does not start with %PDF-"
    assert child.calls == []


@pytest.mark.parametrize(("limit", "setting", "words"), [
    ("pages", "extract_max_pages", "pages"),
    ("characters", "extract_max_chars", "characters"),
    ("page_content", "extract_max_page_content_mb", "page content"),
    ("cpu_time", "extract_cpu_seconds", "cpu time"),
    ("memory", "extract_memory_mb", "memory"),
    ("wall_time", "extract_wall_seconds", "wall time"),
])  # fmt: skip
def test_a_child_stopped_at_a_limit_is_refused_naming_the_setting(monkeypatch: pytest.MonkeyPatch, limit: str, setting: str, words: str) -> None:
    error = _refusal(monkeypatch, _Child(b'{"text": "never read", "pages": 1}', limit=limit, exit_code=None))
    assert error.message == f"PDF refused: extraction stopped at its {words} limit (limit knowledge.{setting})"
    assert error.context == {"limit": setting} and error.value is None


@pytest.mark.parametrize(("limit", "setting"), [("pages", "extract_max_pages"), ("characters", "extract_max_chars"), ("page_content", "extract_max_page_content_mb")])
def test_a_limit_the_child_reports_itself_is_refused_with_its_message(monkeypatch: pytest.MonkeyPatch, limit: str, setting: str) -> None:
    error = _refusal(monkeypatch, _Child(_document({"limit": limit, "message": "the PDF has 9 pages, more than 7"})))
    assert error.message == f"PDF refused: the PDF has 9 pages, more than 7 (limit knowledge.{setting})"
    assert error.context == {"limit": setting}


def test_a_reported_limit_without_a_message_keeps_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    error = _refusal(monkeypatch, _Child(_document({"limit": "pages"})))
    assert error.message == "PDF refused:  (limit knowledge.extract_max_pages)"


def test_an_encrypted_pdf_is_refused_as_such(monkeypatch: pytest.MonkeyPatch) -> None:
    error = _refusal(monkeypatch, _Child(_document({"error": "encrypted", "message": "needs a password"})))
    assert error.message == "encrypted PDFs are not supported"


def test_an_unreadable_pdf_is_refused_with_the_childs_message(monkeypatch: pytest.MonkeyPatch) -> None:
    error = _refusal(monkeypatch, _Child(_document({"error": "unreadable", "message": "xref table broken"})))
    assert error.message == "corrupt or unreadable PDF: xref table broken"
    error = _refusal(monkeypatch, _Child(_document({"error": "unreadable"})))
    assert error.message == "corrupt or unreadable PDF: "


@pytest.mark.parametrize("stdout", [b"", b"not json", b"\xff\xfe", b"[1, 2]", b'"text"'], ids=["empty", "text", "not-utf8", "list", "string"])
def test_a_child_that_dies_is_refused_with_the_last_line_of_its_stderr(monkeypatch: pytest.MonkeyPatch, stdout: bytes) -> None:
    stderr = b"Traceback (most recent call last):\n  ...\nMemoryError: \xff" + b"x" * 300 + b"\n\n"
    error = _refusal(monkeypatch, _Child(stdout, exit_code=1, stderr=stderr))
    last = "MemoryError: \ufffd" + "x" * 300
    assert error.message == f"corrupt or unreadable PDF: the extraction failed ({last[:200]})"


def test_a_child_that_dies_silently_is_refused_with_its_exit_code(monkeypatch: pytest.MonkeyPatch) -> None:
    error = _refusal(monkeypatch, _Child(b"", exit_code=-9, stderr=b"  \n"))
    assert error.message == "corrupt or unreadable PDF: the extraction failed (exit -9)"


def test_the_real_child_answers_in_the_format_the_manager_reads() -> None:
    extracted = extract_text(content=None, data=one_page_pdf(), fmt="pdf", max_bytes=1_000_000, limits=FFExtractLimits())
    assert extracted.page_count == 1 and extracted.text.strip()
    with pytest.raises(FFValidationError) as caught:
        extract_text(content=None, data=one_page_pdf(), fmt="pdf", max_bytes=1_000_000, limits=FFExtractLimits(max_pages=0))
    assert caught.value.context == {"limit": "extract_max_pages"} and caught.value.field == "data"


def test_bytes_that_are_not_utf8_are_refused_naming_the_byte() -> None:
    with pytest.raises(FFValidationError) as caught:
        extract_text(content=None, data=b"ok text \xc3\x28 more", fmt="text", max_bytes=1_000)
    assert caught.value.message == "text document is not UTF-8 (byte 8: invalid continuation byte)"
    assert caught.value.field == "data" and caught.value.value is None
