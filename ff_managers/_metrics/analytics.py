"""Derive one user's analytics from their analytics events. Pure: no I/O, no clock.

An event record is ``{"v": 1, "t": <ISO time>, "type": <event type>, "data": {...}}``.

* sessions: the web-analytics definition. Events sorted by time; a new session starts at the
  first event and after every gap longer than ``session_gap``. Appends from several processes
  can land slightly out of order, so the times are sorted rather than trusted to be ordered.
* chat sessions: distinct string ``data["session_id"]`` values (the memory manager's sessions).
* active days: distinct UTC dates with at least one event.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from ff_class_configs.ff_metrics_dtos import FFUserAnalyticsDTO
from ff_managers._metrics.buckets import to_utc

__all__ = ["ANALYTICS_SCHEMA_VERSION", "event_record", "count_sessions", "build_user_analytics"]

ANALYTICS_SCHEMA_VERSION = 1


def event_record(moment: datetime, event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    """The stored form of one analytics event."""
    return {"v": ANALYTICS_SCHEMA_VERSION, "t": to_utc(moment).isoformat(), "type": event_type, "data": data}


def count_sessions(times: Iterable[datetime], session_gap: timedelta) -> int:
    """Number of activity sessions in ``times`` (any order) split by gaps longer than ``session_gap``."""
    ordered = sorted(times)
    if not ordered:
        return 0
    return 1 + sum(1 for before, after in zip(ordered, ordered[1:]) if after - before > session_gap)


def build_user_analytics(user_id: str, records: Iterable[dict[str, Any]], session_gap: timedelta) -> FFUserAnalyticsDTO:
    """Fold the user's event records into :class:`FFUserAnalyticsDTO`.

    Records that are not event records (no parseable ``t`` or no string ``type``) are skipped:
    they cannot have come from ``record_event``, and one bad line must not hide the rest.
    """
    counts: Counter[str] = Counter()
    times: list[datetime] = []
    chat_sessions: set[str] = set()
    for record in records:
        if not isinstance(record, dict) or not isinstance(record.get("type"), str) or not isinstance(record.get("t"), str):
            continue
        try:
            moment = to_utc(datetime.fromisoformat(record["t"]))
        except ValueError:
            continue
        counts[record["type"]] += 1
        times.append(moment)
        data = record.get("data")
        if isinstance(data, dict) and isinstance(data.get("session_id"), str):
            chat_sessions.add(data["session_id"])
    dates = sorted({moment.date() for moment in times})
    return FFUserAnalyticsDTO(
        user_id=user_id,
        total_events=sum(counts.values()),
        event_counts=dict(sorted(counts.items())),
        sessions=count_sessions(times, session_gap),
        chat_sessions=len(chat_sessions),
        active_days=len(dates),
        active_dates=dates,
        first_seen=min(times) if times else None,
        last_seen=max(times) if times else None,
        session_gap_minutes=session_gap.total_seconds() / 60,
    )
