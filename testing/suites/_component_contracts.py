"""Component suite, part 2: the documented guarantees, each checked at run time (issue 20).

The round trips check that a feature works; these check what README.md promises about it, where
a plausible bug hides behind a passing round trip: the bounds a caller sets (``limit``, ``top_k``,
budgets, paging), ordering and exact counts, content at the configured size limits read back
byte for byte (and one character over refused, writing nothing), every field a write accepts
read back, retention's outcome per layer, and the summary statistics against an independent
computation by the documented interpolation. Each check is cheap: a few small writes per test,
plus one write at each size limit.

Registered on the component suite's REGISTRY (component.py imports this module at its end).
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ff_class_configs.ff_memory_config import RETENTION_CHAIN
from pydantic import BaseModel, ConfigDict

from ff_class_configs.ff_tool_dtos import FFToolDefinitionDTO, FFToolLimitsDTO, FFToolRunStatus
from ff_utils.ff_errors import FFNotFoundError, FFValidationError
from ff_utils.ff_json_utils import ff_dumps
from testing._context import FFTestContext
from testing.runner import FFChecker
from testing.suites._disk import analytics_records, data_path

from .component import REGISTRY, _slug

__all__ = ["exact_percentile", "text_of_chars"]

# Mixed 1-, 2-, 3- and 4-byte UTF-8, so a limit counted in bytes instead of characters, or a
# re-encoding, shows; starts and ends with a letter, so no strip() can change it silently.
_UNIT = "aé€😀 b\tç中\n"
_T0 = datetime(2031, 3, 1, 8, 0, tzinfo=UTC)


def text_of_chars(n: int, seed: str = "") -> str:
    """Exactly ``n`` characters of mixed-width text (n >= 2), first and last a letter."""
    body = (seed + _UNIT * (n // len(_UNIT) + 2))[: n - 2]
    return "x" + body + "z"


def exact_percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default, statistics' "inclusive"),
    written out here so the suite does not check the manager against the manager's own code."""
    xs = sorted(values)
    h = (len(xs) - 1) * q
    lo = math.floor(h)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (h - lo) * (xs[hi] - xs[lo])


def _dump(model: Any) -> dict[str, Any]:
    return model.model_dump(mode="json")


def _same(check: FFChecker, actual: str, expected: str, description: str) -> bool:
    """Byte-for-byte equality of two long texts, reporting where they part instead of both."""
    if actual == expected:
        return check.that(True, description)
    at = next((i for i, (a, b) in enumerate(zip(actual, expected)) if a != b), min(len(actual), len(expected)))
    return check.that(False, description, f"{len(actual)} vs {len(expected)} chars, first difference at {at}")


# ====================================================================== memory


@REGISTRY.test("memory contracts: limits, size limit, every field, retention per layer",
               components=("memory",), depends_on=("memory_round_trip",))
async def memory_contracts(ctx: FFTestContext, check: FFChecker) -> None:
    """get_messages/get_memories/search limits exactly; max_content_chars round trip; all fields."""
    user, lister = ctx.new_user("memc"), ctx.new_user("memcl")
    max_chars = ctx.config.storage.max_content_chars
    with check.step("get_messages keeps exactly the last limit, oldest first"):
        session = await ctx.memory.create_session(user, title="Contracts", metadata={"k": [1, "two", None]}, extra={"legacy": 7})
        sid = session.session_id
        added = [await ctx.memory.add_message(user, sid, ("user", "assistant")[i % 2], f"turn {i}") for i in range(7)]
        for limit in (1, 3, 6, 7, 10):
            got = await ctx.memory.get_messages(user, sid, limit=limit)
            check.equal([m.message_id for m in got], [m.message_id for m in added[-limit:]], f"get_messages(limit={limit})")
    with check.step("every field of a session and a message reads back"):
        stored = await ctx.memory.get_session(user, sid)
        check.equal((stored.title, stored.metadata, stored.extra, stored.message_count),
                    ("Contracts", {"k": [1, "two", None]}, {"legacy": 7}, 7), "title, metadata, extra and count of the session")
        data = bytes(range(256)) * 3
        sent = await ctx.memory.add_message(
            user, sid, "assistant", "with everything", message_id="contract-msg-1", timestamp=_T0,
            metadata={"model": "m-1", "scores": [0.5, 1]},
            attachments=[{"name": "blob.bin", "mime_type": "application/octet-stream", "data": data, "metadata": {"page": 2}}],
        )
        [back] = await ctx.memory.get_messages(user, sid, limit=1)
        check.equal(_dump(back), _dump(sent), "the message read back equals the one add_message returned, field by field")
        check.equal((back.message_id, back.role, back.content, back.timestamp, back.metadata),
                    ("contract-msg-1", "assistant", "with everything", _T0, {"model": "m-1", "scores": [0.5, 1]}),
                    "id, role, content, timestamp and metadata are the ones given")
        [att] = back.attachments
        check.equal((att.name, att.mime_type, att.size_bytes, att.sha256, att.metadata),
                    ("blob.bin", "application/octet-stream", len(data), hashlib.sha256(data).hexdigest(), {"page": 2}),
                    "the attachment's name, type, size, SHA-256 and metadata")
        check.that(await ctx.memory.get_attachment(user, sid, att.attachment_id) == data, "the attachment's bytes read back")
    with check.step("every field of a profile reads back"):
        profile = await ctx.memory.create_profile(user, username="Ada L.", preferences={"tone": "brief", "n": [1, 2]},
                                                  metadata={"plan": "pro"}, created_at=_T0, extra={"legacy_id": 42})
        got_profile = await ctx.memory.get_profile(user)
        check.equal(_dump(got_profile), _dump(profile), "the profile read back equals the one create_profile returned")
        check.equal((got_profile.username, got_profile.preferences, got_profile.metadata, got_profile.created_at, got_profile.extra),
                    ("Ada L.", {"tone": "brief", "n": [1, 2]}, {"plan": "pro"}, _T0, {"legacy_id": 42}), "every argument of create_profile is kept")
    with check.step("content of exactly max_content_chars reads back byte for byte"):
        big = text_of_chars(max_chars, "msg")
        await ctx.memory.add_message(user, sid, "user", big)
        [last] = await ctx.memory.get_messages(user, sid, limit=1)
        _same(check, last.content, big, f"a {max_chars}-character message reads back unchanged")
        with check.raises(FFValidationError, "one character over max_content_chars is refused"):
            await ctx.memory.add_message(user, sid, "user", big + "y")
        count = (await ctx.memory.get_session(user, sid)).message_count
        check.equal(count, 9, "the refused message wrote nothing")
        memory = await ctx.memory.store_memory(user, text_of_chars(max_chars, "mem"), layer="permanent")
        _same(check, (await ctx.memory.get_memory(user, memory.memory_id)).content, memory.content,
              "a memory of exactly max_content_chars reads back unchanged")
    with check.step("metadata of exactly max_metadata_bytes reads back"):
        limit = ctx.config.memory.max_metadata_bytes
        padded = {"note": "m" * (limit - len(ff_dumps({"note": ""})))}
        wide = await ctx.memory.create_session(user, title="Wide", metadata=padded)
        check.equal((await ctx.memory.get_session(user, wide.session_id)).metadata, padded,
                    f"session metadata of exactly {limit} bytes as JSON reads back")
        before = len(await ctx.memory.list_sessions(user))
        with check.raises(FFValidationError, "metadata one byte over max_metadata_bytes is refused"):
            await ctx.memory.create_session(user, title="Too wide", metadata={"note": padded["note"] + "m"})
        check.equal(len(await ctx.memory.list_sessions(user)), before, "the refused session was not created")
    with check.step("every field of a memory reads back"):
        entry = await ctx.memory.store_memory(
            user, "The lighthouse keeper prefers oolong", layer="medium_term", importance=0.65, tags=["tea", "keeper"],
            metadata={"source": "contract"}, session_id=sid, message_id="contract-msg-1", memory_id="contract-mem-1",
            created_at=_T0,
        )
        got = await ctx.memory.get_memory(user, "contract-mem-1")
        check.equal(_dump(got), _dump(entry), "the memory read back equals the one store_memory returned")
        check.equal((got.content, got.layer, got.importance, got.tags, got.metadata, got.session_id, got.message_id, got.created_at),
                    ("The lighthouse keeper prefers oolong", "medium_term", 0.65, ["tea", "keeper"], {"source": "contract"},
                     sid, "contract-msg-1", _T0), "every argument of store_memory is kept")
    with check.step("get_memories and search_memories keep their limits"):
        lanterns = [await ctx.memory.store_memory(lister, f"lantern number {i} glows", layer=layer, created_at=_T0 + timedelta(minutes=i))
                    for i, layer in enumerate(["immediate", "short_term", "short_term", "long_term", "permanent"])]
        newest = [e.memory_id for e in reversed(lanterns)]
        for limit in (1, 2, 5, 8):
            got = await ctx.memory.get_memories(lister, limit=limit)
            check.equal([m.memory_id for m in got], newest[:limit], f"get_memories(limit={limit}) is the newest {limit}, newest first")
        short = await ctx.memory.get_memories(lister, layers="short_term")
        check.equal([m.memory_id for m in short], [lanterns[2].memory_id, lanterns[1].memory_id], "a layer filter keeps that layer only")
        for limit in (1, 3, 5, 9):
            hits = await ctx.memory.search_memories(lister, "lantern glows", limit=limit)
            check.equal(len(hits), min(limit, 5), f"search_memories(limit={limit}) returns {min(limit, 5)} hits")
            check.that(all(a.score >= b.score for a, b in zip(hits, hits[1:])), f"limit={limit}: hits best first")
    with check.step("list_sessions keeps its limit; update_session clears a title and merges metadata"):
        shelf = ctx.new_user("memcs")
        made = [await ctx.memory.create_session(shelf, title=f"shelf {i}", metadata={"a": i}) for i in range(3)]
        everyone = [x.session_id for x in await ctx.memory.list_sessions(shelf)]
        check.equal(sorted(everyone), sorted(x.session_id for x in made), "list_sessions without a limit lists every session")
        for limit in (1, 2, 3, 5):
            got = [x.session_id for x in await ctx.memory.list_sessions(shelf, limit=limit)]
            check.equal(got, everyone[:limit], f"list_sessions(limit={limit}) is the first {min(limit, 3)} of the full order")
        cleared = await ctx.memory.update_session(shelf, made[0].session_id, title="", metadata={"b": 2})
        back = await ctx.memory.get_session(shelf, made[0].session_id)
        check.equal((cleared.title, back.title, back.metadata), ("", "", {"a": 0, "b": 2}), "an empty title clears it; metadata keys merge")
    with check.step("list_sessions orders by the instant of the last message, whatever its UTC offset"):
        zones = ctx.new_user("memtz")
        east = await ctx.memory.create_session(zones, title="east")
        west = await ctx.memory.create_session(zones, title="west")
        # 12:00+05:00 is 07:00 UTC: earlier than 08:00 UTC, though its wall clock reads later
        await ctx.memory.add_message(zones, east.session_id, "user", "hi", timestamp="2026-03-05T12:00:00+05:00")
        await ctx.memory.add_message(zones, west.session_id, "user", "hi", timestamp="2026-03-05T08:00:00+00:00")
        check.equal([x.title for x in await ctx.memory.list_sessions(zones)], ["west", "east"],
                    "the session last active at the later instant comes first")
    with check.step("get_memory_context stays within its budget"):
        for budget in (120, 400):
            context = await ctx.memory.get_memory_context(lister, "lantern", budget_chars=budget)
            check.that(0 < len(context.text) <= budget, f"budget_chars={budget}: the context text fits", f"{len(context.text)} chars")
            check.equal((context.budget_chars, context.used_chars), (budget, len(context.text)), f"budget_chars={budget}: the figures")


@REGISTRY.test("memory retention: each layer's outcome at its boundary", components=("memory",), depends_on=("memory_round_trip",))
async def memory_retention_per_layer(ctx: FFTestContext, check: FFChecker) -> None:
    """Per layer: at expiry an entry at the move threshold moves on (entering when it expired), one
    just below is archived, an important one stays twice as long, a younger one stays."""
    settings = ctx.config.memory
    for index, layer in enumerate(RETENTION_CHAIN):
        user = ctx.new_user(f"ret{index}")
        hours = settings.retention_hours[layer]
        threshold = settings.move_min_importance.get(layer)
        nxt = RETENTION_CHAIN[index + 1] if index + 1 < len(RETENTION_CHAIN) else None
        expiry = _T0 + timedelta(hours=hours)
        with check.step(f"{layer}: retention just after {hours:g} h"):
            mover = await ctx.memory.store_memory(user, f"{layer} mover", layer=layer, importance=threshold if threshold is not None else 0.5, created_at=_T0)
            low = await ctx.memory.store_memory(user, f"{layer} low", layer=layer, importance=max(0.0, (threshold or 0.5) - 0.01), created_at=_T0)
            keep_importance = settings.importance_keep_threshold
            important = await ctx.memory.store_memory(user, f"{layer} important", layer=layer, importance=keep_importance, created_at=_T0)
            young = await ctx.memory.store_memory(user, f"{layer} young", layer=layer, importance=0.5, created_at=_T0 + timedelta(hours=hours / 2))
            report = await ctx.memory.process_retention(now=expiry + timedelta(minutes=1), user_id=user)
            check.equal([u.user_id for u in report.users], [user], f"{layer}: a pass for one user reports that user only")
            active = {m.memory_id: m for m in await ctx.memory.get_memories(user, limit=100)}
            archived = {a.entry.memory_id: a for a in await ctx.memory.get_archived_memories(user)}
            check.equal({i for i, m in active.items() if m.layer == layer}, {important.memory_id, young.memory_id},
                        f"{layer}: the important and the younger entry stay")
            check.that(low.memory_id in archived and archived[low.memory_id].from_layer == layer,
                       f"{layer}: the entry below the move threshold is archived from {layer}")
            if nxt is not None and threshold is not None:
                moved = active.get(mover.memory_id)
                check.equal((moved.layer, moved.layer_entered_at) if moved else None, (nxt, expiry),
                            f"{layer}: the entry at the threshold moved to {nxt}, entering when it expired")
            else:
                check.that(mover.memory_id in archived, f"{layer}: the last layer archives what expires")
            check.equal(len(active) + len(archived), 4, f"{layer}: nothing was dropped or duplicated")
        with check.step(f"{layer}: the important entry leaves at twice the time"):
            factor = settings.important_retention_factor
            await ctx.memory.process_retention(now=_T0 + timedelta(hours=hours * factor) - timedelta(minutes=1), user_id=user)
            still = {m.memory_id for m in await ctx.memory.get_memories(user, layers=layer)}
            check.that(important.memory_id in still, f"{layer}: still there just before {factor:g}x the retention")
            await ctx.memory.process_retention(now=_T0 + timedelta(hours=hours * factor) + timedelta(minutes=1), user_id=user)
            gone = {m.memory_id for m in await ctx.memory.get_memories(user, layers=layer)}
            check.that(important.memory_id not in gone, f"{layer}: gone just after {factor:g}x the retention")
    with check.step("permanent never expires"):
        user = ctx.new_user("retp")
        forever = await ctx.memory.store_memory(user, "permanent fact", layer="permanent", importance=0.0, created_at=_T0)
        await ctx.memory.process_retention(now=_T0 + timedelta(days=3 * 365), user_id=user)
        check.equal([m.memory_id for m in await ctx.memory.get_memories(user)], [forever.memory_id], "a permanent entry stays after 3 years")


# ====================================================================== panel


@REGISTRY.test("panel contracts: paging, size limit, every field", components=("panel",), depends_on=("panel_round_trip",))
async def panel_contracts(ctx: FFTestContext, check: FFChecker) -> None:
    """get_messages' limit and after_sequence exactly; max_message_chars round trip; all fields."""
    user = ctx.new_user("panc")
    max_chars = ctx.config.panel.max_message_chars
    people = [{"participant_id": "ann", "role": "expert", "kind": "human", "name": "Ann", "expertise": ["solar", "grids"], "metadata": {"seat": 1}},
              {"participant_id": "bob", "role": "expert", "kind": "human"}]
    with check.step("post nine messages"):
        panel = await ctx.panel.create_panel(user, people, title="Paging", turn_policy="free", metadata={"topic": "paging"})
        posted = [await ctx.panel.add_message(user, panel.panel_id, ("ann", "bob")[i % 2], f"point {i}") for i in range(9)]
        check.equal([m.sequence for m in posted], list(range(1, 10)), "sequences 1..9")
        stored_panel = await ctx.panel.get_panel(user, panel.panel_id)
        check.equal([_dump(p) for p in stored_panel.participants], [_dump(p) for p in panel.participants], "the participants read back")
        ann = stored_panel.participants[0]
        check.equal((ann.participant_id, ann.role, ann.kind, ann.name, ann.expertise, ann.metadata),
                    ("ann", "expert", "human", "Ann", ["solar", "grids"], {"seat": 1}), "every field given for a participant is kept")
    with check.step("limit and after_sequence"):
        for limit in (1, 4, 9, 20):
            got = await ctx.panel.get_messages(user, panel.panel_id, limit=limit)
            check.equal([m.sequence for m in got], [m.sequence for m in posted[-limit:]], f"get_messages(limit={limit}) is the last {min(limit, 9)}")
        pages, after = [], 0
        for _ in range(5):
            page = await ctx.panel.get_messages(user, panel.panel_id, limit=4, after_sequence=after)
            if not page:
                break
            pages.append([m.sequence for m in page])
            after = page[-1].sequence
        check.equal(pages, [[1, 2, 3, 4], [5, 6, 7, 8], [9]], "pages of 4 after_sequence cover 1..9 once, in order")
        window = await ctx.panel.get_messages(user, panel.panel_id, limit=2, after_sequence=3)
        check.equal([m.sequence for m in window], [4, 5], "after_sequence=3, limit=2 is 4 and 5")
    with check.step("every field of a message reads back"):
        sent = await ctx.panel.add_message(user, panel.panel_id, "ann", "Replying with everything", role="user",
                                           reply_to=posted[1].message_id, metadata={"tone": "calm", "n": [1, 2]},
                                           message_id="contract-pm-1", timestamp=_T0)
        [back] = await ctx.panel.get_messages(user, panel.panel_id, limit=1)
        check.equal(_dump(back), _dump(sent), "the message read back equals the one add_message returned")
        check.equal((back.message_id, back.participant_id, back.role, back.reply_to, back.metadata, back.timestamp, back.sequence),
                    ("contract-pm-1", "ann", "user", posted[1].message_id, {"tone": "calm", "n": [1, 2]}, _T0, 10),
                    "id, speaker, role, reply_to, metadata, timestamp and sequence are the ones given")
        stored = await ctx.panel.get_panel(user, panel.panel_id)
        check.equal((stored.title, stored.turn_policy, stored.metadata, stored.message_count), ("Paging", "free", {"topic": "paging"}, 10),
                    "the panel's title, policy, metadata and message count")
    with check.step("content of exactly max_message_chars reads back byte for byte"):
        big = text_of_chars(max_chars, "panel")
        await ctx.panel.add_message(user, panel.panel_id, "bob", big)
        [last] = await ctx.panel.get_messages(user, panel.panel_id, limit=1)
        _same(check, last.content, big, f"a {max_chars}-character panel message reads back unchanged")
        with check.raises(FFValidationError, "one character over max_message_chars is refused"):
            await ctx.panel.add_message(user, panel.panel_id, "ann", big + "y")
        check.equal(len(await ctx.panel.get_messages(user, panel.panel_id, limit=50)), 11, "the refused message wrote nothing")
    with check.step("insights, decisions and votes keep every field"):
        insight = await ctx.panel.record_insight(user, panel.panel_id, "Paging works", participant_id="bob", category="finding",
                                                 source_message_ids=[posted[0].message_id], confidence=0.75, metadata={"k": 1})
        [read] = await ctx.panel.get_insights(user, panel.panel_id, category="finding")
        check.equal(_dump(read), _dump(insight), "the insight read back equals the one recorded")
        check.equal((read.content, read.participant_id, read.category, read.source_message_ids, read.confidence, read.metadata),
                    ("Paging works", "bob", "finding", [posted[0].message_id], 0.75, {"k": 1}), "every argument of record_insight is kept")
        decision = await ctx.panel.record_decision(user, panel.panel_id, "Ship it?", ["yes", "no", "later"], proposed_by="ann", metadata={"m": True})
        for who, option in (("ann", "no"), ("bob", "yes"), ("ann", "yes")):
            await ctx.panel.cast_vote(user, panel.panel_id, decision.decision_id, who, option, rationale=f"{who} says {option}")
        [tally] = await ctx.panel.get_decisions(user, panel.panel_id)
        check.equal(_dump(tally.decision), _dump(decision), "the decision read back equals the one recorded")
        check.equal((tally.counts.get("yes"), tally.counts.get("no", 0), tally.majority_option, tally.consensus_level, tally.unanimous),
                    (2, 0, "yes", 1.0, True), "the tally counts each voter's latest vote")


# ====================================================================== knowledge


@REGISTRY.test("knowledge contracts: top_k, large document, every field", components=("knowledge",), depends_on=("knowledge_round_trip",))
async def knowledge_contracts(ctx: FFTestContext, check: FFChecker) -> None:
    """top_k exactly with ranks and scores in order; a large mixed-width document read back byte for
    byte; one byte over max_document_bytes refused; every field of a document read back."""
    user = ctx.new_user("kbc")
    settings = ctx.config.knowledge
    with check.step("every field of a knowledge base and a document reads back"):
        kb = await ctx.knowledge.create_knowledge_base(user, "contracts", description="what add_document keeps")
        base = await ctx.knowledge.get_knowledge_base(user, kb.kb_id)
        check.equal((base.name, base.description, base.document_count), ("contracts", "what add_document keeps", 0), "name, description, count")
        doc = await ctx.knowledge.add_document(user, kb.kb_id, content="# Heliostats\n\nA heliostat follows the sun.\n", title="Mirrors",
                                               format="markdown", source="contract://mirrors", metadata={"course": 101, "tags": ["a"]},
                                               document_id="contract-doc-1")
        got = await ctx.knowledge.get_document(user, kb.kb_id, "contract-doc-1")
        check.equal(_dump(got), _dump(doc), "the document read back equals the one add_document returned")
        check.equal((got.doc_id, got.title, got.format, got.source, got.metadata),
                    ("contract-doc-1", "Mirrors", "markdown", "contract://mirrors", {"course": 101, "tags": ["a"]}),
                    "id, title, format, source and metadata are the ones given")
    with check.step("a batch of one document keeps every field, as add_document does"):
        [batched] = await ctx.knowledge.add_documents(user, kb.kb_id, [{
            "content": "Heliostat mirrors are cleaned at night.", "title": "Cleaning", "format": "text",
            "source": "contract://cleaning", "metadata": {"shift": "night"}, "document_id": "contract-doc-2"}])  # fmt: skip
        got = await ctx.knowledge.get_document(user, kb.kb_id, "contract-doc-2")
        check.equal(_dump(got), _dump(batched), "the batched document read back equals the one add_documents returned")
        check.equal((got.doc_id, got.title, got.format, got.source, got.metadata),
                    ("contract-doc-2", "Cleaning", "text", "contract://cleaning", {"shift": "night"}),
                    "a batch item's id, title, format, source and metadata are the ones given")
    with check.step("top_k is exact, ranked best first"):
        paragraphs = [f"## Part {i}\n\nThe heliostat field number {i} tracks the sun {'carefully ' * (i + 1)}across the sky." for i in range(8)]
        await ctx.knowledge.add_document(user, kb.kb_id, content="\n\n".join(paragraphs), title="Field", format="markdown")
        everything = await ctx.knowledge.search(user, kb.kb_id, "heliostat", top_k=settings.max_top_k, per_document=0)
        available = len(everything)
        check.at_least(available, 4, "the query matches several chunks")
        for top_k in (1, 2, 3):
            hits = await ctx.knowledge.search(user, kb.kb_id, "heliostat", top_k=top_k, per_document=0)
            check.equal(len(hits), min(top_k, available), f"search(top_k={top_k}) returns {min(top_k, available)} hits")
            check.equal([h.rank for h in hits], list(range(1, len(hits) + 1)), f"top_k={top_k}: ranks 1..n")
            check.equal([h.chunk_id for h in hits], [h.chunk_id for h in everything[:top_k]], f"top_k={top_k}: the best {top_k} of all")
        check.that(all(a.score >= b.score for a, b in zip(everything, everything[1:])), "scores never increase down the ranking")
        capped = await ctx.knowledge.search(user, kb.kb_id, "heliostat", top_k=settings.max_top_k, per_document=1)
        check.equal(len(capped), len({h.doc_id for h in everything}), "per_document=1 keeps one chunk per document")
    with check.step("a large mixed-width document reads back byte for byte"):
        size = 96 * 1024
        text = "# Big\n\n" + text_of_chars(size, "kb") + "\n\n"  # trailing blank lines are content too
        big = await ctx.knowledge.add_document(user, kb.kb_id, content=text, title="Big", format="text")
        back = await ctx.knowledge.get_document_text(user, kb.kb_id, big.doc_id)
        _same(check, back, text, f"a {len(text)}-character document's text reads back unchanged")
        check.equal((big.size_bytes, big.text_chars, big.checksum_sha256),
                    (len(text.encode()), len(text), hashlib.sha256(text.encode()).hexdigest()), "size in bytes, characters and SHA-256")
    with check.step("one byte over max_document_bytes is refused and stores nothing"):
        before = [d.doc_id for d in await ctx.knowledge.list_documents(user, kb.kb_id)]
        with check.raises(FFValidationError, "a document of max_document_bytes + 1 bytes is refused"):
            await ctx.knowledge.add_document(user, kb.kb_id, data=b"w" * (settings.max_document_bytes + 1), format="text")
        after = [d.doc_id for d in await ctx.knowledge.list_documents(user, kb.kb_id)]
        check.equal(after, before, "the refused document is not listed")


# ====================================================================== tools


# What a tool leaves in its work dir: a name the store refuses (a backslash) first, then an empty
# file, then the rest (the copy-back frames them in name order, sub-folders last).
_KEPT_OUTPUTS = {"empty.txt": b"", "z.txt": b"last", "sub/out.txt": "n\u00e9sted\n".encode()}
_WRITER = (
    "import os\n"
    "os.makedirs('sub', exist_ok=True)\n"
    "open('a\\\\refused.txt', 'w').write('refused by the store')\n"
    + "".join(f"open({name!r}, 'wb').write({data!r})\n" for name, data in _KEPT_OUTPUTS.items())
    + "print('{}')\n"
)


class _NoArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _kept_files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()} if folder.is_dir() else {}


@REGISTRY.test("tools contracts: list_runs limit and order, every field", components=("tools",), depends_on=("tools_round_trip",))
async def tools_contracts(ctx: FFTestContext, check: FFChecker) -> None:
    """list_runs(limit) is the last ``limit`` runs, oldest first (refusals included); each run reads back whole."""
    user = ctx.new_user("toolc")
    with check.step("one run and four refusals"):
        ran = await ctx.tools.execute_tool(user, "word_count", {"text": "one two three"})
        check.require(ran.ok, "word_count ran", f"{ran.status}: {ran.error}")
        refused = [await ctx.tools.execute_tool(user, "disk_usage", {}) for _ in range(4)]
        check.equal([r.status for r in refused], [FFToolRunStatus.REFUSED] * 4, "disk_usage without a grant is refused")
        every = [ran, *refused]
    with check.step("list_runs keeps exactly the last limit, oldest first"):
        for limit in (0, 1, 3, 5, 9):
            runs = await ctx.tools.list_runs(user, limit=limit)
            expected = [r.run_id for r in every[-limit:]] if limit else []
            check.equal([r.run_id for r in runs], expected, f"list_runs(limit={limit})")
    with check.step("every field of a run reads back"):
        listed = {r.run_id: r for r in await ctx.tools.list_runs(user, limit=10)}
        for result in every:
            check.equal(_dump(listed[result.run_id]), _dump(result), f"run {result.status.value}: list_runs has every field")
            check.equal(_dump(await ctx.tools.get_run(user, result.run_id)), _dump(result), f"run {result.status.value}: get_run has every field")
        check.equal((ran.tool, ran.user_id, ran.arguments.get("text"), (ran.output or {}).get("words")), ("word_count", user, "one two three", 3),
                    "the run names its tool, user and arguments, and counted 3 words")
    with check.step("get_run of an unknown run"):
        try:
            await ctx.tools.get_run(user, "run-never-made")
            check.that(False, "get_run of an unknown run raises FFNotFoundError", "it returned")
        except FFNotFoundError as exc:
            check.equal((exc.kind, exc.key), ("tool_run", "run-never-made"), "the not-found error names kind tool_run and the run id")
    if ctx.config.tools.keep_work_dirs and not ctx.tools.store.encrypted:  # else work dirs are dropped after the run
        await _kept_outputs(ctx, check, user)


async def _kept_outputs(ctx: FFTestContext, check: FFChecker, user: str) -> None:
    """A run's work dir keeps every file the tool wrote (empty ones and sub-folders too), except
    a name the store refuses, which skips only itself."""
    tool = f"kept_{_slug(user)}"
    ctx.tools.register_tool(FFToolDefinitionDTO(
        name=tool, description="writes outputs into its work dir", argv=(sys.executable, "-c", _WRITER),
        parameters=_NoArgs, limits=FFToolLimitsDTO(),
    ))  # fmt: skip
    try:
        with check.step("a run's outputs are kept byte for byte"):
            ran = await ctx.tools.execute_tool(user, tool, {})
            check.require(ran.ok, "the writing tool ran", f"{ran.status}: {ran.error}")
            kept = await asyncio.to_thread(_kept_files, data_path(ctx, "users", user, "tools", "work", ran.run_id))
            check.equal(kept, _KEPT_OUTPUTS, "every output but the refused name is kept: empty files, sub-folders and the files after them")
    finally:
        ctx.tools.unregister_tool(tool)


# ====================================================================== metrics


@REGISTRY.test("metrics contracts: exact percentiles, tags at their limit, audit limit", components=("metrics",), depends_on=("metrics_round_trip",))
async def metrics_contracts(ctx: FFTestContext, check: FFChecker) -> None:
    """Summaries against an independent computation; a tag value of max_tag_value_chars filters
    exactly; get_audit_records(limit) exactly, in order; event data reads back from disk."""
    user = ctx.new_user("metc")
    name = f"contract.{_slug(user)}.latency_ms"
    values = [37.5, 2.25, 19.0, 88.125, 4.5, 61.0, 13.75, 99.5, 7.0, 45.25, 3.125, 70.0, 26.5]
    max_tag = ctx.config.metrics.max_tag_value_chars
    with check.step("percentiles by linear interpolation between closest ranks"):
        for value in values:
            await ctx.metrics.record_metric(name, value, tags={"op": "contract"})
        s = await ctx.metrics.get_summary(name)
        expected = (len(values), sum(values), min(values), max(values), sum(values) / len(values), values[-1])
        got = (s.count, s.sum, s.min, s.max, s.mean, s.last)
        check.that(all(math.isclose(a, b, rel_tol=1e-12) for a, b in zip(got, expected)), "count, sum, min, max, mean and last are exact", f"{got} vs {expected}")
        for label, q, actual in (("p50", 0.5, s.p50), ("p95", 0.95, s.p95), ("p99", 0.99, s.p99)):
            want = exact_percentile(values, q)
            check.that(actual is not None and math.isclose(actual, want, rel_tol=1e-12), f"{label} is {want:.6f}", f"got {actual}")
        half = await ctx.metrics.get_summary(name, tags={"op": "contract"})
        check.equal(half.count, len(values), "a matching tag filter keeps every sample")
        check.equal((s.name, s.kind, s.percentile_method, half.tags), (name, "timing", "linear", {"op": "contract"}),
                    "the summary names its metric, kind, percentile method and tag filter")
    with check.step("a (start, end) window is [start, end) and the summary says so"):
        now = ctx.metrics.clock()
        start, end = now - timedelta(hours=1), now + timedelta(hours=1)
        windowed = await ctx.metrics.get_summary(name, (start, end))
        check.equal((windowed.count, windowed.window_start, windowed.window_end, windowed.window_end_inclusive),
                    (len(values), start, end, False), "every sample is inside, and the window reads back with its end excluded")
        empty = await ctx.metrics.get_summary(name, (start, start))
        check.equal(empty.count, 0, "an empty window (start == end) counts nothing and is not an error")
    with check.step("a tag value of exactly max_tag_value_chars filters exactly"):
        tagged = f"contract.{_slug(user)}.tagged"
        long_value = "t" * max_tag
        await ctx.metrics.record_metric(tagged, 1.0, tags={"k": long_value})
        await ctx.metrics.record_metric(tagged, 2.0, tags={"k": long_value[:-1] + "u"})
        exact = await ctx.metrics.get_summary(tagged, tags={"k": long_value})
        check.equal((exact.count, exact.sum), (1, 1.0), f"a {max_tag}-character tag value selects its one sample")
        with check.raises(FFValidationError, "a tag value one character over the limit is refused"):
            await ctx.metrics.record_metric(tagged, 3.0, tags={"k": long_value + "v"})
        check.equal((await ctx.metrics.get_summary(tagged)).count, 2, "the refused sample wrote nothing")
    with check.step("a sample with exactly max_tags tags is kept, one more refused"):
        most = ctx.config.metrics.max_tags
        counted = f"contract.{_slug(user)}.many_tags"
        full = {f"t{i}": i for i in range(most)}
        await ctx.metrics.record_metric(counted, 1.0, tags=full)
        check.equal((await ctx.metrics.get_summary(counted, tags={k: str(v) for k, v in full.items()})).count, 1,
                    f"{most} tags are accepted and all of them filter")
        with check.raises(FFValidationError, f"{most + 1} tags are refused"):
            await ctx.metrics.record_metric(counted, 2.0, tags={**full, "extra": 1})
    with check.step("get_audit_records keeps exactly the last limit, in order"):
        mine = [await ctx.metrics.audit(user, "contract.check", f"target-{i}", "success", {"i": i, "who": user}) for i in range(3)]
        for limit in (1, 2, 3):  # this test wrote 3; other tests may be writing more meanwhile
            records = await ctx.metrics.get_audit_records(limit=limit)
            if not check.equal(len(records), limit, f"get_audit_records(limit={limit}) returns {limit} records") or not records:
                continue
            check.equal([r.seq for r in records], list(range(records[0].seq, records[0].seq + len(records))), f"limit={limit}: consecutive, oldest first")
        recent = {r.hash: r for r in await ctx.metrics.get_audit_records(limit=1000)}
        check.equal([_dump(recent[r.hash]) if r.hash in recent else None for r in mine], [_dump(r) for r in mine],
                    "each audit record reads back with every field")
    with check.step("user events: exact counts and data on disk"):
        events = [("login", {"device": "web"}), ("search", {"q": "tea", "n": [1, 2]}), ("login", {"device": "phone"})]
        for event_type, data in events:
            await ctx.metrics.record_event(user, event_type, data)
        analytics = await ctx.metrics.get_user_analytics(user)
        check.equal((analytics.total_events, analytics.event_counts), (3, {"login": 2, "search": 1}), "analytics count every event by type")
        on_disk = [(r.get("type"), r.get("data")) for r in await analytics_records(ctx, user)]
        check.equal(on_disk, events, "the events' data reads back from disk, in order")
