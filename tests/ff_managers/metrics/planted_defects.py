"""Planted defects inside ``ff_managers._metrics`` (collected by ``tests/planted_defects``).

They replace one function of the private package for the length of a suite run; the component
suite's metrics contract test must turn red on each.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import ff_managers.ff_metrics_collection_manager as facade
from ff_managers import FFMetricsCollectionManager
from ff_managers._metrics import samples, stats, user_events
from ff_managers._metrics.buckets import FFTimeWindow, _aware, to_utc
from ff_managers._metrics.checks import validate_metric_name, validate_tags, validate_value
from ff_utils.ff_errors import FFValidationError
from tests._planted import PlantedDefect

__all__ = ["DEFECTS"]


def nearest_rank_percentile(sorted_values: Sequence[float], q: float) -> float:
    """The nearest-rank percentile (no interpolation): a common method the README rules out."""
    if not sorted_values:
        raise ValueError("percentile of no values")
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return float(sorted_values[rank - 1])


def exclusive_percentile(sorted_values: Sequence[float], q: float) -> float:
    """Interpolation over n + 1 positions (statistics' "exclusive", Excel's PERCENTILE.EXC)."""
    n = len(sorted_values)
    position = min(max((n + 1) * q / 100, 1), n) - 1
    lower = math.floor(position)
    fraction = position - lower
    upper = min(lower + 1, n - 1)
    return float(sorted_values[lower] + fraction * (sorted_values[upper] - sorted_values[lower]))


def empty_window_refused(window: object, now: datetime) -> FFTimeWindow:
    """An empty (start == end) window is refused (``>=`` for ``>``): mutant resolve_window 35."""
    if window is None:
        return FFTimeWindow()
    if isinstance(window, timedelta):
        if window <= timedelta(0):
            raise FFValidationError(f"window must be a positive duration, not {window}", field="window", value=window)
        current = to_utc(now)
        return FFTimeWindow(current - window, current, end_inclusive=True)
    if isinstance(window, tuple) and len(window) == 2:
        start, end = _aware(window[0]), _aware(window[1])
        if start is not None and end is not None and start >= end:
            raise FFValidationError("window start is after its end", field="window", value=window)
        return FFTimeWindow(start, end, end_inclusive=False)
    raise FFValidationError("window must be None, a timedelta or a (start, end) tuple of aware datetimes", field="window", value=window)


def tag_count_refused_at_its_limit(tags: object, *, max_tags: int, max_value_chars: int) -> dict[str, str]:
    """A sample with exactly max_tags tags is refused (``>=`` for ``>``): mutant validate_tags 12."""
    if isinstance(tags, dict) and len(tags) >= max_tags:
        raise FFValidationError(f"{len(tags)} tags exceed the limit of {max_tags}", field="tags")
    return validate_tags(tags, max_tags=max_tags, max_value_chars=max_value_chars)


class SummaryWindowNotReported(FFMetricsCollectionManager):
    """The summary leaves out the window it covered (mutants summary 82 and 83: window_start/end None)."""

    async def get_summary(self, name: str, window: Any = None, **kwargs: Any) -> Any:
        return (await super().get_summary(name, window, **kwargs)).model_copy(update={"window_start": None, "window_end": None})


class SummaryTagsNotReported(FFMetricsCollectionManager):
    """The summary leaves out the tag filter it applied (mutant summary 103: tags dropped)."""

    async def get_summary(self, name: str, window: Any = None, **kwargs: Any) -> Any:
        return (await super().get_summary(name, window, **kwargs)).model_copy(update={"tags": {}})


def _defect(name: str, function: Callable[..., Any], attribute: str = "percentile", *, origin: str = "README") -> PlantedDefect:
    return PlantedDefect(name=name, what=function.__doc__ or "", origin=origin, suite="component", test="metrics_contracts",
                         patches=((stats, attribute, function),))


DEFECTS: tuple[PlantedDefect, ...] = (
    _defect("percentile_nearest_rank", nearest_rank_percentile),
    _defect("percentile_exclusive", exclusive_percentile),
    PlantedDefect(name="empty_window_refused", what=empty_window_refused.__doc__ or "", suite="component", test="metrics_contracts",
                  origin="mutant ff_managers._metrics.buckets.x_resolve_window__mutmut_35",
                  patches=((facade, "resolve_window", empty_window_refused),)),
    PlantedDefect(name="tag_count_refused_at_its_limit", what=tag_count_refused_at_its_limit.__doc__ or "", suite="component",
                  test="metrics_contracts", origin="mutant ff_managers._metrics.checks.x_validate_tags__mutmut_12",
                  patches=((samples, "validate_tags", tag_count_refused_at_its_limit),)),
    PlantedDefect(name="summary_window_not_reported", what=SummaryWindowNotReported.__doc__ or "", suite="component",
                  test="metrics_contracts", origin="mutant ff_managers._metrics.samples.xǁFFSampleStoreǁsummary__mutmut_82",
                  manager_classes={"metrics": SummaryWindowNotReported}),
    PlantedDefect(name="summary_tags_not_reported", what=SummaryTagsNotReported.__doc__ or "", suite="component",
                  test="metrics_contracts", origin="mutant ff_managers._metrics.samples.xǁFFSampleStoreǁsummary__mutmut_103",
                  manager_classes={"metrics": SummaryTagsNotReported}),
)



def _bucket_files_any_name(self: Any, base: Any, window: FFTimeWindow) -> Any:
    """Bucket listing without the "is it a day?" check: every sub-folder's ``.jsonl`` files are read
    as buckets, so an operator's ``backup`` folder beside a metric's days is summarised too. (The
    README's layout; the family of mutant _bucket_files 13, which unpacked the missing span.)"""
    if not self._store.exists(base):
        return
    for day in [entry.name for entry in self._store.list_dir(base) if entry.is_dir]:
        day_dir = base / day
        for file_name in [entry.name for entry in self._store.list_dir(day_dir) if entry.is_file]:
            file_window = samples.file_span(day, file_name)
            if file_window is None or window.overlaps(*file_window):
                yield day_dir / file_name


def _day_files_any_name(self: Any, base: Any, window: FFTimeWindow) -> Any:
    """Analytics day listing that reads every ``.jsonl`` beside the day files (no day-name check),
    so a ``notes.jsonl`` an operator left is counted. (The README's layout; the family of mutant
    _day_files 22, which unpacked the missing span.)"""
    if not self._store.exists(base):
        return
    for file_name in [e.name for e in self._store.list_dir(base) if e.is_file]:
        if not file_name.endswith(".jsonl"):
            continue
        span = user_events.day_span(file_name.removesuffix(".jsonl"))
        if span is None or window.overlaps(*span):
            yield base / file_name


DEFECTS = (
    *DEFECTS,
    PlantedDefect(name="bucket_listing_reads_any_folder", what=" ".join((_bucket_files_any_name.__doc__ or "").split()),
                  suite="component", test="metrics_detail_contracts", origin="README",
                  patches=((samples.FFSampleStore, "_bucket_files", _bucket_files_any_name),)),
    PlantedDefect(name="analytics_listing_reads_any_jsonl", what=" ".join((_day_files_any_name.__doc__ or "").split()),
                  suite="component", test="metrics_detail_contracts", origin="README",
                  patches=((user_events.FFUserEventLog, "_day_files", _day_files_any_name),)),
)


def name_of_201_accepted(value: object) -> str:
    """A metric name of 201 characters accepted (the length compared with ``>`` 201, README: at most 200)."""
    if isinstance(value, str) and len(value) == 201:
        return validate_metric_name(value[:200]) and value
    return validate_metric_name(value)


def name_first_not_a_letter_accepted(value: object) -> str:
    """A metric name starting with a digit or ``_`` accepted (README: the first character a letter)."""
    if isinstance(value, str) and value[:1] in "0123456789_":
        return validate_metric_name("n" + value[1:]) and value
    return validate_metric_name(value)


def negative_timing_accepted(value: object, kind: Any, field: str = "value") -> float | int:
    """A negative timing accepted (the ``>= 0`` rule kept for counters only)."""
    return validate_value(value, "gauge" if kind == "timing" else kind, field)


def non_finite_timing_accepted(value: object, kind: Any, field: str = "value") -> float | int:
    """NaN and inf timings accepted (a value rule that checks only the type and the sign)."""
    if isinstance(value, float) and not math.isfinite(value) and kind == "timing" and not value < 0:
        return value
    return validate_value(value, kind, field)


DEFECTS = (
    *DEFECTS,
    *(PlantedDefect(name=name, what=function.__doc__ or "", suite="component", test="metrics_detail_contracts", origin="README",
                    patches=((facade, attribute, function),))
      for name, attribute, function in (("metric_name_of_201_accepted", "validate_metric_name", name_of_201_accepted),
                                        ("metric_name_not_starting_with_a_letter_accepted", "validate_metric_name",
                                         name_first_not_a_letter_accepted),
                                        ("negative_timing_accepted", "validate_value", negative_timing_accepted),
                                        ("non_finite_timing_accepted", "validate_value", non_finite_timing_accepted))),
)
