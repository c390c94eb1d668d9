"""Component integration: each manager's round trip, then flows across managers on the event bus.

The five round trips come first; every cross-manager flow names the round trips it builds on in
``depends_on``, so a broken manager shows as one failed round trip and skipped flows instead of
a wall of unrelated failures.

Tests run in parallel on one data root, so each uses its own users (``ctx.new_user``) and, where
a figure is global (a metric shared by all tests), a name or tag only it uses: a tool registered
under a per-test name, a metric named after the test's user. Counts are then exact, not "at
least", and a bus that drops events cannot hide behind another test's traffic.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from ff_class_configs.ff_integration_testing_config import FFTestingLevel
from ff_class_configs.ff_tool_dtos import FFToolRefusal, FFToolRunStatus
from ff_managers import FFComponentState, FFEvent
from ff_utils.ff_errors import FFConflictError, FFNotFoundError, FFValidationError
from ff_utils.ff_json_utils import ff_read_json
from testing._context import MANAGER_NAMES, FFTestContext
from testing.runner import FFChecker, FFSuiteRegistry
from testing.suites._disk import analytics_records, data_path, read_jsonl, session_log

__all__ = ["REGISTRY"]

REGISTRY = FFSuiteRegistry("component", level=FFTestingLevel.COMPONENT)

_DEBATERS = [{"participant_id": "pro", "role": "pro"}, {"participant_id": "con", "role": "con"}]
_WORD_COUNT_TEXT = "Solar panels cut costs.\nBatteries store the surplus for the night."
_ROUND_TRIPS = ("memory_round_trip", "panel_round_trip", "knowledge_round_trip", "tools_round_trip", "metrics_round_trip")


def _slug(user_id: str) -> str:
    """A user id as a tool/metric name part (tool names are lower-case letters, digits, '_')."""
    return user_id.lower().replace("-", "_").replace(".", "_")


# ====================================================================== round trips


@REGISTRY.test("memory round trip", components=("memory",))
async def memory_round_trip(ctx: FFTestContext, check: FFChecker) -> None:
    """Sessions, messages and memories read back as written, on disk too; search stays per user."""
    user, other = ctx.new_user("mem"), ctx.new_user("memx")
    turns = list(ctx.data.users[0].conversations[0].turns[:4])
    with check.step("create session"):
        session = await ctx.memory.create_session(user, title="Round trip", metadata={"channel": "component"})
        sid = session.session_id
    with check.step("add turns"):
        added = [await ctx.memory.add_message(user, sid, role, content) for role, content in turns]
    with check.step("read turns back"):
        history = await ctx.memory.get_messages(user, sid, limit=50)
        check.equal(
            [(m.message_id, m.role, m.content) for m in history],
            [(m.message_id, m.role, m.content) for m in added],
            "every turn reads back, in the order added",
        )
        last_two = await ctx.memory.get_messages(user, sid, limit=2)
        check.equal([m.message_id for m in last_two], [m.message_id for m in added[-2:]], "limit=2 is the last two, oldest first")
        stored = await ctx.memory.get_session(user, sid)
        check.equal((stored.title, stored.message_count), ("Round trip", len(turns)), "the session has its title and counts its turns")
        check.equal(stored.metadata.get("channel"), "component", "session metadata reads back")
    with check.step("messages.jsonl on disk"):
        records = await read_jsonl(session_log(ctx, user, sid))
        check.equal([r.get("message_id") for r in records], [m.message_id for m in added], "the log holds one line per turn, in order")
    with check.step("another user cannot read the session"):
        with check.raises(FFNotFoundError, "another user's get_messages on this session is not found"):
            await ctx.memory.get_messages(other, sid)
    with check.step("store memories"):
        mine = await ctx.memory.store_memory(user, "My favourite fruit is the kumquat from Nagasaki", importance=0.8, tags=["food"])
        theirs = await ctx.memory.store_memory(other, "Their favourite fruit is the kumquat too", importance=0.9)
        extra = await ctx.memory.store_memory(user, "The train to Kyoto leaves at nine", layer="long_term")
        got = await ctx.memory.get_memory(user, mine.memory_id)
        check.equal((got.content, got.layer, got.importance, got.tags), (mine.content, "short_term", 0.8, ["food"]), "a memory reads back by id")
        listed = await ctx.memory.get_memories(user)
        check.equal({m.memory_id for m in listed}, {mine.memory_id, extra.memory_id}, "get_memories lists the user's two memories only")
    with check.step("search memories"):
        hits = await ctx.memory.search_memories(user, "kumquat", limit=10)
        check.equal([h.entry.memory_id for h in hits], [mine.memory_id], "search finds the user's kumquat memory and nothing else")
        check.that(all(h.entry.user_id == user for h in hits), "search returns only the caller's memories")
        check.that(theirs.memory_id not in {h.entry.memory_id for h in hits}, "another user's memory never appears in search")
        none = await ctx.memory.search_memories(user, "submarine", limit=10)
        check.equal(none, [], "a query sharing no word with any memory finds nothing")


@REGISTRY.test("panel round trip", components=("panel",))
async def panel_round_trip(ctx: FFTestContext, check: FFChecker) -> None:
    """Turn-ordered messages, an out-of-turn refusal that writes nothing, insights, closing."""
    user = ctx.new_user("panel")
    lines = ["Solar panels cut costs.", "Batteries are expensive.", "Prices fell by half.", "Recycling is unsolved."]
    with check.step("create a round-robin debate"):
        panel = await ctx.panel.create_panel(user, _DEBATERS, panel_type="ai_debate", title="Solar", turn_policy="round_robin")
        check.equal(panel.turn_order, ["pro", "con"], "turn order follows the participants")
    with check.step("post turns"):
        posted = [await ctx.panel.add_message(user, panel.panel_id, speaker, text) for speaker, text in zip(["pro", "con"] * 2, lines)]
        check.equal([m.sequence for m in posted], [1, 2, 3, 4], "messages are numbered 1..4 without gaps")
    with check.step("an out-of-turn message is refused"):
        with check.raises(FFConflictError, "con speaking twice in a row is refused"):
            await ctx.panel.add_message(user, panel.panel_id, "con", "Out of turn.")
    with check.step("read messages back"):
        messages = await ctx.panel.get_messages(user, panel.panel_id)
        check.equal([(m.participant_id, m.content) for m in messages], list(zip(["pro", "con"] * 2, lines)), "the four turns read back in order")
        on_disk = await read_jsonl(data_path(ctx, "users", user, "panels", panel.panel_id, "messages.jsonl"))
        check.equal([r.get("sequence") for r in on_disk], [1, 2, 3, 4], "the refused message left no line on disk")
    with check.step("insight and close"):
        insight = await ctx.panel.record_insight(
            user, panel.panel_id, "Cost is the deciding factor", participant_id="pro", source_message_ids=[posted[0].message_id]
        )
        insights = await ctx.panel.get_insights(user, panel.panel_id)
        check.equal([i.insight_id for i in insights], [insight.insight_id], "the insight reads back")
        analytics = await ctx.panel.close_panel(user, panel.panel_id, summary="pro wins")
        check.equal((analytics.message_count, analytics.insight_count), (4, 1), "closing analytics count the messages and the insight")
        closed = await ctx.panel.get_panel(user, panel.panel_id)
        check.equal(closed.status, "closed", "the panel is closed")
        with check.raises(FFConflictError, "a closed panel refuses new messages"):
            await ctx.panel.add_message(user, panel.panel_id, "pro", "One more thing.")


@REGISTRY.test("knowledge round trip", components=("knowledge",))
async def knowledge_round_trip(ctx: FFTestContext, check: FFChecker) -> None:
    """Documents are listed, retrieved by their facts with exact offsets, and leave search when deleted."""
    user = ctx.new_user("kb")
    documents = ctx.data.documents[:3]
    with check.step("create and ingest"):
        kb = await ctx.knowledge.create_knowledge_base(user, "component notes")
        stored = [await ctx.knowledge.add_document(user, kb.kb_id, content=d.content, title=d.title, format="markdown") for d in documents]
        listed = await ctx.knowledge.list_documents(user, kb.kb_id)
        check.equal([d.doc_id for d in listed], [d.doc_id for d in stored], "list_documents returns the documents in the order added")
        base = await ctx.knowledge.get_knowledge_base(user, kb.kb_id)
        check.equal(base.document_count, len(documents), "the knowledge base counts its documents")
    with check.step("retrieve each fact"):
        for source, doc in zip(documents, stored):
            hits = await ctx.knowledge.search(user, kb.kb_id, source.probe, top_k=3)
            if not check.that(bool(hits), f"{source.doc_key}: the probe retrieves chunks"):
                continue
            check.equal(hits[0].doc_id, doc.doc_id, f"{source.doc_key}: the best hit is the document holding the fact")
            check.that(source.fact in hits[0].text, f"{source.doc_key}: the best chunk contains the fact", hits[0].text[:120])
            text = await ctx.knowledge.get_document_text(user, kb.kb_id, hits[0].doc_id)
            check.equal(text[hits[0].char_start : hits[0].char_end], hits[0].text, f"{source.doc_key}: chunk offsets quote the text")
    with check.step("delete a document"):
        await ctx.knowledge.delete_document(user, kb.kb_id, stored[0].doc_id)
        hits = await ctx.knowledge.search(user, kb.kb_id, documents[0].probe, top_k=5)
        check.that(all(h.doc_id != stored[0].doc_id for h in hits), "a deleted document leaves search results")
        catalog = await asyncio.to_thread(ff_read_json, data_path(ctx, "users", user, "knowledge", kb.kb_id, "kb.json"))
        check.equal(sorted(catalog["documents"]), sorted(d.doc_id for d in stored[1:]), "kb.json on disk lists the remaining documents")


@REGISTRY.test("tools round trip", components=("tools",))
async def tools_round_trip(ctx: FFTestContext, check: FFChecker) -> None:
    """A sandboxed run returns the tool's real output and is logged; bad arguments run nothing."""
    user = ctx.new_user("tool")
    with check.step("run word_count"):
        result = await ctx.tools.execute_tool(user, "word_count", {"text": _WORD_COUNT_TEXT})
        check.require(result.ok, "word_count succeeded", f"{result.status}: {result.error}")
        output = result.output or {}
        check.equal((output.get("words"), output.get("lines"), output.get("sentences")), (11, 2, 2), "word_count counted the text")
        check.equal(output.get("characters"), len(_WORD_COUNT_TEXT), "word_count counted every character")
        check.that(result.exit_code == 0 and result.duration_ms > 0, "the run records exit code 0 and a measured duration")
    with check.step("bad arguments are refused before running"):
        with check.raises(FFValidationError, "word_count without text or path is refused"):
            await ctx.tools.execute_tool(user, "word_count", {"top": 3})
    with check.step("the run log"):
        runs = await ctx.tools.list_runs(user)
        check.equal([r.run_id for r in runs], [result.run_id], "the run log holds exactly the one run")
        again = await ctx.tools.get_run(user, result.run_id)
        check.equal(again.output, result.output, "get_run returns the logged output")
        on_disk = await read_jsonl(data_path(ctx, "users", user, "tools", "runs.jsonl"))
        check.equal([(r.get("run_id"), r.get("status")) for r in on_disk], [(result.run_id, "success")], "runs.jsonl on disk holds the run")


@REGISTRY.test("metrics round trip", components=("metrics",))
async def metrics_round_trip(ctx: FFTestContext, check: FFChecker) -> None:
    """Exact summaries of timings and counters, per-user analytics, and a verifiable audit record."""
    user = ctx.new_user("met")
    timing, counter = f"component.{_slug(user)}.latency_ms", f"component.{_slug(user)}.calls"
    with check.step("timings"):
        for value in (10.0, 20.0, 30.0, 40.0):
            await ctx.metrics.record_metric(timing, value, tags={"op": "search"})
        summary = await ctx.metrics.get_summary(timing)
        check.equal(
            (summary.kind, summary.count, summary.sum, summary.min, summary.max, summary.mean),
            ("timing", 4, 100.0, 10.0, 40.0, 25.0),
            "the timing summary is exact",
        )
        check.equal((await ctx.metrics.get_summary(timing, tags={"op": "other"})).count, 0, "a tag filter that matches nothing counts 0")
        meta = await asyncio.to_thread(ff_read_json, data_path(ctx, "metrics", timing, "metric.json"))
        check.equal(meta.get("kind"), "timing", "metric.json on disk fixes the kind")
    with check.step("counter"):
        for _ in range(3):
            await ctx.metrics.increment(counter, 2)
        total = await ctx.metrics.get_summary(counter)
        check.equal((total.count, total.sum), (3, 6.0), "the counter adds up")
        with check.raises(FFConflictError, "a counter cannot be recorded as a timing"):
            await ctx.metrics.record_metric(counter, 1.0)
    with check.step("user analytics"):
        await ctx.metrics.record_event(user, "login", {"device": "web"})
        await ctx.metrics.record_event(user, "login", {"device": "phone"})
        analytics = await ctx.metrics.get_user_analytics(user)
        check.equal((analytics.total_events, analytics.event_counts.get("login")), (2, 2), "analytics count both logins")
    with check.step("audit"):
        record = await ctx.metrics.audit(user, "component.check", f"target-{user}", "success", {"n": 1})
        recent = await ctx.metrics.get_audit_records(limit=1000)
        check.that(any(r.hash == record.hash and r.actor == user for r in recent), "the audit record reads back")
        verdict = await ctx.metrics.verify_audit_log()
        check.that(verdict.ok, "the audit chain verifies", str(verdict.reason))


# ====================================================================== flows across managers


@REGISTRY.test(
    "tool run shows up in metrics and analytics",
    components=("tools", "metrics"),
    depends_on=("tools_round_trip", "metrics_round_trip"),
)
async def tool_run_in_metrics(ctx: FFTestContext, check: FFChecker) -> None:
    """tool.executed reaches the metrics manager: a timing tagged with the tool, a user event."""
    user = ctx.new_user("flowtool")
    tool = f"wc_{_slug(user)}"  # registered under a name only this test uses: the timing count is exact
    ctx.tools.register_tool(ctx.tools.get_tool("word_count").model_copy(update={"name": tool}))
    try:
        before = (await ctx.metrics.get_summary("events.tool.executed")).count
        with check.step("run the tool"):
            result = await ctx.tools.execute_tool(user, tool, {"text": _WORD_COUNT_TEXT})
            check.require(result.ok, "the tool ran", f"{result.status}: {result.error}")
        with check.step("timing in metrics"):
            timing = await ctx.metrics.get_summary("tool.duration_ms", tags={"tool": tool})
            check.equal(timing.count, 1, "metrics hold one tool.duration_ms sample for this tool")
            check.that(
                timing.last is not None and abs(timing.last - result.duration_ms) < 1e-6,
                "the sample is the run's own duration",
                f"sample {timing.last}, run {result.duration_ms}",
            )
            tagged = await ctx.metrics.get_summary("tool.duration_ms", tags={"tool": tool, "status": "success"})
            check.equal(tagged.count, 1, "the sample is tagged with the run's status")
            after = (await ctx.metrics.get_summary("events.tool.executed")).count
            check.at_least(after - before, 1, "the events.tool.executed counter moved")
        with check.step("user analytics"):
            analytics = await ctx.metrics.get_user_analytics(user)
            check.equal(analytics.event_counts.get("tool.executed"), 1, "the user's analytics count the run")
            records = await analytics_records(ctx, user)
            runs = [r for r in records if r.get("type") == "tool.executed"]
            check.equal([r.get("data", {}).get("run_id") for r in runs], [result.run_id], "the analytics file on disk names the run")
    finally:
        ctx.tools.unregister_tool(tool)


@REGISTRY.test(
    "a panel turn becomes a searchable memory",
    components=("panel", "memory", "metrics"),
    depends_on=("panel_round_trip", "memory_round_trip"),
)
async def panel_turn_memory_searchable(ctx: FFTestContext, check: FFChecker) -> None:
    """A bus subscriber stores each panel turn as a memory; search finds the turn by its words."""
    user, other = ctx.new_user("flowpanel"), ctx.new_user("flowpanelx")
    stored: list[Any] = []

    async def remember_turn(event: FFEvent) -> None:
        # Event payloads carry ids, never content: the bridge reads the turn from the panel.
        if event.user_id != user:
            return
        payload = event.payload
        [message] = await ctx.panel.get_messages(user, payload["panel_id"], after_sequence=payload["sequence"] - 1, limit=1)
        entry = await ctx.memory.store_memory(
            user,
            message.content,
            importance=0.6,
            tags=["panel"],
            metadata={"panel_id": message.panel_id, "message_id": message.message_id, "sequence": message.sequence},
        )
        stored.append(entry)

    unsubscribe = ctx.bus.subscribe("panel.message_added", remember_turn)
    try:
        lines = [
            ("pro", "Rooftop solar pays for itself within seven years."),
            ("con", "Lithium battery recycling remains an unsolved problem."),
            ("pro", "Grid export tariffs shorten the payback further."),
        ]
        with check.step("run the panel"):
            panel = await ctx.panel.create_panel(user, _DEBATERS, panel_type="ai_debate", title="Solar")
            posted = [await ctx.panel.add_message(user, panel.panel_id, who, text) for who, text in lines]
        with check.step("every turn was stored as a memory"):
            check.equal(len(stored), len(lines), "the subscriber stored one memory per turn")
            memories = await ctx.memory.get_memories(user, limit=50)
            check.equal(
                sorted(m.metadata.get("message_id") for m in memories),
                sorted(m.message_id for m in posted),
                "the user's memories are exactly the panel's turns",
            )
        with check.step("search finds the turn"):
            hits = await ctx.memory.search_memories(user, "battery recycling", limit=5)
            check.require(bool(hits), "searching the turn's words finds memories")
            best = hits[0].entry
            check.equal(best.content, lines[1][1], "the best hit is the con turn, word for word")
            check.equal(best.metadata.get("message_id"), posted[1].message_id, "the memory points back to the panel message")
            leaked = await ctx.memory.search_memories(other, "battery recycling", limit=5)
            check.equal(leaked, [], "another user's search does not see these memories")
        with check.step("metrics saw both sides"):
            analytics = await ctx.metrics.get_user_analytics(user)
            check.equal(
                (analytics.event_counts.get("panel.message_added"), analytics.event_counts.get("memory.stored")),
                (len(lines), len(lines)),
                "analytics count every turn and every stored memory",
            )
    finally:
        unsubscribe()


@REGISTRY.test(
    "an indexed document is announced and counted",
    components=("knowledge", "metrics"),
    depends_on=("knowledge_round_trip", "metrics_round_trip"),
)
async def document_added_announced(ctx: FFTestContext, check: FFChecker) -> None:
    """knowledge.document_added reaches a subscriber once, with the stored ids, and metrics count it."""
    user = ctx.new_user("flowdoc")
    seen: list[FFEvent] = []

    def collect(event: FFEvent) -> None:
        if event.user_id == user:
            seen.append(event)

    unsubscribe = ctx.bus.subscribe("knowledge.*", collect)
    source = ctx.data.documents[5]
    try:
        with check.step("index a document"):
            kb = await ctx.knowledge.create_knowledge_base(user, "announcements")
            before = (await ctx.metrics.get_summary("events.knowledge.document_added", tags={"source": "knowledge"})).count
            doc = await ctx.knowledge.add_document(user, kb.kb_id, content=source.content, title=source.title, format="markdown")
        with check.step("the subscriber saw it"):
            added = [e for e in seen if e.type == "knowledge.document_added"]
            check.require(len(added) == 1, "exactly one knowledge.document_added event", f"saw {len(added)}")
            payload = added[0].payload
            check.equal(
                (payload.get("kb_id"), payload.get("doc_id"), payload.get("chunk_count"), payload.get("size_bytes")),
                (kb.kb_id, doc.doc_id, doc.chunk_count, doc.size_bytes),
                "the event carries the stored document's ids and counts",
            )
            check.that("content" not in payload and source.fact not in str(payload), "the event carries no document text")
        with check.step("re-adding the same bytes announces nothing"):
            again = await ctx.knowledge.add_document(user, kb.kb_id, content=source.content, title=source.title, format="markdown")
            check.equal(again.doc_id, doc.doc_id, "re-adding returns the stored document")
            check.equal(sum(e.type == "knowledge.document_added" for e in seen), 1, "no second document_added event")
        with check.step("metrics counted it"):
            after = (await ctx.metrics.get_summary("events.knowledge.document_added", tags={"source": "knowledge"})).count
            check.at_least(after - before, 1, "the events.knowledge.document_added counter moved")
            analytics = await ctx.metrics.get_user_analytics(user)
            check.equal(
                (analytics.event_counts.get("knowledge.base_created"), analytics.event_counts.get("knowledge.document_added")),
                (1, 1),
                "the user's analytics count the base and the one document",
            )
            records = await analytics_records(ctx, user)
            check.equal(
                [r.get("data", {}).get("doc_id") for r in records if r.get("type") == "knowledge.document_added"],
                [doc.doc_id],
                "the analytics file on disk names the document",
            )
    finally:
        unsubscribe()


@REGISTRY.test(
    "a refused tool run is audited",
    components=("tools", "metrics"),
    depends_on=("tools_round_trip", "metrics_round_trip"),
)
async def refused_tool_audited(ctx: FFTestContext, check: FFChecker) -> None:
    """A run without the required grant is refused, logged, audited, and the chain still verifies."""
    user = ctx.new_user("flowaudit")
    with check.step("run a dangerous tool without a grant"):
        result = await ctx.tools.execute_tool(user, "disk_usage", {})
        check.equal((result.status, result.refusal), (FFToolRunStatus.REFUSED, FFToolRefusal.GRANT_REQUIRED), "the run is refused for want of a grant")
        check.equal(result.attempts, 0, "no process was started")
        runs = await ctx.tools.list_runs(user)
        check.equal([(r.run_id, r.status) for r in runs], [(result.run_id, FFToolRunStatus.REFUSED)], "the refusal is in the run log")
    with check.step("the audit log holds it"):
        records = await ctx.metrics.get_audit_records(limit=10_000)
        mine = [r for r in records if r.actor == user]
        check.require(len(mine) == 1, "exactly one audit record for this user", f"found {len(mine)}")
        record = mine[0]
        check.equal((record.action, record.target, record.outcome), ("tool.refused", "disk_usage", "refused"), "the record says who was refused what")
        check.equal(record.details.get("payload", {}).get("run_id"), result.run_id, "the record names the refused run")
        verdict = await ctx.metrics.verify_audit_log()
        check.that(verdict.ok, "the audit chain verifies after the refusal", str(verdict.reason))
        check.at_least(verdict.records_checked, record.seq + 1, "verification covered the new record")
    with check.step("with the grant the same call runs"):
        await ctx.tools.grant_tool(user, "disk_usage")
        granted = await ctx.tools.execute_tool(user, "disk_usage", {})
        check.equal(granted.status, FFToolRunStatus.SUCCESS, "the granted run succeeds")
        analytics = await ctx.metrics.get_user_analytics(user)
        check.equal(
            (analytics.event_counts.get("tool.refused"), analytics.event_counts.get("tool.executed")),
            (1, 1),
            "analytics count one refusal and one run",
        )


@REGISTRY.test("every manager is healthy and counts its requests", components=MANAGER_NAMES)
async def managers_healthy(ctx: FFTestContext, check: FFChecker) -> None:
    """health(): running, with request and error counters that move with real calls.

    No depends_on: the counters must move whatever a manager answers, so this runs (and says
    something) even when a round trip has found a wrong answer.
    """
    user = ctx.new_user("health")
    before = {name: ctx.managers[name].health() for name in MANAGER_NAMES}
    with check.step("two calls per manager, one of them failing"):
        calls = {
            "memory": (lambda: ctx.memory.list_sessions(user), lambda: ctx.memory.get_session(user, "no_such_session")),
            "panel": (lambda: ctx.panel.list_panels(user), lambda: ctx.panel.get_panel(user, "no_such_panel")),
            "knowledge": (lambda: ctx.knowledge.list_knowledge_bases(user), lambda: ctx.knowledge.get_knowledge_base(user, "no_such_kb")),
            "tools": (lambda: ctx.tools.get_access(user), lambda: ctx.tools.get_run(user, "no_such_run")),
            "metrics": (lambda: ctx.metrics.get_user_analytics(user), lambda: ctx.metrics.get_summary("bad name!")),
        }
        for name, (works, fails) in calls.items():
            await works()
            try:
                await fails()
                check.that(False, f"{name}: the failing call raised", "it returned normally")
            except (FFNotFoundError, FFValidationError):
                pass
    for name in MANAGER_NAMES:
        health = ctx.managers[name].health()
        check.equal(health.state, FFComponentState.RUNNING, f"{name}: state is running")
        check.equal(health.component, name, f"{name}: health names the component")
        check.at_least(health.requests - before[name].requests, 2, f"{name}: the request counter moved by both calls")
        check.at_least(health.errors - before[name].errors, 1, f"{name}: the error counter moved by the failing call")
        check.that(health.mean_response_ms > 0 and health.p95_response_ms > 0, f"{name}: response times are measured")


@REGISTRY.test("a failing event handler is isolated", components=("memory", "metrics"), depends_on=("memory_round_trip",))
async def failing_handler_isolated(ctx: FFTestContext, check: FFChecker) -> None:
    """A handler that raises is dead-lettered (in memory and on disk); publisher and others carry on."""
    user = ctx.new_user("deadletter")

    def broken_handler(event: FFEvent) -> None:
        if event.user_id == user:
            raise RuntimeError(f"handler broke on {event.type}")

    unsubscribe = ctx.bus.subscribe("memory.session_created", broken_handler)
    failed_before = ctx.bus.failed
    try:
        with check.step("publish through the broken handler"):
            session = await ctx.memory.create_session(user, title="Survives a broken subscriber")
            fetched = await ctx.memory.get_session(user, session.session_id)
            check.equal(fetched.session_id, session.session_id, "the publisher's call succeeded and the session exists")
    finally:
        unsubscribe()
    with check.step("dead letter recorded"):
        letters = [d for d in ctx.bus.dead_letters if d.event.user_id == user]
        check.require(len(letters) == 1, "one dead letter for this user's event", f"found {len(letters)}")
        letter = letters[0]
        check.that("broken_handler" in letter.handler, "the dead letter names the handler", letter.handler)
        check.that("RuntimeError" in letter.error and "memory.session_created" in letter.error, "the dead letter keeps the error", letter.error)
        check.at_least(ctx.bus.failed - failed_before, 1, "the bus counted the failure")
        on_disk = await read_jsonl(data_path(ctx, "system", "dead_letters.jsonl"))
        check.that(
            any(r.get("event", {}).get("event_id") == letter.event.event_id for r in on_disk),
            "the dead letter is in system/dead_letters.jsonl",
        )
    with check.step("other subscribers still ran"):
        analytics = await ctx.metrics.get_user_analytics(user)
        check.equal(analytics.event_counts.get("memory.session_created"), 1, "metrics counted the event the broken handler failed on")


async def _private_stack(ctx: FFTestContext) -> dict[str, Any]:
    """All five managers on the test root wired to a bus of their own, as a separate process would be.

    Restarting the shared managers would pull them from under the tests running in parallel.
    """
    bus = ctx.bus_factory(None)
    managers = {name: ctx.fresh_manager(name, bus=bus) for name in MANAGER_NAMES}
    for manager in managers.values():
        await manager.initialize()
    return managers


async def _shutdown(managers: dict[str, Any]) -> None:
    for manager in managers.values():
        await manager.shutdown()


@REGISTRY.test("a restart of every manager keeps every manager's data", components=MANAGER_NAMES, depends_on=_ROUND_TRIPS)
async def restart_keeps_everything(ctx: FFTestContext, check: FFChecker) -> None:
    """One user's session, memory, panel, document, tool run, metric and analytics survive a restart."""
    user = ctx.new_user("restart")
    metric = f"component.{_slug(user)}.restart_probe"
    source = ctx.data.documents[7]
    first = await _private_stack(ctx)
    try:
        with check.step("write through every manager"):
            session = await first["memory"].create_session(user, title="Before the restart")
            messages = [await first["memory"].add_message(user, session.session_id, r, c) for r, c in ctx.data.users[1].conversations[0].turns[:3]]
            memory = await first["memory"].store_memory(user, "The spare key is under the blue flowerpot", importance=0.7)
            panel = await first["panel"].create_panel(user, _DEBATERS, panel_type="ai_debate", title="Keys")
            turns = [await first["panel"].add_message(user, panel.panel_id, who, text) for who, text in (("pro", "Keep it."), ("con", "Move it."))]
            kb = await first["knowledge"].create_knowledge_base(user, "restart notes")
            doc = await first["knowledge"].add_document(user, kb.kb_id, content=source.content, title=source.title, format="markdown")
            run = await first["tools"].execute_tool(user, "word_count", {"text": _WORD_COUNT_TEXT})
            check.require(run.ok, "the tool ran before the restart", f"{run.status}: {run.error}")
            await first["metrics"].record_metric(metric, 12.5)
            analytics_before = await first["metrics"].get_user_analytics(user)
            check.at_least(analytics_before.total_events, 8, "the stack's own bus fed analytics before the restart")
    finally:
        with check.step("shut every manager down"):
            started = time.perf_counter()
            await _shutdown(first)
    second = await _private_stack(ctx)
    check.metric("restart_seconds", time.perf_counter() - started)
    try:
        with check.step("read everything back from new instances"):
            history = await second["memory"].get_messages(user, session.session_id)
            check.equal([m.message_id for m in history], [m.message_id for m in messages], "the session's messages survived")
            sessions = await second["memory"].list_sessions(user)
            check.equal([s.session_id for s in sessions], [session.session_id], "the session is listed")
            check.equal((await second["memory"].get_memory(user, memory.memory_id)).content, memory.content, "the memory survived")
            panel_messages = await second["panel"].get_messages(user, panel.panel_id)
            check.equal([m.message_id for m in panel_messages], [t.message_id for t in turns], "the panel's messages survived")
            nxt = await second["panel"].add_message(user, panel.panel_id, "pro", "Still here.")
            check.equal(nxt.sequence, 3, "numbering continues after the restart")
            documents = await second["knowledge"].list_documents(user, kb.kb_id)
            check.equal([d.doc_id for d in documents], [doc.doc_id], "the document survived")
            hits = await second["knowledge"].search(user, kb.kb_id, source.probe, top_k=3)
            check.that(bool(hits) and hits[0].doc_id == doc.doc_id, "the document is found by its fact after the restart")
            runs = await second["tools"].list_runs(user)
            check.equal([r.run_id for r in runs], [run.run_id], "the tool run log survived")
            summary = await second["metrics"].get_summary(metric)
            check.equal((summary.count, summary.last), (1, 12.5), "the metric sample survived")
            analytics_after = await second["metrics"].get_user_analytics(user)
            check.that(
                all(analytics_after.event_counts.get(k, 0) >= v for k, v in analytics_before.event_counts.items()),
                "every analytics count survived",
                f"before {analytics_before.event_counts}, after {analytics_after.event_counts}",
            )
    finally:
        await _shutdown(second)


@REGISTRY.test("two instances on one root see each other's writes", components=MANAGER_NAMES, depends_on=_ROUND_TRIPS)
async def two_instances_share_root(ctx: FFTestContext, check: FFChecker) -> None:
    """A second, independent instance of each manager (as another process) sees the first's writes and vice versa."""
    user = ctx.new_user("twin")
    metric = f"component.{_slug(user)}.twin"
    twins = {name: ctx.fresh_manager(name) for name in MANAGER_NAMES}
    try:
        with check.step("memory"):
            session = await ctx.memory.create_session(user, title="Shared")
            a = await ctx.memory.add_message(user, session.session_id, "user", "written by the first instance")
            b = await twins["memory"].add_message(user, session.session_id, "assistant", "written by the second instance")
            for label, manager in (("first", ctx.memory), ("second", twins["memory"])):
                seen = await manager.get_messages(user, session.session_id)
                check.equal([m.message_id for m in seen], [a.message_id, b.message_id], f"the {label} instance reads both messages in order")
        with check.step("panel"):
            panel = await ctx.panel.create_panel(user, _DEBATERS, panel_type="ai_debate", turn_policy="round_robin")
            await ctx.panel.add_message(user, panel.panel_id, "pro", "First instance speaks.")
            second_turn = await twins["panel"].add_message(user, panel.panel_id, "con", "Second instance replies.")
            check.equal(second_turn.sequence, 2, "the second instance numbers after the first instance's message")
            with check.raises(FFConflictError, "the first instance enforces the turn the second instance took"):
                await ctx.panel.add_message(user, panel.panel_id, "con", "Out of turn.")
            third = await ctx.panel.add_message(user, panel.panel_id, "pro", "First again.")
            check.equal(third.sequence, 3, "the first instance continues the numbering")
        with check.step("knowledge"):
            kb = await ctx.knowledge.create_knowledge_base(user, "shared")
            first_doc, second_doc = ctx.data.documents[8], ctx.data.documents[9]
            await ctx.knowledge.add_document(user, kb.kb_id, content=first_doc.content, title=first_doc.title, format="markdown")
            await ctx.knowledge.search(user, kb.kb_id, first_doc.probe)  # the first instance now caches an index
            added = await twins["knowledge"].add_document(user, kb.kb_id, content=second_doc.content, title=second_doc.title, format="markdown")
            hits = await ctx.knowledge.search(user, kb.kb_id, second_doc.probe, top_k=3)
            check.that(bool(hits) and hits[0].doc_id == added.doc_id, "the first instance's search finds the second instance's document")
        with check.step("tools and metrics"):
            run = await twins["tools"].execute_tool(user, "calculator", {"expression": "6*7"})
            check.require(run.ok, "the second instance ran a tool", f"{run.status}: {run.error}")
            check.equal([r.run_id for r in await ctx.tools.list_runs(user)], [run.run_id], "the first instance lists the second's run")
            await twins["metrics"].record_metric(metric, 5.0)
            await ctx.metrics.record_metric(metric, 7.0)
            for label, manager in (("first", ctx.metrics), ("second", twins["metrics"])):
                summary = await manager.get_summary(metric)
                check.equal((summary.count, summary.sum), (2, 12.0), f"the {label} instance summarises both samples")
    finally:
        await _shutdown(twins)


# The documented guarantees (limits, sizes, every field, retention, statistics) register on the
# same REGISTRY from their own module; imported last, once REGISTRY and the round trips exist.
from testing.suites import _component_contracts  # noqa: F401, I001
from testing.suites import _report_contracts  # noqa: F401
from testing.suites import _storage_contracts  # noqa: F401

# The panel details (routing order, votes, turn status, listing), from surviving mutants of _panel.
from testing.suites import _component_contracts_panel  # noqa: F401

# The metrics details (leftovers beside buckets and analytics days), from surviving mutants of _metrics.
from testing.suites import _component_contracts_metrics  # noqa: F401

# The memory details (update time, a damaged layer, the context budget), from surviving mutants of _memory.
from testing.suites import _component_contracts_memory  # noqa: F401
# The tool outcomes (signal kills, the output limit, a success never retried), from surviving mutants of _tools.
from testing.suites import _component_contracts_tools  # noqa: F401
# The knowledge details (same bytes under another id, default title), from surviving mutants of _knowledge.
from testing.suites import _component_contracts_knowledge  # noqa: F401
# The knowledge input (format names, line ends, refusals named, titles cut, a capped search), from the census of _knowledge.
from testing.suites import _component_contracts_knowledge_input  # noqa: F401
