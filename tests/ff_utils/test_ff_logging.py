"""ff_logging: a library's logging (NullHandler, propagation on); the CLI configures its own."""

from __future__ import annotations

import io
import logging

import pytest
from rich.console import Console

from ff_utils.ff_logging import cli_logging, get_logger


def test_names_are_under_ff() -> None:
    assert get_logger("json").name == "ff.json"
    assert get_logger("ff.json").name == "ff.json"
    assert get_logger("ff").name == "ff"
    # Regression: any name starting with "ff" used to escape the tree ("ffmpeg" stayed "ffmpeg").
    assert get_logger("ffmpeg").name == "ff.ffmpeg"


def test_ff_has_only_a_null_handler_and_propagates() -> None:
    get_logger("x")
    get_logger("y")
    ff_root = logging.getLogger("ff")
    assert ff_root.propagate is True
    # (pytest attaches its capture handlers to the root; ff itself holds exactly one NullHandler.)
    own = [h for h in ff_root.handlers if h not in logging.getLogger().handlers]
    assert [type(h) for h in own] == [logging.NullHandler]


def test_records_reach_the_applications_root_handler(caplog: pytest.LogCaptureFixture) -> None:
    """The application's logging set-up sees ff's records (it was bypassed before)."""
    with caplog.at_level(logging.WARNING):
        get_logger("unit").warning("disk %s", "slow")
        get_logger("unit").debug("hidden at WARNING")
    assert [(r.name, r.getMessage()) for r in caplog.records] == [("ff.unit", "disk slow")]


def test_cli_logging_prints_on_the_given_console_and_restores_the_logger() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, width=120, force_terminal=False)
    ff_root = logging.getLogger("ff")
    before = (list(ff_root.handlers), ff_root.level, ff_root.propagate)
    with cli_logging(console) as handler:
        assert handler in ff_root.handlers and ff_root.propagate is False
        get_logger("cli").warning("handler broke on %s", "memory.session_created")
    assert "ff.cli: handler broke on memory.session_created" in buffer.getvalue()
    assert (list(ff_root.handlers), ff_root.level, ff_root.propagate) == before
