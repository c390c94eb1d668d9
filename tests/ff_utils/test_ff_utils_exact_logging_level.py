"""FF_LOG_LEVEL (mutation review, issue #20): applied once, case-insensitively, to the ``ff``
logger only, ignored when it names no level; the NullHandler is added once."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from ff_utils import ff_logging
from ff_utils.ff_logging import get_logger


@pytest.fixture
def fresh_ff_logger(monkeypatch: pytest.MonkeyPatch) -> Iterator[logging.Logger]:
    """The ``ff`` logger as before configuration; its level and handlers restored afterwards."""
    ff_root = logging.getLogger("ff")
    saved = (ff_root.level, list(ff_root.handlers))
    monkeypatch.setattr(ff_logging, "_configured", False)
    ff_root.setLevel(logging.NOTSET)
    try:
        yield ff_root
    finally:
        ff_root.setLevel(saved[0])
        ff_root.handlers[:] = saved[1]


def test_the_level_is_read_case_insensitively_and_set_on_ff_only(
    fresh_ff_logger: logging.Logger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FF_LOG_LEVEL", "debug")
    root_level = logging.getLogger().level
    get_logger("x")
    assert fresh_ff_logger.level == logging.DEBUG
    assert logging.getLogger().level == root_level


def test_a_value_that_names_no_level_is_ignored(fresh_ff_logger: logging.Logger, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FF_LOG_LEVEL", "loud")
    get_logger("x")
    assert fresh_ff_logger.level == logging.NOTSET


def test_configuration_happens_once(fresh_ff_logger: logging.Logger, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FF_LOG_LEVEL", "ERROR")
    get_logger("x")
    fresh_ff_logger.setLevel(logging.INFO)  # the application (or cli_logging) changes it later
    get_logger("y")
    assert fresh_ff_logger.level == logging.INFO
    nulls = [h for h in fresh_ff_logger.handlers if isinstance(h, logging.NullHandler)]
    assert len(nulls) == 1


def test_a_second_configuration_adds_no_second_null_handler(
    fresh_ff_logger: logging.Logger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FF_LOG_LEVEL", raising=False)
    get_logger("x")
    monkeypatch.setattr(ff_logging, "_configured", False)
    get_logger("y")
    assert [type(h) for h in fresh_ff_logger.handlers if isinstance(h, logging.NullHandler)] == [logging.NullHandler]
