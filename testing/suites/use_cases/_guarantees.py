"""README guarantees checked on the data a use case already produced (issue 20).

A scenario proves its feature works; these helpers check what README.md promises about the calls
the scenario just made, where a plausible bug hides behind a passing first hit or count: every
``limit`` / ``top_k`` a caller may set (the exact tail or prefix, in the documented order),
idempotent retries by ``message_id`` (nothing appended, a different message refused, nothing
written), a summary's exact statistics against an independent computation by the documented
interpolation, and a closed panel's figures recomputed from the messages and votes read back.

Each helper costs a handful of reads on the scenario's own users (no new users, no sleeps), so
the quick profile keeps its budget. They report through the scenario's checker like any check.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from itertools import groupby, pairwise
from typing import Any

from ff_utils.ff_errors import FFConflictError
from testing._context import FFTestContext
from testing.runner import FFChecker
from testing.suites._disk import analytics_records
from testing.suites.use_cases._support import read_jsonl, session_log

__all__ = [
    "check_message_limits",
    "check_message_retry",
    "check_panel_figures",
    "check_panel_paging",
    "check_panel_retry",
    "check_run_limits",
    "check_summary_exact",
    "check_summary_windows",
    "check_top_k",
    "check_user_analytics",
    "interpolated_percentile",
]


def interpolated_percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default, ``statistics.quantiles(...,
    method="inclusive")``), written out here so the manager is not checked against its own code."""
    xs = sorted(values)
    h = (len(xs) - 1) * q
    lo = math.floor(h)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (h - lo) * (xs[hi] - xs[lo])


async def check_message_limits(check: FFChecker, memory: Any, user: str, session_id: str, expected_ids: Sequence[str]) -> None:
    """``get_messages(limit=k)`` is exactly the last k messages, oldest first, for every k from 1 to
    one past the session's length (README: "last 50, oldest first, tail-read")."""
    n = len(expected_ids)
    wrong = []
    for limit in range(1, n + 2):
        got = [m.message_id for m in await memory.get_messages(user, session_id, limit=limit)]
        if got != list(expected_ids[-limit:]):
            wrong.append(f"limit={limit}: {len(got)} messages, {'the right ones' if set(got) == set(expected_ids[-limit:]) else 'other ones'}")
    check.equal(wrong, [], f"get_messages(limit=1..{n + 1}) is exactly the last `limit` messages, oldest first")


async def check_message_retry(ctx: FFTestContext, check: FFChecker, memory: Any, user: str, session_id: str, message: Any) -> None:
    """A retry of a stored message (same message_id, role, content, metadata) returns it and appends
    nothing; the same id with other content is FFConflictError and writes nothing (README, memory)."""
    log = session_log(ctx, user, session_id)
    before = await read_jsonl(log)
    again = await memory.add_message(
        user, session_id, message.role, message.content, message_id=message.message_id, metadata=dict(message.metadata)
    )
    check.equal(again.model_dump(mode="json"), message.model_dump(mode="json"), "a retried add_message returns the stored message")
    with check.raises(FFConflictError, "the same message_id with other content is refused"):
        await memory.add_message(user, session_id, message.role, message.content + " (edited)", message_id=message.message_id)
    after = await read_jsonl(log)
    check.equal(len(after), len(before), "neither the retry nor the conflicting write appended to messages.jsonl")
    check.equal((await memory.get_session(user, session_id)).message_count, len(before), "the session's message count is unchanged")


async def check_top_k(check: FFChecker, knowledge: Any, user: str, kb_id: str, query: str, *, per_document: int | None = None) -> None:
    """``search(top_k=k)`` returns exactly min(k, matches) hits, ranked 1..n best first, and is the
    prefix of the longest answer (README: "ranked with BM25", ``top_k``)."""
    everything = await knowledge.search(user, kb_id, query, top_k=knowledge.config.knowledge.max_top_k, per_document=per_document)
    available = len(everything)
    check.that(all(a.score >= b.score for a, b in pairwise(everything)), "scores never increase down the ranking")
    wrong = []
    for top_k in range(1, available + 2):
        hits = await knowledge.search(user, kb_id, query, top_k=top_k, per_document=per_document)
        best = everything[:top_k]
        # Chunks tied on score at the cut may be either side of it; everything above the cut is fixed.
        cut = best[-1].score if best else 0.0
        fixed = {h.chunk_id for h in best if h.score > cut + 1e-12}
        ok = (
            len(hits) == len(best)
            and [h.rank for h in hits] == list(range(1, len(hits) + 1))
            and all(math.isclose(h.score, b.score, rel_tol=1e-9, abs_tol=1e-12) for h, b in zip(hits, best, strict=False))
            and fixed <= {h.chunk_id for h in hits}
            and {h.chunk_id for h in hits} <= {h.chunk_id for h in everything}
        )
        if not ok:
            wrong.append(f"top_k={top_k}: {len(hits)} hits, ranks {[h.rank for h in hits]}")
    check.equal(wrong, [], f"search(top_k=1..{available + 1}) is exactly the best min(top_k, {available}) hits, ranks 1..n")


def check_summary_exact(check: FFChecker, summary: Any, values: Sequence[float], label: str) -> None:
    """count, sum, min, max, mean and p50/p95/p99 of a summary equal an independent computation
    (README: "Percentiles are exact, by linear interpolation between closest ranks")."""
    want = {
        "count": len(values), "sum": math.fsum(values), "min": min(values), "max": max(values), "mean": math.fsum(values) / len(values),
        "p50": interpolated_percentile(values, 0.5), "p95": interpolated_percentile(values, 0.95), "p99": interpolated_percentile(values, 0.99),
    }
    got = {key: getattr(summary, key) for key in want}
    off = {key: (got[key], want[key]) for key in want if got[key] is None or not math.isclose(got[key], want[key], rel_tol=1e-9, abs_tol=1e-9)}
    check.equal(off, {}, f"{label}: count, sum, min, max, mean, p50, p95, p99 are exact")


async def check_run_limits(check: FFChecker, tools: Any, user: str) -> None:
    """``list_runs(limit=k)`` is exactly the last k runs of the full log, oldest first."""
    everything = [r.run_id for r in await tools.list_runs(user, limit=10_000)]
    wrong = []
    for limit in range(len(everything) + 2):
        got = [r.run_id for r in await tools.list_runs(user, limit=limit)]
        if got != (everything[-limit:] if limit else []):
            wrong.append(f"limit={limit}: {len(got)} runs")
    check.equal(wrong, [], f"list_runs(limit=0..{len(everything) + 1}) is exactly the last `limit` runs, oldest first")


async def check_panel_paging(check: FFChecker, panel: Any, user: str, panel_id: str, expected_ids: Sequence[str]) -> None:
    """``get_messages(limit=k)`` is the last k; pages of ``after_sequence`` cover every message once,
    in order (README: "last 100, oldest first; after_sequence= pages on")."""
    n = len(expected_ids)
    tails = [limit for limit in range(1, n + 2)
             if [m.message_id for m in await panel.get_messages(user, panel_id, limit=limit)] != list(expected_ids[-limit:])]
    check.equal(tails, [], f"panel get_messages(limit=1..{n + 1}) is exactly the last `limit` messages")
    for size in (1, 2, 3):
        seen: list[str] = []
        after = 0
        for _ in range(n + 2):
            page = await panel.get_messages(user, panel_id, limit=size, after_sequence=after)
            if not page:
                break
            seen.extend(m.message_id for m in page)
            after = page[-1].sequence
        check.equal(seen, list(expected_ids), f"pages of {size} after_sequence cover every message once, in order")


async def check_panel_retry(check: FFChecker, panel: Any, user: str, panel_id: str, message: Any) -> None:
    """A retry (same message_id, participant, role, content) returns the stored message and appends
    nothing; the same id with other content is FFConflictError (README, panel)."""
    count = (await panel.get_panel(user, panel_id)).message_count
    try:
        again = await panel.add_message(user, panel_id, message.participant_id, message.content, role=message.role,
                                        message_id=message.message_id, metadata=dict(message.metadata))
    except FFConflictError as exc:  # e.g. judged as a new message, out of turn: the retry was not recognised
        check.that(False, "a retried panel message returns the stored one", f"refused: {exc}")
        return
    check.equal(again.model_dump(mode="json"), message.model_dump(mode="json"), "a retried panel message returns the stored one")
    with check.raises(FFConflictError, "the same message_id with other content is refused"):
        await panel.add_message(user, panel_id, message.participant_id, message.content + " (edited)", role=message.role, message_id=message.message_id)
    check.equal((await panel.get_panel(user, panel_id)).message_count, count, "neither write appended a message")


def check_panel_figures(check: FFChecker, figures: Any, messages: Sequence[Any], tallies: Sequence[Any]) -> None:
    """A closed panel's figures recomputed from what was read back (README "Figures"): words are
    whitespace tokens, a turn is a run of messages by one participant, a decision's consensus is the
    share of voters behind the most-voted option, the panel's the mean over decisions with votes."""
    runs = [who for who, _ in groupby(m.participant_id for m in messages)]
    voted = [t for t in tallies if sum(t.counts.values())]
    want = {
        "message_count": len(messages),
        "word_count": sum(len(m.content.split()) for m in messages),
        "turn_count": len(runs),
        "decision_count": len(tallies),
        "vote_count": sum(sum(t.counts.values()) for t in tallies),
        "consensus_level": (math.fsum(max(t.counts.values()) / sum(t.counts.values()) for t in voted) / len(voted)) if voted else None,
    }
    got = {key: getattr(figures, key) for key in want}
    off = {key: (got[key], want[key]) for key in want
           if not (got[key] == want[key] or (isinstance(want[key], float) and got[key] is not None and math.isclose(got[key], want[key], rel_tol=1e-9)))}
    check.equal(off, {}, "the panel's figures: messages, words, turns, decisions, votes, consensus")
    people = {}
    for stats in figures.participants:
        mine = [m for m in messages if m.participant_id == stats.participant_id]
        people[stats.participant_id] = (stats.messages, stats.words, stats.turns, stats.replies, stats.first_sequence, stats.last_sequence)
        expected = (len(mine), sum(len(m.content.split()) for m in mine), runs.count(stats.participant_id),
                    sum(1 for m in mine if m.reply_to), mine[0].sequence if mine else None, mine[-1].sequence if mine else None)
        check.equal(people[stats.participant_id], expected, f"{stats.participant_id}: messages, words, turns, replies, first and last sequence")


async def check_user_analytics(ctx: FFTestContext, check: FFChecker, user: str, analytics: Any) -> None:
    """Every figure of ``get_user_analytics`` recomputed from the user's event files on disk
    (README: "counts per type, sessions, active days, first/last seen"): counts and total, UTC
    active days and dates, first and last seen, activity sessions split at the configured gap,
    and the distinct chat sessions named in the events' data."""
    records = [r for r in await analytics_records(ctx, user) if isinstance(r, dict) and isinstance(r.get("type"), str)]
    times = sorted(datetime.fromisoformat(r["t"]).astimezone(UTC) for r in records)
    gap = timedelta(minutes=analytics.session_gap_minutes)
    counts = Counter(r["type"] for r in records)
    want = {
        "total_events": len(records),
        "event_counts": dict(counts),
        "active_dates": sorted({t.date() for t in times}),
        "active_days": len({t.date() for t in times}),
        "first_seen": times[0] if times else None,
        "last_seen": times[-1] if times else None,
        "sessions": (1 + sum(1 for a, b in pairwise(times) if b - a > gap)) if times else 0,
        "chat_sessions": len({r["data"]["session_id"] for r in records if isinstance(r.get("data"), dict) and isinstance(r["data"].get("session_id"), str)}),
    }
    got = {key: getattr(analytics, key) for key in want}
    got["event_counts"] = dict(got["event_counts"])
    off = {key: (got[key], want[key]) for key in want if got[key] != want[key]}
    check.equal(off, {}, "user analytics equal a recomputation from the event files: counts, days, first/last seen, sessions")


async def check_summary_windows(check: FFChecker, metrics: Any, name: str, tags: dict[str, str], started: datetime, count: int) -> None:
    """Windows select by time (README: ``None`` all, a ``timedelta`` ``[now - d, now]``, ``(start,
    end)`` ``[start, end)``): the ``count`` samples recorded since ``started`` are all in the last hour
    and in ``[started, now + 1 s)``, none in the hour before ``started`` or in ``[now + 1 s, + 1 h)``."""
    after = metrics.clock() + timedelta(seconds=1)
    counts = {
        "last hour": (await metrics.get_summary(name, timedelta(hours=1), tags=tags)).count,
        "[started, now]": (await metrics.get_summary(name, (started, after), tags=tags)).count,
        "hour before": (await metrics.get_summary(name, (started - timedelta(hours=1), started - timedelta(microseconds=1)), tags=tags)).count,
        "after now": (await metrics.get_summary(name, (after, after + timedelta(hours=1)), tags=tags)).count,
    }
    check.equal(counts, {"last hour": count, "[started, now]": count, "hour before": 0, "after now": 0},
                "summary windows keep exactly the samples recorded inside them")
