"""Log records of a running test, attributed to that test through a context variable.

The runner opens an :func:`attempt_log` around every attempt; it puts a fresh list into a
``ContextVar``. asyncio tasks and ``asyncio.to_thread`` copy the context, so whatever the
managers under test log while the attempt runs (an event handler that broke, a corrupt JSONL line
skipped) carries the test's list with it, even from a worker thread. :class:`FFTestLogHandler`,
installed on a logger by whoever runs the suites (``run-all`` puts it on ``ff``), appends each
record to the list of the test that caused it; the runner stores the list in the result, and the
report shows it next to that test. :class:`FFOutsideTestsFilter` keeps the same records off the
console: they are expected evidence of injected faults, not news for the person watching.

Without the handler installed nothing is captured and nothing changes.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field

from ff_class_configs.ff_test_result_dtos import FFLogRecordDTO

__all__ = [
    "MAX_RECORDS_PER_ATTEMPT",
    "FFAttemptLog",
    "FFOutsideTestsFilter",
    "FFRunLogFormatter",
    "FFTestLogHandler",
    "attempt_log",
    "current_attempt_log",
]

#: A chatty test keeps its first records; the rest are counted in ``logs_dropped``.
MAX_RECORDS_PER_ATTEMPT = 200
_MESSAGE_CHARS = 2_000


@dataclass(slots=True)
class FFAttemptLog:
    """The records one attempt of one test produced."""

    test_id: str
    attempt: int
    started: float = field(default_factory=time.time)
    records: list[FFLogRecordDTO] = field(default_factory=list)
    dropped: int = 0

    def add(self, record: logging.LogRecord, message: str) -> None:
        if len(self.records) >= MAX_RECORDS_PER_ATTEMPT:
            self.dropped += 1
            return
        if len(message) > _MESSAGE_CHARS:
            message = message[: _MESSAGE_CHARS - 1] + "…"
        self.records.append(
            FFLogRecordDTO(
                attempt=self.attempt,
                level=record.levelname,
                logger=record.name,
                message=message,
                elapsed_seconds=max(0.0, record.created - self.started),
            )
        )


_CURRENT: ContextVar[FFAttemptLog | None] = ContextVar("ff_current_attempt_log", default=None)


def current_attempt_log() -> FFAttemptLog | None:
    """The log of the attempt running in this context, or None outside a test."""
    return _CURRENT.get()


@contextlib.contextmanager
def attempt_log(test_id: str, attempt: int) -> Iterator[FFAttemptLog]:
    """Attribute every record logged in this context (and tasks/threads started from it) to one attempt."""
    log = FFAttemptLog(test_id, attempt)
    token = _CURRENT.set(log)
    try:
        yield log
    finally:
        _CURRENT.reset(token)


class FFTestLogHandler(logging.Handler):
    """Appends each record emitted inside a test attempt to that attempt's log; ignores the rest."""

    def emit(self, record: logging.LogRecord) -> None:
        log = _CURRENT.get()
        if log is None:
            return
        try:
            message = self.format(record) if self.formatter else record.getMessage()
        except Exception:  # a broken %-format must not break the test that logged it
            self.handleError(record)
            return
        log.add(record, message)


class FFOutsideTestsFilter(logging.Filter):
    """Passes only records emitted outside any test attempt (for the console during a run)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return _CURRENT.get() is None


class FFRunLogFormatter(logging.Formatter):
    """One line per record for a run's log file, naming the test attempt that caused it (if any)."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(ff_test)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        log = _CURRENT.get()
        record.ff_test = f" [{log.test_id} attempt {log.attempt}]" if log is not None else ""
        return super().format(record)
