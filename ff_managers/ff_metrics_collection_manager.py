"""FFMetricsCollectionManager: metrics, per-user analytics, a tamper-evident audit log, system metrics.

Storage (all under the data root, written only through ff_utils)::

    metrics/<name>/metric.json                   {schema_version, name, kind, created_at}
    metrics/<name>/<YYYY-MM-DD>/<HH>.jsonl       samples {"t", "value", "tags"} (bucket = hour)
    metrics/<name>/<YYYY-MM-DD>/day.jsonl        the same, bucket = day
    users/<user_id>/analytics/events/<YYYY-MM-DD>.jsonl   {"v", "t", "type", "data"}
    audit/audit.jsonl                            hash-chained records (see _metrics/audit_chain.py)
    audit/audit_head.json                        {schema_version, count, last_hash, updated_at}

Why per metric name, then time: ``get_summary(name, window)`` opens only that metric's files
whose hour (or day) overlaps the window, whatever else is being recorded, and a sample is one
append to one file. The kind is fixed per name in ``metric.json`` on the first sample (a name
cannot be a timing here and a counter there); after that, ``record_metric`` is a validation and
one ``ff_append_jsonl``, group-committed with the other samples of that file and fsynced per the
``metrics_durability`` setting (``batch`` by default: see FFMetricsConfigDTO).

The audit append is atomic across processes: the lock of ``audit_head.json`` is held around
"read head, read the log's last record, append the sealed record, rewrite the head". The head is
written with ff_write_json (which takes no lock) and the log with ff_append_jsonl (which takes
the log's own lock), so no lock is taken twice.

Event bus: the manager subscribes to ``*`` when constructed (when ``subscribe_to_events``), so
every manager sharing the bus is counted from the start without calling it, and unsubscribes on
shutdown. For each event: counter ``events.<type>`` (tag ``source``); for ``tool.executed`` a
timing ``tool.duration_ms`` (tags ``tool``, ``status``); an analytics event for
``event.user_id``; an audit record for ``*.refused`` / ``*.denied``. It publishes no events
itself: it listens to ``*``, so publishing would feed on itself.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psutil
import pydantic

from ff_class_configs.ff_configuration_manager_config import FFConfigurationManagerConfigDTO
from ff_class_configs.ff_metrics_dtos import (
    FFAuditRecordDTO,
    FFAuditVerificationDTO,
    FFMetricInfoDTO,
    FFMetricSummaryDTO,
    FFSystemMetricsDTO,
    FFUserAnalyticsDTO,
)
from ff_managers._metrics.audit_chain import (
    AUDIT_SCHEMA_VERSION,
    FFAuditHead,
    FFChainEntry,
    head_after,
    head_from_json,
    reconcile_head,
    seal_record,
    verify_chain,
)
from ff_managers._metrics.buckets import FFTimeWindow, WindowSpec, bucket_parts, day_span, file_span, resolve_window, to_utc
from ff_managers._metrics.stats import PERCENTILE_METHOD, summarize
from ff_managers._metrics.checks import (
    METRIC_KINDS,
    MetricKind,
    validate_event_type,
    validate_kind,
    validate_metric_name,
    validate_payload,
    validate_tags,
    validate_text,
    validate_value,
)
from ff_managers._metrics.system import FFCpuMeter, sample_system_metrics
from ff_managers._metrics.analytics import build_user_analytics, event_record
from ff_managers.ff_component_base import Clock, FFComponentBase
from ff_managers.ff_event_bus import FFEvent, FFEventBus
from ff_utils.ff_errors import FFConflictError, FFCorruptionError, FFValidationError, ff_translate_errors
from ff_utils.ff_ids import ff_validate_id
from ff_utils.ff_json_utils import (
    FFBadLine,
    ff_append_jsonl,
    ff_dumps,
    ff_flush_jsonl,
    ff_read_json,
    ff_read_jsonl,
    ff_repair_jsonl,
    ff_tail_jsonl,
    ff_update_json,
    ff_write_json,
)
from ff_utils.ff_locks import ff_file_lock

__all__ = ["FFMetricsCollectionManager", "METRIC_SCHEMA_VERSION"]

METRIC_SCHEMA_VERSION = 1
_METRIC_META = "metric.json"
_PATH_CACHE_SIZE = 4096


def _security_outcome(event_type: str) -> str | None:
    """``refused`` / ``denied`` for security-relevant event types, else None."""
    last = event_type.rsplit(".", 1)[-1]
    return last if last in ("refused", "denied") else None


class FFMetricsCollectionManager(FFComponentBase):
    """Counters, gauges and timings; per-user analytics; the audit log; system metrics."""

    component_name = "metrics"

    def __init__(
        self,
        config: FFConfigurationManagerConfigDTO,
        *,
        bus: FFEventBus | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(config, bus=bus, clock=clock)
        self._settings = config.metrics
        self._kinds: dict[str, str] = {}  # metric name -> kind, as fixed in metric.json
        self._paths: dict[tuple[str, ...], Path] = {}  # path parts -> path checked by ff_safe_path
        self._unflushed: set[Path] = set()  # files appended with batch/never durability
        self._guard = threading.Lock()
        self._cpu = FFCpuMeter(psutil.Process())  # CPU percentages are measured from here on
        self._unsubscribe: Callable[[], None] | None = None
        self._counts = {"samples": 0, "events": 0, "bus_events": 0, "audit_records": 0}
        if self._settings.subscribe_to_events:
            self._subscribe()

    # ------------------------------------------------------------------ lifecycle

    def _subscribe(self) -> None:
        if self._unsubscribe is None:
            self._unsubscribe = self.bus.subscribe("*", self._on_event)

    async def _on_initialize(self) -> None:
        if self._settings.subscribe_to_events:
            self._subscribe()

    async def _on_shutdown(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        await self._io(self._flush_sync)

    def _health_details(self) -> dict[str, Any]:
        with self._guard:
            return {**self._counts, "subscribed": self._unsubscribe is not None}

    def _bump(self, counter: str) -> None:
        with self._guard:  # the worker threads of concurrent calls all count here
            self._counts[counter] += 1

    async def flush(self) -> None:
        """fsync every metrics/analytics file this manager appended to with batch durability."""
        async with self._operation():
            await self._io(self._flush_sync)

    def _flush_sync(self) -> None:
        with self._guard:
            paths, self._unflushed = self._unflushed, set()
        for path in paths:
            ff_flush_jsonl(path)

    # ------------------------------------------------------------------ metrics

    async def record_metric(
        self,
        name: str,
        value: float,
        *,
        tags: Mapping[str, str | int | bool] | None = None,
        kind: MetricKind = "timing",
    ) -> None:
        """Record one sample of ``name``.

        Raises FFValidationError (bad name, kind, value such as NaN/inf or a negative timing, bad
        tags; nothing written) and FFConflictError when ``name`` was first recorded as another kind.
        """
        async with self._operation():
            checked_kind = validate_kind(kind)
            sample = (
                validate_metric_name(name),
                checked_kind,
                validate_value(value, checked_kind),
                self._tags(tags),
            )
            await self._io(self._append_samples, [sample], self.clock())

    async def increment(self, name: str, by: int | float = 1, *, tags: Mapping[str, str | int | bool] | None = None) -> None:
        """Add ``by`` (>= 0) to the counter ``name``; ``get_summary(name).sum`` is its total.

        Raises like :meth:`record_metric`.
        """
        async with self._operation():
            sample = (validate_metric_name(name), "counter", validate_value(by, "counter", "by"), self._tags(tags))
            await self._io(self._append_samples, [sample], self.clock())

    async def get_summary(
        self,
        name: str,
        window: WindowSpec = None,
        *,
        tags: Mapping[str, str | int | bool] | None = None,
    ) -> FFMetricSummaryDTO:
        """Exact count, sum, min, max, mean, p50, p95, p99 and last value of ``name`` over ``window``.

        ``window``: None (all time), a timedelta (``[now - d, now]``) or ``(start, end)`` aware
        datetimes (``[start, end)``). ``tags`` keeps samples carrying all those tag values.
        Only bucket files overlapping the window are read. A never-recorded name summarises to
        count 0. Raises FFValidationError for a bad name, window or tags.
        """
        async with self._operation():
            checked = validate_metric_name(name)
            resolved = resolve_window(window, self.clock())
            wanted = self._tags(tags)
            return await self._io(self._summarize, checked, resolved, wanted)

    async def list_metrics(self) -> list[FFMetricInfoDTO]:
        """Every metric recorded so far, by name."""
        async with self._operation():
            return await self._io(self._list_metrics)

    def _tags(self, tags: object) -> dict[str, str]:
        return validate_tags(tags, max_tags=self._settings.max_tags, max_value_chars=self._settings.max_tag_value_chars)

    def _batch_interval(self) -> float:
        return self.config.storage.batch_fsync_interval_ms / 1000

    def _append_samples(self, samples: list[tuple[str, MetricKind, float | int, dict[str, str]]], moment: datetime) -> None:
        """Append validated samples (one ff_append_jsonl each); fixes each name's kind first."""
        utc = to_utc(moment)
        stamp = utc.isoformat()
        day, file_name = bucket_parts(utc, self._settings.bucket)
        targets = []
        for name, kind, value, tags in samples:
            self._ensure_kind(name, kind, stamp)
            targets.append((self._cached_path("metrics", name, day, file_name), {"t": stamp, "value": value, "tags": tags}))
        durability = self._settings.metrics_durability
        for path, record in targets:
            ff_append_jsonl(
                path,
                record,
                durability=durability,
                max_record_bytes=self.config.storage.max_record_bytes,
                batch_interval=self._batch_interval(),
            )
            self._note_unflushed(path, durability)
            self._bump("samples")

    def _cached_path(self, *parts: str) -> Path:
        """A bucket file's path, built by ff_safe_path once per bucket (hot paths only).

        ff_safe_path resolves and lstat-walks the path (about a quarter of a millisecond here),
        which on every sample would cost a large share of the append itself. Its answer only
        changes when someone swaps a directory under the root for a symlink, which a fresh check
        would not prevent either (the swap can follow the check), so one check per bucket file
        is kept. The cache is cleared when it grows past a few thousand buckets.
        """
        path = self._paths.get(parts)
        if path is None:
            path = self._path(*parts)
            with self._guard:
                if len(self._paths) >= _PATH_CACHE_SIZE:
                    self._paths.clear()  # old buckets are rarely written again
                self._paths[parts] = path
        return path

    def _note_unflushed(self, path: Path, durability: str) -> None:
        if durability != "always":
            with self._guard:
                self._unflushed.add(path)

    def _ensure_kind(self, name: str, kind: str, stamp: str) -> None:
        """Fix ``name``'s kind in metric.json on its first sample; FFConflictError on a mismatch."""
        known = self._kinds.get(name)
        if known is None:
            meta_path = self._path("metrics", name, _METRIC_META)

            def create_if_missing(current: Any) -> Any:
                if current is not None:
                    return current
                return {"schema_version": METRIC_SCHEMA_VERSION, "name": name, "kind": kind, "created_at": stamp}

            meta = ff_read_json(meta_path, default=None)
            if meta is None:  # first sample of this name anywhere: create under the file's lock
                meta = ff_update_json(meta_path, create_if_missing, default=None)
            if not isinstance(meta, dict) or meta.get("kind") not in METRIC_KINDS:
                raise FFCorruptionError(f"metric {name!r} has an unreadable {_METRIC_META}", path=meta_path)
            known = self._kinds[name] = meta["kind"]
        if known != kind:
            raise FFConflictError(f"metric {name!r} is a {known}, not a {kind}", name=name, kind=known)

    def _bucket_files(self, base: Path, window: FFTimeWindow) -> Iterator[Path]:
        """The bucket files under one metric (or user) directory that overlap ``window``, oldest first."""
        with ff_translate_errors("list buckets", base):
            if not base.is_dir():
                return
            days = sorted(entry.name for entry in base.iterdir() if entry.is_dir() and not entry.is_symlink())
        for day in days:
            span = day_span(day)
            if span is None or not window.overlaps(*span):
                continue
            day_dir = base / day
            with ff_translate_errors("list buckets", day_dir):
                names = sorted(entry.name for entry in day_dir.iterdir() if entry.is_file() and not entry.is_symlink())
            for file_name in names:
                file_window = file_span(day, file_name)
                if file_window is not None and window.overlaps(*file_window):
                    yield day_dir / file_name

    def _summarize(self, name: str, window: FFTimeWindow, wanted: dict[str, str]) -> FFMetricSummaryDTO:
        base = self._path("metrics", name)
        meta = ff_read_json(base / _METRIC_META, default=None)
        kind = meta.get("kind") if isinstance(meta, dict) and meta.get("kind") in METRIC_KINDS else None
        values: list[float] = []
        last_time: datetime | None = None
        last_value: float | None = None
        bad: list[FFBadLine] = []
        buckets = 0
        wanted_items = wanted.items()
        for path in self._bucket_files(base, window):
            buckets += 1
            for record in ff_read_jsonl(path, on_bad_line=bad.append):
                try:
                    moment = datetime.fromisoformat(record["t"])
                    value = float(record["value"])
                    tags = record.get("tags") or {}
                except (TypeError, KeyError, ValueError):
                    bad.append(FFBadLine(path, -1, "not a metric sample"))
                    continue
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

    def _list_metrics(self) -> list[FFMetricInfoDTO]:
        base = self._path("metrics")
        with ff_translate_errors("list metrics", base):
            names = sorted(e.name for e in base.iterdir() if e.is_dir() and not e.is_symlink()) if base.is_dir() else []
        found = []
        for name in names:
            meta_path = self._path("metrics", name, _METRIC_META)
            meta = ff_read_json(meta_path, default=None)
            if meta is None:
                continue  # a directory without metric.json is not a metric (nothing was recorded)
            try:
                found.append(FFMetricInfoDTO(name=name, kind=meta["kind"], created_at=meta["created_at"]))
            except (TypeError, KeyError, pydantic.ValidationError) as exc:
                raise FFCorruptionError(f"metric {name!r} has an unreadable {_METRIC_META}", path=meta_path) from exc
        return found

    # ------------------------------------------------------------------ user analytics

    async def record_event(self, user_id: str, event_type: str, data: Mapping[str, Any] | None = None) -> None:
        """Record one analytics event for ``user_id`` (under users/<user_id>/analytics/).

        Raises FFValidationError for a bad user id or event type, or data that is not a JSON
        object within ``max_event_data_bytes`` (nothing written).
        """
        async with self._operation():
            uid = ff_validate_id(user_id, "user_id")
            kind = validate_event_type(event_type)
            payload = validate_payload(data, "data", max_bytes=self._settings.max_event_data_bytes)
            await self._io(self._append_user_event, uid, kind, payload, self.clock())

    async def get_user_analytics(self, user_id: str, window: WindowSpec = None) -> FFUserAnalyticsDTO:
        """Event counts per type, sessions, active days, first and last seen of ``user_id``.

        Reads only that user's own files, so no call can see another user's analytics. A user
        with no events gets zero counts. Raises FFValidationError for a bad id or window.
        """
        async with self._operation():
            uid = ff_validate_id(user_id, "user_id")
            resolved = resolve_window(window, self.clock())
            return await self._io(self._user_analytics, uid, resolved)

    def _append_user_event(self, user_id: str, event_type: str, data: dict[str, Any], moment: datetime) -> None:
        day, _ = bucket_parts(moment, "day")
        path = self._cached_path("users", user_id, "analytics", "events", f"{day}.jsonl")
        durability = self._settings.analytics_durability
        ff_append_jsonl(
            path,
            event_record(moment, event_type, data),
            durability=durability,
            max_record_bytes=self.config.storage.max_record_bytes,
            batch_interval=self._batch_interval(),
        )
        self._note_unflushed(path, durability)
        self._bump("events")

    def _user_analytics(self, user_id: str, window: FFTimeWindow) -> FFUserAnalyticsDTO:
        base = self._path("users", user_id, "analytics", "events")

        def records() -> Iterator[dict[str, Any]]:
            for day_dir_file in self._day_files(base, window):
                for record in ff_read_jsonl(day_dir_file):
                    try:
                        moment = datetime.fromisoformat(record["t"])
                    except (TypeError, KeyError, ValueError):
                        continue
                    if window.contains(moment):
                        yield record

        gap = timedelta(minutes=self._settings.session_gap_minutes)
        return build_user_analytics(user_id, records(), gap)

    def _day_files(self, base: Path, window: FFTimeWindow) -> Iterator[Path]:
        """``<YYYY-MM-DD>.jsonl`` files directly under ``base`` whose day overlaps ``window``."""
        with ff_translate_errors("list analytics", base):
            if not base.is_dir():
                return
            names = sorted(e.name for e in base.iterdir() if e.is_file() and not e.is_symlink())
        for file_name in names:
            if not file_name.endswith(".jsonl"):
                continue
            span = day_span(file_name.removesuffix(".jsonl"))
            if span is not None and window.overlaps(*span):
                yield base / file_name

    # ------------------------------------------------------------------ audit log

    async def audit(
        self,
        actor: str,
        action: str,
        target: str,
        outcome: str = "success",
        details: Mapping[str, Any] | None = None,
    ) -> FFAuditRecordDTO:
        """Append one hash-chained record to the audit log and return it.

        Atomic across threads and processes. Raises FFValidationError for a bad actor, action
        (dotted name), target, outcome (dotted name) or details (nothing written),
        FFConflictError when auditing is disabled, FFCorruptionError when the head is unreadable.
        """
        async with self._operation():
            fields = self._audit_fields(actor, action, target, outcome, details)
            return await self._io(self._append_audit, fields, self.clock())

    async def get_audit_records(self, limit: int = 100) -> list[FFAuditRecordDTO]:
        """The last ``limit`` (1..10,000) audit records, oldest first; unreadable lines are skipped."""
        async with self._operation():
            if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 10_000:
                raise FFValidationError(f"limit must be an int in 1..10000, not {limit!r}", field="limit", value=limit)
            records = await self._io(ff_tail_jsonl, self._audit_log_path(), limit)
            return [dto for dto in map(_audit_dto, records) if dto is not None]

    async def verify_audit_log(self) -> FFAuditVerificationDTO:
        """Check the whole chain and the head: ok, records checked, first bad record and why.

        Detects edited, deleted, inserted and reordered records and a truncated tail (see
        _metrics/audit_chain.py). Runs under the audit lock, so it sees a consistent log and head.
        """
        async with self._operation():
            return await self._io(self._verify_audit)

    def _audit_log_path(self) -> Path:
        return self._path("audit", "audit.jsonl")

    def _audit_head_path(self) -> Path:
        return self._path("audit", "audit_head.json")

    def _audit_fields(self, actor: object, action: object, target: object, outcome: object, details: object) -> dict[str, Any]:
        fields = {
            "actor": validate_text(actor, "actor", max_chars=256),
            "action": validate_event_type(action, "action"),
            "target": validate_text(target, "target", max_chars=1024),
            "outcome": validate_event_type(outcome, "outcome"),
            "details": validate_payload(details, "details", max_bytes=self._settings.max_event_data_bytes),
        }
        if not self._settings.audit_enabled:
            raise FFConflictError("the audit log is disabled (metrics.audit_enabled = false)")
        return fields

    def _read_head(self) -> FFAuditHead | None:
        path = self._audit_head_path()
        data = ff_read_json(path, default=None)
        if data is None:
            return None
        try:
            return head_from_json(data)
        except ValueError as exc:
            raise FFCorruptionError(f"audit head unreadable: {exc}", path=path) from exc

    def _append_audit(self, fields: dict[str, Any], moment: datetime) -> FFAuditRecordDTO:
        log_path, head_path = self._audit_log_path(), self._audit_head_path()
        durability = self._settings.audit_durability
        with ff_file_lock(head_path, timeout=self.config.storage.lock_timeout_seconds):
            # A crash mid-append can leave a torn last line; drop it so the chain continues on a
            # fresh line. A tail cut by someone else stays visible: the head still counts it.
            ff_repair_jsonl(log_path)
            head = reconcile_head(self._read_head(), next(iter(ff_tail_jsonl(log_path, 1)), None))
            record = seal_record(seq=head.count, timestamp=to_utc(moment).isoformat(), prev_hash=head.last_hash, **fields)
            ff_append_jsonl(log_path, record, durability=durability, max_record_bytes=self.config.storage.max_record_bytes)
            new_head = head_after(record)
            ff_write_json(
                head_path,
                {
                    "schema_version": AUDIT_SCHEMA_VERSION,
                    "count": new_head.count,
                    "last_hash": new_head.last_hash,
                    "updated_at": record["ts"],
                },
                durability=durability,
            )
        self._bump("audit_records")
        return FFAuditRecordDTO.model_validate(record)

    def _verify_audit(self) -> FFAuditVerificationDTO:
        log_path, head_path = self._audit_log_path(), self._audit_head_path()
        with ff_file_lock(head_path, timeout=self.config.storage.lock_timeout_seconds):
            try:
                head = self._read_head()
            except FFCorruptionError as exc:
                return FFAuditVerificationDTO(ok=False, records_checked=0, reason=str(exc.message))
            verdict = verify_chain(_chain_entries(log_path), head)
        return FFAuditVerificationDTO(
            ok=verdict.ok,
            records_checked=verdict.records_checked,
            first_bad_index=verdict.first_bad_index,
            reason=verdict.reason,
            head_count=head.count if head is not None else None,
            head_lagging=verdict.head_lagging,
        )

    # ------------------------------------------------------------------ system metrics

    async def get_system_metrics(self) -> FFSystemMetricsDTO:
        """psutil: process CPU % (since the previous sample), RSS, open files, threads; machine
        CPU and memory; disk usage of the data root's file system; the data root's own size."""
        async with self._operation():
            return await self._io(sample_system_metrics, self._cpu, self.root, self.clock())

    # ------------------------------------------------------------------ event bus

    async def _on_event(self, event: FFEvent) -> None:
        """Count every bus event; see the module docstring for what each event produces."""
        async with self._operation():
            await self._io(self._apply_event, event)

    def _apply_event(self, event: FFEvent) -> None:
        """Validate everything one event produces, then write it (a bad event writes nothing)."""
        moment = event.timestamp
        samples: list[tuple[str, MetricKind, float | int, dict[str, str]]] = [
            (validate_metric_name(f"events.{event.type}"), "counter", 1, self._tags({"source": event.source}))
        ]
        payload = event.payload if isinstance(event.payload, Mapping) else {}
        if event.type == "tool.executed":
            duration = payload.get("duration_ms")
            if isinstance(duration, (int, float)) and not isinstance(duration, bool):
                tool_tags = {k: payload[k] for k in ("tool", "status") if isinstance(payload.get(k), str)}
                samples.append(("tool.duration_ms", "timing", validate_value(duration, "timing", "duration_ms"), self._tags(tool_tags)))
        user_event: tuple[str, dict[str, Any]] | None = None
        if event.user_id is not None:
            user_event = (ff_validate_id(event.user_id, "user_id"), self._event_data(event))
        audit_fields: dict[str, Any] | None = None
        outcome = _security_outcome(event.type)
        if outcome is not None and self._settings.audit_enabled:
            target = payload.get("tool") or payload.get("target") or event.source
            audit_fields = self._audit_fields(
                event.user_id or event.source,
                event.type,
                str(target),
                outcome,
                {"event_id": event.event_id, "source": event.source, "payload": self._event_data(event)},
            )
        self._bump("bus_events")
        self._append_samples(samples, moment)
        if user_event is not None:
            self._append_user_event(user_event[0], event.type, user_event[1], moment)
        if audit_fields is not None:
            self._append_audit(audit_fields, moment)

    def _event_data(self, event: FFEvent) -> dict[str, Any]:
        """The event's payload as analytics data; an oversized one is replaced by its size."""
        encoded = ff_dumps(event.payload)
        if len(encoded) > self._settings.max_event_data_bytes:
            return {"payload_bytes": len(encoded), "payload_dropped": True}
        return validate_payload(event.payload, "payload", max_bytes=self._settings.max_event_data_bytes)


def _audit_dto(record: Any) -> FFAuditRecordDTO | None:
    """A stored audit record as a DTO, or None for a line that is not one (verify reports those)."""
    try:
        return FFAuditRecordDTO.model_validate(record)
    except pydantic.ValidationError:
        return None


def _chain_entries(log_path: Path) -> Iterator[FFChainEntry]:
    """Every line of the audit log in order, as parsed records or bad lines, in constant memory."""
    pending: deque[FFChainEntry] = deque()

    def on_bad_line(bad: FFBadLine) -> None:
        pending.append(FFChainEntry(bad_reason=bad.reason, torn=bad.torn))

    for record in ff_read_jsonl(log_path, on_bad_line=on_bad_line):
        while pending:  # bad lines before this record were reported before it was yielded
            yield pending.popleft()
        yield FFChainEntry(record=record)
    yield from pending
