"""Specialized use cases: translation, assistant, tutors, exams, notes, chatops, concierge, critic."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from datetime import timedelta
from typing import Any

from ff_class_configs.ff_tool_dtos import FFToolRefusal, FFToolRunStatus
from ff_utils.ff_errors import FFNotFoundError
from testing._context import FFTestContext
from testing.runner import FFChecker
from testing.suites.use_cases._support import (
    data_path,
    distinct_documents,
    read_json,
    read_jsonl,
    register_persona,
    reopened,
    use_case,
)

__all__: list[str] = []


def _words(text: str) -> list[str]:
    """Words of a text without digits, counted independently of the tool under test."""
    return re.findall(r"[A-Za-z]+(?:'[A-Za-z]+)?", text)


@use_case("translation_chat")
async def translation_chat(ctx: FFTestContext, check: FFChecker) -> None:
    """A translator persona runs the translate tool on every turn; source and target are both stored."""
    user = ctx.new_user("travel")
    # (English turn, a word of it, that word in Spanish): the glossary answer each turn must contain
    script = [
        ("Good morning, my friend.", "friend", "amigo"),
        ("Where is the train station?", "station", "estación"),
        ("Thanks, see you tomorrow.", "thanks", "gracias"),
    ]
    with check.step("register the translator persona"):
        persona = await register_persona(
            ctx,
            f"{user}-translator",
            "Lucía the translator",
            expertise=["translation", "spanish"],
            system_prompt="Translate every English message into Spanish.",
        )
        session = await ctx.memory.create_session(
            user, title="Trip phrases", metadata={"persona_id": persona.persona_id, "target_language": "es"}
        )
    runs = []
    with check.step("translate every turn"):
        for english, _, _ in script:
            asked = await ctx.memory.add_message(user, session.session_id, "user", english)
            run = await ctx.tools.execute_tool(user, "translate", {"text": english, "source": "en", "target": "es"})
            check.require(run.ok, f"translate ran for {english!r}", f"{run.status}: {run.error}")
            runs.append(run)
            await ctx.memory.add_message(
                user,
                session.session_id,
                "assistant",
                run.output["translation"],
                metadata={
                    "persona_id": persona.persona_id,
                    "source_text": english,
                    "target_text": run.output["translation"],
                    "source_language": "en",
                    "target_language": "es",
                    "in_reply_to": asked.message_id,
                    "tool_run_id": run.run_id,
                },
            )
    with check.step("read the bilingual transcript back"):
        history = await ctx.memory.get_messages(user, session.session_id)
        check.equal(
            [m.role for m in history], ["user", "assistant"] * len(script), "every turn is followed by its translation"
        )
        for index, (english, word, spanish) in enumerate(script):
            source, answer = history[2 * index], history[2 * index + 1]
            check.equal(source.content, english, f"turn {index + 1}: the English source is stored")
            check.equal(
                (answer.metadata.get("source_text"), answer.metadata.get("target_text")),
                (english, answer.content),
                f"turn {index + 1}: source and target text are stored together",
            )
            check.that(
                spanish in answer.content.lower() and word not in answer.content.lower(),
                f"turn {index + 1}: '{word}' is translated to '{spanish}'",
                f"translation {answer.content!r}",
            )
            check.equal(
                answer.metadata.get("in_reply_to"),
                source.message_id,
                f"turn {index + 1}: the translation answers its turn",
            )
    with check.step("tool runs and persona are on record"):
        logged = await ctx.tools.list_runs(user)
        check.equal(
            [r.run_id for r in logged],
            [r.run_id for r in runs],
            "the tool log holds one translate run per turn, in order",
        )
        check.that(
            all(r.tool == "translate" and r.status == FFToolRunStatus.SUCCESS for r in logged),
            "every logged run is a successful translate",
        )
        stored_persona = await ctx.panel.personas.get_persona(persona.persona_id)
        check.equal(
            stored_persona.expertise, ["translation", "spanish"], "the translator persona reads back from the registry"
        )


@use_case("personal_assistant")
async def personal_assistant(ctx: FFTestContext, check: FFChecker) -> None:
    """Tasks created by a tool persist; a preference stored in one session is recalled in another."""
    user = ctx.new_user("assistant")
    with check.step("first session: a preference and two tasks"):
        first = await ctx.memory.create_session(user, title="Planning")
        said = await ctx.memory.add_message(
            user, first.session_id, "user", "I prefer meetings in the morning, before ten."
        )
        preference = await ctx.memory.store_memory(
            user,
            "Prefers meetings in the morning, before ten o'clock.",
            layer="permanent",
            importance=0.9,
            tags=["preference"],
            session_id=first.session_id,
            message_id=said.message_id,
        )
        renew = await ctx.tools.execute_tool(
            user,
            "create_task",
            {"title": "Renew passport", "priority": "high", "due": "2026-12-01", "tags": ["travel"]},
        )
        check.require(renew.ok, "create_task made the first task", f"{renew.status}: {renew.error}")
        book = await ctx.tools.execute_tool(
            user, "create_task", {"title": "Book flights", "depends_on": [renew.output["task_id"]], "tags": ["travel"]}
        )
        check.require(book.ok, "create_task made the dependent task", f"{book.status}: {book.error}")
        tasks = [renew.output, book.output]
        for task in tasks:
            await ctx.memory.add_message(
                user, first.session_id, "tool", f"Task created: {task['title']}", metadata={"task": task}
            )
            await ctx.memory.store_memory(
                user,
                f"Open task: {task['title']}",
                layer="long_term",
                importance=0.7,
                tags=["task"],
                session_id=first.session_id,
                metadata={"task": task},
            )
    with check.step("tasks persist"):
        check.equal(tasks[1]["depends_on"], [tasks[0]["task_id"]], "the second task depends on the first")
        async with reopened(ctx, "memory") as memory:  # a new process reading the same data root
            stored_tasks = [
                m.metadata["task"] for m in await memory.get_memories(user, layers="long_term") if "task" in m.tags
            ]
        check.equal(
            sorted(t["task_id"] for t in stored_tasks),
            sorted(t["task_id"] for t in tasks),
            "both tasks read back from long-term memory",
        )
        on_disk = await read_json(data_path(ctx, "users", user, "tools", "work", renew.run_id, "task.json"))
        check.equal(on_disk, renew.output, "the tool's task.json in its work dir matches the stored task")
        logged = {r.run_id: r for r in await ctx.tools.list_runs(user)}
        check.equal(logged[book.run_id].output, book.output, "the run log keeps the task the tool returned")
    with check.step("second session recalls the preference"):
        second = await ctx.memory.create_session(user, title="Next week")
        await ctx.memory.add_message(user, second.session_id, "user", "Schedule the visa meeting for me.")
        hits = await ctx.memory.search_memories(user, "when do I prefer meetings", limit=3)
        check.require(bool(hits), "the preference is found by search")
        check.equal(hits[0].entry.memory_id, preference.memory_id, "the best memory is the stated preference")
        check.equal(hits[0].entry.session_id, first.session_id, "the preference remembers the session it came from")
        context = await ctx.memory.get_memory_context(user, "meeting time preference")
        check.that("before ten" in context.text, "the prompt context carries the preference", context.text[:200])
    with check.step("retention keeps them"):
        later = ctx.memory.clock() + timedelta(days=40)
        await ctx.memory.process_retention(now=later, user_id=user)
        kept = {m.memory_id for m in await ctx.memory.get_memories(user, limit=50)}
        check.that(preference.memory_id in kept, "the permanent preference survives 40 days of retention")
        check.equal(
            sum(1 for m in await ctx.memory.get_memories(user, layers="long_term") if "task" in m.tags),
            2,
            "the tasks stay in long-term memory",
        )


@use_case("interactive_tutor")
async def interactive_tutor(ctx: FFTestContext, check: FFChecker) -> None:
    """A tutor persona quizzes across two sessions; progress per topic is tracked in memory and analytics."""
    user = ctx.new_user("student")
    # lesson -> (topic, question, expected answer, the student's scripted answer)
    lessons = [
        [
            ("algebra", "Solve 2x + 3 = 11.", "4", "4"),
            ("geometry", "Angles in a triangle sum to?", "180", "180"),
            ("algebra", "Solve 5x = 35.", "7", "5"),
        ],
        [
            ("algebra", "Solve x - 9 = 3.", "12", "12"),
            ("geometry", "Sides of a hexagon?", "6", "8"),
            ("geometry", "Degrees in a right angle?", "90", "90"),
        ],
    ]
    with check.step("register the tutor persona"):
        tutor = await register_persona(ctx, f"{user}-tutor", "Professor Ada", expertise=["algebra", "geometry"])
    sessions = []
    with check.step("lesson 1"):
        sessions.append(await _lesson(ctx, ctx.memory, user, tutor.persona_id, 1, lessons[0]))
    with check.step("progress after lesson 1"):
        progress = await _topic_progress(ctx, user)
        check.equal(
            progress, {"algebra": (1, 2), "geometry": (1, 1)}, "lesson 1 progress per topic (correct, attempts)"
        )
    with check.step("lesson 2 after the app restarted"):
        async with reopened(ctx, "memory", shared_bus=True) as memory:
            sessions.append(await _lesson(ctx, memory, user, tutor.persona_id, 2, lessons[1]))
    with check.step("progress across both lessons"):
        progress = await _topic_progress(ctx, user)
        check.equal(progress, {"algebra": (2, 3), "geometry": (2, 3)}, "progress per topic spans both sessions")
        per_lesson = Counter(
            m.metadata["lesson"]
            for m in await ctx.memory.get_memories(user, layers="long_term")
            if "progress" in m.tags
        )
        check.equal(dict(per_lesson), {1: 3, 2: 3}, "each lesson's three answers are tracked")
        stored_sessions = {s.session_id: s for s in await ctx.memory.list_sessions(user)}
        check.equal(sorted(stored_sessions), sorted(sessions), "both lesson sessions are listed")
        check.that(
            all(
                s.metadata.get("persona_id") == tutor.persona_id and s.message_count == 9
                for s in stored_sessions.values()
            ),
            "each lesson was run by the tutor persona and holds nine turns",
        )
    with check.step("analytics"):
        analytics = await ctx.metrics.get_user_analytics(user)
        check.equal(analytics.event_counts.get("tutor.answer_graded"), 6, "analytics counted six graded answers")
        check.equal(analytics.chat_sessions, 2, "analytics sees two tutoring sessions")
        check.equal(analytics.event_counts.get("memory.stored"), 6, "analytics counted six progress records")


async def _lesson(
    ctx: FFTestContext, memory: Any, user: str, persona_id: str, number: int, quiz: list[tuple[str, str, str, str]]
) -> str:
    """One tutoring session: ask, take the scripted answer, grade, record progress; the session id."""
    session = await memory.create_session(user, title=f"Lesson {number}", metadata={"persona_id": persona_id})
    for topic, question, expected, answer in quiz:
        await memory.add_message(
            user, session.session_id, "assistant", question, metadata={"persona_id": persona_id, "topic": topic}
        )
        reply = await memory.add_message(user, session.session_id, "user", answer)
        correct = answer == expected
        await memory.add_message(
            user,
            session.session_id,
            "assistant",
            "Correct!" if correct else f"Not quite: the answer is {expected}.",
            metadata={"persona_id": persona_id, "graded": reply.message_id, "correct": correct},
        )
        await memory.store_memory(
            user,
            f"{topic} question '{question}' answered {'correctly' if correct else 'incorrectly'}",
            layer="long_term",
            importance=0.6,
            tags=["progress", f"topic-{topic}"],
            session_id=session.session_id,
            message_id=reply.message_id,
            metadata={"topic": topic, "correct": correct, "lesson": number},
        )
        await ctx.metrics.record_event(
            user, "tutor.answer_graded", {"topic": topic, "correct": correct, "session_id": session.session_id}
        )
    return session.session_id


async def _topic_progress(ctx: FFTestContext, user: str) -> dict[str, tuple[int, int]]:
    """(correct, attempts) per topic, from the progress memories alone."""
    found: dict[str, tuple[int, int]] = {}
    for memory in await ctx.memory.get_memories(user, layers="long_term", limit=100):
        if "progress" in memory.tags:
            correct, attempts = found.get(memory.metadata["topic"], (0, 0))
            found[memory.metadata["topic"]] = (correct + int(bool(memory.metadata["correct"])), attempts + 1)
    return found


@use_case("language_tutor")
async def language_tutor(ctx: FFTestContext, check: FFChecker) -> None:
    """A grammar tool's corrections are stored beside each learner turn, in turn order."""
    user = ctx.new_user("learner")
    # (learner sentence, fixes the corrected sentence must contain); [] = already correct
    script = [
        ("i think their is a problem with my homework.", ["I think", "there is"]),
        ("She could of finished alot sooner.", ["could have", "a lot"]),
        ("The weather is lovely today.", []),
    ]
    with check.step("open the lesson panel"):
        coach = await register_persona(ctx, f"{user}-coach", "Coach Emma", expertise=["english grammar"])
        panel = await ctx.panel.create_panel(
            user,
            [
                {"participant_id": "learner", "kind": "human"},
                {"participant_id": "coach", "persona_id": coach.persona_id},
            ],
            title="Grammar practice",
            turn_policy="round_robin",
            turn_order=["learner", "coach"],
        )
        check.equal(panel.participants[1].name, "Coach Emma", "the coach seat takes the persona's name")
    runs = []
    with check.step("correct every learner turn"):
        for sentence, _ in script:
            said = await ctx.panel.add_message(user, panel.panel_id, "learner", sentence)
            run = await ctx.tools.execute_tool(user, "grammar_check", {"text": sentence})
            check.require(run.ok, "grammar_check ran", f"{run.status}: {run.error}")
            runs.append(run)
            feedback = run.output["corrected_text"] if run.output["error_count"] else "Perfect sentence!"
            await ctx.panel.add_message(
                user, panel.panel_id,
                "coach",
                feedback,
                reply_to=said.message_id,
                metadata={
                    "corrections": run.output["corrections"],
                    "corrected_text": run.output["corrected_text"],
                    "tool_run_id": run.run_id,
                },
            )
    with check.step("read the lesson back"):
        messages = await ctx.panel.get_messages(user, panel.panel_id)
        check.equal(
            [m.sequence for m in messages], list(range(1, 2 * len(script) + 1)), "messages are numbered without gaps"
        )
        check.equal(
            [m.participant_id for m in messages], ["learner", "coach"] * len(script), "learner and coach alternate"
        )
        for index, (sentence, fixes) in enumerate(script):
            said, feedback = messages[2 * index], messages[2 * index + 1]
            check.equal(
                feedback.reply_to, said.message_id, f"turn {index + 1}: the correction is linked to the learner's turn"
            )
            corrections = feedback.metadata.get("corrections", [])
            check.equal(
                corrections, runs[index].output["corrections"], f"turn {index + 1}: the tool's corrections are stored"
            )
            corrected = feedback.metadata.get("corrected_text", "")
            if fixes:
                check.that(
                    all(fix in corrected for fix in fixes) and corrections,
                    f"turn {index + 1}: the grammar tool fixed {fixes}",
                    f"corrected {corrected!r}",
                )
                check.that(
                    all(sentence[c["offset"] : c["offset"] + c["length"]] == c["original"] for c in corrections),
                    f"turn {index + 1}: every correction's offset points at the learner's words",
                )
            else:
                check.equal(
                    (corrections, corrected), ([], sentence), f"turn {index + 1}: a correct sentence gets no correction"
                )
    with check.step("turn policy and analytics"):
        status = await ctx.panel.get_turn_status(user, panel.panel_id)
        check.equal(status.next_speakers, ["learner"], "after the coach it is the learner's turn")
        analytics = await ctx.panel.get_analytics(user, panel.panel_id)
        coach_stats = next(p for p in analytics.participants if p.participant_id == "coach")
        check.equal((coach_stats.messages, coach_stats.replies), (3, 3), "the coach answered every turn with a reply")
        check.equal(analytics.rounds, 3, "three complete learner/coach rounds")


@use_case("exam_assistant")
async def exam_assistant(ctx: FFTestContext, check: FFChecker) -> None:
    """Questions are drawn from a knowledge base, answers graded against it, scores recorded in analytics."""
    user = ctx.new_user("exam")
    documents = distinct_documents(ctx.data.documents, 4, skip=4)
    with check.step("load the syllabus"):
        kb = await ctx.knowledge.create_knowledge_base(user, "syllabus")
        doc_ids = [
            (
                await ctx.knowledge.add_document(user, kb.kb_id, content=d.content, title=d.title, format="markdown")
            ).doc_id
            for d in documents
        ]
        session = await ctx.memory.create_session(user, title="Mock exam", metadata={"kb_id": kb.kb_id})
    answers = []
    with check.step("ask, answer, grade"):
        for number, (document, doc_id) in enumerate(zip(documents, doc_ids, strict=True), start=1):
            hits = await ctx.knowledge.search(user, kb.kb_id, document.probe, top_k=1)
            check.require(bool(hits), f"question {number}: the knowledge base has material for it")
            source = hits[0]
            check.equal(source.doc_id, doc_id, f"question {number} is drawn from its own document")
            key = document.fact.rsplit(" ", 1)[-1].rstrip(".")  # the reference code the answer must name
            await ctx.memory.add_message(
                user,
                session.session_id,
                "assistant",
                f"Question {number}: what is the {document.probe}?",
                metadata={"question": number, "chunk_id": source.chunk_id, "doc_id": source.doc_id},
            )
            answer = key if number != 3 else "I do not remember"  # the student misses question 3
            await ctx.memory.add_message(user, session.session_id, "user", answer)
            correct = answer in source.text and bool(answer.strip())
            answers.append(correct)
            await ctx.metrics.record_event(
                user, "exam.answer_graded", {"question": number, "correct": correct, "session_id": session.session_id}
            )
        score = 100.0 * sum(answers) / len(answers)
        await ctx.metrics.record_metric("exam.score_percent", score, kind="gauge", tags={"exam": session.session_id})
        await ctx.metrics.record_event(
            user, "exam.completed", {"score_percent": score, "session_id": session.session_id}
        )
    with check.step("grades and scores"):
        check.equal(
            answers, [True, True, False, True], "grading against the knowledge base marks only question 3 wrong"
        )
        summary = await ctx.metrics.get_summary("exam.score_percent", tags={"exam": session.session_id})
        check.equal((summary.count, summary.last), (1, 75.0), "the exam's score is recorded as a metric")
        analytics = await ctx.metrics.get_user_analytics(user)
        check.equal(analytics.event_counts.get("exam.answer_graded"), 4, "analytics counted four graded answers")
        check.equal(analytics.event_counts.get("exam.completed"), 1, "analytics recorded the completed exam")
        history = await ctx.memory.get_messages(user, session.session_id)
        questions = [m for m in history if m.role == "assistant"]
        check.equal(
            [m.metadata.get("doc_id") for m in questions],
            doc_ids,
            "every stored question cites the document it was drawn from",
        )
        check.equal(len(history), 8, "four questions and four answers are stored")


@use_case("ai_notetaker")
async def ai_notetaker(ctx: FFTestContext, check: FFChecker) -> None:
    """A meeting transcript is summarised by a tool into notes that are searchable later."""
    user = ctx.new_user("notes")
    transcript = [
        ("Ana", "Welcome everyone, today we review the spring launch."),
        ("Ben", "The venue is booked for the second week of April."),
        ("Ana", "The launch budget needs a decision today."),
        ("Chloe", "Marketing asked for more budget for the launch campaign."),
        ("Ben", "Catering will send a quote on Friday."),
        ("Ana", "Decision: the launch budget is approved at forty thousand euros for the launch campaign."),
        ("Chloe", "Thanks, I will tell the design team."),
    ]
    decision = transcript[5][1]
    with check.step("record the meeting"):
        session = await ctx.memory.create_session(user, title="Spring launch sync")
        for speaker, line in transcript:
            await ctx.memory.add_message(user, session.session_id, "user", line, metadata={"speaker": speaker})
        history = await ctx.memory.get_messages(user, session.session_id)
        check.equal(
            [(m.metadata.get("speaker"), m.content) for m in history],
            transcript,
            "the transcript is stored in speaking order",
        )
    with check.step("summarise with a tool"):
        text = "\n".join(m.content for m in history)
        run = await ctx.tools.execute_tool(user, "summarize", {"text": text, "max_sentences": 2})
        check.require(run.ok, "summarize ran", f"{run.status}: {run.error}")
        notes = run.output["summary"]
        kept = [s["text"] for s in run.output["sentences"]]
        check.that(
            all(sentence in text for sentence in kept) and len(kept) <= 2,
            "the notes are at most two sentences of the transcript",
        )
        check.that(decision in kept, "the notes keep the decision", f"notes {notes!r}")
    with check.step("file the notes"):
        note_turn = await ctx.memory.add_message(
            user, session.session_id, "assistant", notes, metadata={"kind": "notes", "tool_run_id": run.run_id}
        )
        kb = await ctx.knowledge.create_knowledge_base(user, "meeting notes")
        doc = await ctx.knowledge.add_document(
            user,
            kb.kb_id,
            content=notes,
            title="Spring launch sync: notes",
            source=f"summarize:{run.run_id}",
            metadata={"session_id": session.session_id, "message_id": note_turn.message_id},
        )
        note_memory = await ctx.memory.store_memory(
            user,
            f"Meeting notes (spring launch sync): {notes}",
            layer="long_term",
            importance=0.7,
            tags=["meeting-notes"],
            session_id=session.session_id,
            message_id=note_turn.message_id,
            metadata={"doc_id": doc.doc_id},
        )
    with check.step("search the notes later"):
        hits = await ctx.knowledge.search(user, kb.kb_id, "how much budget was approved?", top_k=3)
        check.require(bool(hits), "the knowledge base finds the notes")
        check.equal(hits[0].doc_id, doc.doc_id, "the hit is the meeting's notes")
        check.that("forty thousand euros" in hits[0].text, "the hit holds the approved amount")
        stored = await ctx.knowledge.get_document(user, kb.kb_id, doc.doc_id)
        check.equal(
            stored.metadata.get("session_id"), session.session_id, "the notes point back to the meeting session"
        )
        async with reopened(ctx, "memory") as memory:
            recalled = await memory.search_memories(user, "launch budget decision", limit=3)
        check.equal(
            [h.entry.memory_id for h in recalled[:1]],
            [note_memory.memory_id],
            "memory search finds the notes after a restart",
        )


@use_case("chatops_assistant")
async def chatops_assistant(ctx: FFTestContext, check: FFChecker) -> None:
    """A permitted ops tool runs; forbidden ones are refused, never started, and audited."""
    operator, intern = ctx.new_user("ops"), ctx.new_user("intern")
    with check.step("grant the operator"):
        await ctx.tools.assign_role(operator, "ops")
        access = await ctx.tools.grant_tool(operator, "restart_service")
        check.equal(
            (access.roles, access.grants),
            (["ops"], ["restart_service"]),
            "the operator holds the ops role and the grant",
        )
    with check.step("permitted restart"):
        run = await ctx.tools.execute_tool(
            operator, "restart_service", {"service": "indexer", "reason": "stale search index"}
        )
        check.require(run.ok, "the operator's restart request ran", f"{run.status}: {run.error}")
        check.equal(
            (run.output["service"], run.output["state"]),
            ("indexer", "requested"),
            "the restart request names the service",
        )
        request = await read_json(
            data_path(ctx, "users", operator, "tools", "work", run.run_id, "restart_request.json")
        )
        check.equal(request, run.output, "the request file the tool wrote matches its result")
    with check.step("forbidden attempts"):
        denied = await ctx.tools.execute_tool(
            intern, "restart_service", {"service": "chat-api", "reason": "it feels slow"}
        )
        check.equal(
            (denied.status, denied.refusal),
            (FFToolRunStatus.REFUSED, FFToolRefusal.NOT_PERMITTED),
            "the intern is refused",
        )
        check.equal((denied.attempts, denied.exit_code), (0, None), "the refused tool never started")
        ungranted = await ctx.tools.execute_tool(operator, "disk_usage", {})
        check.equal(
            (ungranted.status, ungranted.refusal),
            (FFToolRunStatus.REFUSED, FFToolRefusal.GRANT_REQUIRED),
            "a dangerous tool without a grant is refused even for the operator",
        )
        work = data_path(ctx, "users", intern, "tools", "work")
        check.that(not work.exists() or not any(work.iterdir()), "no work directory was created for the refused run")
    with check.step("audit"):
        records = await ctx.metrics.get_audit_records(limit=10_000)
        refusals = {
            (r.actor, r.target, r.outcome, r.details.get("payload", {}).get("reason"))
            for r in records
            if r.action == "tool.refused"
        }
        check.that(
            (intern, "restart_service", "refused", "not_permitted") in refusals,
            "the intern's refusal is audited",
            f"refusals {sorted(refusals)}",
        )
        check.that((operator, "disk_usage", "refused", "grant_required") in refusals, "the missing grant is audited")
        check.that(
            not any(r.actor == operator and r.target == "restart_service" for r in records),
            "the permitted run is not audited as a refusal",
        )
        verdict = await ctx.metrics.verify_audit_log()
        check.that(verdict.ok, "the audit chain verifies", f"{verdict.reason} at {verdict.first_bad_index}")
    with check.step("run logs and analytics"):
        logged = await ctx.tools.list_runs(intern)
        check.equal(
            [(r.run_id, r.status) for r in logged],
            [(denied.run_id, FFToolRunStatus.REFUSED)],
            "the refusal is in the intern's run log",
        )
        intern_stats = await ctx.metrics.get_user_analytics(intern)
        operator_stats = await ctx.metrics.get_user_analytics(operator)
        check.equal(intern_stats.event_counts.get("tool.refused"), 1, "analytics counted the intern's refusal")
        check.equal(
            (operator_stats.event_counts.get("tool.executed"), operator_stats.event_counts.get("tool.refused")),
            (1, 1),
            "analytics counted the operator's run and refusal",
        )


@use_case("cross_team_concierge")
async def cross_team_concierge(ctx: FFTestContext, check: FFChecker) -> None:
    """Each team's questions are answered from its own knowledge base only."""
    teams = {
        "alpha": (ctx.new_user("alpha"), "The VPN gateway for remote staff is vpn-north.example.net on port 1194."),
        "beta": (ctx.new_user("beta"), "The VPN gateway for remote staff is vpn-south.example.net on port 443."),
    }
    filler = "Laptops are renewed every three years. Badges are collected at the front desk on the first day."
    kbs: dict[str, tuple[str, set[str]]] = {}
    sessions: dict[str, str] = {}
    with check.step("each team loads its handbook"):
        for team, (user, fact) in teams.items():
            kb = await ctx.knowledge.create_knowledge_base(user, f"{team} handbook")
            docs = [
                await ctx.knowledge.add_document(
                    user, kb.kb_id, content=f"# Remote access\n\n{fact}", title=f"{team} remote access"
                ),
                await ctx.knowledge.add_document(
                    user, kb.kb_id, content=f"# Onboarding\n\n{filler} Team {team}.", title=f"{team} onboarding"
                ),
            ]
            kbs[team] = (kb.kb_id, {d.doc_id for d in docs})
    with check.step("each team asks the same question"):
        for team, (user, fact) in teams.items():
            other = "beta" if team == "alpha" else "alpha"
            kb_id, own_docs = kbs[team]
            session = await ctx.memory.create_session(user, title="IT concierge")
            question = await ctx.memory.add_message(
                user, session.session_id, "user", "Which VPN gateway do remote staff use?"
            )
            hits = await ctx.knowledge.search(user, kb_id, question.content, top_k=5)
            check.require(bool(hits), f"{team}: the question finds material")
            check.that(
                all(h.kb_id == kb_id and h.doc_id in own_docs for h in hits),
                f"{team}: every hit comes from the team's own knowledge base",
                f"hits {[(h.kb_id, h.doc_id) for h in hits]}",
            )
            check.that(
                fact in hits[0].text and teams[other][1] not in " ".join(h.text for h in hits),
                f"{team}: the answer is the team's own fact",
            )
            run = await ctx.tools.execute_tool(user, "summarize", {"text": hits[0].text, "max_sentences": 1})
            check.require(run.ok, f"{team}: the answer was composed", f"{run.status}: {run.error}")
            await ctx.memory.add_message(
                user,
                session.session_id,
                "assistant",
                run.output["summary"],
                metadata={
                    "citations": [{"kb_id": kb_id, "doc_id": hits[0].doc_id, "chunk_id": hits[0].chunk_id}],
                    "tool_run_id": run.run_id,
                },
            )
            answer = (await ctx.memory.get_messages(user, session.session_id))[-1]
            check.that(
                fact in answer.content, f"{team}: the stored answer states the team's own gateway", answer.content
            )
            sessions[team] = session.session_id
    with check.step("no way across"):
        alpha_user, beta_user = teams["alpha"][0], teams["beta"][0]
        beta_kb = kbs["beta"][0]
        with check.raises(FFNotFoundError, "alpha cannot search beta's knowledge base by its id"):
            await ctx.knowledge.search(alpha_user, beta_kb, "VPN gateway")
        beta_hit = (await ctx.knowledge.search(beta_user, beta_kb, "VPN gateway", top_k=1))[0]
        with check.raises(FFNotFoundError, "alpha cannot read beta's chunks"):
            await ctx.knowledge.get_chunk(alpha_user, beta_kb, beta_hit.chunk_id)
        with check.raises(FFNotFoundError, "alpha cannot read beta's conversation"):
            await ctx.memory.get_messages(alpha_user, sessions["beta"])
        alpha_bases = await ctx.knowledge.list_knowledge_bases(alpha_user)
        check.equal([b.kb_id for b in alpha_bases], [kbs["alpha"][0]], "alpha lists only its own knowledge base")


@use_case("scene_critic")
async def scene_critic(ctx: FFTestContext, check: FFChecker) -> None:
    """A critic persona critiques every scene, each critique linked to its scene."""
    user = ctx.new_user("writer")
    scenes = [
        "INT. LIGHTHOUSE - NIGHT. Mara climbs the spiral stairs. The lamp is dark. She strikes a match.",
        "EXT. HARBOUR - DAWN. Fishing boats return. Old Tomas waves, then freezes when he sees the dark lamp.",
        "INT. LIGHTHOUSE - DAY. Mara and Tomas argue about who let the light die. The radio crackles a storm warning.",
    ]
    with check.step("open the writers' room"):
        critic = await register_persona(ctx, f"{user}-critic", "Vera the critic", expertise=["screenwriting", "pacing"])
        panel = await ctx.panel.create_panel(
            user,
            [
                {"participant_id": "writer", "kind": "human"},
                {"participant_id": "critic", "persona_id": critic.persona_id},
            ],
            title="Lighthouse draft",
        )
    critiques = []
    with check.step("post scenes and measure them side by side"):
        posted = [
            await ctx.panel.add_message(user, panel.panel_id, "writer", scene, metadata={"scene": n})
            for n, scene in enumerate(scenes, 1)
        ]
        measured = await asyncio.gather(
            *(ctx.tools.execute_tool(user, "word_count", {"text": s, "top": 3}) for s in scenes)
        )
        for scene_message, scene, run in zip(posted, scenes, measured, strict=True):
            check.require(
                run.ok, f"word_count measured scene {scene_message.metadata['scene']}", f"{run.status}: {run.error}"
            )
            check.equal(
                run.output["words"],
                len(_words(scene)),
                f"scene {scene_message.metadata['scene']}: the word count is right",
            )
    with check.step("one critique per scene"):
        for scene_message, run in zip(posted, measured, strict=True):
            number = scene_message.metadata["scene"]
            verdict = "tight" if run.output["words"] <= 18 else "could be trimmed"
            images = ", ".join(word for word, _ in run.output["top_words"])
            text = f"Scene {number} runs {run.output['words']} words and is {verdict}; key images: {images}."
            message = await ctx.panel.add_message(
                user, panel.panel_id,
                "critic",
                text,
                reply_to=scene_message.message_id,
                metadata={"scene": number, "words": run.output["words"], "tool_run_id": run.run_id},
            )
            insight = await ctx.panel.record_insight(
                user, panel.panel_id,
                f"Scene {number} is {verdict}.",
                participant_id="critic",
                category="critique",
                source_message_ids=[scene_message.message_id, message.message_id],
            )
            critiques.append((scene_message, message, insight))
    with check.step("read the critiques back"):
        messages = {m.message_id: m for m in await ctx.panel.get_messages(user, panel.panel_id)}
        insights = await ctx.panel.get_insights(user, panel.panel_id, category="critique")
        check.equal(len(insights), len(scenes), "one critique insight per scene")
        for (scene_message, message, insight), stored in zip(critiques, insights, strict=True):
            number = scene_message.metadata["scene"]
            check.equal(
                messages[message.message_id].reply_to,
                scene_message.message_id,
                f"scene {number}: the critique replies to its scene",
            )
            check.equal(
                (stored.insight_id, stored.source_message_ids),
                (insight.insight_id, [scene_message.message_id, message.message_id]),
                f"scene {number}: the stored insight links the scene and its critique",
            )
            check.equal(
                messages[message.message_id].participant_id, "critic", f"scene {number}: the critic persona wrote it"
            )
        stored_panel = await ctx.panel.get_panel(user, panel.panel_id)
        check.equal(
            stored_panel.participant("critic").name, "Vera the critic", "the critic seat plays the registered persona"
        )
        records = await read_jsonl(data_path(ctx, "users", user, "panels", panel.panel_id, "insights.jsonl"))
        check.equal(
            [r.get("insight_id") for r in records],
            [i.insight_id for _, _, i in critiques],
            "insights.jsonl holds every critique",
        )
