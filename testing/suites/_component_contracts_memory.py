"""Component suite, memory details: a session update's time, retention's refusal of a damaged
layer, the prompt context at its budget's edge, and what a refusal names (issue 20).

What README.md and the manager's docstrings promise, checked at run time on data the suite makes
in a few small writes: ``update_session`` moves the session's ``updated_at``; a retention pass
over a layer holding a line of another shape refuses it (FFCorruptionError) and rewrites nothing,
because rewriting would silently drop the line; ``get_memory_context`` keeps a line that fills
its budget exactly; an unknown role is refused naming ``role``, a missing session names its kind
and id, and a taken session id names that id. Surviving mutants of ``_memory`` changed each of them with every check green.
``import_messages`` validates the whole batch before its one append: a bad item at the end of a
batch refuses it and writes none of the good items before it.

Registered on the component suite's REGISTRY (component.py imports this module at its end).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta

from ff_utils.ff_errors import FFConflictError, FFCorruptionError, FFNotFoundError, FFValidationError
from testing._context import FFTestContext
from testing.runner import FFChecker
from testing.suites._disk import data_path

from .component import REGISTRY

__all__: list[str] = []

_T0 = datetime(2031, 3, 1, 8, 0, tzinfo=UTC)


async def _refusal(call: Awaitable[object]) -> BaseException | None:
    try:
        await call
    except Exception as exc:  # noqa: BLE001 - the caller checks its type and fields
        return exc
    return None


@REGISTRY.test("memory details: update time, a damaged layer, the context budget's edge", components=("memory",),
               depends_on=("memory_round_trip",))
async def memory_detail_contracts(ctx: FFTestContext, check: FFChecker) -> None:
    """update_session moves updated_at; retention refuses a layer with a wrong-shape line; a context line fills its budget;
    refusals name the field, the missing session, the taken id."""
    user = ctx.new_user("memd")
    with check.step("update_session moves updated_at, not created_at"):
        session = await ctx.memory.create_session(user, title="Dated")
        updated = await ctx.memory.update_session(user, session.session_id, metadata={"touched": True})
        back = await ctx.memory.get_session(user, session.session_id)
        check.that(back.updated_at > session.updated_at and back.updated_at == updated.updated_at,
                   "the update's time is stored", f"{session.updated_at} -> {back.updated_at}")
        check.equal((back.created_at, back.title, back.metadata), (session.created_at, "Dated", {"touched": True}),
                    "created_at and the title stay; the metadata is merged in")
    with check.step("retention refuses a layer holding a line of another shape, and rewrites nothing"):
        damaged_user = ctx.new_user("memdr")
        await ctx.memory.store_memory(damaged_user, "a passing fact", layer="immediate", importance=0.1, created_at=_T0)
        layer = data_path(ctx, "users", damaged_user, "memory", "immediate.jsonl")
        await asyncio.to_thread(lambda: layer.write_bytes(layer.read_bytes() + b'{"memory_id": "odd", "content": 5}\n'))
        damaged = await asyncio.to_thread(layer.read_bytes)
        with check.raises(FFCorruptionError, "the pass for that user is refused"):
            await ctx.memory.process_retention(now=_T0 + timedelta(days=30), user_id=damaged_user)
        check.that(await asyncio.to_thread(layer.read_bytes) == damaged, "the layer file is unchanged")
        check.equal([m.content for m in await ctx.memory.get_memories(damaged_user)], ["a passing fact"],
                    "reads skip the odd line and keep the memory")
        check.equal(await ctx.memory.get_archived_memories(damaged_user), [], "nothing was archived")
    with check.step("get_memory_context keeps a line that fills its budget exactly"):
        for i, text in enumerate(("the lantern is brass", "the lantern is old and brass", "a lantern")):
            await ctx.memory.store_memory(user, text, layer="permanent", importance=0.9 - i / 10, created_at=_T0)
        wide = await ctx.memory.get_memory_context(user, "lantern", budget_chars=1_000)
        first = wide.text.split("\n")[0]
        exact = await ctx.memory.get_memory_context(user, "lantern", budget_chars=len(first))
        check.equal((exact.text, exact.used_chars, exact.omitted), (first, len(first), len(wide.hits) - 1),
                    "the best line, exactly as long as the budget, is kept whole")
        check.equal([h.entry.memory_id for h in exact.hits], [wide.hits[0].entry.memory_id], "with its hit")
        two_lines = wide.text.split("\n")[:2]
        pair = await ctx.memory.get_memory_context(user, "lantern", budget_chars=len(two_lines[0]) + 1 + len(two_lines[1]))
        check.equal(pair.text, "\n".join(two_lines), "two lines and their separator fill their budget exactly")
        tiny = await ctx.memory.get_memory_context(user, "lantern", budget_chars=2)
        check.equal((tiny.text, tiny.used_chars), ("-…", 2), "a budget of 2 still shows the best memory, cut")
    with check.step("refusals name what they refuse: a role, a missing session, a taken session id"):
        role = await _refusal(ctx.memory.add_message(user, session.session_id, "not-a-role", "hi"))
        check.that(isinstance(role, FFValidationError) and role.field == "role", "an unknown role names the field role",
                   repr(role))
        missing = await _refusal(ctx.memory.add_message(user, "ses_missing", "user", "hi"))
        check.that(isinstance(missing, FFNotFoundError) and (missing.kind, missing.key) == ("session", "ses_missing"),
                   "a missing session is named by kind and id", repr(missing) + f" {getattr(missing, 'kind', None)}")
        taken = await _refusal(ctx.memory.create_session(user, "again", session_id=session.session_id))
        check.that(isinstance(taken, FFConflictError) and taken.message == f"session {session.session_id!r} already exists",
                   "a taken session id is a conflict naming that id", repr(taken))
    with check.step("import_messages: a bad item refuses the whole batch, nothing written; a good batch appends whole, once"):
        batch_session = await ctx.memory.create_session(user, title="Import")
        good = [{"role": "user", "content": "one", "message_id": "imp1"}, {"role": "assistant", "content": "two", "message_id": "imp2"}]
        bad = await _refusal(ctx.memory.import_messages(user, batch_session.session_id, [*good, {"role": "not-a-role", "content": "x"}]))
        check.that(isinstance(bad, FFValidationError), "a batch with a bad last item is refused", repr(bad))
        check.equal(await ctx.memory.get_messages(user, batch_session.session_id), [], "none of the good items before it was written")
        stored = [m.message_id for m in await ctx.memory.import_messages(user, batch_session.session_id, good)]
        check.equal((stored, [m.message_id for m in await ctx.memory.get_messages(user, batch_session.session_id)]),
                    (["imp1", "imp2"], ["imp1", "imp2"]), "the good batch alone is appended, in order")
        await ctx.memory.import_messages(user, batch_session.session_id, good)
        check.equal([m.message_id for m in await ctx.memory.get_messages(user, batch_session.session_id)], ["imp1", "imp2"],
                    "a re-sent batch appends nothing")


_RECORD_LIMIT = 4096  # the smallest storage.max_record_bytes the configuration allows is 1024


@REGISTRY.test("memory record limit: a message record of exactly storage.max_record_bytes is written, one byte more refused",
               components=("memory",), depends_on=("memory_round_trip",))
async def memory_record_limit(ctx: FFTestContext, check: FFChecker) -> None:
    """A second memory manager on this root with ``storage.max_record_bytes`` 4096: a message whose
    record is exactly the limit is written and read back whole; one byte more is FFValidationError
    naming ``record`` and the session's log is unchanged (the check runs before anything is written)."""
    config = ctx.config.model_copy(update={"storage": ctx.config.storage.model_copy(update={"max_record_bytes": _RECORD_LIMIT})})
    memory = ctx.fresh_manager("memory", config=config)
    await memory.initialize()
    user = ctx.new_user("memr")
    try:
        session = await memory.create_session(user, "record limit")
        await memory.add_message(user, session.session_id, "user", "x", message_id="msg_one")
        log = data_path(ctx, "users", user, "sessions", session.session_id, "messages.jsonl")
        one = len((await asyncio.to_thread(log.read_bytes)).rstrip(b"\n"))  # the record with one character
        fill = 1 + _RECORD_LIMIT - one  # same id length, so the record grows by the content alone
        with check.step("exactly the limit"):
            await memory.add_message(user, session.session_id, "user", "y" * fill, message_id="msg_two")
            lines = (await asyncio.to_thread(log.read_bytes)).splitlines()
            check.equal([len(line) for line in lines], [one, _RECORD_LIMIT], f"a record of exactly {_RECORD_LIMIT} bytes is written")
            back = await memory.get_messages(user, session.session_id, limit=2)
            check.equal([len(m.content) for m in back], [1, fill], "and read back whole")
        with check.step("one byte over"):
            before = await asyncio.to_thread(log.read_bytes)
            refused = await _refusal(memory.add_message(user, session.session_id, "user", "z" * (fill + 1), message_id="msg_six"))
            check.that(isinstance(refused, FFValidationError) and refused.field == "record",
                       "a record one byte over is FFValidationError naming record", repr(refused))
            check.equal(await asyncio.to_thread(log.read_bytes), before, "nothing was appended")
    finally:
        await memory.shutdown()
