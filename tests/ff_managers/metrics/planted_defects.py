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
from ff_managers._metrics import samples, stats
from ff_managers._metrics.buckets import FFTimeWindow, _aware, to_utc
from ff_managers._metrics.checks import validate_tags
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
