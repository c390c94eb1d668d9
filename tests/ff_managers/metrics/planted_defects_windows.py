"""Planted defects at the edges of a summary's time window, and in a name's kind (collected by
``tests/planted_defects``).

README.md: a window is a ``timedelta`` (``[now - d, now]``) or ``(start, end)`` aware datetimes
(``[start, end)``). The use cases run on the real clock, so they checked which samples a window
keeps but never the boundary instant; each of these bugs went through ``run-all`` green until the
component suite's ``metrics_window_edges`` (its own clock, samples exactly on the edges). "A name
keeps the kind of its first sample" was checked only for a counter after a timing, in one instance;
``metrics_kind_kept`` checks every pair, from a second instance too.
"""

from __future__ import annotations

from datetime import datetime

import ff_managers.ff_metrics_collection_manager as manager_module
from ff_managers._metrics.buckets import FFTimeWindow, resolve_window
from ff_managers._metrics.samples import FFSampleStore
from ff_utils.ff_errors import FFConflictError
from tests._planted import PlantedDefect

__all__ = ["DEFECTS"]

_TEST = "metrics_window_edges"


def tuple_window_keeps_its_end(window: object, now: datetime) -> FFTimeWindow:
    """A ``(start, end)`` window keeps a sample stamped exactly at ``end``: adjacent windows count it twice."""
    resolved = resolve_window(window, now)
    return FFTimeWindow(resolved.start, resolved.end, end_inclusive=True) if isinstance(window, tuple) else resolved


def duration_window_drops_now(window: object, now: datetime) -> FFTimeWindow:
    """A ``timedelta`` window is ``[now - d, now)``: the sample just recorded by the same clock is not counted."""
    resolved = resolve_window(window, now)
    return FFTimeWindow(resolved.start, resolved.end, end_inclusive=False)


def contains_without_its_start(self: FFTimeWindow, moment: datetime) -> bool:
    """Every window drops a sample stamped exactly at its start (``<=`` for ``<``)."""
    if self.start is not None and moment <= self.start:
        return False
    if self.end is None:
        return True
    return moment <= self.end if self.end_inclusive else moment < self.end


def overlaps_ignoring_an_inclusive_end(self: FFTimeWindow, span_start: datetime, span_end: datetime) -> bool:
    """The bucket file that starts exactly at an inclusive window's end is never opened: a sample at
    ``now`` on the hour is missing from ``timedelta`` summaries (bucket choice, not the record filter)."""
    if self.start is not None and span_end <= self.start:
        return False
    return not (self.end is not None and span_start >= self.end)


_ensure_kind = FFSampleStore._ensure_kind


def kind_remembered_per_process(self: FFSampleStore, name: str, kind: str, stamp: str) -> None:
    """A name's kind is kept in memory only: another process (or a restart) takes any kind for it."""
    known = self._kinds.setdefault(name, kind)
    if known != kind:
        raise FFConflictError(f"metric {name!r} is a {known}, not a {kind}", name=name, kind=known)


def gauge_and_timing_mixed(self: FFSampleStore, name: str, kind: str, stamp: str) -> None:
    """A gauge and a timing are taken for one kind (both are "values"): their samples mix in one summary."""
    try:
        _ensure_kind(self, name, kind, stamp)
    except FFConflictError as exc:
        if {exc.context.get("kind"), kind} != {"gauge", "timing"}:
            raise


DEFECTS: tuple[PlantedDefect, ...] = tuple(
    PlantedDefect(name=name, what=" ".join((function.__doc__ or "").split()), origin="README", suite="component", test=_TEST,
                  patches=((owner, attribute, function),))
    for name, owner, attribute, function in (
        ("tuple_window_keeps_its_end", manager_module, "resolve_window", tuple_window_keeps_its_end),
        ("duration_window_drops_now", manager_module, "resolve_window", duration_window_drops_now),
        ("window_drops_its_start", FFTimeWindow, "contains", contains_without_its_start),
        ("bucket_at_an_inclusive_end_not_opened", FFTimeWindow, "overlaps", overlaps_ignoring_an_inclusive_end),
    )
) + tuple(
    PlantedDefect(name=name, what=" ".join((function.__doc__ or "").split()), origin="README", suite="component",
                  test="metrics_kind_kept", patches=((FFSampleStore, "_ensure_kind", function),))
    for name, function in (("metric_kind_remembered_per_process", kind_remembered_per_process),
                           ("gauge_and_timing_mixed", gauge_and_timing_mixed))
)
