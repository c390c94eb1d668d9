"""ff_logging: loggers live under one "ff" tree that leaves the application's root logger alone."""

from __future__ import annotations

import logging

import pytest

from ff_utils.ff_logging import get_logger


def test_names_are_under_ff() -> None:
    assert get_logger("json").name == "ff.json"
    assert get_logger("ff.json").name == "ff.json"
    assert get_logger("ff").name == "ff"
    # Regression: any name starting with "ff" used to escape the tree ("ffmpeg" stayed "ffmpeg").
    assert get_logger("ffmpeg").name == "ff.ffmpeg"


def test_ff_tree_has_its_own_handler_and_does_not_propagate() -> None:
    get_logger("x")
    ff_root = logging.getLogger("ff")
    assert ff_root.propagate is False
    # (pytest attaches its capture handlers to both; the ff handler must not be on the root.)
    own = [h for h in ff_root.handlers if h not in logging.getLogger().handlers]
    assert len(own) == 1 and own[0].formatter is not None
    get_logger("y")  # configured once: a second logger adds no second handler
    assert [h for h in ff_root.handlers if h not in logging.getLogger().handlers] == own


def test_messages_reach_the_ff_handler(monkeypatch: pytest.MonkeyPatch) -> None:
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Collect()
    ff_root = logging.getLogger("ff")
    ff_root.addHandler(handler)
    try:
        get_logger("unit").warning("disk %s", "slow")
        get_logger("unit").debug("hidden at the default level")
    finally:
        ff_root.removeHandler(handler)
    assert [(r.name, r.getMessage()) for r in records if r.levelno >= ff_root.getEffectiveLevel()] == [("ff.unit", "disk slow")]
