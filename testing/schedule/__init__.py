"""Scheduled runs: a foreground scheduler that starts one CLI command per cron fire, never two at once.

``python main.py schedule --cron "0 3 * * *" -- run-all`` builds an :class:`FFScheduler` with an
:class:`FFCronTrigger` (croniter) and the child's argv; see docs/SCALING.md for the cron and
systemd-timer way that needs no long-lived process.
"""

from __future__ import annotations

from ._scheduler import FFScheduleOutcome, FFScheduler, main_py_argv
from ._trigger import FFCronTrigger, FFIntervalTrigger, FFTrigger, parse_timezone

__all__ = [
    "FFCronTrigger",
    "FFIntervalTrigger",
    "FFScheduleOutcome",
    "FFScheduler",
    "FFTrigger",
    "main_py_argv",
    "parse_timezone",
]
