"""Cron and interval triggers: crontab semantics (0 = Sunday), seconds-first 6-field form, zones."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from ff_utils.ff_errors import FFValidationError
from testing.schedule import FFCronTrigger, FFIntervalTrigger, parse_timezone

PARIS = ZoneInfo("Europe/Paris")


def test_daily_at_three_is_read_in_the_given_zone() -> None:
    trigger = FFCronTrigger("0 3 * * *", PARIS)
    fire = trigger.next_after(datetime(2026, 12, 5, 12, 0, tzinfo=UTC))
    assert fire == datetime(2026, 12, 6, 3, 0, tzinfo=PARIS)
    assert fire.astimezone(UTC) == datetime(2026, 12, 6, 2, 0, tzinfo=UTC)


def test_weekday_zero_is_sunday_as_in_crontab() -> None:
    # APScheduler 3's from_crontab would read 0 as Monday: the reason croniter was chosen.
    saturday_noon = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    assert saturday_noon.strftime("%A") == "Saturday"
    for field in ("0", "7", "sun"):
        assert FFCronTrigger(f"0 3 * * {field}", UTC).next_after(saturday_noon).strftime("%A") == "Sunday"


def test_six_fields_put_seconds_first() -> None:
    trigger = FFCronTrigger("*/15 * * * * *", UTC)
    start = datetime(2026, 12, 5, 12, 0, 1, tzinfo=UTC)
    first = trigger.next_after(start)
    assert first == datetime(2026, 12, 5, 12, 0, 15, tzinfo=UTC)
    assert trigger.next_after(first) == datetime(2026, 12, 5, 12, 0, 30, tzinfo=UTC)


def test_next_after_is_strictly_after() -> None:
    at_three = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
    assert FFCronTrigger("0 3 * * *", UTC).next_after(at_three) == datetime(2026, 12, 7, 3, 0, tzinfo=UTC)


def test_aliases_are_accepted() -> None:
    fire = FFCronTrigger("@daily", UTC).next_after(datetime(2026, 12, 5, 12, 0, tzinfo=UTC))
    assert fire == datetime(2026, 12, 6, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize("expression", ["61 * * * *", "0 3 * *", "0 3 * * * * *", "every day", "", "0 25 * * *"])
def test_bad_expressions_are_refused(expression: str) -> None:
    with pytest.raises(FFValidationError) as caught:
        FFCronTrigger(expression, UTC)
    assert caught.value.field == "cron"


def test_timezones() -> None:
    assert parse_timezone("Europe/Paris") == PARIS
    assert parse_timezone(None).utcoffset(datetime.now()) is not None
    for bad in ("Mars/Olympus", "../etc/passwd"):
        with pytest.raises(FFValidationError):
            parse_timezone(bad)


def test_interval_trigger() -> None:
    start = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    assert (FFIntervalTrigger(0.5).next_after(start) - start).total_seconds() == 0.5
    with pytest.raises(FFValidationError):
        FFIntervalTrigger(0)
