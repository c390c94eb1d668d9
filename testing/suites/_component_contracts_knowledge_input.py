"""Component suite, knowledge input: format names, line ends, refusals named, titles cut, a capped search (issue 20).

What README.md and the knowledge manager's docstrings promise about a document on its way in,
checked at run time with a few small documents: a format may be named by a file extension
(``.md``) or a MIME type with parameters; every line-end convention becomes one newline; each
refusal names the argument to fix (``format`` when format and MIME type disagree, ``data`` for
data that is not bytes, the empty argument for an empty document, ``content`` for text holding a
NUL, the id's own name for a bad id); an untitled document's title is its first line cut to
``max_title_chars``; a search with a per-document cap still answers ``top_k`` hits when one
long document fills the first candidates. Surviving mutants of ``_knowledge`` changed each of
these with every other check green (census and sample of 2026-12-07; planted defects
``tests/ff_managers/knowledge/planted_defects.py``).

Registered on the component suite's REGISTRY (component.py imports this module at its end).
"""

from __future__ import annotations

from typing import Any

from ff_utils.ff_errors import FFError
from testing._context import FFTestContext
from testing.runner import FFChecker

from .component import REGISTRY

__all__: list[str] = []


async def _refused(call: Any) -> tuple[str, str | None]:
    """The refusal's type name and field, or ("accepted", None)."""
    try:
        await call
    except FFError as exc:
        return type(exc).__name__, getattr(exc, "field", None)
    return "accepted", None


@REGISTRY.test("knowledge input: formats by extension and MIME type, line ends, refusals named, titles cut, a capped search",
               components=("knowledge",), depends_on=("knowledge_round_trip",))
async def knowledge_input_contracts(ctx: FFTestContext, check: FFChecker) -> None:
    """What a document becomes on its way in, what a refusal names, and a capped search kept full."""
    user = ctx.new_user("kbi")
    kb = (await ctx.knowledge.create_knowledge_base(user, "input")).kb_id
    add = ctx.knowledge.add_document
    with check.step("a format named by its extension or by a MIME type with parameters; every line end is one newline"):
        dotted = await add(user, kb, content="# Dials\n\nSundials tell solar time.", format=".md")
        check.equal(dotted.format, "markdown", "format='.md' is markdown")
        typed = await add(user, kb, content="# Gnomons\n\nA gnomon casts the shadow.", format="text/markdown;charset=utf-8;variant=gfm")
        check.equal(typed.format, "markdown", "a MIME type with two parameters names its format")
        ends = await add(user, kb, content="old mac\rwindows\r\nunix\nend", format="text")
        check.equal(await ctx.knowledge.get_document_text(user, kb, ends.doc_id), "old mac\nwindows\nunix\nend",
                    "a lone CR and a CRLF are each one newline")
    with check.step("each refusal names the argument to fix"):
        refusals = {
            "format and mime_type disagree": (lambda: add(user, kb, content="Shadows.", format="pdf", mime_type="text/markdown"), "format"),
            "data that is not bytes": (lambda: add(user, kb, data="Shadows.", format="text"), "data"),  # type: ignore[arg-type]
            "empty data": (lambda: add(user, kb, data=b"", format="text"), "data"),
            "empty content": (lambda: add(user, kb, content=""), "content"),
            "text holding a NUL": (lambda: add(user, kb, content="Shadow\x00s."), "content"),
            "a bad doc_id": (lambda: ctx.knowledge.get_document(user, kb, "bad/id"), "doc_id"),
            "a bad chunk_id": (lambda: ctx.knowledge.get_chunk(user, kb, "bad/id"), "chunk_id"),
            "a bad document_id": (lambda: add(user, kb, content="Shadows.", document_id="bad/id"), "document_id"),
        }
        for label, (call, field) in refusals.items():
            check.equal(await _refused(call()), ("FFValidationError", field), f"{label} is refused naming {field!r}")
    with check.step("an untitled document is titled by its first line, cut to max_title_chars"):
        limit = ctx.config.knowledge.max_title_chars
        line = ("Equation of time " * (limit // 17 + 2)).strip()
        untitled = await add(user, kb, content=f"{line}\n\nThe sundial runs fast in November.")
        check.equal(untitled.title, line[:limit], f"the first line's first {limit} characters")
    with check.step("a search capped per document answers top_k hits when one long document fills the first candidates"):
        long = "\n\n".join(f"# Part {i}\n\nAstrolabe astrolabe astrolabe, plate {i}." for i in range(12))
        many = await add(user, kb, content=long, format="markdown", title="Astrolabes")
        other = await add(user, kb, content="An astrolabe, a quadrant, an armillary sphere, a chart and a lamp stand in the room.",
                          title="Instruments")
        hits = await ctx.knowledge.search(user, kb, "astrolabe", top_k=2, per_document=1)
        check.equal(sorted(h.doc_id for h in hits), sorted([many.doc_id, other.doc_id]),
                    "top_k=2, per_document=1: the best chunk of each of the two documents")
