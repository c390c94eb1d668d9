"""Per-user analytics events on disk: one append per event, one user's files per read.

Layout (under the data root)::

    users/<user_id>/analytics/events/<YYYY-MM-DD>.jsonl   {"v", "t", "type", "data"}

Each user's events live under that user's own directory, so reading one user's analytics opens
only that user's files and no call can see another user's events. A read opens only the day
files overlapping the window; the figures themselves are derived in ``analytics.py``. Events
are appended through the analytics store (``FFStore.with_settings(durability=analytics_durability)``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ff_class_configs.ff_metrics_config import FFMetricsConfigDTO
from ff_class_configs.ff_metrics_dtos import FFUserAnalyticsDTO
from ff_managers._core.errors import translate_errors
from ff_managers._metrics.analytics import build_user_analytics, event_record
from ff_managers._metrics.buckets import FFTimeWindow, bucket_parts, day_span, file_stem, to_utc
from ff_managers._metrics.counts import FFWorkCounts
from ff_managers._metrics.files import FFAppendFiles
from ff_utils.ff_logging import get_logger

__all__ = ["FFUserEventLog"]

_log = get_logger("metrics")


class FFUserEventLog:
    """Appends a user's analytics events and derives their analytics over a window."""

    def __init__(self, files: FFAppendFiles, settings: FFMetricsConfigDTO, counts: FFWorkCounts) -> None:
        self._files = files
        self._store = files.store
        self._settings = settings
        self._counts = counts

    def append(self, user_id: str, event_type: str, data: dict[str, Any], moment: datetime) -> None:
        """Append one validated event to the user's file of ``moment``'s UTC day."""
        day, _ = bucket_parts(moment, "day")
        path = self._files.cached_path("users", user_id, "analytics", "events", f"{day}.jsonl")
        self._files.append(path, event_record(moment, event_type, data))
        self._counts.bump("events")

    def flush(self) -> None:
        """fsync the event files appended to since the last flush (batch/never durability)."""
        self._files.flush()

    def analytics(self, user_id: str, window: FFTimeWindow) -> FFUserAnalyticsDTO:
        """The user's analytics from their events inside ``window`` (zeros for a user never seen)."""
        base = self._store.path("users", user_id, "analytics", "events")

        def records() -> Iterator[dict[str, Any]]:
            for day_file in self._day_files(base, window):
                for record in self._store.read_jsonl(day_file):
                    try:
                        moment = to_utc(datetime.fromisoformat(record["t"]))
                        if not isinstance(record["type"], str):
                            raise TypeError("type is not text")
                    except (TypeError, KeyError, ValueError) as exc:
                        # Valid JSON of another shape: skipped and reported like an unparsable line.
                        _log.warning("skipped corrupt line of %s: not an analytics event (%s)", day_file, exc)
                        continue
                    if window.contains(moment):
                        yield record

        gap = timedelta(minutes=self._settings.session_gap_minutes)
        return build_user_analytics(user_id, records(), gap)

    def _day_files(self, base: Path, window: FFTimeWindow) -> Iterator[Path]:
        """``<YYYY-MM-DD>.jsonl`` files (and overflow files ``<YYYY-MM-DD>.w<pid>.jsonl``) directly
        under ``base`` whose day overlaps ``window``."""
        with translate_errors("list analytics", base):
            if not self._store.exists(base):
                return
            names = [e.name for e in self._store.list_dir(base) if e.is_file]  # no symlink followed
        for file_name in names:
            stem = file_stem(file_name)  # the day's shared file, or a process's overflow file of it
            if stem is None:
                continue
            span = day_span(stem)
            if span is not None and window.overlaps(*span):
                yield base / file_name
