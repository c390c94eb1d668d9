"""Bounded ingest: PDF bombs are refused within the extraction limits, in a child, storing nothing.

A 17 KB-class PDF whose form XObject is drawn thousands of times (25 MB of text), a PDF whose one
content stream holds 25 MB of text, and a 0.24 MB flate bomb: each must be refused with one
FFValidationError naming the ``knowledge.extract_*`` limit it hit, leave the knowledge base
empty, and not grow the manager's own memory (the parsing happens in the sandboxed child).
The planted tests take the defence away (limits raised so far that nothing stops the bomb, or
the extraction run in the manager's process) and show the same checks going red.
"""

from __future__ import annotations

import threading
from pathlib import Path

import psutil
import pytest

import ff_managers._knowledge.extract as extract_module
import ff_managers._knowledge.pdf_extract_child as child_module
from ff_class_configs import load_config
from ff_managers._core.sandboxed_call import FFChildResult
from ff_managers.ff_knowledge_base_manager import FFKnowledgeBaseManager
from ff_utils.ff_errors import FFValidationError
from testing.suites.security._pdf_bombs import flate_bomb_pdf, one_page_pdf, stream_bomb_pdf, text_bomb_pdf, two_page_pdf

RSS_GROWTH_ALLOWED = 48 * 1024 * 1024
BOMBS = {
    "xobject_text_bomb": (text_bomb_pdf, "extract_max_chars"),
    "content_stream_bomb": (stream_bomb_pdf, "extract_max_page_content_mb"),
    "flate_bomb": (flate_bomb_pdf, "extract_max_page_content_mb"),
}


def make_kb(root: Path, **settings: object) -> FFKnowledgeBaseManager:
    return FFKnowledgeBaseManager(load_config(base_path=root, environ={}, overrides={"knowledge": settings} if settings else None))


def _rss() -> int:
    return int(psutil.Process().memory_info().rss)


def _reset_peak_rss() -> bool:
    """Reset this process's peak RSS (VmHWM) to its current RSS; False where the kernel cannot."""
    try:
        with open("/proc/self/clear_refs", "w") as control:
            control.write("5")
        return True
    except OSError:
        return False


def _peak_rss() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc/self/status")


async def _ingest(kb: FFKnowledgeBaseManager, pdf: bytes) -> tuple[BaseException | None, int, int]:
    """(error or None, peak RSS growth of this process while ingesting, documents stored).

    The peak is the kernel's own high-water mark (VmHWM, reset first), so a brief peak is never
    missed; a sampler thread every 5 ms stands in where the mark cannot be reset, and it did miss
    peaks on a loaded machine (47 MB seen of a 75 MB one, twice)."""
    base = await kb.create_knowledge_base("alice", "bombs")
    before = _rss()
    exact = _reset_peak_rss()
    peak = [before]
    done = threading.Event()

    def sample() -> None:  # the peak, not the end: freed buffers leave RSS at once
        while not done.wait(0.005):
            peak[0] = max(peak[0], _rss())

    sampler = None if exact else threading.Thread(target=sample, daemon=True)
    if sampler is not None:
        sampler.start()
    error: BaseException | None = None
    try:
        await kb.add_document("alice", base.kb_id, data=pdf, format="pdf", title="bomb")
    except FFValidationError as exc:
        error = exc
    finally:
        done.set()
        if sampler is not None:
            sampler.join()
    grown = (_peak_rss() if exact else max(peak[0], _rss())) - before
    stored = len(await kb.list_documents("alice", base.kb_id))
    return error, grown, stored


def test_the_bombs_are_what_the_issue_describes() -> None:
    assert len(text_bomb_pdf()) < 18 * 1024  # a few KB ...
    assert 200 * 1024 < len(flate_bomb_pdf()) < 260 * 1024  # ... and a 0.24 MB flate bomb


@pytest.mark.parametrize("name", sorted(BOMBS))
async def test_a_pdf_bomb_is_refused_naming_its_limit_and_nothing_is_stored(tmp_path: Path, name: str) -> None:
    build, limit = BOMBS[name]
    kb = make_kb(tmp_path / "root")
    try:
        error, grown, stored = await _ingest(kb, build())
    finally:
        await kb.shutdown()
    assert isinstance(error, FFValidationError) and f"knowledge.{limit}" in str(error), error
    assert error.context.get("limit") == limit and error.field == "data"
    assert stored == 0
    assert grown < RSS_GROWTH_ALLOWED, f"the manager's RSS grew by {grown / 1e6:.1f} MB"


async def test_a_page_limit_refuses_before_any_page_is_read(tmp_path: Path) -> None:
    kb = make_kb(tmp_path / "root", extract_max_pages=1)
    one_page = one_page_pdf()  # a normal one-page PDF is fine ...
    try:
        base = await kb.create_knowledge_base("alice", "pages")
        doc = await kb.add_document("alice", base.kb_id, data=one_page, format="pdf")
        assert doc.page_count == 1
        with pytest.raises(FFValidationError, match="extract_max_pages"):  # ... two pages are not
            await kb.add_document("alice", base.kb_id, data=two_page_pdf(), format="pdf")
        assert len(await kb.list_documents("alice", base.kb_id)) == 1
    finally:
        await kb.shutdown()


async def test_text_documents_are_held_to_the_character_limit(tmp_path: Path) -> None:
    kb = make_kb(tmp_path / "root", extract_max_chars=1_000)
    try:
        base = await kb.create_knowledge_base("alice", "chars")
        with pytest.raises(FFValidationError, match="extract_max_chars"):
            await kb.add_document("alice", base.kb_id, content="word " * 300)
        assert await kb.list_documents("alice", base.kb_id) == []
    finally:
        await kb.shutdown()


# ------------------------------------------------------------------------------ planted defects


async def test_planted_no_limits_lets_the_text_bomb_in(tmp_path: Path) -> None:
    """Limits raised out of reach: the same check sees the bomb stored (red)."""
    kb = make_kb(tmp_path / "root", extract_max_chars=100_000_000, extract_max_page_content_mb=1024, chunk_size_chars=100_000)
    try:
        error, _grown, stored = await _ingest(kb, text_bomb_pdf(draws=300))
    finally:
        await kb.shutdown()
    assert error is None and stored == 1  # the refusal check above would fail


@pytest.mark.slow
async def test_planted_in_process_extraction_grows_the_managers_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The child taken away (pypdf run in the manager's process): the RSS check goes red."""

    def in_process(script: Path, stdin: bytes, *, args: tuple[str, ...], **_: object) -> FFChildResult:
        import json

        document = child_module._extract(stdin, int(args[0]), int(args[1]), int(args[2]))
        return FFChildResult(json.dumps(document).encode(), 0, None, None, False, b"", 0.0)

    monkeypatch.setattr(extract_module, "ff_run_python_child", in_process)
    kb = make_kb(tmp_path / "root", extract_max_page_content_mb=1024)
    try:
        # pypdf stops inflating at 75 MB whatever the bomb holds; the peak is read from VmHWM
        error, grown, _stored = await _ingest(kb, flate_bomb_pdf())
    finally:
        await kb.shutdown()
    assert grown >= RSS_GROWTH_ALLOWED, f"only {grown / 1e6:.1f} MB"  # the RSS check above would fail
