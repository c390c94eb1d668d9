"""Context & memory use cases: memory chat, thought partner, story world chat."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from testing._context import FFTestContext
from testing.runner import FFChecker
from testing.suites.use_cases._support import data_path, read_jsonl, register_persona, reopened, use_case

__all__: list[str] = []


@use_case("memory_chat")
async def memory_chat(ctx: FFTestContext, check: FFChecker) -> None:
    """A fact from one session is recalled in a later one; expired memories move down or archive."""
    user = ctx.new_user("memo")
    t0 = ctx.memory.clock()
    with check.step("session 1: the user shares things"):
        first = await ctx.memory.create_session(user, title="Catching up")
        said = await ctx.memory.add_message(
            user, first.session_id, "user", "My sister Priyanka is moving to Lisbon in May."
        )
        await ctx.memory.add_message(user, first.session_id, "assistant", "How exciting for her!")
        fact = await ctx.memory.store_memory(
            user,
            "The user's sister Priyanka is moving to Lisbon in May.",
            layer="long_term",
            importance=0.9,
            tags=["family"],
            session_id=first.session_id,
            message_id=said.message_id,
        )
        small_talk = await ctx.memory.store_memory(
            user, "The user said the weather is grey today.", layer="immediate", importance=0.1
        )
        mood = await ctx.memory.store_memory(
            user, "The user felt tired this afternoon.", layer="short_term", importance=0.3
        )
        taste = await ctx.memory.store_memory(
            user, "The user enjoys late-night jazz.", layer="immediate", importance=0.5
        )
    with check.step("session 2: recall"):
        async with reopened(ctx, "memory") as memory:
            second = await memory.create_session(user, title="A week later")
            question = await memory.add_message(user, second.session_id, "user", "Where is my sister moving again?")
            hits = await memory.search_memories(user, question.content, limit=3)
            check.require(bool(hits), "the question finds memories")
            check.equal(hits[0].entry.memory_id, fact.memory_id, "the best memory is the fact from session 1")
            check.equal(
                (hits[0].entry.session_id, hits[0].entry.message_id),
                (first.session_id, said.message_id),
                "the fact points at where it was said",
            )
            context = await memory.get_memory_context(user, question.content)
            check.that("Lisbon" in context.text, "the prompt context carries the fact", context.text[:200])
            tight = await memory.get_memory_context(user, question.content, budget_chars=60)
            check.that(
                0 < len(tight.text) <= 60 and tight.used_chars == len(tight.text),
                "a 60-character budget holds: the best memory is cut to it, never dropped",
                f"{len(tight.text)} chars, used_chars={tight.used_chars}",
            )
            await memory.add_message(
                user,
                second.session_id,
                "assistant",
                "She is moving to Lisbon in May.",
                metadata={"memory_ids": [fact.memory_id]},
            )
            answer = (await memory.get_messages(user, second.session_id))[-1]
            check.equal(answer.metadata.get("memory_ids"), [fact.memory_id], "the answer records the memory it used")
    with check.step("retention three hours later"):
        report = await ctx.memory.process_retention(now=t0 + timedelta(hours=3), user_id=user)
        archived = [a.entry.memory_id for r in report.users if r.user_id == user for a in r.archived]
        check.equal(archived, [small_talk.memory_id], "the unimportant immediate memory expired into the archive")
        moved = [(m.memory_id, m.to_layer) for r in report.users for m in r.moved]
        check.equal(moved, [(taste.memory_id, "short_term")], "the more important immediate memory moved to short-term")
    with check.step("retention a day later"):
        report = await ctx.memory.process_retention(now=t0 + timedelta(hours=27), user_id=user)
        archived_now = [a.entry.memory_id for r in report.users for a in r.archived]
        check.equal(archived_now, [mood.memory_id], "the short-term mood expired into the archive")
        layers = {m.memory_id: m.layer for m in await ctx.memory.get_memories(user, limit=50)}
        check.equal(
            layers,
            {fact.memory_id: "long_term", taste.memory_id: "medium_term"},
            "what stays active sits in the right layers",
        )
        stats = await ctx.memory.memory_stats(user)
        check.equal((stats.active, stats.archived), (2, 2), "two active and two archived memories")
        archive = await ctx.memory.get_archived_memories(user)
        check.equal(
            [(a.entry.memory_id, a.reason, a.from_layer) for a in archive],
            [(small_talk.memory_id, "expired", "immediate"), (mood.memory_id, "expired", "short_term")],
            "the archive says what left, why and from where",
        )
        on_disk = await read_jsonl(data_path(ctx, "users", user, "memory", "archive.jsonl"))
        check.equal(
            [r["entry"]["memory_id"] for r in on_disk],
            [small_talk.memory_id, mood.memory_id],
            "archive.jsonl on disk holds both",
        )
        again = await ctx.memory.search_memories(user, "sister moving Lisbon", limit=1)
        check.equal([h.entry.memory_id for h in again], [fact.memory_id], "the fact is still recalled after retention")


@use_case("thought_partner")
async def thought_partner(ctx: FFTestContext, check: FFChecker) -> None:
    """Reflections overflow the immediate layer, are compressed into a summary that retention
    carries into long-term memory, and are found by memory and knowledge-base search."""
    user = ctx.new_user("thinker")
    t0 = ctx.memory.clock()
    limit = ctx.config.memory.layer_max_entries["immediate"] or 0
    batch = ctx.config.memory.compression_batch
    check.require(limit > 0, "the immediate layer has a size limit to overflow")
    themes = ["morning walks", "old friends", "my teachers", "quiet evenings", "good coffee"]
    with check.step(f"write {limit + 1} reflections"):
        session = await ctx.memory.create_session(user, title="Evening journal")
        await ctx.memory.add_message(
            user, session.session_id, "user", "Let me think out loud about what I am grateful for."
        )
        # the oldest `batch` reflections are about gratitude: the ones compression takes first
        gratitude = await asyncio.gather(
            *(
                ctx.memory.store_memory(
                    user,
                    f"I feel deep gratitude for {themes[i % len(themes)]}; gratitude reflection {i}.",
                    layer="immediate",
                    importance=0.7,
                    tags=["reflection", "gratitude"],
                    session_id=session.session_id,
                    created_at=t0 - timedelta(minutes=60) + timedelta(seconds=i),
                )
                for i in range(batch)
            )
        )
        others = await asyncio.gather(
            *(
                ctx.memory.store_memory(
                    user,
                    f"Reflection {i} on planning the week and the commute.",
                    layer="immediate",
                    importance=0.7,
                    tags=["reflection"],
                    session_id=session.session_id,
                    created_at=t0 - timedelta(minutes=30) + timedelta(seconds=i),
                )
                for i in range(limit + 1 - batch)
            )
        )
        stats = await ctx.memory.memory_stats(user)
        check.equal(stats.layers["immediate"], limit + 1, "the immediate layer is one over its limit")
    with check.step("compress"):
        report = await ctx.memory.process_retention(now=t0 + timedelta(minutes=1), user_id=user)
        compressed = [c for r in report.users for c in r.compressed]
        check.require(len(compressed) == 1, "one summary replaced the overflow", f"compressions {compressed}")
        summary_id = compressed[0].summary_id
        check.equal(
            sorted(compressed[0].source_ids),
            sorted(m.memory_id for m in gratitude),
            "the oldest reflections were compressed",
        )
        summary = await ctx.memory.get_memory(user, summary_id)
        check.that(
            summary.kind == "summary" and "gratitude" in summary.content.lower(),
            "the summary keeps the reflections' theme",
            summary.content[:200],
        )
        archive = await ctx.memory.get_archived_memories(user, limit=100)
        check.equal(
            sorted(a.entry.memory_id for a in archive if a.reason == "compressed" and a.summary_id == summary_id),
            sorted(m.memory_id for m in gratitude),
            "every compressed reflection is archived with a link to its summary",
        )
    with check.step("retention carries the summary into long-term memory"):
        await ctx.memory.process_retention(now=t0 + timedelta(days=9), user_id=user)
        long_term = {m.memory_id: m for m in await ctx.memory.get_memories(user, layers="long_term", limit=1000)}
        check.that(summary_id in long_term, "the summary reached long-term memory")
        check.equal(len(long_term), len(others) + 1, "every reflection not compressed reached long-term memory too")
        hits = await ctx.memory.search_memories(user, "what am I grateful for? gratitude", limit=3, layers="long_term")
        check.equal(
            [h.entry.memory_id for h in hits[:1]],
            [summary_id],
            "search finds the compressed reflections' summary first",
        )
    with check.step("publish the insight to the journal knowledge base"):
        kb = await ctx.knowledge.create_knowledge_base(user, "journal insights")
        doc = await ctx.knowledge.add_document(
            user,
            kb.kb_id,
            content=summary.content,
            title="Gratitude",
            metadata={"memory_id": summary_id, "source_ids": summary.source_ids},
        )
        found = await ctx.knowledge.search(user, kb.kb_id, "gratitude friends", top_k=1)
        check.equal([h.doc_id for h in found], [doc.doc_id], "the knowledge base finds the published insight")
        stored = await ctx.knowledge.get_document(user, kb.kb_id, doc.doc_id)
        check.equal(stored.metadata.get("memory_id"), summary_id, "the document links back to the memory summary")


@use_case("story_world_chat")
async def story_world_chat(ctx: FFTestContext, check: FFChecker) -> None:
    """Characters' facts stay consistent across sessions: canon in memory agrees with the personas."""
    user = ctx.new_user("story")
    characters = {
        "mira": ("Captain Mira", {"eyes": "green", "ship": "Kestrel", "home": "Port Varn"}),
        "oskar": ("Oskar the smuggler", {"eyes": "grey", "ship": "Tern", "home": "Saltmarsh"}),
    }
    t0 = ctx.memory.clock()
    with check.step("session 1: establish the canon"):
        seats: list[dict[str, Any]] = [{"participant_id": "narrator", "kind": "human"}]
        for cid, (name, traits) in characters.items():
            persona = await register_persona(ctx, f"{user}-{cid}", name, traits=traits)
            seats.append({"participant_id": cid, "persona_id": persona.persona_id})
        panel = await ctx.panel.create_panel(user, seats, title="Saltwater Chronicles")
        session = await ctx.memory.create_session(user, title="Chapter 1", metadata={"panel_id": panel.panel_id})
        for cid, (name, traits) in characters.items():
            line = f"{name} has {traits['eyes']} eyes, sails the {traits['ship']} and calls {traits['home']} home."
            message = await ctx.panel.add_message(
                user, panel.panel_id, "narrator", line, metadata={"claims": {cid: traits}}
            )
            await ctx.memory.add_message(
                user, session.session_id, "assistant", line, metadata={"panel_message_id": message.message_id}
            )
            for attribute, value in traits.items():
                await ctx.memory.store_memory(
                    user,
                    f"{name}'s {attribute}: {value}.",
                    layer="permanent",
                    importance=1.0,
                    tags=["canon", f"character-{cid}"],
                    session_id=session.session_id,
                    metadata={"character": cid, "attribute": attribute, "value": value},
                )
        await ctx.panel.update_state(user, panel.panel_id, {"chapter": 1})
    with check.step("two years later: retention"):
        await ctx.memory.process_retention(now=t0 + timedelta(days=730), user_id=user)
    with check.step("session 2: continue the story"):
        async with reopened(ctx, "memory") as memory:
            canon, contradictions = await _canon(memory, user)
            check.equal(contradictions, [], "no attribute is remembered with two values")
            check.equal(
                canon,
                {cid: traits for cid, (_, traits) in characters.items()},
                "the canon survived two years and a restart",
            )
            for cid, (name, _) in characters.items():
                persona = await ctx.panel.personas.get_persona(f"{user}-{cid}")
                check.equal(persona.traits, canon[cid], f"{name}: the persona and the remembered canon agree")
            drafts = [
                ("mira", {"eyes": "green", "ship": "Kestrel"}, "Mira's green eyes narrow as the Kestrel docks."),
                ("oskar", {"home": "Port Varn"}, "Oskar sails home to Port Varn."),  # contradicts the canon
                ("oskar", {"ship": "Tern"}, "Oskar checks the Tern's rigging."),
            ]
            accepted = []
            session2 = await memory.create_session(user, title="Chapter 2", metadata={"panel_id": panel.panel_id})
            for cid, claims, line in drafts:
                conflicts = {a: (v, canon[cid].get(a)) for a, v in claims.items() if canon[cid].get(a) != v}
                if conflicts:
                    continue  # the app keeps the story consistent: a contradicting draft is rewritten, not sent
                accepted.append(line)
                await ctx.panel.add_message(user, panel.panel_id, cid, line, metadata={"claims": {cid: claims}})
                await memory.add_message(user, session2.session_id, "assistant", line)
            check.equal(
                accepted, [drafts[0][2], drafts[2][2]], "the draft contradicting Oskar's home was caught by the canon"
            )
            context = await memory.get_memory_context(user, "Mira eyes ship")
            check.that(
                "green" in context.text and "Kestrel" in context.text,
                "the prompt context recalls Mira's canon",
                context.text[:200],
            )
    with check.step("read the story back"):
        messages = await ctx.panel.get_messages(user, panel.panel_id)
        for message in messages:
            for cid, claims in message.metadata.get("claims", {}).items():
                check.that(
                    all(characters[cid][1][a] == v for a, v in claims.items()),
                    f"message {message.sequence}: what it says about {cid} matches the canon",
                )
        check.equal(len(messages), 4, "two canon lines and two consistent story lines are in the panel")
        sessions = await ctx.memory.list_sessions(user)
        check.equal(
            sorted((s.title, s.message_count) for s in sessions),
            [("Chapter 1", 2), ("Chapter 2", 2)],
            "both chapters are in memory",
        )


async def _canon(memory: Any, user: str) -> tuple[dict[str, dict[str, str]], list[str]]:
    """The characters' attributes as remembered, and every attribute remembered with two values."""
    canon: dict[str, dict[str, str]] = {}
    contradictions: list[str] = []
    for entry in await memory.get_memories(user, layers="permanent", limit=100):
        if "canon" not in entry.tags:
            continue
        cid, attribute, value = entry.metadata["character"], entry.metadata["attribute"], entry.metadata["value"]
        known = canon.setdefault(cid, {})
        if known.get(attribute, value) != value:
            contradictions.append(f"{cid}.{attribute}: {known[attribute]!r} and {value!r}")
        known[attribute] = value
    return canon, contradictions
