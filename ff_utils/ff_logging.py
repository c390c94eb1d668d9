"""Logging for FF Platform: ``get_logger(name)`` under one ``ff`` namespace, configured by the application.

FF Platform is a library, so it follows the standard library's rule for libraries ("Configuring
Logging for a Library" in the logging HOWTO): the ``ff`` logger gets a ``NullHandler`` and keeps
``propagate`` on, and nothing here picks a handler, format or level. Records go wherever the
embedding application's logging set-up sends them (with no set-up at all, Python's last-resort
handler prints WARNING and above to stderr). The ``main.py``/``ff`` command line configures
logging for itself with :func:`cli_logging`: a rich handler on the same console as the
progress bars, so a log line never glues onto a bar.

``FF_LOG_LEVEL`` (``DEBUG``, ``INFO``...), when set, is applied to the ``ff`` logger only.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # rich is only needed by the command line
    from rich.console import Console

__all__ = ["FF_LOGGER_NAME", "cli_logging", "get_logger"]

FF_LOGGER_NAME = "ff"
_configured = False


def _configure() -> None:
    global _configured
    if _configured:
        return
    _configured = True
    root = logging.getLogger(FF_LOGGER_NAME)
    if not any(isinstance(h, logging.NullHandler) for h in root.handlers):
        root.addHandler(logging.NullHandler())
    level = os.environ.get("FF_LOG_LEVEL", "").upper()
    if level in logging.getLevelNamesMapping():
        root.setLevel(level)


def get_logger(name: str) -> logging.Logger:
    """The logger ``ff.<name>`` (the first call adds the ``NullHandler`` to ``ff``)."""
    _configure()
    return logging.getLogger(name if name == FF_LOGGER_NAME or name.startswith("ff.") else f"ff.{name}")


@contextlib.contextmanager
def cli_logging(console: Console, level: int | str = logging.WARNING) -> Iterator[logging.Handler]:
    """What the command line does for itself, while one command runs: a rich handler on ``console``.

    The handler goes on the ``ff`` logger (not the root logger), and ``ff`` stops propagating
    while the command runs, so a record is printed once. Use the *same* console as any live
    progress display: rich then prints the record above the bars instead of in the middle of one.
    On exit the ``ff`` logger is as it was (handlers, level, propagation), so a program that
    calls ``main()`` in-process keeps its own logging set-up.
    """
    from rich.logging import RichHandler

    _configure()
    root = logging.getLogger(FF_LOGGER_NAME)
    saved = (root.level, root.propagate)
    handler = RichHandler(console=console, show_path=False, rich_tracebacks=False, markup=False)
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    root.addHandler(handler)
    if not os.environ.get("FF_LOG_LEVEL"):
        root.setLevel(level)
    root.propagate = False
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(saved[0])
        root.propagate = saved[1]
