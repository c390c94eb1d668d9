"""Component suite, knowledge details: idempotent ingest across ids, default titles, refusals (issue 20).

What the knowledge manager's docstring and README.md promise beyond the round trip, checked at
run time with a few small documents: the same bytes added again without an id return the stored
document, even one stored under an explicit ``document_id`` (the first copy in catalog order,
nothing written), by ``add_document`` and ``add_documents`` alike; a document given no title is
titled by its source, else by its first non-blank line with whitespace collapsed; a refused
search argument is named; an unknown document or chunk is not found, naming it; deleting a
document stamps the base's ``updated_at``; bytes without a format and a PDF given as text are
refused naming ``format``; a UTF-8 byte-order mark is not part of the text; a search asking for
all but one of its matches answers the best of them. Surviving mutants of ``_knowledge`` changed each of
these with every check green.

Registered on the component suite's REGISTRY (component.py imports this module at its end).
"""

from __future__ import annotations

from typing import Any

from ff_utils.ff_errors import FFError, FFNotFoundError, FFValidationError
from testing._context import FFTestContext
from testing.runner import FFChecker

from .component import REGISTRY

__all__: list[str] = []


async def _refusal(call: Any) -> FFError | None:
    try:
        await call
    except FFError as exc:
        return exc
    return None


@REGISTRY.test("knowledge details: same bytes under another id, default titles, refusals named", components=("knowledge",),
               depends_on=("knowledge_round_trip",))
async def knowledge_detail_contracts(ctx: FFTestContext, check: FFChecker) -> None:
    """Re-adding bytes stored under an explicit id returns that copy; default titles; refusals name their subject."""
    user = ctx.new_user("kbd")
    kb = await ctx.knowledge.create_knowledge_base(user, "details")
    content = "Heliostat mirrors are cleaned at night, when the field is idle."
    with check.step("the same bytes added again without an id return the copy stored under an explicit id"):
        first = await ctx.knowledge.add_document(user, kb.kb_id, content=content, title="Cleaning", document_id="detail-first")
        await ctx.knowledge.add_document(user, kb.kb_id, content=content, title="Again", document_id="detail-second")
        again = await ctx.knowledge.add_document(user, kb.kb_id, content=content)
        check.equal((again.doc_id, again.title), (first.doc_id, first.title), "add_document returns the first copy in catalog order")
        check.equal(again.model_dump(), first.model_dump(), "every field of the stored copy")
        batched = await ctx.knowledge.add_documents(user, kb.kb_id, [{"content": content, "title": "Batch"}])
        check.equal([d.doc_id for d in batched], [first.doc_id], "add_documents returns it too")
        listed = [d.doc_id for d in await ctx.knowledge.list_documents(user, kb.kb_id)]
        check.equal(listed, ["detail-first", "detail-second"], "nothing new is stored")
    with check.step("a document given no title is titled by its source, else by its first non-blank line"):
        doc = await ctx.knowledge.add_document(user, kb.kb_id, content="\n   Tracking   the sun \t all day\nsecond line", format="text")
        check.equal(doc.title, "Tracking the sun all day", "the first non-blank line, whitespace collapsed")
        sourced = await ctx.knowledge.add_document(user, kb.kb_id, content="Mirrors tilt twice a minute.", source="field-notes")
        check.equal(sourced.title, "field-notes", "the source when there is one")
    with check.step("a refused search argument is named; unknown documents and chunks are not found, named"):
        top_k = await _refusal(ctx.knowledge.search(user, kb.kb_id, "sun", top_k=0))
        check.equal((type(top_k), getattr(top_k, "field", None)), (FFValidationError, "top_k"), "top_k=0 is refused as top_k")
        cap = await _refusal(ctx.knowledge.search(user, kb.kb_id, "sun", per_document=-1))
        check.equal((type(cap), getattr(cap, "field", None)), (FFValidationError, "per_document"), "per_document=-1 is refused as per_document")
        missing = await _refusal(ctx.knowledge.get_document_text(user, kb.kb_id, "detail-none"))
        check.equal((type(missing), getattr(missing, "message", None)), (FFNotFoundError, f"no document 'detail-none' in knowledge base {kb.kb_id!r}"),
                    "an unknown document is not found, naming it and its base")
        chunk = await _refusal(ctx.knowledge.get_chunk(user, kb.kb_id, "ck-none"))
        check.equal((type(chunk), getattr(chunk, "key", None)), (FFNotFoundError, "ck-none"), "an unknown chunk is not found, naming it")
    with check.step("deleting a document stamps the base's updated_at"):
        await ctx.knowledge.delete_document(user, kb.kb_id, "detail-second")
        base = await ctx.knowledge.get_knowledge_base(user, kb.kb_id)
        check.equal(base.document_count, 3, "three documents left")
        check.that(base.updated_at is not None and base.updated_at >= first.added_at, "updated_at is the deletion's time")
    with check.step("document refusals name the format; a byte-order mark is dropped; all but one match can be asked for"):
        unnamed = await _refusal(ctx.knowledge.add_document(user, kb.kb_id, data=b"Mirrors tilt."))
        check.equal((type(unnamed), getattr(unnamed, "field", None)), (FFValidationError, "format"), "bytes without a format are refused as format")
        as_text = await _refusal(ctx.knowledge.add_document(user, kb.kb_id, content="Mirrors tilt.", format="pdf"))
        check.equal((type(as_text), getattr(as_text, "field", None), getattr(as_text, "message", None)),
                    (FFValidationError, "format", "a PDF must be given as data= bytes, not content="), "a PDF given as text is refused as format")
        text = "Parabolic troughs focus sunlight on a pipe."
        bom = await ctx.knowledge.add_document(user, kb.kb_id, data=("\ufeff" + text).encode("utf-8"), format="text")
        check.equal(await ctx.knowledge.get_document_text(user, kb.kb_id, bom.doc_id), text, "the UTF-8 byte-order mark is not part of the text")
        await ctx.knowledge.add_documents(user, kb.kb_id, [{"content": f"Pyranometer reading {i}: irradiance logged."} for i in range(3)])
        every = await ctx.knowledge.search(user, kb.kb_id, "pyranometer", top_k=10, per_document=0)
        check.equal(len(every), 3, "three chunks name the pyranometer")
        fewer = await ctx.knowledge.search(user, kb.kb_id, "pyranometer", top_k=2, per_document=0)
        check.equal([h.chunk_id for h in fewer], [h.chunk_id for h in every[:2]], "top_k=2 of three matches: the best two")
