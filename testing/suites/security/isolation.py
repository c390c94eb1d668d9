"""User isolation: user B, holding the ids of user A's objects, tries to read and change them.

Ids leak (logs, shared links, guessable prefixes), so each check hands B the real ids of A's
session, memory, panel, knowledge base, document and tool run and makes every read and write call
a manager offers with them. The expected answer is the one a missing id gets (FFNotFoundError, or
FFPermissionError), so B can neither read A's data nor learn that it exists; searches and lists
run as B must return nothing of A's (a unique canary word in A's data is looked for); and A's
data must be unchanged afterwards. ASVS 4.0.3 V4.2.1 (IDOR on create, read, update, delete).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from ff_utils.ff_errors import FFNotFoundError, FFPermissionError, FFValidationError
from ff_utils.ff_file_ops import ff_safe_path
from ff_utils.ff_ids import ff_new_id
from testing._context import FFTestContext
from testing.runner import FFChecker
from testing.suites.security._support import (
    FFAttack,
    FFObservation,
    FFProbe,
    jsonl_census,
    run_probes,
    security_check,
)

__all__ = [
    "isolation_analytics",
    "isolation_chat_sessions",
    "isolation_knowledge_bases",
    "isolation_memories_and_search",
    "isolation_panels",
    "isolation_tool_runs",
]

_DENIED = (FFNotFoundError, FFPermissionError)
_EXPECTED = "every call as B raises FFNotFoundError (as for a missing id) or FFPermissionError; "


def _canary() -> str:
    """A word no other test writes, so finding it proves where data came from."""
    return "canary" + ff_new_id()[:12]


def _denied(label: str, call: object) -> FFProbe:
    return FFProbe(label, call, _DENIED)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- memory


def _session_calls(ctx: FFTestContext, user: Any, sid: str, message: Any) -> dict[str, Callable[[], Awaitable[object]]]:
    """Every memory method that takes a session id, called as ``user`` on ``sid``."""
    memory = ctx.memory
    return {
        "get_session": lambda: memory.get_session(user, sid),
        "get_messages": lambda: memory.get_messages(user, sid),
        "add_message": lambda: memory.add_message(user, sid, "user", "injected by B"),
        # A retry of A's message (same id, same text): an idempotent write must not answer it with A's message.
        "add_message(A's message_id)": lambda: memory.add_message(user, sid, message.role, message.content, message_id=message.message_id),
        "import_messages": lambda: memory.import_messages(user, sid, [{"role": "user", "content": "injected by B"}]),
        "update_session": lambda: memory.update_session(user, sid, title="owned by B"),
        "get_attachment": lambda: memory.get_attachment(user, sid, "att_guess"),
    }


@security_check(
    FFAttack(
        check_id="SEC-ISO-01",
        name="user B reads and writes user A's chat session",
        category="access control",
        asvs_id="V4.2.1",
        attack="as B with A's session_id: get_session, get_messages, add_message (incl. a retry of A's message_id), "
        "import_messages, update_session, get_attachment; list_sessions as B",
        expected=_EXPECTED + "B's answers are exactly those for a session id that does not exist; "
        "list_sessions(B) holds none of A's sessions; A's session keeps its title and one message",
        severity="critical",
    ),
    group="test_user_isolation",
    components=("memory",),
)
async def isolation_chat_sessions(ctx: FFTestContext, check: FFChecker, seen: FFObservation) -> None:
    alice, bob = ctx.new_user("sec_iso_a"), ctx.new_user("sec_iso_b")
    secret = _canary()
    session = await ctx.memory.create_session(alice, title="private plans")
    said = await ctx.memory.add_message(alice, session.session_id, "user", f"my secret is {secret}")
    sid = session.session_id
    report = await run_probes(
        [
            _denied("get_session(B, A's session)", lambda: ctx.memory.get_session(bob, sid)),
            _denied("get_messages(B, A's session)", lambda: ctx.memory.get_messages(bob, sid)),
            _denied("add_message(B, A's session)", lambda: ctx.memory.add_message(bob, sid, "user", "injected by B")),
            _denied("update_session(B, A's session)", lambda: ctx.memory.update_session(bob, sid, title="owned by B")),
        ]
    )
    differ = await _unlike_missing(lambda s: _session_calls(ctx, bob, s, said), (sid,), (ff_new_id("sess_"),))
    listed = [s.session_id for s in await ctx.memory.list_sessions(bob)]
    after = await ctx.memory.get_session(alice, sid)
    messages = await ctx.memory.get_messages(alice, sid)
    seen.note(f"as B: {report.summary()}")
    seen.note(f"answers unlike a missing session's: {len(differ)}" + (f" ({'; '.join(differ[:3])})" if differ else ""))
    seen.note(f"list_sessions(B): {len(listed)} sessions, A's among them: {'yes' if sid in listed else 'no'}")
    seen.note(f"A's session afterwards: title {after.title!r}, {len(messages)} message(s)")
    check.equal(report.refused, report.total, "every call with A's session id refused as B")
    check.equal(differ, [], "A's session answers B exactly like a session that does not exist")
    check.that(sid not in listed, "B's session list does not show A's session")
    check.equal((after.title, [m.content for m in messages]), ("private plans", [f"my secret is {secret}"]), "A's session unchanged")


@security_check(
    FFAttack(
        check_id="SEC-ISO-02",
        name="user B reads user A's memories (search included)",
        category="access control",
        asvs_id="V4.2.1",
        attack="as B: search_memories and get_memory_context for a word only A's memory holds, get_memories, "
        "memory_stats, and get_memory with A's memory_id",
        expected=_EXPECTED + "B's search, context, list and stats hold nothing of A's",
        severity="critical",
    ),
    group="test_user_isolation",
    components=("memory",),
)
async def isolation_memories_and_search(ctx: FFTestContext, check: FFChecker, seen: FFObservation) -> None:
    alice, bob = ctx.new_user("sec_iso_a"), ctx.new_user("sec_iso_b")
    secret = _canary()
    entry = await ctx.memory.store_memory(alice, f"A's bank PIN hint is {secret}", layer="long_term", importance=0.9)
    own = await ctx.memory.search_memories(alice, secret)
    check.require([h.entry.memory_id for h in own] == [entry.memory_id], "precondition: A finds A's own memory by the canary")
    report = await run_probes([_denied("get_memory(B, A's memory_id)", lambda: ctx.memory.get_memory(bob, entry.memory_id))])
    differ = await _unlike_missing(lambda m: {"get_memory": lambda: ctx.memory.get_memory(bob, m)}, (entry.memory_id,), (ff_new_id("mem_"),))
    hits = await ctx.memory.search_memories(bob, secret)
    context = await ctx.memory.get_memory_context(bob, secret)
    listed = await ctx.memory.get_memories(bob)
    stats = await ctx.memory.memory_stats(bob)
    leaked = [h.entry.memory_id for h in hits] + [h.entry.memory_id for h in context.hits] + [e.memory_id for e in listed]
    seen.note(f"as B: {report.summary()}")
    seen.note(
        f"search_memories(B, canary): {len(hits)} hit(s); get_memory_context(B): {len(context.hits)} hit(s), "
        f"canary in text: {'yes' if secret in context.text else 'no'}; get_memories(B): {len(listed)}; memory_stats(B).active={stats.active}"
    )
    check.equal(report.refused, report.total, "get_memory with A's id refused as B")
    check.equal(differ, [], "A's memory answers B exactly like a memory that does not exist")
    check.equal(leaked, [], "no search, context or list call as B returns A's memory")
    check.that(secret not in context.text, "A's canary is not in B's memory context")
    check.equal(stats.active, 0, "B's stats count none of A's memories")


# ---------------------------------------------------------------------------- panels


_PanelCalls = dict[str, Callable[[], Awaitable[object]]]


def _panel_calls(ctx: FFTestContext, user: Any, pid: str, message: Any, decision_id: str) -> _PanelCalls:
    """Every panel method that takes a panel id, called as ``user`` on ``pid``; close_panel last."""
    panel = ctx.panel
    return {
        "get_panel": lambda: panel.get_panel(user, pid),
        "get_messages": lambda: panel.get_messages(user, pid),
        "get_turn_status": lambda: panel.get_turn_status(user, pid),
        "add_message": lambda: panel.add_message(user, pid, "guest", "injected by B"),
        # A retry of A's message (same id, same text): an idempotent write must not answer it with A's message.
        "add_message(A's message_id)": lambda: panel.add_message(user, pid, message.participant_id, message.content, message_id=message.message_id),
        "import_messages": lambda: panel.import_messages(user, pid, [{"participant_id": "guest", "content": "injected by B"}]),
        "record_insight": lambda: panel.record_insight(user, pid, "planted by B"),
        "get_insights": lambda: panel.get_insights(user, pid),
        "record_decision": lambda: panel.record_decision(user, pid, "B's question?", ["yes", "no"]),
        "cast_vote": lambda: panel.cast_vote(user, pid, decision_id, "guest", "yes"),
        "get_decisions": lambda: panel.get_decisions(user, pid),
        "route_question": lambda: panel.route_question(user, pid, "who knows acquisitions?"),
        "update_state": lambda: panel.update_state(user, pid, {"owner": "B"}),
        "get_state": lambda: panel.get_state(user, pid),
        "get_analytics": lambda: panel.get_analytics(user, pid),
        "close_panel": lambda: panel.close_panel(user, pid),
    }


async def _answers(calls: _PanelCalls, *ids: str) -> dict[str, str]:
    """What each call answered (error type and message, the given ids masked), to compare two runs."""
    answers = {}
    for label, call in calls.items():
        try:
            result = await call()
        except Exception as exc:  # the answer itself is what is compared
            answer = f"{type(exc).__name__}: {exc}"
            for position, masked in enumerate(ids):
                answer = answer.replace(masked, f"<id{position}>")
            answers[label] = answer
        else:
            answers[label] = f"accepted ({type(result).__name__})"
    return answers


async def _unlike_missing(calls: Callable[..., _PanelCalls], real: tuple[str, ...], missing: tuple[str, ...]) -> list[str]:
    """The calls whose answer for another user's ids differs from the answer for ids that do not
    exist (README: another user's data answers exactly like a missing one, so B cannot even learn
    that A's object exists)."""
    as_b = await _answers(calls(*real), *real)
    as_missing = await _answers(calls(*missing), *missing)
    return [f"{label}: {as_b[label]} vs {as_missing[label]}" for label in as_b if as_b[label] != as_missing[label]]


@security_check(
    FFAttack(
        check_id="SEC-ISO-03",
        name="user B reads and writes user A's panel",
        category="access control",
        asvs_id="V4.2.1",
        attack="as B with A's panel_id: every panel method (get_panel, get_messages, add_message incl. a retry of A's "
        "message_id, import_messages, insights, decisions, votes, routing, state, analytics, close_panel); the same "
        "calls with no user_id (None, ''); list_panels as B",
        expected=_EXPECTED + "B's answers are exactly those for a panel id that does not exist; a missing user_id is "
        "refused (FFValidationError), never a way around the owner check; list_panels(B) holds none of A's panels; "
        "A's panel stays open with its one message, no insight, no vote, no state",
        severity="critical",
    ),
    group="test_user_isolation",
    components=("panel",),
)
async def isolation_panels(ctx: FFTestContext, check: FFChecker, seen: FFObservation) -> None:
    alice, bob = ctx.new_user("sec_iso_a"), ctx.new_user("sec_iso_b")
    secret = _canary()
    seats = [{"participant_id": "host", "expertise": ["acquisitions"]}, {"participant_id": "guest"}]
    panel = await ctx.panel.create_panel(alice, seats, title="board")
    pid = panel.panel_id
    message = await ctx.panel.add_message(alice, pid, "host", f"acquisition target is {secret}")
    decision = await ctx.panel.record_decision(alice, pid, "Buy?", ["yes", "no"])
    report = await run_probes(
        _denied(f"{label}(B, A's panel)", call) for label, call in _panel_calls(ctx, bob, pid, message, decision.decision_id).items()
    )
    anonymous = await run_probes(
        FFProbe(f"{label}(user_id={user!r})", call, (FFValidationError,) + _DENIED)
        for user in (None, "")
        for label, call in _panel_calls(ctx, user, pid, message, decision.decision_id).items()
    )
    missing = ff_new_id("panel_")
    differ = await _unlike_missing(lambda p: _panel_calls(ctx, bob, p, message, decision.decision_id), (pid,), (missing,))
    listed = [p.panel_id for p in await ctx.panel.list_panels(bob)]
    after = await ctx.panel.get_panel(alice, pid)
    messages = await ctx.panel.get_messages(alice, pid)
    insights = await ctx.panel.get_insights(alice, pid)
    tallies = await ctx.panel.get_decisions(alice, pid)
    state = await ctx.panel.get_state(alice, pid)
    seen.note(f"as B: {report.summary()}")
    seen.note(f"without a user_id: {anonymous.summary()}")
    seen.note(f"answers unlike a missing panel's: {len(differ)}" + (f" ({'; '.join(differ[:3])})" if differ else ""))
    seen.note(f"list_panels(B): {len(listed)} panels, A's among them: {'yes' if pid in listed else 'no'}")
    seen.note(f"A's panel afterwards: status {after.status}, {len(messages)} message(s), {len(insights)} insight(s)")
    check.equal(report.refused, report.total, "every call with A's panel id refused for user B")
    check.equal(anonymous.refused, anonymous.total, "every call without a user_id refused")
    check.equal(differ, [], "A's panel answers B exactly like a panel that does not exist")
    check.that(pid not in listed, "B's panel list does not show A's panel")
    check.equal((after.status, [m.content for m in messages]), ("open", [f"acquisition target is {secret}"]), "A's panel unchanged")
    check.equal(
        (len(insights), [(t.decision.question, t.voters) for t in tallies], state),
        (0, [("Buy?", 0)], {}),
        "no insight, decision, vote or state of B's in A's panel",
    )


# ---------------------------------------------------------------------------- knowledge bases


def _knowledge_calls(ctx: FFTestContext, user: Any, kb: str, did: str, query: str) -> dict[str, Callable[[], Awaitable[object]]]:
    """Every knowledge method that takes a base or document id, called as ``user``; delete last."""
    knowledge = ctx.knowledge
    return {
        "search": lambda: knowledge.search(user, kb, query),
        "list_documents": lambda: knowledge.list_documents(user, kb),
        "get_document": lambda: knowledge.get_document(user, kb, did),
        "get_document_text": lambda: knowledge.get_document_text(user, kb, did),
        "get_knowledge_base": lambda: knowledge.get_knowledge_base(user, kb),
        "delete_document": lambda: knowledge.delete_document(user, kb, did),
    }


@security_check(
    FFAttack(
        check_id="SEC-ISO-04",
        name="user B reads and deletes user A's knowledge base documents",
        category="access control",
        asvs_id="V4.2.1",
        attack="as B with A's kb_id and doc_id: search, list_documents, get_document, get_document_text, get_knowledge_base, "
        "delete_document; list_knowledge_bases as B; B creates a base with A's kb_id and searches it",
        expected=_EXPECTED + "B's own base of the same id finds nothing of A's; A's document is still there",
        severity="critical",
    ),
    group="test_user_isolation",
    components=("knowledge",),
)
async def isolation_knowledge_bases(ctx: FFTestContext, check: FFChecker, seen: FFObservation) -> None:
    alice, bob = ctx.new_user("sec_iso_a"), ctx.new_user("sec_iso_b")
    secret = _canary()
    base = await ctx.knowledge.create_knowledge_base(alice, "contracts")
    doc = await ctx.knowledge.add_document(alice, base.kb_id, content=f"The settlement amount is {secret} dollars.", title="settlement")
    kb, did = base.kb_id, doc.doc_id
    report = await run_probes(
        [
            _denied("search(B, A's kb)", lambda: ctx.knowledge.search(bob, kb, secret)),
            _denied("list_documents(B, A's kb)", lambda: ctx.knowledge.list_documents(bob, kb)),
            _denied("get_document(B, A's doc)", lambda: ctx.knowledge.get_document(bob, kb, did)),
            _denied("get_document_text(B, A's doc)", lambda: ctx.knowledge.get_document_text(bob, kb, did)),
            _denied("get_knowledge_base(B, A's kb)", lambda: ctx.knowledge.get_knowledge_base(bob, kb)),
            _denied("delete_document(B, A's doc)", lambda: ctx.knowledge.delete_document(bob, kb, did)),
        ]
    )
    differ = await _unlike_missing(lambda k, d: _knowledge_calls(ctx, bob, k, d, secret), (kb, did), (ff_new_id("kb_"), ff_new_id("doc_")))
    listed = [b.kb_id for b in await ctx.knowledge.list_knowledge_bases(bob)]
    await ctx.knowledge.create_knowledge_base(bob, "mine", kb_id=kb)
    await ctx.knowledge.add_document(bob, kb, content="Bob's own notes about gardening.", title="garden")
    same_id_hits = await ctx.knowledge.search(bob, kb, secret)
    alice_docs = [d.doc_id for d in await ctx.knowledge.list_documents(alice, kb)]
    alice_hits = await ctx.knowledge.search(alice, kb, secret)
    seen.note(f"as B: {report.summary()}")
    seen.note(f"list_knowledge_bases(B) before creating its own: {len(listed)} bases, A's among them: {'yes' if kb in listed else 'no'}")
    seen.note(f"B's own base with A's kb_id: {len(same_id_hits)} hit(s) for A's canary; A afterwards: {len(alice_docs)} document(s), {len(alice_hits)} hit(s)")
    check.equal(report.refused, report.total, "every call with A's knowledge base ids refused as B")
    check.equal(differ, [], "A's knowledge base and document answer B exactly like ones that do not exist")
    check.that(kb not in listed, "B's list does not show A's knowledge base")
    check.equal(len(same_id_hits), 0, "a base of B's with the same id holds nothing of A's")
    check.equal((alice_docs, len(alice_hits) > 0), ([did], True), "A's document survived B's delete attempt")


# ---------------------------------------------------------------------------- tool runs


@security_check(
    FFAttack(
        check_id="SEC-ISO-05",
        name="user B reads user A's tool run log",
        category="access control",
        asvs_id="V4.2.1",
        attack="A runs word_count on text holding a canary; as B: get_run with A's run_id, list_runs",
        expected=_EXPECTED + "list_runs(B) holds none of A's runs and B's run log on disk holds no canary",
        severity="high",
    ),
    group="test_user_isolation",
    components=("tools",),
)
async def isolation_tool_runs(ctx: FFTestContext, check: FFChecker, seen: FFObservation) -> None:
    alice, bob = ctx.new_user("sec_iso_a"), ctx.new_user("sec_iso_b")
    secret = _canary()
    run = await ctx.tools.execute_tool(alice, "word_count", {"text": f"confidential draft {secret} for the board"})
    check.require(run.ok, "precondition: A's word_count run succeeded", run.error or "")
    await ctx.tools.execute_tool(bob, "word_count", {"text": "bob's own text"})
    report = await run_probes([_denied("get_run(B, A's run_id)", lambda: ctx.tools.get_run(bob, run.run_id))])
    differ = await _unlike_missing(lambda r: {"get_run": lambda: ctx.tools.get_run(bob, r)}, (run.run_id,), (ff_new_id("run_"),))
    runs = await ctx.tools.list_runs(bob, limit=100)
    leaked = [r.run_id for r in runs if r.user_id != bob or r.run_id == run.run_id]
    census = await jsonl_census(ff_safe_path(ctx.root, "users", bob, "tools", "runs.jsonl"))
    on_disk = secret in str(census.records)
    seen.note(f"as B: {report.summary()}")
    seen.note(f"list_runs(B): {len(runs)} run(s), {len(leaked)} not B's; B's runs.jsonl ({census.describe()}) holds the canary: {'yes' if on_disk else 'no'}")
    check.equal(report.refused, report.total, "get_run with A's run id refused as B")
    check.equal(differ, [], "A's run answers B exactly like a run that does not exist")
    check.equal(leaked, [], "B's run list holds only B's runs")
    check.that(not on_disk, "B's run log on disk holds nothing of A's")


# ---------------------------------------------------------------------------- analytics


@security_check(
    FFAttack(
        check_id="SEC-ISO-06",
        name="user B reads user A's analytics",
        category="access control",
        asvs_id="V4.2.1",
        attack="A records analytics events carrying a canary; B asks get_user_analytics for itself",
        expected="B's analytics count none of A's events and B has no analytics file holding A's data",
        severity="medium",
    ),
    group="test_user_isolation",
    components=("metrics",),
)
async def isolation_analytics(ctx: FFTestContext, check: FFChecker, seen: FFObservation) -> None:
    alice, bob = ctx.new_user("sec_iso_a"), ctx.new_user("sec_iso_b")
    secret = _canary()
    for _ in range(3):
        await ctx.metrics.record_event(alice, "purchase", {"item": secret})
    await ctx.metrics.record_event(bob, "login")
    mine = await ctx.metrics.get_user_analytics(alice)
    check.require(mine.event_counts.get("purchase") == 3, "precondition: A's analytics count A's 3 purchases")
    theirs = await ctx.metrics.get_user_analytics(bob)
    events_dir = ff_safe_path(ctx.root, "users", bob, "analytics", "events")
    bob_files = sorted(events_dir.glob("*.jsonl")) if events_dir.is_dir() else []
    censuses = [await jsonl_census(path) for path in bob_files]
    on_disk = any(secret in str(c.records) for c in censuses)
    seen.note(f"get_user_analytics(B): {theirs.total_events} event(s) {dict(sorted(theirs.event_counts.items()))}")
    seen.note(f"B's analytics files: {len(bob_files)}, holding A's canary: {'yes' if on_disk else 'no'}")
    check.equal(dict(theirs.event_counts), {"login": 1}, "B's analytics count only B's own event")
    check.that(not on_disk, "B's analytics files hold nothing of A's")
