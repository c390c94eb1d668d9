"""Metric samples on disk: appending them, fixing each name's kind, summarising a window.

Layout (under the data root)::

    metrics/<name>/metric.json                   {schema_version, name, kind, created_at}
    metrics/<name>/<YYYY-MM-DD>/<HH>.jsonl       samples {"t", "value", "tags"} (bucket = hour)
    metrics/<name>/<YYYY-MM-DD>/day.jsonl        the same, bucket = day

Why per metric name, then time: a summary of ``name`` over a window opens only that metric's
files whose hour (or day) overlaps the window, whatever else is being recorded, and a sample is
one append to one file. The kind is fixed per name in ``metric.json`` on the first sample (a name
cannot be a timing here and a counter there); after that, recording is one group-committed
append through the metrics store (``FFStore.with_settings(durability=metrics_durability)``), and
``metric.json`` is written through the same store.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from ff_class_configs.ff_metrics_config import FFMetricsConfigDTO
from ff_class_configs.ff_metrics_dtos import FFMetricInfoDTO, FFMetricSummaryDTO
from ff_managers._core.errors import translate_errors
from ff_managers._metrics.buckets import FFTimeWindow, bucket_parts, day_span, file_span, to_utc
from ff_managers._metrics.checks import METRIC_KINDS, MetricKind, validate_tags
from ff_managers._metrics.counts import FFWorkCounts
from ff_managers._metrics.files import FFAppendFiles
from ff_managers._metrics.stats import PERCENTILE_METHOD, summarize
from ff_utils.ff_errors import FFConflictError, FFCorruptionError
from ff_utils.ff_json_utils import FFBadLine

__all__ = ["FFSampleStore", "Sample", "METRIC_SCHEMA_VERSION", "METRIC_META"]

METRIC_SCHEMA_VERSION = 1
METRIC_META = "metric.json"

Sample = tuple[str, MetricKind, float | int, dict[str, str]]
"""A validated sample: ``(name, kind, value, tags)``."""


class FFSampleStore:
    """Appends samples to their bucket files and reads them back as summaries."""

    def __init__(self, files: FFAppendFiles, settings: FFMetricsConfigDTO, counts: FFWorkCounts) -> None:
        self._files = files
        self._store = files.store
        self._settings = settings
        self._counts = counts
        self._kinds: dict[str, str] = {}  # metric name -> kind, as fixed in metric.json

    def check_tags(self, tags: object) -> dict[str, str]:
        """``tags`` as sorted ``{str: str}`` within the configured limits, or FFValidationError."""
        return validate_tags(tags, max_tags=self._settings.max_tags, max_value_chars=self._settings.max_tag_value_chars)

    def append(self, samples: list[Sample], moment: datetime) -> None:
        """Append validated samples (one append each); fixes each name's kind first.

        Raises FFConflictError when a name was first recorded as another kind, and
        FFCorruptionError when its ``metric.json`` is unreadable (nothing of that sample written).
        """
        utc = to_utc(moment)
        stamp = utc.isoformat()
        day, file_name = bucket_parts(utc, self._settings.bucket)
        targets = []
        for name, kind, value, tags in samples:
            self._ensure_kind(name, kind, stamp)
            targets.append((self._files.cached_path("metrics", name, day, file_name), {"t": stamp, "value": value, "tags": tags}))
        for path, record in targets:
            self._files.append(path, record)
            self._counts.bump("samples")

    def flush(self) -> None:
        """fsync the sample files appended to since the last flush (batch/never durability)."""
        self._files.flush()

    def _ensure_kind(self, name: str, kind: str, stamp: str) -> None:
        """Fix ``name``'s kind in metric.json on its first sample; FFConflictError on a mismatch."""
        known = self._kinds.get(name)
        if known is None:
            meta_path = self._store.path("metrics", name, METRIC_META)

            def create_if_missing(current: Any) -> Any:
                if current is not None:
                    return current
                return {"schema_version": METRIC_SCHEMA_VERSION, "name": name, "kind": kind, "created_at": stamp}

            meta = self._store.read_json(meta_path, None)
            if meta is None:  # first sample of this name anywhere: create under the file's lock
                meta = self._store.update_json(meta_path, create_if_missing, default=None)
            if not isinstance(meta, dict) or meta.get("kind") not in METRIC_KINDS:
                raise FFCorruptionError(f"metric {name!r} has an unreadable {METRIC_META}", path=meta_path)
            known = self._kinds[name] = meta["kind"]
        if known != kind:
            raise FFConflictError(f"metric {name!r} is a {known}, not a {kind}", name=name, kind=known)

    def _bucket_files(self, base: Path, window: FFTimeWindow) -> Iterator[Path]:
        """The bucket files under one metric directory that overlap ``window``, oldest first."""
        with translate_errors("list buckets", base):
            if not self._store.exists(base):
                return
            days = [entry.name for entry in self._store.list_dir(base) if entry.is_dir]  # no symlink followed
        for day in days:
            span = day_span(day)
            if span is None or not window.overlaps(*span):
                continue
            day_dir = base / day
            with translate_errors("list buckets", day_dir):
                names = [entry.name for entry in self._store.list_dir(day_dir) if entry.is_file]
            for file_name in names:
                file_window = file_span(day, file_name)
                if file_window is not None and window.overlaps(*file_window):
                    yield day_dir / file_name

    def summary(self, name: str, window: FFTimeWindow, wanted: dict[str, str]) -> FFMetricSummaryDTO:
        """Exact statistics of ``name``'s samples in ``window`` carrying all ``wanted`` tags.

        Only bucket files overlapping the window are read; lines that are not samples are
        skipped and counted. A never-recorded name summarises to count 0 and kind None.
        """
        base = self._store.path("metrics", name)
        meta = self._store.read_json(base / METRIC_META, None)
        kind = meta.get("kind") if isinstance(meta, dict) and meta.get("kind") in METRIC_KINDS else None
        values: list[float] = []
        last_time: datetime | None = None
        last_value: float | None = None
        bad: list[FFBadLine] = []
        buckets = 0
        wanted_items = wanted.items()
        for path in self._bucket_files(base, window):
            buckets += 1
            for record in self._store.read_jsonl(path, on_bad_line=bad.append):
                sample = _as_sample(record)
                if sample is None:
                    bad.append(FFBadLine(path, -1, "not a metric sample"))
                    continue
                moment, value, tags = sample
                if not window.contains(moment) or not wanted_items <= tags.items():
                    continue
                values.append(value)
                if last_time is None or moment >= last_time:
                    last_time, last_value = moment, value
        stats = summarize(values)
        return FFMetricSummaryDTO(
            name=name,
            kind=kind,
            count=stats.count if stats else 0,
            sum=stats.total if stats else None,
            min=stats.minimum if stats else None,
            max=stats.maximum if stats else None,
            mean=stats.mean if stats else None,
            p50=stats.p50 if stats else None,
            p95=stats.p95 if stats else None,
            p99=stats.p99 if stats else None,
            last=last_value,
            window_start=window.start,
            window_end=window.end,
            window_end_inclusive=window.end_inclusive,
            tags=wanted,
            percentile_method=PERCENTILE_METHOD,
            buckets_read=buckets,
            skipped_lines=len(bad),
        )

    def list_metrics(self) -> list[FFMetricInfoDTO]:
        """Every metric with a ``metric.json``, by name; FFCorruptionError for an unreadable one."""
        base = self._store.path("metrics")
        with translate_errors("list metrics", base):
            names = [e.name for e in self._store.list_dir(base) if e.is_dir] if self._store.exists(base) else []
        found = []
        for name in names:
            meta_path = self._store.path("metrics", name, METRIC_META)
            meta = self._store.read_json(meta_path, None)
            if meta is None:
                continue  # a directory without metric.json is not a metric (nothing was recorded)
            if not isinstance(meta, dict):
                raise FFCorruptionError(f"metric {name!r} has an unreadable {METRIC_META}", path=meta_path)
            info = {"name": name, "kind": meta.get("kind"), "created_at": meta.get("created_at")}
            found.append(self._store.load(FFMetricInfoDTO, info, meta_path))
        return found


def _as_sample(record: Any) -> tuple[datetime, float, dict[str, Any]] | None:
    """``(time in UTC, finite value, tags)`` of a stored sample; None for a line of another shape.

    Valid JSON of the wrong shape (a list, text for a time, a list for the tags, a naive time that
    would not compare with the window's) is skipped and counted like an unparsable line.
    """
    try:
        moment = to_utc(datetime.fromisoformat(record["t"]))
        raw = record["value"]
        tags = record.get("tags") or {}
    except (TypeError, KeyError, ValueError, AttributeError):
        return None
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not math.isfinite(raw) or not isinstance(tags, dict):
        return None
    return moment, float(raw), tags
