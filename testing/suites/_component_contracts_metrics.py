"""Component suite, metrics details: what a listing of metric buckets and analytics days skips (issue 20).

README.md says a metric's samples live in ``metrics/<name>/<YYYY-MM-DD>/<HH>.jsonl`` and a user's
analytics in ``users/<id>/analytics/events/<YYYY-MM-DD>.jsonl``. An operator's copy or a leftover
beside them (a ``backup`` folder, a ``notes.jsonl``) is not a day: the summary and the analytics
must skip it, not read it and not fail. Surviving mutants of ``_metrics`` that unpacked a
non-day name's missing span passed every check (a crash only with such a leftover present).
README.md also says a metric name is dot-separated segments starting with a letter, at most 200
characters, and that NaN, inf and negative timings are refused: each refusal names its field and
writes nothing.

Registered on the component suite's REGISTRY (component.py imports this module at its end).
"""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime, timedelta
from typing import Any

from ff_utils.ff_errors import FFConflictError, FFValidationError
from testing._context import FFTestContext
from testing.runner import FFChecker

from .component import REGISTRY

__all__: list[str] = []


@REGISTRY.test("metrics details: leftovers beside buckets and analytics days are skipped", components=("metrics",),
               depends_on=("metrics_round_trip",))
async def metrics_detail_contracts(ctx: FFTestContext, check: FFChecker) -> None:
    """A folder that is not a day beside a metric's buckets, and a .jsonl that is not a day beside a user's analytics."""
    user = ctx.new_user("metd")
    name = f"contract.leftover.{user}"
    with check.step("record a sample and an event, then plant leftovers beside them"):
        await ctx.metrics.record_metric(name, 4.0, kind="gauge")
        await ctx.metrics.record_event(user, "login")

        def plant() -> None:
            stray = ctx.root / "metrics" / name / "backup"
            stray.mkdir(parents=True, exist_ok=True)
            (stray / "10.jsonl").write_bytes(b'{"v": 1, "value": 99.0}\n')
            events = ctx.root / "users" / user / "analytics" / "events"
            events.mkdir(parents=True, exist_ok=True)
            (events / "notes.jsonl").write_bytes(b'{"v": 1, "t": "2026-01-01T00:00:00+00:00", "type": "login", "data": {}}\n')

        await asyncio.to_thread(plant)
    with check.step("the summary reads the day folders only"):
        summary = await ctx.metrics.get_summary(name)
        check.equal(summary.count, 1, "one sample: the leftover folder's line is not read")
        check.equal((summary.min, summary.max, summary.sum), (4.0, 4.0, 4.0), "only the recorded value")
        check.equal(summary.buckets_read, 1, "one bucket file opened, none inside the leftover folder")
        check.equal(summary.skipped_lines, 0, "the leftover is skipped as a name, not counted as a bad line")
        check.equal(summary.kind, "gauge", "the kind it was recorded with")
        listed = [m.name for m in await ctx.metrics.list_metrics()]
        check.equal(listed.count(name), 1, "the metric is listed once; the leftover is not a metric")
    with check.step("the analytics read the day files only"):
        analytics = await ctx.metrics.get_user_analytics(user)
        check.equal(analytics.total_events, 1, "one event: notes.jsonl is not read")
        check.equal(analytics.event_counts, {"login": 1}, "its type counted once")
        check.equal(analytics.active_days, 1, "one active day, not the leftover's")
        check.equal(len(analytics.active_dates), 1, "one date listed")
    with check.step("metric names: 200 characters accepted, 201 and a first character not a letter refused"):
        prefix = f"contract.names.{user}."
        longest = prefix + "n" * (200 - len(prefix))
        await ctx.metrics.record_metric(longest, 1.0)
        check.equal((await ctx.metrics.get_summary(longest)).count, 1, "a 200-character name is accepted")
        for refused, why in ((longest + "n", "a 201-character name"), (f"9{user}.digit", "a name starting with a digit"),
                             (f"_{user}.underscore", "a name starting with an underscore")):
            try:
                await ctx.metrics.record_metric(refused, 1.0)
            except FFValidationError as exc:
                check.equal(exc.field, "name", f"{why} is refused naming name")
            else:
                check.that(False, f"{why} is refused")
            check.that(not (ctx.root / "metrics" / refused).exists(), f"{why}: nothing written")
    with check.step("NaN, inf and negative timings are refused, nothing written"):
        timed = f"contract.timing.{user}"
        await ctx.metrics.record_metric(timed, 0.0)
        for value in (math.nan, math.inf, -math.inf, -0.5):
            try:
                await ctx.metrics.record_metric(timed, value)
            except FFValidationError as exc:
                check.equal(exc.field, "value", f"a timing of {value} is refused naming value")
            else:
                check.that(False, f"a timing of {value} is refused")
        after = await ctx.metrics.get_summary(timed)
        check.equal((after.count, after.sum, after.kind), (1, 0.0, "timing"), "only the 0.0 timing was written")


class _SetClock:
    """The clock of the window check's own metrics manager: it reads what the check last set."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@REGISTRY.test("metrics windows: a duration is [now - d, now], a (start, end) is [start, end), across bucket files",
               components=("metrics",), depends_on=("metrics_round_trip",))
async def metrics_window_edges(ctx: FFTestContext, check: FFChecker) -> None:
    """README: "a timedelta ([now - d, now]), or (start, end) aware datetimes ([start, end))". A second
    metrics manager on this root, on a clock the check sets, records 1 at 10:00, 2 at 10:30 and 4 at
    11:00 (two hour buckets); each window's sum says exactly which samples it kept."""
    t0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    clock = _SetClock(t0)
    metrics = ctx.fresh_manager("metrics", clock=clock)
    await metrics.initialize()
    name = f"contract.window.{ctx.new_user('metw')}"
    try:
        for offset, value in ((0, 1.0), (30, 2.0), (60, 4.0)):
            clock.now = t0 + timedelta(minutes=offset)
            await metrics.record_metric(name, value, kind="gauge")
        clock.now = t0 + timedelta(hours=1)
        second = timedelta(microseconds=1)
        windows: tuple[tuple[str, Any, float], ...] = (
            ("(10:00, 11:00) keeps its start, not its end", (t0, t0 + timedelta(hours=1)), 3.0),
            ("(10:00 + 1 µs, 11:00 + 1 µs) drops 10:00, keeps 11:00", (t0 + second, t0 + timedelta(hours=1) + second), 6.0),
            ("(None, 10:30) keeps everything before 10:30", (None, t0 + timedelta(minutes=30)), 1.0),
            ("(11:00, None) keeps 11:00 on", (t0 + timedelta(hours=1), None), 4.0),
            ("timedelta(hours=1) at 11:00 keeps both ends", timedelta(hours=1), 7.0),
            ("timedelta(minutes=30) at 11:00 keeps 10:30 and 11:00", timedelta(minutes=30), 6.0),
            ("timedelta(minutes=30) - 1 µs drops 10:30", timedelta(minutes=30) - second, 4.0),
        )
        for label, window, total in windows:
            with check.step(label):
                summary = await metrics.get_summary(name, window)
                check.equal(summary.sum, total, f"the window's samples sum to {total:g}")
    finally:
        await metrics.shutdown()


_KINDS = ("timing", "counter", "gauge")


@REGISTRY.test("metrics kinds: a name keeps the kind of its first sample, in every instance", components=("metrics",),
               depends_on=("metrics_round_trip",))
async def metrics_kind_kept(ctx: FFTestContext, check: FFChecker) -> None:
    """README: "a name keeps the kind of its first sample". For each kind first: a sample of either
    other kind is FFConflictError naming the first, from this instance and from a second one (another
    process would be one), and writes nothing."""
    user = ctx.new_user("metk")
    other_instance = ctx.fresh_manager("metrics")
    await other_instance.initialize()
    try:
        for first in _KINDS:
            name = f"contract.kind.{first}.{user}"
            with check.step(f"first sample a {first}"):
                await ctx.metrics.record_metric(name, 1.0, kind=first)
                for manager, who in ((ctx.metrics, "this instance"), (other_instance, "a second instance")):
                    for other in (k for k in _KINDS if k != first):
                        try:
                            await manager.record_metric(name, 2.0, kind=other)
                            check.that(False, f"{who} refuses a {other} sample of a {first}", "it was recorded")
                        except FFConflictError as exc:
                            check.equal(exc.context.get("kind"), first, f"{who}: a {other} sample is refused naming the kind {first}")
                summary = await ctx.metrics.get_summary(name)
                check.equal((summary.count, summary.sum), (1, 1.0), "only the first sample was written")
    finally:
        await other_instance.shutdown()
