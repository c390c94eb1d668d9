"""Logging for FF Platform: ``get_logger(name)`` under one ``ff`` namespace.

On a terminal the handler is rich's (colour, aligned columns); otherwise a plain one-line
format, so CI logs stay grep-able. Configured once, on first use, and only for the ``ff``
logger tree: an application embedding FF Platform keeps control of its own root logger.
"""

from __future__ import annotations

import logging
import os
import sys

__all__ = ["get_logger"]

_configured = False


def _configure() -> None:
    global _configured
    if _configured:
        return
    _configured = True
    root = logging.getLogger("ff")
    level = os.environ.get("FF_LOG_LEVEL", "WARNING").upper()
    root.setLevel(level if level in logging.getLevelNamesMapping() else "WARNING")
    if sys.stderr.isatty():
        from rich.logging import RichHandler

        handler: logging.Handler = RichHandler(show_path=False, rich_tracebacks=False)
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.propagate = False


def get_logger(name: str) -> logging.Logger:
    """The logger ``ff.<name>``; the first call installs the handler."""
    _configure()
    return logging.getLogger(name if name == "ff" or name.startswith("ff.") else f"ff.{name}")
