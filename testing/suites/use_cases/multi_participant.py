"""Multi-participant use cases: AI panel, debate, topic delegation, game master, task agent."""

from __future__ import annotations

import asyncio
import graphlib
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ff_class_configs.ff_tool_dtos import (
    FFToolDefinitionDTO,
    FFToolPermissionsDTO,
    FFToolRunResultDTO,
    FFToolRunStatus,
)
from ff_utils.ff_errors import FFConflictError, FFNotFoundError, FFValidationError
from testing._context import FFTestContext
from testing.runner import FFChecker
from testing.suites.use_cases._guarantees import (
    check_panel_figures,
    check_panel_paging,
    check_panel_retry,
    check_run_limits,
)
from testing.suites.use_cases._support import (
    data_path,
    panel_file,
    read_json,
    read_jsonl,
    register_persona,
    reopened,
    use_case,
)

__all__: list[str] = []

_FLAKY_TOOL = Path(__file__).resolve().with_name("_flaky_fetch_tool.py")


class _FetchArgs(BaseModel):
    """Arguments of the auto_task_agent's flaky fetch tool."""

    model_config = ConfigDict(extra="forbid")
    source: str = Field(min_length=1, max_length=64)


@use_case("multi_ai_panel")
async def multi_ai_panel(ctx: FFTestContext, check: FFChecker) -> None:
    """Several personas take ordered turns; insights, a vote and its consensus are recorded."""
    user = ctx.new_user("panelist")
    experts = {
        "economist": ("Dr. Okafor", ["economics", "budgets"]),
        "ecologist": ("Dr. Lind", ["ecology", "emissions"]),
        "engineer": ("Eng. Sato", ["transport engineering"]),
    }
    with check.step("seat the panel"):
        seats: list[dict[str, Any]] = [{"participant_id": "host", "kind": "human", "role": "moderator"}]
        for seat, (name, expertise) in experts.items():
            persona = await register_persona(ctx, f"{user}-{seat}", name, expertise=expertise)
            seats.append({"participant_id": seat, "persona_id": persona.persona_id, "role": "expert"})
        order = list(experts)
        panel = await ctx.panel.create_panel(
            user,
            seats,
            panel_type="multi_ai_panel",
            title="City transport",
            turn_policy="round_robin",
            turn_order=order,
        )
        session = await ctx.memory.create_session(
            user, title="City transport panel", metadata={"panel_id": panel.panel_id}
        )
        question = "Should the city fund a tram line or protected bike lanes first?"
        await ctx.memory.add_message(user, session.session_id, "user", question)
        await ctx.panel.add_message(user, panel.panel_id, "host", question)
    spoken: list[Any] = []
    with check.step("two ordered rounds"):
        for round_number in (1, 2):
            for seat in order:
                view = "tram" if seat != "ecologist" else "bike lanes"
                spoken.append(
                    await ctx.panel.add_message(
                        user, panel.panel_id,
                        seat,
                        f"Round {round_number}: from a {experts[seat][1][0]} view, fund the {view} first.",
                        metadata={"round": round_number},
                    )
                )
            if round_number == 1:
                before = (await ctx.panel.get_panel(user, panel.panel_id)).message_count
                with check.raises(FFConflictError, "a panelist speaking out of turn is refused"):
                    await ctx.panel.add_message(user, panel.panel_id, "engineer", "Let me go first this time.")
                after = (await ctx.panel.get_panel(user, panel.panel_id)).message_count
                check.equal(after, before, "the refused message was not stored")
    with check.step("insights and a vote"):
        for message in spoken[-3:]:
            await ctx.panel.record_insight(
                user, panel.panel_id,
                f"{message.participant_id} favours {'bike lanes' if 'bike' in message.content else 'the tram'}.",
                participant_id=message.participant_id,
                source_message_ids=[message.message_id],
            )
        decision = await ctx.panel.record_decision(
            user, panel.panel_id, "Fund first?", ["tram", "bike lanes"], proposed_by="host"
        )
        for seat in order:
            await ctx.panel.cast_vote(
                user, panel.panel_id,
                decision.decision_id,
                seat,
                "bike lanes" if seat == "ecologist" else "tram",
            )
        # A second question nobody votes on yet: the panel's consensus is the mean over decisions with votes.
        await ctx.panel.record_decision(user, panel.panel_id, "Review the choice next year?", ["yes", "no"], proposed_by="host")
    with check.step("read the panel back"):
        messages = await ctx.panel.get_messages(user, panel.panel_id)
        check.equal([m.sequence for m in messages], list(range(1, 8)), "seven messages numbered without gaps")
        check.equal(
            [m.participant_id for m in messages],
            ["host", *order, *order],
            "the experts spoke in their turn order, twice",
        )
        tally = (await ctx.panel.get_decisions(user, panel.panel_id))[0]
        check.equal(
            (tally.counts, tally.majority_option), ({"tram": 2, "bike lanes": 1}, "tram"), "the vote is tallied"
        )
        check.that(
            abs((tally.consensus_level or 0) - 2 / 3) < 1e-9, "consensus is two thirds", f"got {tally.consensus_level}"
        )
        insights = await ctx.panel.get_insights(user, panel.panel_id)
        check.equal(
            [i.source_message_ids for i in insights],
            [[m.message_id] for m in spoken[-3:]],
            "each insight cites its message",
        )
        await check_panel_paging(check, ctx.panel, user, panel.panel_id, [m.message_id for m in messages])
        await check_panel_retry(check, ctx.panel, user, panel.panel_id, spoken[-1])
    with check.step("close and remember the outcome"):
        figures = await ctx.panel.close_panel(user, panel.panel_id, summary="Fund the tram first (2 of 3).")
        check.equal(
            (figures.rounds, figures.insight_count, figures.message_count),
            (2, 3, 7),
            "closing analytics count rounds, insights, messages",
        )
        check_panel_figures(check, figures, messages, await ctx.panel.get_decisions(user, panel.panel_id))
        with check.raises(FFConflictError, "a closed panel refuses messages"):
            await ctx.panel.add_message(user, panel.panel_id, "economist", "One more thing.")
        outcome = f"The transport panel recommends funding the tram first, consensus {tally.consensus_level:.2f}."
        await ctx.memory.add_message(
            user,
            session.session_id,
            "assistant",
            outcome,
            metadata={"panel_id": panel.panel_id, "decision_id": decision.decision_id},
        )
        await ctx.memory.store_memory(
            user, outcome, layer="long_term", importance=0.8, session_id=session.session_id, tags=["panel-outcome"]
        )
        hits = await ctx.memory.search_memories(user, "what did the transport panel recommend", limit=1)
        check.that(bool(hits) and "tram" in hits[0].entry.content, "the outcome is found in memory later")
        stored = await read_json(panel_file(ctx, user, panel.panel_id, "analytics.json"))
        check.equal(
            (stored or {}).get("consensus_level"), figures.consensus_level, "analytics.json on disk holds the consensus"
        )


@use_case("ai_debate")
async def ai_debate(ctx: FFTestContext, check: FFChecker) -> None:
    """Pro and con alternate (out-of-turn refused); rounds and a verdict are recorded; the trace is kept."""
    user = ctx.new_user("debate")
    rounds = 3
    with check.step("a debate without a con is refused"):
        with check.raises(FFValidationError, "an ai_debate panel needs a pro and a con"):
            await ctx.panel.create_panel(user, [{"participant_id": "pro", "role": "pro"}, {"participant_id": "judge", "role": "judge"}],
                                         panel_type="ai_debate", title="One-sided")
        check.equal(await ctx.panel.list_panels(user), [], "the refused debate wrote nothing")
    with check.step("set up the debate"):
        pro = await register_persona(ctx, f"{user}-pro", "Advocate Iris", traits={"style": "optimistic"})
        con = await register_persona(ctx, f"{user}-con", "Sceptic Omar", traits={"style": "cautious"})
        panel = await ctx.panel.create_panel(
            user,
            [
                {"participant_id": "pro", "role": "pro", "persona_id": pro.persona_id},
                {"participant_id": "con", "role": "con", "persona_id": con.persona_id},
                {"participant_id": "judge", "role": "judge"},
            ],
            panel_type="ai_debate",
            title="Four-day work week",
            turn_policy="round_robin",
            turn_order=["pro", "con"],
        )
    with check.step("opening must be pro"), check.raises(FFConflictError, "con cannot open the debate"):
        await ctx.panel.add_message(user, panel.panel_id, "con", "I will start.")
    posted = []
    with check.step("alternating rounds"):
        for number in range(1, rounds + 1):
            for side in ("pro", "con"):
                stance = "adopt" if side == "pro" else "reject"
                posted.append(
                    await ctx.panel.add_message(
                        user, panel.panel_id,
                        side,
                        f"Round {number}: we should {stance} the four-day week.",
                        metadata={"round": number, "side": side},
                    )
                )
                if number == 2 and side == "pro":
                    status = await ctx.panel.get_turn_status(user, panel.panel_id)
                    check.equal(status.next_speakers, ["con"], "after pro it is con's turn")
                    with check.raises(FFConflictError, "pro speaking twice in a row is refused"):
                        await ctx.panel.add_message(user, panel.panel_id, "pro", "And another point!")
    with check.step("verdict"):
        decision = await ctx.panel.record_decision(
            user, panel.panel_id, "Who argued better?", ["pro", "con"], proposed_by="judge"
        )
        await ctx.panel.cast_vote(
            user, panel.panel_id, decision.decision_id, "judge", "pro", rationale="Better evidence."
        )
        verdict = await ctx.panel.add_message(user, panel.panel_id, "judge", "Verdict: pro wins on evidence.")
        figures = await ctx.panel.close_panel(user, panel.panel_id, summary="Verdict: pro wins on evidence.")
    with check.step("read the trace"):
        messages = await ctx.panel.get_messages(user, panel.panel_id)
        check.equal(
            [m.sequence for m in messages], list(range(1, 2 * rounds + 2)), "the trace is numbered without gaps"
        )
        check.equal(
            [m.participant_id for m in messages],
            ["pro", "con"] * rounds + ["judge"],
            "pro and con alternate, the judge closes",
        )
        check.equal(
            [m.metadata.get("round") for m in messages[:-1]],
            [n for n in range(1, rounds + 1) for _ in (0, 1)],
            "each message records its round",
        )
        check.equal(
            [m.message_id for m in messages],
            [m.message_id for m in posted] + [verdict.message_id],
            "refused messages left no trace",
        )
        records = await read_jsonl(panel_file(ctx, user, panel.panel_id, "messages.jsonl"))
        check.equal(
            [(r.get("sequence"), r.get("participant_id")) for r in records],
            [(m.sequence, m.participant_id) for m in messages],
            "messages.jsonl holds the same trace",
        )
        stored = await ctx.panel.get_panel(user, panel.panel_id)
        check.equal(
            (stored.status, stored.summary),
            ("closed", "Verdict: pro wins on evidence."),
            "the verdict is kept with the closed panel",
        )
        check.equal(figures.rounds, rounds, "analytics count three complete rounds")
        check_panel_figures(check, figures, messages, await ctx.panel.get_decisions(user, panel.panel_id))
        tally = (await ctx.panel.get_decisions(user, panel.panel_id))[0]
        check.equal(tally.majority_option, "pro", "the judge's vote names the winner")
    with check.step("analytics"):
        analytics = await ctx.metrics.get_user_analytics(user)
        check.equal(
            analytics.event_counts.get("panel.message_added"),
            2 * rounds + 1,
            "analytics counted every accepted message, none refused",
        )
        check.equal(analytics.event_counts.get("panel.closed"), 1, "analytics recorded the closed debate")


@use_case("topic_delegation")
async def topic_delegation(ctx: FFTestContext, check: FFChecker) -> None:
    """Each question is routed to the expert of its topic, who answers from the topic's knowledge base."""
    user = ctx.new_user("deleg")
    by_topic: dict[str, list[Any]] = {}
    for document in ctx.data.documents:
        by_topic.setdefault(document.topic, []).append(document)
    topics = sorted(t for t, docs in by_topic.items() if len(docs) >= 2)[:3]
    check.require(
        len(topics) == 3, "the seeded data has three topics with two documents each", f"topics {sorted(by_topic)}"
    )
    libraries: dict[str, str] = {}
    with check.step("experts and their libraries"):
        seats: list[dict[str, Any]] = [{"participant_id": "asker", "kind": "human", "role": "moderator"}]
        for topic in topics:
            subjects = [d.title.split(": ", 1)[1] for d in by_topic[topic]]
            persona = await register_persona(
                ctx, f"{user}-{topic}", f"{topic.capitalize()} expert", expertise=[topic, *subjects]
            )
            seats.append({"participant_id": topic, "role": "expert", "persona_id": persona.persona_id})
            kb = await ctx.knowledge.create_knowledge_base(user, f"{topic} library")
            for document in by_topic[topic]:
                await ctx.knowledge.add_document(
                    user, kb.kb_id, content=document.content, title=document.title, format="markdown"
                )
            libraries[topic] = kb.kb_id
        # moderated: the asker (the moderator) gives the floor to the expert the question is routed to
        panel = await ctx.panel.create_panel(
            user, seats, panel_type="topic_delegation", title="Help desk", turn_policy="moderated"
        )
    with check.step("route and answer"):
        for topic in topics:
            document = by_topic[topic][0]
            text = f"What is the {document.probe}?"
            route = await ctx.panel.route_question(user, panel.panel_id, text)
            check.equal(route.participant_id, topic, f"the {topic} question goes to the {topic} expert")
            question = await ctx.panel.add_message(user, panel.panel_id, "asker", text, next_speaker=route.participant_id)
            status = await ctx.panel.get_turn_status(user, panel.panel_id)
            check.equal(sorted(status.next_speakers), sorted(["asker", topic]), f"the moderator gave {topic} the floor")
            intruder = next(t for t in topics if t != topic)
            try:
                await ctx.panel.add_message(user, panel.panel_id, intruder, "Let me answer that instead.")
                check.that(False, f"{intruder} speaking while {topic} has the floor is refused", "it was accepted")
            except FFConflictError as exc:
                check.that(topic in str(exc), f"{intruder} speaking while {topic} has the floor is refused, naming who may speak", str(exc))
            hits = await ctx.knowledge.search(user, libraries[route.participant_id], document.probe, top_k=3)
            # the expert reads the top three chunks (documents of one topic share their vocabulary)
            answer = next((h for h in hits if document.fact in h.text), None)
            check.require(answer is not None, f"the {topic} expert's library answers it within the top three chunks")
            for other in topics:
                if other != topic:
                    foreign = await ctx.knowledge.search(user, libraries[other], document.probe, top_k=5)
                    check.that(
                        all(document.fact not in h.text for h in foreign),
                        f"the {other} library does not hold the {topic} answer",
                    )
            await ctx.panel.add_message(
                user, panel.panel_id,
                route.participant_id,
                document.fact,
                reply_to=question.message_id,
                metadata={
                    "citation": {"kb_id": answer.kb_id, "doc_id": answer.doc_id, "chunk_id": answer.chunk_id},
                    "routed_by": route.matched,
                },
            )
    with check.step("unroutable question"), check.raises(FFNotFoundError, "a question no expert covers is not routed"):
        await ctx.panel.route_question(user, panel.panel_id, "What time is the ferry to Tokyo?")
    with check.step("read the help desk back"):
        messages = await ctx.panel.get_messages(user, panel.panel_id)
        answers = [m for m in messages if m.participant_id != "asker"]
        check.equal([m.participant_id for m in answers], topics, "each expert answered its own question once")
        asked = {m.message_id: m for m in messages if m.participant_id == "asker"}
        check.that(all(m.reply_to in asked for m in answers), "every answer replies to a question")
        check.equal(
            [m.metadata["citation"]["kb_id"] for m in answers],
            [libraries[t] for t in topics],
            "every answer cites its expert's library",
        )


@use_case("ai_game_master")
async def ai_game_master(ctx: FFTestContext, check: FFChecker) -> None:
    """World state persists across sessions (a restarted manager); players act in order."""
    user = ctx.new_user("game")
    order = ["gm", "rook", "wren"]
    with check.step("session 1: the crypt"):
        gm = await register_persona(ctx, f"{user}-gm", "The Narrator", traits={"tone": "gothic"})
        panel = await ctx.panel.create_panel(
            user,
            [
                {"participant_id": "gm", "role": "game_master", "persona_id": gm.persona_id},
                {"participant_id": "rook", "role": "player", "kind": "human"},
                {"participant_id": "wren", "role": "player", "kind": "human"},
            ],
            panel_type="ai_game_master",
            title="The Drowned Crypt",
            turn_policy="round_robin",
            turn_order=order,
        )
        night1 = await ctx.memory.create_session(user, title="Game night 1", metadata={"panel_id": panel.panel_id})
        for seat, line in zip(
            order, ["You wake in a flooded crypt.", "Rook lights a torch.", "Wren finds a silver key."], strict=True
        ):
            await ctx.panel.add_message(user, panel.panel_id, seat, line)
            await ctx.memory.add_message(
                user, night1.session_id, "assistant" if seat == "gm" else "user", line, metadata={"seat": seat}
            )
        world = {
            "location": "crypt",
            "door": "locked",
            "turn": 1,
            "inventory": {"rook": ["torch"], "wren": ["silver key"]},
        }
        await ctx.panel.update_state(user, panel.panel_id, world)
        key_memory = await ctx.memory.store_memory(
            user,
            "Wren found the silver key in the flooded crypt.",
            layer="long_term",
            importance=0.8,
            session_id=night1.session_id,
        )
    with check.step("session 2: the app restarted"):
        async with reopened(ctx, "panel") as panel_later, reopened(ctx, "memory") as memory_later:
            check.equal(
                await panel_later.get_state(user, panel.panel_id), world, "the world state survived the restart"
            )
            status = await panel_later.get_turn_status(user, panel.panel_id)
            check.equal(status.next_speakers, ["gm"], "the next round starts with the game master")
            with check.raises(FFConflictError, "a player cannot act before the game master"):
                await panel_later.add_message(user, panel.panel_id, "wren", "Wren opens the door.")
            night2 = await memory_later.create_session(
                user, title="Game night 2", metadata={"panel_id": panel.panel_id}
            )
            recalled = await memory_later.search_memories(user, "who has the silver key", limit=1)
            check.equal(
                [h.entry.memory_id for h in recalled], [key_memory.memory_id], "last session's discovery is recalled"
            )
            for seat, line in zip(
                order,
                [
                    "A locked door blocks the way.",
                    "Rook holds the torch high.",
                    "Wren opens the door with the silver key.",
                ],
                strict=True,
            ):
                await panel_later.add_message(user, panel.panel_id, seat, line)
                await memory_later.add_message(
                    user, night2.session_id, "assistant" if seat == "gm" else "user", line, metadata={"seat": seat}
                )
            world2 = await panel_later.update_state(
                user, panel.panel_id,
                {"door": None, "location": "vault", "turn": 2, "inventory": {"rook": ["torch"], "wren": []}},
            )
    with check.step("read the campaign back"):
        state = await ctx.panel.get_state(user, panel.panel_id)
        check.equal(
            state,
            {"location": "vault", "turn": 2, "inventory": {"rook": ["torch"], "wren": []}},
            "the world advanced and the door is gone",
        )
        check.equal(state, world2, "both managers see the same world")
        check.equal(
            await read_json(panel_file(ctx, user, panel.panel_id, "state.json")),
            state,
            "state.json on disk is the world",
        )
        messages = await ctx.panel.get_messages(user, panel.panel_id)
        check.equal(
            [(m.sequence, m.participant_id) for m in messages],
            list(enumerate(order * 2, start=1)),
            "actions are stored in turn order",
        )
        sessions = await ctx.memory.list_sessions(user)
        check.equal(
            sorted(s.message_count or 0 for s in sessions), [3, 3], "each game night's three actions are in memory"
        )


@use_case("auto_task_agent")
async def auto_task_agent(ctx: FFTestContext, check: FFChecker) -> None:
    """A multi-step task runs tools in dependency order; a transient failure is retried."""
    user = ctx.new_user("agent")
    fetch_tool = f"flaky_fetch_{user}"
    plan: dict[str, tuple[str, tuple[str, ...]]] = {
        "fetch": (fetch_tool, ()),
        "count": ("word_count", ("fetch",)),
        "digest": ("summarize", ("fetch",)),
        "estimate": ("calculator", ("count",)),
        "file_task": ("create_task", ("estimate", "digest")),
    }
    with check.step("register the flaky fetch tool"):
        ctx.tools.register_tool(
            FFToolDefinitionDTO(
                name=fetch_tool,
                description="Fetch a stored document; its store answers only on the second try.",
                argv=(sys.executable, "-P", "-B", str(_FLAKY_TOOL)),
                parameters=_FetchArgs,
                permissions=FFToolPermissionsDTO(allowed_users=(user,)),
            )
        )
    try:
        await _run_agent(ctx, check, user, plan)
    finally:
        ctx.tools.unregister_tool(fetch_tool)


def _arguments(step: str, results: dict[str, FFToolRunResultDTO]) -> dict[str, Any]:
    """Each step's arguments, built from the outputs of the steps it depends on."""
    if step == "fetch":
        return {"source": "q3_notes"}
    if step == "count":
        return {"text": results["fetch"].output["text"], "top": 3}
    if step == "digest":
        return {"text": results["fetch"].output["text"], "max_sentences": 1}
    if step == "estimate":
        return {"expression": f"{results['count'].output['words']} * 2 + 15"}
    minutes = results["estimate"].output["result"]
    return {
        "title": "Write the Q3 report",
        "notes": f"{results['digest'].output['summary']} (about {minutes} minutes)",
        "priority": "high",
    }


async def _run_agent(
    ctx: FFTestContext, check: FFChecker, user: str, plan: dict[str, tuple[str, tuple[str, ...]]]
) -> None:
    with check.step("open the agent's panel"):
        panel = await ctx.panel.create_panel(
            user,
            [{"participant_id": "requester", "kind": "human"}, {"participant_id": "agent", "role": "agent"}],
            panel_type="auto_task_agent",
            title="Q3 report",
        )
        await ctx.panel.add_message(
            user, panel.panel_id, "requester", "Turn the Q3 notes into a report task with an estimate."
        )
        plan_state = {s: {"tool": t, "after": list(d), "status": "pending"} for s, (t, d) in plan.items()}
        await ctx.panel.update_state(user, panel.panel_id, {"plan": plan_state})
    results: dict[str, FFToolRunResultDTO] = {}
    finished: list[str] = []
    with check.step("run the plan in dependency order"):
        sorter = graphlib.TopologicalSorter({step: deps for step, (_, deps) in plan.items()})
        sorter.prepare()
        while sorter.is_active():
            ready = list(sorter.get_ready())
            runs = await asyncio.gather(
                *(ctx.tools.execute_tool(user, plan[s][0], _arguments(s, results)) for s in ready)
            )
            for step, run in zip(ready, runs, strict=True):
                check.require(run.ok, f"step {step} ({plan[step][0]}) succeeded", f"{run.status}: {run.error}")
                results[step] = run
                finished.append(step)
                await ctx.panel.add_message(
                    user, panel.panel_id,
                    "agent",
                    f"Done: {step} with {plan[step][0]}.",
                    metadata={"step": step, "run_id": run.run_id, "attempts": run.attempts},
                )
                plan_state[step] = {**plan_state[step], "status": "done", "run_id": run.run_id}
                await ctx.panel.update_state(user, panel.panel_id, {"plan": plan_state})
                sorter.done(step)
    with check.step("the retried step"):
        fetch = results["fetch"]
        check.equal(
            (fetch.status, fetch.attempts),
            (FFToolRunStatus.SUCCESS, 2),
            "the transient failure was retried once and then succeeded",
        )
        marker = data_path(ctx, "users", user, "tools", "work", fetch.run_id, ".first_attempt_failed")
        check.that(marker.is_file(), "the first attempt's trace is in the run's work dir")
    with check.step("dependency order on record"):
        logged = await ctx.tools.list_runs(user)
        position = {r.run_id: i for i, r in enumerate(logged)}
        check.equal(
            sorted(position), sorted(r.run_id for r in results.values()), "the run log holds exactly the plan's runs"
        )
        for step, (_, deps) in plan.items():
            check.that(
                all(position[results[d].run_id] < position[results[step].run_id] for d in deps),
                f"{step} ran after {', '.join(deps) or 'nothing'}",
            )
        words = len(re.findall(r"[A-Za-z]+", results["fetch"].output["text"]))
        check.equal(results["estimate"].output["result"], words * 2 + 15, "the estimate used the counted words")
        task = results["file_task"].output
        check.that(results["digest"].output["summary"] in task["notes"], "the filed task carries the digest")
    with check.step("panel and memory"):
        messages = await ctx.panel.get_messages(user, panel.panel_id)
        check.equal(
            [m.metadata.get("step") for m in messages[1:]], finished, "the agent reported each step as it finished"
        )
        plan_state = (await ctx.panel.get_state(user, panel.panel_id))["plan"]
        check.equal(
            {s: (v["status"], v.get("run_id")) for s, v in plan_state.items()},
            {s: ("done", r.run_id) for s, r in results.items()},
            "the plan state marks every step done with its run",
        )
        session = await ctx.memory.create_session(user, title="Agent results", metadata={"panel_id": panel.panel_id})
        await ctx.memory.add_message(
            user,
            session.session_id,
            "assistant",
            f"Task filed: {task['title']} ({task['task_id']}).",
            metadata={"task": task},
        )
        await ctx.memory.store_memory(
            user,
            f"Filed task {task['title']}",
            layer="long_term",
            importance=0.6,
            metadata={"task_id": task["task_id"]},
        )
        remembered = await ctx.memory.get_memories(user, layers="long_term")
        check.equal([m.metadata.get("task_id") for m in remembered], [task["task_id"]], "the filed task is remembered")
        counts = Counter(r.tool for r in logged)
        check.equal(sum(counts.values()), len(plan), "one logged run per step (retries are attempts, not runs)")
        await check_run_limits(check, ctx.tools, user)
