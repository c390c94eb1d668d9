"""When the scheduler fires: a cron expression (croniter) or a fixed interval.

Why croniter and not APScheduler 3.x: APScheduler's ``CronTrigger.from_crontab`` reads the
day-of-week field with 0 = Monday (a documented 3.x mistake kept for compatibility), so a crontab
line pasted into ``--cron`` would fire on the wrong day; croniter reads crontab lines as cron does
(0 and 7 = Sunday), handles time zones through an aware start time, and is a pure function of
(expression, time), so the scheduler's loop takes an injected clock and the tests fire quickly
without threads. The "never two runs at once" rule is then a few lines of our loop (see
``_scheduler``) instead of APScheduler's ``max_instances`` executor bookkeeping.

A 6-field expression has seconds first (``*/5 * * * * *``: every 5 seconds), as in Quartz and
APScheduler; 5 fields are a plain crontab line; ``@daily``-style aliases are accepted too.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterError, croniter

from ff_utils.ff_errors import FFValidationError

__all__ = ["FFCronTrigger", "FFIntervalTrigger", "FFTrigger", "parse_timezone"]


class FFTrigger(Protocol):
    """Gives the first fire time strictly after a given aware time."""

    def next_after(self, moment: datetime) -> datetime: ...


def parse_timezone(name: str | None) -> tzinfo:
    """An IANA zone (``Europe/Paris``, ``UTC``); None: the machine's local zone, as cron uses.

    Raises FFValidationError for an unknown name."""
    if name is None:
        local = datetime.now().astimezone().tzinfo
        assert local is not None  # astimezone() always sets one
        return local
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise FFValidationError(f"unknown time zone {name!r} (an IANA name such as Europe/Paris or UTC)", field="timezone") from exc


class FFCronTrigger:
    """Fire times of a cron expression in a time zone."""

    def __init__(self, expression: str, timezone: tzinfo) -> None:
        fields = expression.split()
        aliased = len(fields) == 1 and fields[0].startswith("@")
        if not aliased and len(fields) not in (5, 6):
            raise FFValidationError(
                f"cron expression {expression!r} has {len(fields)} fields; expected 5 (minute hour day month weekday) "
                "or 6 (second first)", field="cron")  # fmt: skip
        if not croniter.is_valid(expression, second_at_beginning=True):
            raise FFValidationError(f"not a valid cron expression: {expression!r}", field="cron")
        self.expression = expression
        self.timezone = timezone

    def next_after(self, moment: datetime) -> datetime:
        """The first fire time after ``moment`` (aware), in the trigger's zone."""
        try:
            fire = croniter(self.expression, moment.astimezone(self.timezone), second_at_beginning=True).get_next(datetime)
        except CroniterError as exc:  # e.g. "30 2 30 2 *": no 30th of February within croniter's search window
            raise FFValidationError(f"cron expression {self.expression!r} never fires: {exc}", field="cron") from exc
        return fire

    def __repr__(self) -> str:
        return f"FFCronTrigger({self.expression!r}, {self.timezone})"


class FFIntervalTrigger:
    """Fires every ``seconds`` from the first call on: for tests and one-off use, where a cron
    resolution of one second is too coarse."""

    def __init__(self, seconds: float) -> None:
        if not seconds > 0:
            raise FFValidationError(f"interval must be more than 0 seconds, got {seconds}", field="interval")
        self.step = timedelta(seconds=seconds)

    def next_after(self, moment: datetime) -> datetime:
        return moment + self.step
