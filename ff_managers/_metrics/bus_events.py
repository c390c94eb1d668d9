"""What one event on the bus produces: samples, an analytics event, maybe an audit record.

For each event: counter ``events.<type>`` (tag ``source``); for ``tool.executed`` a timing
``tool.duration_ms`` (tags ``tool``, ``status``); an analytics event for ``event.user_id``; an
audit record for an event whose type ends in one of the audited outcomes (``*.refused`` /
``*.denied`` by default). Everything is validated before anything is written, so a bad event
(say a hostile user id from a buggy publisher) writes nothing and the bus dead-letters it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from ff_class_configs.ff_metrics_config import FFMetricsConfigDTO
from ff_managers._core.checks import check_json_object
from ff_managers._metrics.audit_log import FFAuditLog
from ff_managers._metrics.checks import validate_metric_name, validate_value
from ff_managers._metrics.counts import FFWorkCounts
from ff_managers._metrics.samples import FFSampleStore, Sample
from ff_managers._metrics.user_events import FFUserEventLog
from ff_managers.ff_event_bus import FFEvent
from ff_utils.ff_ids import ff_validate_id
from ff_utils.ff_json_utils import ff_dumps

__all__ = ["FFBusEventRecorder"]


class FFBusEventRecorder:
    """Turns bus events into samples, analytics events and audit records."""

    def __init__(
        self,
        samples: FFSampleStore,
        user_events: FFUserEventLog,
        audit: FFAuditLog,
        settings: FFMetricsConfigDTO,
        counts: FFWorkCounts,
        *,
        audited_outcomes: Collection[str],
    ) -> None:
        self._samples = samples
        self._user_events = user_events
        self._audit = audit
        self._settings = settings
        self._counts = counts
        self._audited_outcomes = frozenset(audited_outcomes)

    def security_outcome(self, event_type: str) -> str | None:
        """The audited outcome an event type ends in (``tool.refused`` -> ``refused``), else None."""
        last = event_type.rsplit(".", 1)[-1]
        return last if last in self._audited_outcomes else None

    def record(self, event: FFEvent) -> None:
        """Validate everything one event produces, then write it (a bad event writes nothing)."""
        moment = event.timestamp
        samples: list[Sample] = [
            (validate_metric_name(f"events.{event.type}"), "counter", 1, self._samples.check_tags({"source": event.source}))
        ]
        payload = event.payload if isinstance(event.payload, Mapping) else {}
        if event.type == "tool.executed":
            duration = payload.get("duration_ms")
            if isinstance(duration, (int, float)) and not isinstance(duration, bool):
                tool_tags = {k: payload[k] for k in ("tool", "status") if isinstance(payload.get(k), str)}
                samples.append(
                    ("tool.duration_ms", "timing", validate_value(duration, "timing", "duration_ms"), self._samples.check_tags(tool_tags))
                )
        user_event: tuple[str, dict[str, Any]] | None = None
        if event.user_id is not None:
            user_event = (ff_validate_id(event.user_id, "user_id"), self._event_data(event))
        audit_fields: dict[str, Any] | None = None
        outcome = self.security_outcome(event.type)
        if outcome is not None and self._audit.enabled:
            target = payload.get("tool") or payload.get("target") or event.source
            audit_fields = self._audit.check_fields(
                event.user_id or event.source,
                event.type,
                str(target),
                outcome,
                {"event_id": event.event_id, "source": event.source, "payload": self._event_data(event)},
            )
        self._counts.bump("bus_events")
        self._samples.append(samples, moment)
        if user_event is not None:
            self._user_events.append(user_event[0], event.type, user_event[1], moment)
        if audit_fields is not None:
            self._audit.append(audit_fields, moment)

    def _event_data(self, event: FFEvent) -> dict[str, Any]:
        """The event's payload as analytics data; an oversized one is replaced by its size."""
        encoded = ff_dumps(event.payload)
        if len(encoded) > self._settings.max_event_data_bytes:
            return {"payload_bytes": len(encoded), "payload_dropped": True}
        return check_json_object(event.payload, field="payload", max_bytes=self._settings.max_event_data_bytes)
