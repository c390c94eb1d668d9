"""Component suite, panel details: routing order, votes, turn status and listing (issue 20).

What README.md promises about a panel beyond its messages, checked at run time on data the suite
makes in a few small writes: ``panel.created`` carries the panel's id, type, policy and
participant count (the payload the panel's events module documents: ids and counts, no content); ``route_question`` picks the *best* covering expert (whatever order
the experts are listed in) and says which areas matched; a vote keeps its rationale; a decision
its proposer and metadata; a batch that mixes a new message with a stored id is refused, not
taken for new messages (a retry names only stored messages); the turn
status of a panel counts its rotation, rounds and last sequence exactly (0 when it is empty);
``list_panels`` lists oldest first and filters by status exactly; ``import_messages`` validates the
whole batch before its one append (a bad last item writes nothing) and a re-sent batch appends
nothing; 2 and 32 participants are accepted, 1 and 33 refused naming ``participants``. These guarantees hid behind
passing round trips: surviving mutants of ``_panel`` changed each of them with every check green.

Registered on the component suite's REGISTRY (component.py imports this module at its end).
"""

from __future__ import annotations

import asyncio

from ff_managers import FFEvent
from ff_utils.ff_errors import FFConflictError, FFValidationError
from testing._context import FFTestContext
from testing.runner import FFChecker

from ._disk import data_path
from .component import REGISTRY

__all__: list[str] = []


@REGISTRY.test("panel details: routing order, vote rationale, turn status, listing", components=("panel",),
               depends_on=("panel_round_trip",))
async def panel_detail_contracts(ctx: FFTestContext, check: FFChecker) -> None:
    """route_question best-first with score and areas; vote rationale; exact turn status; list order and filters."""
    user = ctx.new_user("pand")
    with check.step("route_question picks the best covering expert, listed last"):
        experts = [{"participant_id": "gen", "role": "expert", "expertise": ["grids", "storage batteries"]},
                   {"participant_id": "sol", "role": "expert", "expertise": ["cooking", "solar panels", "grids"]}]
        announced: list[FFEvent] = []
        unsubscribe = ctx.bus.subscribe("panel.created", announced.append)
        try:
            delegation = await ctx.panel.create_panel(user, experts, panel_type="topic_delegation", title="Routing")
        finally:
            unsubscribe()
        route = await ctx.panel.route_question(user, delegation.panel_id, "How do solar panels feed the grids?")
        check.equal((route.participant_id, route.score, route.matched), ("sol", 2.0, ["solar panels", "grids"]),
                    "the expert with the highest summed share wins, with only its matching areas")
    with check.step("panel.created names the panel, its type and policy, and counts its participants"):
        check.equal([e.payload for e in announced if e.user_id == user],
                    [{"panel_id": delegation.panel_id, "panel_type": "topic_delegation",
                      "turn_policy": delegation.turn_policy, "participants": 2}],
                    "one panel.created event with the panel's ids and its participant count, no content")
    with check.step("a vote keeps its option and rationale"):
        decision = await ctx.panel.record_decision(user, delegation.panel_id, "Which first?", ["solar", "storage"])
        vote = await ctx.panel.cast_vote(user, delegation.panel_id, decision.decision_id, "gen", "storage", rationale="cheaper now")
        check.equal((vote.participant_id, vote.option, vote.rationale, vote.decision_id),
                    ("gen", "storage", "cheaper now", decision.decision_id), "cast_vote returns every field it was given")
    with check.step("a decision keeps its proposer and metadata"):
        proposed = await ctx.panel.record_decision(user, delegation.panel_id, "Which grid?", ["north", "south"],
                                                   proposed_by="sol", metadata={"ticket": 7})
        check.equal((proposed.proposed_by, proposed.metadata, proposed.options), ("sol", {"ticket": 7}, ["north", "south"]),
                    "record_decision returns every field it was given")
        tallies = {t.decision.decision_id: t.decision for t in await ctx.panel.get_decisions(user, delegation.panel_id)}
        check.equal(tallies.get(proposed.decision_id), proposed, "get_decisions reads the decision back field for field")
    with check.step("turn status counts exactly"):
        robin = await ctx.panel.create_panel(user, [{"participant_id": "a"}, {"participant_id": "b"}], turn_policy="round_robin")
        empty = await ctx.panel.get_turn_status(user, robin.panel_id)
        check.equal((empty.next_speakers, empty.rotation, empty.round, empty.last_sequence), (["a"], 0, 0, 0),
                    "an empty round-robin panel: a first, nothing counted")
        check.equal((empty.turn_policy, empty.floor), ("round_robin", None), "the policy is reported, no floor")
        for who in ("a", "b", "a"):
            await ctx.panel.add_message(user, robin.panel_id, who, f"{who} speaks")
        status = await ctx.panel.get_turn_status(user, robin.panel_id)
        check.equal((status.next_speakers, status.rotation, status.round, status.last_sequence), (["b"], 3, 1, 3),
                    "after a, b, a: b next, rotation 3, one full round, last sequence 3")
    with check.step("a batch mixing a new message with a stored id is not a retry"):
        other = ctx.new_user("panr")  # its own user: the listing checks below see only their panels
        free = await ctx.panel.create_panel(other, [{"participant_id": "a"}, {"participant_id": "b"}], title="Retries")
        await ctx.panel.import_messages(other, free.panel_id, [{"participant_id": "a", "content": "one", "message_id": "kept1"}])
        with check.raises(FFConflictError, "a new message first and a stored id after it is refused, not written"):
            await ctx.panel.import_messages(other, free.panel_id, [{"participant_id": "b", "content": "new", "message_id": "new1"},
                                                                   {"participant_id": "a", "content": "one", "message_id": "kept1"}])
        check.equal([m.message_id for m in await ctx.panel.get_messages(other, free.panel_id)], ["kept1"],
                    "the stored message once, nothing of the refused batch")
    with check.step("import_messages: a bad item refuses the whole batch; a re-sent batch appends nothing"):
        batch = [{"participant_id": "a", "content": "one", "message_id": "b1"}, {"participant_id": "b", "content": "two", "message_id": "b2"}]
        with check.raises(FFValidationError, "a batch whose last item names no participant of the panel is refused"):
            await ctx.panel.import_messages(other, free.panel_id, [*batch, {"participant_id": "nobody", "content": "three"}])
        check.equal([m.message_id for m in await ctx.panel.get_messages(other, free.panel_id)], ["kept1"], "none of its good items was written")
        first = await ctx.panel.import_messages(other, free.panel_id, batch)
        again = await ctx.panel.import_messages(other, free.panel_id, batch)
        check.equal(again, first, "the re-sent batch returns the stored messages")
        check.equal([(m.message_id, m.sequence) for m in await ctx.panel.get_messages(other, free.panel_id)],
                    [("kept1", 1), ("b1", 2), ("b2", 3)], "each message once, numbered without a gap")
    with check.step("2 and 32 participants are accepted; 1 and 33 refused naming participants, nothing written"):
        sizes = ctx.new_user("pans")
        for count in (1, 33):
            try:
                await ctx.panel.create_panel(sizes, [{"participant_id": f"p{i}"} for i in range(count)], title=f"{count} seats")
            except FFValidationError as exc:
                check.equal(exc.field, "participants", f"a panel of {count}: FFValidationError naming participants")
            else:
                check.that(False, f"a panel of {count} is refused")
        for count in (2, 32):
            made = await ctx.panel.create_panel(sizes, [{"participant_id": f"p{i}"} for i in range(count)], title=f"{count} seats")
            check.equal(len(made.participants), count, f"a panel of {count} is accepted")
        check.equal([p.title for p in await ctx.panel.list_panels(sizes)], ["2 seats", "32 seats"], "only the accepted panels were written")
    with check.step("list_panels: oldest first, status filters exact"):
        await ctx.panel.close_panel(user, delegation.panel_id)
        listed = await ctx.panel.list_panels(user)
        check.equal([p.panel_id for p in listed], [delegation.panel_id, robin.panel_id], "every panel of the user, oldest first")
        check.equal([p.message_count for p in listed], [0, 3], "each panel's message count")
        check.equal([p.panel_id for p in await ctx.panel.list_panels(user, status="closed")], [delegation.panel_id], "closed only")
        check.equal([p.panel_id for p in await ctx.panel.list_panels(user, status="open")], [robin.panel_id], "open only")
        check.equal([p.panel_id for p in await ctx.panel.list_panels(user, panel_type="topic_delegation")], [delegation.panel_id],
                    "one panel type only")
        closed = await ctx.panel.get_turn_status(user, delegation.panel_id)
        check.equal((closed.turn_policy, closed.next_speakers, closed.floor), (delegation.turn_policy, [], None),
                    "a closed panel: nobody may speak")


@REGISTRY.test("panel logs: a bad line in a log read whole is skipped and counted", components=("panel",),
               depends_on=("panel_round_trip",))
async def panel_bad_line_counted(ctx: FFTestContext, check: FFChecker) -> None:
    """README: a bad line is skipped, logged and counted (``health().details["skipped_records"]``), also in
    the logs read whole (insights, decisions, votes), not only in the message log's tail."""
    user = ctx.new_user("panb")
    panel = await ctx.panel.create_panel(user, [{"participant_id": "a"}, {"participant_id": "b"}], title="Bad line")
    await ctx.panel.record_insight(user, panel.panel_id, "before")
    log = data_path(ctx, "users", user, "panels", panel.panel_id, "insights.jsonl")

    def garble() -> None:
        with log.open("ab") as out:
            out.write(b"not json at all\n")

    with check.step("a line that is not JSON between two insights"):
        await asyncio.to_thread(garble)
        await ctx.panel.record_insight(user, panel.panel_id, "after")
        before = ctx.panel.health().details.get("skipped_records", 0)
        insights = await ctx.panel.get_insights(user, panel.panel_id)
        check.equal([i.content for i in insights], ["before", "after"], "both insights read back, the bad line skipped")
        check.that(ctx.panel.health().details.get("skipped_records", 0) > before,
                   "the skipped line is counted in health().details['skipped_records']")


@REGISTRY.test("panel retries: the same message id in two panels stays each panel's own", components=("panel",),
               depends_on=("panel_round_trip",))
async def panel_message_ids_per_panel(ctx: FFTestContext, check: FFChecker) -> None:
    """README: writes are idempotent by ``message_id`` -- per panel. Two panels of one user both hold ``m1``;
    a retry in each is answered with that panel's own stored message, never refused as a conflict."""
    user = ctx.new_user("panm")
    seats = [{"participant_id": "a"}, {"participant_id": "b"}]
    first = await ctx.panel.create_panel(user, seats, title="First")
    second = await ctx.panel.create_panel(user, seats, title="Second")
    with check.step("m1 in both panels, then a retry in each"):
        [a] = await ctx.panel.import_messages(user, first.panel_id, [{"participant_id": "a", "content": "from first", "message_id": "m1"}])
        [b] = await ctx.panel.import_messages(user, second.panel_id, [{"participant_id": "b", "content": "from second", "message_id": "m1"}])
        for panel, stored, who, text in ((first, a, "a", "from first"), (second, b, "b", "from second")):
            try:
                again = await ctx.panel.import_messages(user, panel.panel_id, [{"participant_id": who, "content": text, "message_id": "m1"}])
            except FFConflictError as exc:
                check.that(False, "a retry of a panel's own m1 is not a conflict", str(exc))
            else:
                check.equal(again, [stored], "a retry returns the panel's own stored m1")
        check.equal([m.content for m in await ctx.panel.get_messages(user, first.panel_id)], ["from first"], "first panel: its m1 once")
        check.equal([m.content for m in await ctx.panel.get_messages(user, second.panel_id)], ["from second"], "second panel: its m1 once")


def _seats(*roles: str, human: int = 0) -> list[dict[str, str]]:
    """Participants p0, p1... with these roles; the first ``human`` of them typed by a person."""
    return [{"participant_id": f"p{i}", "role": role, "kind": "human" if i < human else "ai"} for i, role in enumerate(roles)]


# README: "Panel types and their rules". Per type: the smallest composition the rule accepts, and
# compositions one short of it (or one over, for the single game master).
_COMPOSITIONS: tuple[tuple[str, list[dict[str, str]], tuple[list[dict[str, str]], ...]], ...] = (
    ("generic", _seats("participant", "participant"), ()),
    ("multi_ai_panel", _seats("participant", "participant"), (_seats("participant", "participant", human=1),)),
    ("ai_debate", _seats("pro", "con"), (_seats("pro", "pro"), _seats("con", "participant"))),
    ("topic_delegation", _seats("expert", "participant"), (_seats("participant", "participant"),)),
    ("ai_game_master", _seats("game_master", "player"),
     (_seats("game_master", "participant"), _seats("game_master", "game_master", "player"), _seats("player", "player"))),
    ("auto_task_agent", _seats("agent", "participant"), (_seats("participant", "participant"),)),
)


@REGISTRY.test("panel types: each type's composition rule at its edge", components=("panel",), depends_on=("panel_round_trip",))
async def panel_composition_contracts(ctx: FFTestContext, check: FFChecker) -> None:
    """Each panel type accepts its smallest valid composition and refuses one short of its rule,
    naming ``participants``, with nothing written (six small writes, the refusals write nothing)."""
    user = ctx.new_user("panc")
    for panel_type, accepted, refused in _COMPOSITIONS:
        with check.step(f"{panel_type}: the rule's edge"):
            made = await ctx.panel.create_panel(user, accepted, panel_type=panel_type, title=panel_type)
            check.equal((made.panel_type, len(made.participants)), (panel_type, len(accepted)),
                        f"{panel_type} accepts {[s['role'] for s in accepted]}")
            for seats in refused:
                try:
                    await ctx.panel.create_panel(user, seats, panel_type=panel_type, title=f"refused {panel_type}")
                    check.that(False, f"{panel_type} refuses {[(s['role'], s['kind']) for s in seats]}", "it was created")
                except FFValidationError as exc:
                    check.equal(exc.field, "participants", f"{panel_type}: the refusal names participants")
    listed = [p.title for p in await ctx.panel.list_panels(user)]
    check.equal(listed, [t for t, _, _ in _COMPOSITIONS], "only the accepted panels were written, in order")
