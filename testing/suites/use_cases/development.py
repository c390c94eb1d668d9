"""Development use case: a prompt sandbox running variants side by side, every run traced and timed."""

from __future__ import annotations

import asyncio

from ff_class_configs.ff_tool_dtos import FFToolRunStatus
from testing._context import FFTestContext
from testing.runner import FFChecker
from testing.suites.use_cases._guarantees import (
    check_summary_exact,
    check_summary_windows,
    check_user_analytics,
)
from testing.suites.use_cases._support import data_path, read_jsonl, use_case

__all__: list[str] = []

_INPUT = (
    "The support team answered four hundred tickets this week. Most tickets were about password resets. "
    "Password resets take the team hours every week. A self-service reset page would remove most of these tickets. "
    "The design team can build the reset page in two sprints."
)


@use_case("prompt_sandbox")
async def prompt_sandbox(ctx: FFTestContext, check: FFChecker) -> None:
    """Three prompt variants of one input run concurrently; each run's trace and timing is logged."""
    user = ctx.new_user("sandbox")
    experiment = f"exp-{user}"
    variants = {"terse": 1, "balanced": 2, "detailed": 3}  # variant -> sentences the summary may keep
    started = ctx.metrics.clock()
    with check.step("run the variants side by side"):
        runs = dict(
            zip(
                variants,
                await asyncio.gather(
                    *(
                        ctx.tools.execute_tool(user, "summarize", {"text": _INPUT, "max_sentences": n})
                        for n in variants.values()
                    )
                ),
                strict=True,
            )
        )
        for variant, run in runs.items():
            check.require(run.ok, f"variant {variant} ran", f"{run.status}: {run.error}")
    with check.step("trace every run"):
        for variant, run in runs.items():
            tags = {"experiment": experiment, "variant": variant}
            await ctx.metrics.record_metric("sandbox.run_ms", run.duration_ms, tags=tags)
            await ctx.metrics.record_event(
                user,
                "sandbox.run",
                {
                    "experiment": experiment,
                    "variant": variant,
                    "run_id": run.run_id,
                    "duration_ms": run.duration_ms,
                    "output_chars": len(run.output["summary"]),
                },
            )
    with check.step("compare the variants"):
        kept = {v: [s["text"] for s in run.output["sentences"]] for v, run in runs.items()}
        check.equal({v: len(s) for v, s in kept.items()}, variants, "each variant kept its number of sentences")
        check.that(
            set(kept["terse"]) <= set(kept["balanced"]) <= set(kept["detailed"]),
            "a longer variant keeps every sentence of a shorter one (same ranking, same input)",
            f"kept {kept}",
        )
        check.equal(len({r.run_id for r in runs.values()}), 3, "every run has its own id")
    with check.step("read the traces back"):
        everything = await ctx.metrics.get_summary("sandbox.run_ms", tags={"experiment": experiment})
        durations = [r.duration_ms for r in runs.values()]
        check.equal(
            (everything.count, everything.max, everything.min),
            (3, max(durations), min(durations)),
            "the experiment's timings are all recorded",
        )
        check_summary_exact(check, everything, durations, "the experiment's timings")
        await check_summary_windows(check, ctx.metrics, "sandbox.run_ms", {"experiment": experiment}, started, 3)
        for variant, run in runs.items():
            one = await ctx.metrics.get_summary("sandbox.run_ms", tags={"experiment": experiment, "variant": variant})
            check.equal((one.count, one.last), (1, run.duration_ms), f"variant {variant}: its own timing is recorded")
        analytics = await ctx.metrics.get_user_analytics(user)
        check.equal(
            (analytics.event_counts.get("sandbox.run"), analytics.event_counts.get("tool.executed")),
            (3, 3),
            "analytics hold one trace and one tool event per run",
        )
        await check_user_analytics(ctx, check, user, analytics)
        logged = await read_jsonl(data_path(ctx, "users", user, "tools", "runs.jsonl"))
        check.equal(
            sorted((r["run_id"], r["status"], r["duration_ms"], r["arguments"]["max_sentences"]) for r in logged),
            sorted((r.run_id, FFToolRunStatus.SUCCESS.value, r.duration_ms, variants[v]) for v, r in runs.items()),
            "runs.jsonl on disk holds every run with its arguments and timing",
        )
