"""_metrics/analytics.py: sessions, active days and counts from a user's event records."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from ff_managers._metrics.analytics import build_user_analytics, count_sessions, event_record

T0 = datetime(2026, 5, 1, 23, 50, tzinfo=UTC)
GAP = timedelta(minutes=30)


def test_sessions_split_on_gaps_longer_than_the_limit() -> None:
    times = [T0, T0 + timedelta(minutes=30), T0 + timedelta(minutes=61), T0 + timedelta(hours=5)]
    assert count_sessions(times, GAP) == 3  # a gap of exactly 30 min stays in the session
    assert count_sessions(list(reversed(times)), GAP) == 3  # order of arrival does not matter
    assert count_sessions([], GAP) == 0


def test_build_user_analytics() -> None:
    records = [
        event_record(T0, "login", {}),
        event_record(T0 + timedelta(minutes=5), "memory.message_added", {"session_id": "s1"}),
        event_record(T0 + timedelta(minutes=20), "memory.message_added", {"session_id": "s2"}),
        event_record(T0 + timedelta(hours=2), "memory.message_added", {"session_id": "s1"}),
        {"t": "not a time", "type": "x"},
        {"type": "no time"},
        "garbage",
    ]
    result = build_user_analytics("alice", records, GAP)
    assert result.total_events == 4
    assert result.event_counts == {"login": 1, "memory.message_added": 3}
    assert result.sessions == 2
    assert result.chat_sessions == 2
    assert result.active_dates == [date(2026, 5, 1), date(2026, 5, 2)]  # 23:50 + 2 h crosses midnight UTC
    assert result.active_days == 2
    assert result.first_seen == T0 and result.last_seen == T0 + timedelta(hours=2)
    assert result.session_gap_minutes == 30


def test_no_events() -> None:
    result = build_user_analytics("bob", [], GAP)
    assert (result.total_events, result.sessions, result.active_days, result.first_seen) == (0, 0, 0, None)
