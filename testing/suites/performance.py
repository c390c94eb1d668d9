"""Performance suite: concurrent simulated users run a mixed chat workload against the managers.

One test, "load". It seeds every simulated user (a session with history, memories, a knowledge
base), then runs the open-loop plan of :mod:`testing._load` at the configured rate with ramp-up,
psutil sampling the process beside it. Thresholds from
``config.integration_testing.performance_config`` decide pass or fail; the previous run's summary
(``ctx.baseline``) decides whether anything regressed. Afterwards it reads every session back and
checks that each acknowledged append is there: speed bought by losing writes is not speed.

The quick profile (``test_duration_seconds``, about 10 s) runs in ``run-all``; ``profile="full"``
runs ``full_duration_seconds`` instead.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from ff_class_configs.ff_integration_testing_config import FFTestingLevel
from ff_class_configs.ff_test_result_dtos import FFPerformanceSummaryDTO
from testing._context import FFTestContext
from testing._load import (
    DEFAULT_MIX,
    FFLoadProfile,
    FFResourceSampler,
    FFWorkloadMix,
    find_regressions,
    operation_stats,
    overall_stats,
    percentile,
    plan_requests,
    run_load,
    threshold_failures,
    timeline,
)
from testing.runner import FFChecker, FFSuiteRegistry

__all__ = ["REGISTRY", "load_profile"]

REGISTRY = FFSuiteRegistry("performance", level=FFTestingLevel.PERFORMANCE)

_SEED_MEMORIES = 12
_SEED_DOCUMENTS = 4
_HISTORY_LIMIT = 20
# The engine bounds itself (the plan's duration plus its drain deadline), so the runner's own
# timeout only has to stop a hang; the full profile runs for minutes.
_TIMEOUT_SECONDS = 3_600.0


def load_profile(ctx: FFTestContext) -> FFLoadProfile:
    """The load shape the config asks for (quick: ``test_duration_seconds``; full: ``full_duration_seconds``)."""
    perf = ctx.config.integration_testing.performance_config
    duration = perf.full_duration_seconds if perf.profile == "full" else perf.test_duration_seconds
    return FFLoadProfile(
        users=perf.concurrent_users,
        rate=perf.requests_per_second,
        duration=duration,
        ramp_up=min(perf.ramp_up_seconds, duration),
        drain_seconds=max(5.0, duration / 2),
    )


@dataclass
class _SimUser:
    """One simulated user's ids and the texts its requests cycle through."""

    user_id: str
    session_id: str
    kb_id: str
    turns: Callable[[], str]
    queries: Callable[[], str]
    probes: Callable[[], str]
    appended: int = 0
    seeded_messages: int = 0
    roles: itertools.cycle = field(default_factory=lambda: itertools.cycle(("user", "assistant")))


async def _seed_user(ctx: FFTestContext, index: int) -> _SimUser:
    """A user with a session holding one synthetic conversation, memories and a knowledge base."""
    source = ctx.data.users[index % len(ctx.data.users)]
    user_id = ctx.new_user("load")
    conversation = source.conversations[0]
    session = await ctx.memory.create_session(user_id, title=conversation.title)
    await ctx.memory.import_messages(user_id, session.session_id, [{"role": r, "content": c} for r, c in conversation.turns])
    sentences = [c for conv in source.conversations for _, c in conv.turns]
    for i in range(_SEED_MEMORIES):
        await ctx.memory.store_memory(user_id, sentences[i % len(sentences)], layer="short_term", importance=0.5)
    kb = await ctx.knowledge.create_knowledge_base(user_id, "load test notes")
    documents = [ctx.data.documents[(index + i) % len(ctx.data.documents)] for i in range(_SEED_DOCUMENTS)]
    for doc in documents:
        await ctx.knowledge.add_document(user_id, kb.kb_id, content=doc.content, title=doc.title, format="markdown")
    await ctx.knowledge.refresh_index(user_id, kb.kb_id)
    words = sorted({w.strip(".").lower() for s in sentences for w in s.split() if len(w) > 4})
    return _SimUser(
        user_id=user_id,
        session_id=session.session_id,
        kb_id=kb.kb_id,
        turns=itertools.cycle(sentences).__next__,
        queries=itertools.cycle(words or ["chat"]).__next__,
        probes=itertools.cycle([d.probe for d in documents]).__next__,
        seeded_messages=len(conversation.turns),
    )


def _executor(ctx: FFTestContext, users: list[_SimUser]) -> Callable[[int, str], object]:
    """``execute(user, operation)``: one real call on the managers per request; raise on failure."""

    async def append_turn(u: _SimUser) -> None:
        await ctx.memory.add_message(u.user_id, u.session_id, role=next(u.roles), content=u.turns())
        u.appended += 1

    async def read_history(u: _SimUser) -> None:
        messages = await ctx.memory.get_messages(u.user_id, u.session_id, limit=_HISTORY_LIMIT)
        if not messages:
            raise AssertionError("history read back empty")

    async def search_memory(u: _SimUser) -> None:
        await ctx.memory.search_memories(u.user_id, u.queries(), limit=5)

    async def search_knowledge(u: _SimUser) -> None:
        hits = await ctx.knowledge.search(u.user_id, u.kb_id, u.probes(), top_k=5)
        if not hits:
            raise AssertionError("a probe of a seeded document found nothing")

    async def run_tool(u: _SimUser) -> None:
        run = await ctx.tools.execute_tool(u.user_id, "word_count", {"text": u.turns()})
        run.raise_for_status()

    async def record_metric(u: _SimUser) -> None:
        await ctx.metrics.record_metric("load.turn_chars", float(len(u.turns())), tags={"suite": "performance"}, kind="gauge")

    handlers = {
        "append_turn": append_turn,
        "read_history": read_history,
        "search_memory": search_memory,
        "search_knowledge": search_knowledge,
        "run_tool": run_tool,
        "record_metric": record_metric,
    }

    async def execute(user: int, operation: str) -> None:
        await handlers[operation](users[user])

    return execute


@REGISTRY.test(
    "load",
    components=("memory", "knowledge", "tools", "metrics"),
    timeout_seconds=_TIMEOUT_SECONDS,
)
async def load(ctx: FFTestContext, check: FFChecker) -> None:
    testing = ctx.config.integration_testing
    perf = testing.performance_config
    profile = load_profile(ctx)
    mix = FFWorkloadMix(DEFAULT_MIX)
    plan = plan_requests(profile, mix, testing.seed)
    check.require(plan, "the load plan has requests", f"{profile.rate:g}/s for {profile.duration:g}s planned none")

    with check.step(f"seed {profile.users} simulated users"):
        users = [await _seed_user(ctx, i) for i in range(profile.users)]

    with check.step(f"{perf.profile} load: {profile.users} users, {profile.rate:g}/s for {profile.duration:g}s"):
        async with FFResourceSampler(0.5) as sampler:
            result = await run_load(
                plan, profile.users, _executor(ctx, users), drain_seconds=profile.drain_seconds, ramp_up=profile.ramp_up
            )

    recorder = result.recorder
    operations = operation_stats(recorder, result.elapsed_seconds)
    ceiling = testing.quality_gates.max_p95_ms or perf.max_p95_ms
    summary = FFPerformanceSummaryDTO(
        profile=perf.profile,
        concurrent_users=profile.users,
        duration_seconds=result.elapsed_seconds,
        target_rps=profile.rate,
        achieved_rps=recorder.total_ok / result.elapsed_seconds,
        error_rate_percent=100.0 * recorder.total_errors / result.planned,
        operations=operations,
        overall=overall_stats(recorder, result.elapsed_seconds),
        resource_samples=sampler.samples,
        timeline=timeline(recorder, result.elapsed_seconds),
        peak_rss_mb=max((s.rss_mb for s in sampler.samples), default=0.0),
        peak_cpu_percent=max((s.cpu_percent for s in sampler.samples), default=0.0),
        p95_threshold_ms=ceiling,
    )
    summary.threshold_failures = threshold_failures(
        summary,
        max_p95_ms=ceiling,
        max_error_rate_percent=perf.max_error_rate_percent,
        max_memory_mb=perf.max_memory_usage_mb,
        max_cpu_percent=perf.max_cpu_usage_percent,
        operation_p95_ms=perf.operation_p95_ms,
    )
    if ctx.baseline is not None:
        baseline_id, baseline = ctx.baseline
        if (baseline.concurrent_users, baseline.target_rps) == (summary.concurrent_users, summary.target_rps):
            summary.baseline_run_id = baseline_id
            summary.regressions = find_regressions(operations, baseline, perf.regression_margin_percent)
        else:
            check.warn(
                f"baseline {baseline_id} ran {baseline.concurrent_users} users at {baseline.target_rps:g}/s, "
                f"this run {summary.concurrent_users} at {summary.target_rps:g}/s: not compared"
            )
    check.details["performance"] = summary.model_dump(mode="json")

    # Figures beside the summary: service time (without queueing) shows how much was waiting.
    for op in operations:
        service = sorted(recorder.service_ms.get(op.operation, []))
        if service:
            check.metric(f"{op.operation}.service_p95_ms", percentile(service, 95))
    check.metric("planned_requests", result.planned)
    check.metric("max_dispatch_lag_ms", result.max_dispatch_lag_ms)
    check.metric("tool_share_percent", 100.0 * mix.share("run_tool"))
    for sample in recorder.error_samples:
        check.warn(sample)

    with check.step("read every session back"):
        for u in users:
            session = await ctx.memory.get_session(u.user_id, u.session_id)
            check.equal(
                session.message_count,
                u.seeded_messages + u.appended,
                f"{u.user_id}: every acknowledged append is stored",
            )

    check.equal(recorder.total_ok + recorder.total_errors, result.planned, "every planned request was accounted for")
    check.that(all(op.count > 0 for op in operations), "every operation of the mix completed at least once",
               ", ".join(f"{op.operation}={op.count}" for op in operations))
    check.at_most(result.unfinished, 0, "no request left unfinished at the drain deadline")
    check.at_most(summary.error_rate_percent, perf.max_error_rate_percent, "error rate within the ceiling")
    for op in operations:
        limit = perf.operation_p95_ms.get(op.operation, ceiling)
        check.at_most(op.p95_ms, limit, f"{op.operation} p95 within {limit:g} ms")
    check.at_most(summary.peak_rss_mb, perf.max_memory_usage_mb, "peak RSS within the ceiling")
    check.at_most(summary.peak_cpu_percent, perf.max_cpu_usage_percent, "peak CPU within the ceiling")
    check.that(not summary.regressions, f"no regression beyond {perf.regression_margin_percent:g}% of the baseline",
               "; ".join(summary.regressions))
