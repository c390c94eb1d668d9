"""Basic use cases: plain chat, multimodal chat, RAG chat, multimodal RAG."""

from __future__ import annotations

import hashlib

from testing._context import FFTestContext
from testing.runner import FFChecker
from testing.suites.use_cases._guarantees import (
    check_message_limits,
    check_message_retry,
    check_top_k,
    check_user_analytics,
)
from testing.suites.use_cases._media import pdf_bytes, png_bytes, png_size, wav_bytes
from testing.suites.use_cases._support import (
    data_path,
    distinct_documents,
    read_bytes,
    read_jsonl,
    session_log,
    use_case,
)

__all__: list[str] = []


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@use_case("basic_chat")
async def basic_chat(ctx: FFTestContext, check: FFChecker) -> None:
    """Turns persist in order and reload after a restart, from the API and from messages.jsonl."""
    user = ctx.new_user("chat")
    script = ctx.data.users[0].conversations[0].turns  # scripted (role, content) turns
    with check.step("create session"):
        session = await ctx.memory.create_session(user, title="Everyday chat", metadata={"channel": "web"})
    with check.step("scripted turns"):
        added = [await ctx.memory.add_message(user, session.session_id, role, content) for role, content in script]
    with check.step("read history back"):
        history = await ctx.memory.get_messages(user, session.session_id, limit=50)
        check.equal(
            [(m.role, m.content) for m in history], list(script), "every turn reads back in the order it was added"
        )
        check.equal(
            [m.message_id for m in history],
            [m.message_id for m in added],
            "message ids read back as returned by add_message",
        )
        check.equal(len({m.message_id for m in history}), len(script), "every turn has its own id")
        last_two = await ctx.memory.get_messages(user, session.session_id, limit=2)
        check.equal(
            [m.content for m in last_two], [c for _, c in script[-2:]], "limit=2 gives the last two turns, oldest first"
        )
        stored = await ctx.memory.get_session(user, session.session_id)
        check.equal(stored.message_count, len(script), "the session counts its turns")
        await check_message_limits(check, ctx.memory, user, session.session_id, [m.message_id for m in added])
    with check.step("a client retries a turn after a timeout"):
        await check_message_retry(ctx, check, ctx.memory, user, session.session_id, added[-1])
    with check.step("restart the memory manager"):
        memory = await ctx.restart("memory")
        reloaded = await memory.get_messages(user, session.session_id, limit=50)
        check.equal(
            [(m.message_id, m.role, m.content) for m in reloaded],
            [(m.message_id, m.role, m.content) for m in added],
            "after a restart the history reloads identically",
        )
        sessions = await memory.list_sessions(user)
        check.equal([s.session_id for s in sessions], [session.session_id], "the restarted manager lists the session")
        check.equal(sessions[0].metadata.get("channel"), "web", "session metadata survives the restart")
    with check.step("read messages.jsonl on disk"):
        records = await read_jsonl(session_log(ctx, user, session.session_id))
        check.equal(
            [(r.get("message_id"), r.get("role"), r.get("content")) for r in records],
            [(m.message_id, m.role, m.content) for m in added],
            "messages.jsonl holds every turn, in order, one record each",
        )
    with check.step("analytics of the conversation"):
        analytics = await ctx.metrics.get_user_analytics(user)
        check.equal(analytics.event_counts.get("memory.message_added"), len(script), "analytics counted every turn")
        check.equal(analytics.event_counts.get("memory.session_created"), 1, "analytics counted the session")
        check.equal(analytics.chat_sessions, 1, "analytics sees one chat session")
        await check_user_analytics(ctx, check, user, analytics)


@use_case("multimodal_chat")
async def multimodal_chat(ctx: FFTestContext, check: FFChecker) -> None:
    """Image, PDF and audio attachments are stored and listed with their turn; a tool reads the PDF."""
    user = ctx.new_user("media")
    fact = f"Invoice {user} totals 1,284 euros and is due on the ninth of March."
    with check.step("build attachments"):
        image = png_bytes(12, 8, (200, 40, 90))
        audio = wav_bytes(250, sample_rate=8000)
        pdf = await pdf_bytes(f"<h1>Invoice</h1><p>{fact}</p>")
        files = {
            "photo.png": ("image/png", image, {"width": 12, "height": 8}),
            "invoice.pdf": ("application/pdf", pdf, {"pages": 1}),
            "voice-note.wav": ("audio/wav", audio, {"duration_ms": 250, "sample_rate": 8000}),
        }
        check.equal(png_size(image), (12, 8), "the generated PNG is a real 12x8 image")
    with check.step("send the turn with attachments"):
        session = await ctx.memory.create_session(user, title="Expenses")
        sent = await ctx.memory.add_message(
            user,
            session.session_id,
            "user",
            "Here are my receipt photo, the invoice and a voice note.",
            attachments=[
                {"name": n, "mime_type": t, "metadata": meta, "data": data} for n, (t, data, meta) in files.items()
            ],
        )
    with check.step("list attachments with the turn"):
        turn = (await ctx.memory.get_messages(user, session.session_id))[-1]
        check.equal(turn.message_id, sent.message_id, "the turn reads back")
        listed = {a.name: a for a in turn.attachments}
        check.require(
            sorted(listed) == sorted(files),
            "all three attachments are listed with the turn",
            f"listed {sorted(listed)}",
        )
        for name, (mime, data, meta) in files.items():
            record = listed[name]
            check.that(
                record.mime_type == mime and record.metadata == meta and record.stored,
                f"{name}: type and metadata stored",
                f"got {record.mime_type}, {record.metadata}, stored={record.stored}",
            )
            check.equal(
                (record.size_bytes, record.sha256), (len(data), _sha256(data)), f"{name}: size and SHA-256 recorded"
            )
    with check.step("read the bytes back"):
        for name, (_, data, _) in files.items():
            got = await ctx.memory.get_attachment(user, session.session_id, listed[name].attachment_id)
            check.equal(_sha256(got), _sha256(data), f"{name}: bytes read back through the API are identical")
            on_disk = await read_bytes(
                data_path(ctx, "users", user, "sessions", session.session_id, "attachments", listed[name].attachment_id)
            )
            check.equal(_sha256(on_disk), _sha256(data), f"{name}: bytes on disk are identical")
    with check.step("extract the PDF's text with a tool"):
        pdf_back = await ctx.memory.get_attachment(user, session.session_id, listed["invoice.pdf"].attachment_id)
        run = await ctx.tools.execute_tool(
            user, "extract_text", {"path": "invoice.pdf"}, files={"invoice.pdf": pdf_back}
        )
        check.require(run.ok, "extract_text succeeded", f"{run.status}: {run.error}")
        text = " ".join(str(run.output.get("text", "")).split())
        check.that(fact in text, "the tool extracted the invoice's sentence from the PDF", f"extracted {text[:160]!r}")
        check.equal(run.output.get("pages"), 1, "the tool read one page")
    with check.step("answer with the extracted text"):
        await ctx.memory.add_message(
            user,
            session.session_id,
            "assistant",
            f"The invoice says: {fact}",
            metadata={"tool_run_id": run.run_id, "source_attachment_id": listed["invoice.pdf"].attachment_id},
        )
        history = await ctx.memory.get_messages(user, session.session_id)
        check.equal([m.role for m in history], ["user", "assistant"], "question and answer stored in order")
        check.equal(history[-1].metadata.get("tool_run_id"), run.run_id, "the answer records the tool run it used")
        analytics = await ctx.metrics.get_user_analytics(user)
        check.equal(analytics.event_counts.get("tool.executed"), 1, "analytics counted the tool run")
        check.equal(analytics.event_counts.get("memory.message_added"), 2, "analytics counted both turns")


@use_case("rag_chat")
async def rag_chat(ctx: FFTestContext, check: FFChecker) -> None:
    """Ingested documents are retrieved for a question; the answer turn cites chunk and doc ids."""
    user = ctx.new_user("rag")
    documents = distinct_documents(ctx.data.documents, 4)
    target = documents[2]
    with check.step("ingest documents"):
        kb = await ctx.knowledge.create_knowledge_base(user, "team handbook")
        stored = [
            await ctx.knowledge.add_document(user, kb.kb_id, content=d.content, title=d.title, format="markdown")
            for d in documents
        ]
        base = await ctx.knowledge.get_knowledge_base(user, kb.kb_id)
        check.equal(base.document_count, len(documents), "every document is in the knowledge base")
        target_doc = stored[2]
        for source, doc in zip(documents, stored):
            text = await ctx.knowledge.get_document_text(user, kb.kb_id, doc.doc_id)
            check.that(text == source.content, f"{doc.title}: the document's text reads back byte for byte", f"{len(text)} vs {len(source.content)} chars")
    with check.step("ask the question"):
        session = await ctx.memory.create_session(user, title="Handbook questions")
        question = await ctx.memory.add_message(user, session.session_id, "user", f"What is the {target.probe}?")
    with check.step("retrieve"):
        hits = await ctx.knowledge.search(user, kb.kb_id, target.probe, top_k=3)
        check.require(bool(hits), "the question retrieves chunks")
        best = hits[0]
        check.equal(best.doc_id, target_doc.doc_id, "the best chunk comes from the document holding the answer")
        check.that(target.fact in best.text, "the best chunk contains the fact", f"chunk text {best.text[:160]!r}")
        every = await ctx.knowledge.search(user, kb.kb_id, target.probe, top_k=20)
        check.equal(len(hits), min(3, len(every)), "top_k=3 returns three hits (or every match, if fewer)")
        check.equal([h.chunk_id for h in hits], [h.chunk_id for h in every[:3]], "top_k=3 returns the best three of the full ranking")
        check.equal([h.rank for h in hits], list(range(1, len(hits) + 1)), "hits are ranked 1..n")
        await check_top_k(check, ctx.knowledge, user, kb.kb_id, target.probe, per_document=0)
    with check.step("answer with citations"):
        citation = {"kb_id": kb.kb_id, "doc_id": best.doc_id, "chunk_id": best.chunk_id, "rank": best.rank}
        answer = await ctx.memory.add_message(
            user,
            session.session_id,
            "assistant",
            f"According to '{best.document_title}': {target.fact}",
            metadata={"citations": [citation], "in_reply_to": question.message_id},
        )
    with check.step("read the answer and resolve its citation"):
        history = await ctx.memory.get_messages(user, session.session_id)
        check.equal([m.message_id for m in history], [question.message_id, answer.message_id], "question then answer")
        cited = history[-1].metadata.get("citations", [])
        check.require(cited == [citation], "the stored answer carries its citation", f"stored {cited!r}")
        chunk = await ctx.knowledge.get_chunk(user, kb.kb_id, cited[0]["chunk_id"])
        check.equal(chunk.doc_id, cited[0]["doc_id"], "the cited chunk belongs to the cited document")
        check.that(target.fact in chunk.text, "the cited chunk really contains the fact")
        text = await ctx.knowledge.get_document_text(user, kb.kb_id, chunk.doc_id)
        check.equal(text[chunk.char_start : chunk.char_end], chunk.text, "the chunk's offsets quote the document text")
        records = await read_jsonl(session_log(ctx, user, session.session_id))
        check.equal(
            records[-1].get("metadata", {}).get("citations"), [citation], "the citation is in messages.jsonl on disk"
        )


@use_case("multimodal_rag")
async def multimodal_rag(ctx: FFTestContext, check: FFChecker) -> None:
    """An uploaded PDF is extracted by a tool, ingested into a knowledge base, then retrieved."""
    user = ctx.new_user("mmrag")
    fact = f"The pressure relief valve of pump {user} opens at 42 kilopascal."
    html = (
        "<h1>Pump maintenance</h1><p>Check the seals every month and log the inspection.</p>"
        f"<h2>Safety</h2><p>{fact}</p><p>Never run the pump dry.</p>"
    )
    with check.step("upload the PDF"):
        pdf = await pdf_bytes(html)
        session = await ctx.memory.create_session(user, title="Maintenance manual")
        upload = await ctx.memory.add_message(
            user,
            session.session_id,
            "user",
            "Please index this manual.",
            attachments=[{"name": "manual.pdf", "mime_type": "application/pdf", "data": pdf}],
        )
        attachment = upload.attachments[0]
        stored_pdf = await ctx.memory.get_attachment(user, session.session_id, attachment.attachment_id)
        check.equal(_sha256(stored_pdf), _sha256(pdf), "the uploaded PDF is stored byte for byte")
    with check.step("extract with a tool"):
        run = await ctx.tools.execute_tool(
            user, "extract_text", {"path": "manual.pdf"}, files={"manual.pdf": stored_pdf}
        )
        check.require(run.ok, "extract_text succeeded", f"{run.status}: {run.error}")
        extracted = str(run.output.get("text", ""))
        check.that(
            fact in " ".join(extracted.split()), "the extracted text holds the fact", f"extracted {extracted[:160]!r}"
        )
    with check.step("ingest the extracted text"):
        kb = await ctx.knowledge.create_knowledge_base(user, "manuals")
        doc = await ctx.knowledge.add_document(
            user,
            kb.kb_id,
            content=extracted,
            title="Pump maintenance",
            source=f"extract_text:{run.run_id}",
            metadata={"attachment_id": attachment.attachment_id, "attachment_sha256": attachment.sha256},
        )
        listed = await ctx.knowledge.list_documents(user, kb.kb_id)
        check.equal(
            [d.doc_id for d in listed], [doc.doc_id], "the extracted document is the knowledge base's only document"
        )
        check.equal(
            listed[0].metadata.get("attachment_sha256"), _sha256(pdf), "the document records which upload it came from"
        )
    with check.step("retrieve"):
        hits = await ctx.knowledge.search(user, kb.kb_id, "at what pressure does the relief valve open?", top_k=3)
        check.require(bool(hits), "the question retrieves chunks")
        check.equal(hits[0].doc_id, doc.doc_id, "the hit comes from the ingested upload")
        check.that(
            "42 kilopascal" in " ".join(hits[0].text.split()), "the best chunk holds the answer", hits[0].text[:160]
        )
    with check.step("answer with citation"):
        await ctx.memory.add_message(
            user,
            session.session_id,
            "assistant",
            "The relief valve opens at 42 kilopascal.",
            metadata={"citations": [{"kb_id": kb.kb_id, "doc_id": hits[0].doc_id, "chunk_id": hits[0].chunk_id}]},
        )
        history = await ctx.memory.get_messages(user, session.session_id)
        check.equal(len(history), 2, "upload and answer are stored")
        cited = history[-1].metadata["citations"][0]
        chunk = await ctx.knowledge.get_chunk(user, kb.kb_id, cited["chunk_id"])
        check.that("42 kilopascal" in " ".join(chunk.text.split()), "the cited chunk contains the answer")
