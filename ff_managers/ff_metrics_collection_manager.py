"""FFMetricsCollectionManager: metrics, per-user analytics, a tamper-evident audit log, system metrics.

Storage (all under the data root, written only through FFStore)::

    metrics/<name>/metric.json                   {schema_version, name, kind, created_at}
    metrics/<name>/<YYYY-MM-DD>/<HH>.jsonl       samples {"t", "value", "tags"} (bucket = hour)
    metrics/<name>/<YYYY-MM-DD>/day.jsonl        the same, bucket = day
    users/<user_id>/analytics/events/<YYYY-MM-DD>.jsonl   {"v", "t", "type", "data"}
    audit/audit.jsonl                            hash-chained records (see _metrics/audit_chain.py)
    audit/audit_head.json                        {schema_version, mode, key_id, count, last_hash, pending, updated_at, mac}

This module is the façade: each public method checks its input, makes one call into the
private package ``ff_managers._metrics``, and returns. The package is cut along the seams:

* ``samples.py``: metric samples, the kind fixed per name, summaries (``buckets.py`` picks the
  files a window reads, ``stats.py`` computes exact percentiles);
* ``user_events.py`` and ``analytics.py``: per-user analytics events and the figures from them;
* ``audit_log.py`` and ``audit_chain.py``: the hash-chained audit log and its verification;
* ``system.py``: the psutil sample; ``bus_events.py``: what each bus event produces;
* ``checks.py``: the input rules particular to metrics (names, kinds, tags, values); the
  shared ones (text, JSON objects, limits, timestamps) are ``_core.checks``;
* ``files.py``: cached paths, appends and their fsync.

Durability: the three logs are written through stores derived once from ``self.store``
(``with_settings(durability=...)``): samples per ``metrics_durability`` and analytics events per
``analytics_durability`` (``batch`` by default: see FFMetricsConfigDTO), the audit log per
``audit_durability`` (``always``). An injected ``store=`` (a fault-injecting FFStore subclass in
tests) reaches all three, since ``with_settings`` keeps the subclass.

Event bus: the manager subscribes to ``*`` when constructed (when ``subscribe_to_events``), so
every manager sharing the bus is counted from the start without calling it, and unsubscribes on
shutdown. For each event: counter ``events.<type>`` (tag ``source``); for ``tool.executed`` a
timing ``tool.duration_ms`` (tags ``tool``, ``status``); an analytics event for
``event.user_id``; an audit record for an event type ending in one of
:attr:`FFMetricsCollectionManager.audited_outcomes` (``*.refused`` / ``*.denied``). It publishes
no events itself: it listens to ``*``, so publishing would feed on itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import psutil

from ff_class_configs.ff_configuration_manager_config import FFConfigurationManagerConfigDTO
from ff_class_configs.ff_metrics_dtos import (
    FFAuditRecordDTO,
    FFAuditVerificationDTO,
    FFMetricInfoDTO,
    FFMetricSummaryDTO,
    FFSystemMetricsDTO,
    FFUserAnalyticsDTO,
)
from ff_managers._core.checks import check_json_object, check_limit
from ff_managers._metrics.audit_log import FFAuditLog
from ff_managers._metrics.audit_seal import audit_seal_from_settings
from ff_managers._metrics.buckets import WindowSpec, resolve_window
from ff_managers._metrics.bus_events import FFBusEventRecorder
from ff_managers._metrics.checks import MetricKind, validate_event_type, validate_kind, validate_metric_name, validate_value
from ff_managers._metrics.counts import FFWorkCounts
from ff_managers._metrics.files import FFAppendFiles
from ff_managers._metrics.samples import METRIC_SCHEMA_VERSION, FFSampleStore
from ff_managers._metrics.system import FFCpuMeter, sample_system_metrics
from ff_managers._metrics.user_events import FFUserEventLog
from ff_managers.ff_component_base import Clock, FFComponentBase
from ff_managers.ff_event_bus import FFEvent, FFEventBus
from ff_utils.ff_ids import ff_validate_id
from ff_utils.ff_store import FFStore

__all__ = ["FFMetricsCollectionManager", "METRIC_SCHEMA_VERSION"]


class FFMetricsCollectionManager(FFComponentBase):
    """Counters, gauges and timings; per-user analytics; the audit log; system metrics."""

    component_name = "metrics"

    audited_outcomes: ClassVar[tuple[str, ...]] = ("refused", "denied")
    """Last segments of the bus event types that are audited (``tool.refused``, ``auth.denied``).

    Read when a manager is constructed. The platform's failure tests set it to ``()`` on the
    class to plant the defect "refusals are not audited" and check that the suites catch it.
    """

    def __init__(
        self,
        config: FFConfigurationManagerConfigDTO,
        *,
        bus: FFEventBus | None = None,
        clock: Clock | None = None,
        store: FFStore | None = None,
    ) -> None:
        super().__init__(config, bus=bus, clock=clock, store=store)
        settings = self._settings = config.metrics
        self._counts = FFWorkCounts("samples", "events", "bus_events", "audit_records")
        sample_files = FFAppendFiles(self.store.with_settings(durability=settings.metrics_durability))
        event_files = FFAppendFiles(self.store.with_settings(durability=settings.analytics_durability))
        self._samples = FFSampleStore(sample_files, settings, self._counts)
        self._user_events = FFUserEventLog(event_files, settings, self._counts)
        seal = audit_seal_from_settings(settings, self.store.root)  # FFConfigError: short key, key file in the root
        self._audit = FFAuditLog(self.store.with_settings(durability=settings.audit_durability), settings, self._counts, seal)
        self._recorder = FFBusEventRecorder(
            self._samples, self._user_events, self._audit, self._settings, self._counts, audited_outcomes=self.audited_outcomes
        )
        self._cpu = FFCpuMeter(psutil.Process())  # CPU percentages are measured from here on
        self._unsubscribe: Callable[[], None] | None = None
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
        await self._io(self._flush_logs)

    def _health_details(self) -> dict[str, Any]:
        return {**self._counts.snapshot(), "subscribed": self._unsubscribe is not None}

    async def flush(self) -> None:
        """fsync every metrics/analytics file this manager appended to with batch durability."""
        async with self._operation():
            await self._io(self._flush_logs)

    def _flush_logs(self) -> None:
        self._samples.flush()
        self._user_events.flush()

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
                self._samples.check_tags(tags),
            )
            await self._io(self._samples.append, [sample], self.clock())

    async def increment(self, name: str, by: int | float = 1, *, tags: Mapping[str, str | int | bool] | None = None) -> None:
        """Add ``by`` (>= 0) to the counter ``name``; ``get_summary(name).sum`` is its total.

        Raises like :meth:`record_metric`.
        """
        async with self._operation():
            sample = (validate_metric_name(name), "counter", validate_value(by, "counter", "by"), self._samples.check_tags(tags))
            await self._io(self._samples.append, [sample], self.clock())

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
            wanted = self._samples.check_tags(tags)
            return await self._io(self._samples.summary, checked, resolved, wanted)

    async def list_metrics(self) -> list[FFMetricInfoDTO]:
        """Every metric recorded so far, by name."""
        async with self._operation():
            return await self._io(self._samples.list_metrics)

    # ------------------------------------------------------------------ user analytics

    async def record_event(self, user_id: str, event_type: str, data: Mapping[str, Any] | None = None) -> None:
        """Record one analytics event for ``user_id`` (under users/<user_id>/analytics/).

        Raises FFValidationError for a bad user id or event type, or data that is not a JSON
        object within ``max_event_data_bytes`` (nothing written).
        """
        async with self._operation():
            uid = ff_validate_id(user_id, "user_id")
            kind = validate_event_type(event_type)
            payload = check_json_object(data, field="data", max_bytes=self._settings.max_event_data_bytes)
            await self._io(self._user_events.append, uid, kind, payload, self.clock())

    async def get_user_analytics(self, user_id: str, window: WindowSpec = None) -> FFUserAnalyticsDTO:
        """Event counts per type, sessions, active days, first and last seen of ``user_id``.

        Reads only that user's own files, so no call can see another user's analytics. A user
        with no events gets zero counts. Raises FFValidationError for a bad id or window.
        """
        async with self._operation():
            uid = ff_validate_id(user_id, "user_id")
            resolved = resolve_window(window, self.clock())
            return await self._io(self._user_events.analytics, uid, resolved)

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
        FFConflictError when auditing is disabled or the log is sealed in another mode or with
        another key (metrics.audit_key), FFCorruptionError when the head is unreadable.
        """
        async with self._operation():
            fields = self._audit.check_fields(actor, action, target, outcome, details)
            return await self._io(self._audit.append, fields, self.clock())

    async def get_audit_records(self, limit: int = 100) -> list[FFAuditRecordDTO]:
        """The last ``limit`` (1..10,000) audit records, oldest first; unreadable lines are skipped."""
        async with self._operation():
            checked = check_limit(limit, maximum=10_000)
            return await self._io(self._audit.tail, checked)

    async def verify_audit_log(self) -> FFAuditVerificationDTO:
        """Check the whole chain and the head: ok, records checked, first bad record and why.

        Detects edited, deleted, inserted and reordered records, a truncated tail and records
        appended behind the API's back, each at its position (see _metrics/audit_chain.py). With
        an audit key configured the check is HMAC-SHA256, so a log rewritten together with its
        head is detected too; ``mode`` says which check ran. Runs under the audit lock, so it
        sees a consistent log and head.
        """
        async with self._operation():
            return await self._io(self._audit.verify)

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
            await self._io(self._recorder.record, event)
