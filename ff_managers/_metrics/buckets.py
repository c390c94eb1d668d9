"""Time buckets of metric and analytics files, and the time windows summaries read.

Layout (relative to one metric's directory)::

    <YYYY-MM-DD>/<HH>.jsonl     bucket = "hour" (default): one file per UTC hour
    <YYYY-MM-DD>/day.jsonl      bucket = "day":  one file per UTC day

Readers accept both names in any day directory, so changing the bucket setting never hides
old data. A window is resolved once into a :class:`FFTimeWindow`; a bucket file is opened only
when its time span overlaps the window, and each record is then filtered exactly.

Window forms (``get_summary(window=...)``):

* ``None``: everything ever recorded;
* a ``timedelta`` ``d`` > 0: ``[now - d, now]``, both ends inclusive, so a sample stamped by the
  same clock at ``now`` counts;
* a tuple ``(start, end)`` of timezone-aware datetimes (either may be None for an open end):
  ``[start, end)``, half-open, so adjacent windows never count a sample twice.

The ends of a tuple follow the shared timestamp rule (``_core/checks.py``) with naive times
refused. Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from ff_managers._core.checks import check_timestamp
from ff_utils.ff_errors import FFValidationError

__all__ = [
    "BucketGranularity",
    "FFTimeWindow",
    "WindowSpec",
    "to_utc",
    "bucket_parts",
    "resolve_window",
    "day_span",
    "file_span",
    "file_stem",
    "overflow_name",
]

BucketGranularity = Literal["hour", "day"]
WindowSpec = None | timedelta | tuple[datetime | None, datetime | None]

_DAY_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")
_HOUR_FILE = re.compile(r"(\d{2})\.jsonl")
DAY_FILE = "day.jsonl"
_WRITER_FILE = re.compile(r"([^.]+)\.w\d{1,10}\.jsonl")


def overflow_name(file_name: str, pid: int) -> str:
    """The name of process ``pid``'s own file beside the shared ``file_name`` (``18.jsonl`` ->
    ``18.w4242.jsonl``): where it appends while another process holds the shared file's lock."""
    return f"{file_name.removesuffix('.jsonl')}.w{pid}.jsonl"


def file_stem(file_name: str) -> str | None:
    """What a shared or overflow ``.jsonl`` file is named for (``18``, ``day``, a day), else None.

    Samples and analytics events of one bucket may be split between the shared file and the
    overflow files of processes that found it locked (``FFAppendFiles.append``); readers read
    them all.
    """
    match = _WRITER_FILE.fullmatch(file_name)
    if match is not None:
        return match.group(1)
    return file_name.removesuffix(".jsonl") if file_name.endswith(".jsonl") else None


def to_utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive datetime (from an injected clock) is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def bucket_parts(moment: datetime, granularity: BucketGranularity) -> tuple[str, str]:
    """The ``(day directory, file name)`` a sample taken at ``moment`` goes to."""
    utc = to_utc(moment)
    day = utc.strftime("%Y-%m-%d")
    return day, (f"{utc.hour:02d}.jsonl" if granularity == "hour" else DAY_FILE)


@dataclass(frozen=True, slots=True)
class FFTimeWindow:
    """A resolved window: ``start <= t`` and ``t <= end`` (inclusive) or ``t < end`` (exclusive)."""

    start: datetime | None = None
    end: datetime | None = None
    end_inclusive: bool = False

    def contains(self, moment: datetime) -> bool:
        if self.start is not None and moment < self.start:
            return False
        if self.end is None:
            return True
        return moment <= self.end if self.end_inclusive else moment < self.end

    def overlaps(self, span_start: datetime, span_end: datetime) -> bool:
        """True when the half-open span ``[span_start, span_end)`` may hold samples in the window."""
        if self.start is not None and span_end <= self.start:
            return False
        if self.end is not None and (span_start > self.end if self.end_inclusive else span_start >= self.end):
            return False
        return True


def _aware(value: object) -> datetime | None:
    """One end of a ``(start, end)`` window in UTC (None: open); the shared timestamp rule, with
    naive times refused: they are ambiguous."""
    if value is None:
        return None
    return check_timestamp(value, field="window", naive="refuse").astimezone(UTC)


def resolve_window(window: object, now: datetime) -> FFTimeWindow:
    """Turn a user's window (see the module docstring) into an :class:`FFTimeWindow`.

    Raises FFValidationError for a non-positive timedelta, naive datetimes, start after end, or
    anything else.
    """
    if window is None:
        return FFTimeWindow()
    if isinstance(window, timedelta):
        if window <= timedelta(0):
            raise FFValidationError(f"window must be a positive duration, not {window}", field="window", value=window)
        current = to_utc(now)
        return FFTimeWindow(current - window, current, end_inclusive=True)
    if isinstance(window, tuple) and len(window) == 2:
        start, end = _aware(window[0]), _aware(window[1])
        if start is not None and end is not None and start > end:
            raise FFValidationError("window start is after its end", field="window", value=window)
        return FFTimeWindow(start, end, end_inclusive=False)
    raise FFValidationError(
        "window must be None, a timedelta or a (start, end) tuple of aware datetimes", field="window", value=window
    )


def day_span(day_name: str) -> tuple[datetime, datetime] | None:
    """The UTC span of a day directory name, or None if the name is not ``YYYY-MM-DD``."""
    if _DAY_PATTERN.fullmatch(day_name) is None:
        return None
    try:
        start = datetime.combine(date.fromisoformat(day_name), datetime.min.time(), tzinfo=UTC)
    except ValueError:
        return None
    return start, start + timedelta(days=1)


def file_span(day_name: str, file_name: str) -> tuple[datetime, datetime] | None:
    """The UTC span a bucket file covers, or None if it is not a bucket file (locks, temp files)."""
    day = day_span(day_name)
    if day is None:
        return None
    stem = file_stem(file_name)
    if stem is None:
        return None
    file_name = f"{stem}.jsonl"
    if file_name == DAY_FILE:
        return day
    match = _HOUR_FILE.fullmatch(file_name)
    if match is None or int(match.group(1)) > 23:
        return None
    start = day[0] + timedelta(hours=int(match.group(1)))
    return start, start + timedelta(hours=1)
