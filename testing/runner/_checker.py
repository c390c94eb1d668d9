"""FFChecker: what a test uses to record assertions, timed steps and measured figures.

A failed assertion does not stop the test (so a report lists every broken claim, not only the
first), but the test fails. A test that records no assertion at all is an error: a check that
cannot fail is worse than none.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

from ff_class_configs.ff_test_result_dtos import FFAssertionDTO, FFStepTimingDTO
from ff_utils.ff_errors import FFError

__all__ = ["FFChecker", "FFCheckFailed"]

_SHOWN = 160


def _short(value: Any) -> str:
    text = f"{value:.6g}" if isinstance(value, float) else repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


class FFCheckFailed(AssertionError):
    """Raised by :meth:`FFChecker.require` when a test cannot meaningfully go on."""


class FFChecker:
    """Collects the evidence of one test attempt."""

    def __init__(self) -> None:
        self.assertions: list[FFAssertionDTO] = []
        self.steps: list[FFStepTimingDTO] = []
        self.metrics: dict[str, float] = {}
        self.details: dict[str, Any] = {}
        self.warnings: list[str] = []

    # ----------------------------------------------------------------- assertions

    def that(self, condition: object, description: str, detail: str = "") -> bool:
        """Record a claim; return whether it held (so tests can branch on it)."""
        passed = bool(condition)
        self.assertions.append(FFAssertionDTO(description=description, passed=passed, detail="" if passed else detail))
        return passed

    def equal(self, actual: Any, expected: Any, description: str) -> bool:
        shown_expected, shown_actual = _short(expected), _short(actual)
        if shown_expected == shown_actual:  # differ beyond the short form: show every digit
            shown_expected, shown_actual = repr(expected), repr(actual)
        return self.that(actual == expected, description, f"expected {shown_expected}, got {shown_actual}")

    def at_least(self, actual: float, minimum: float, description: str) -> bool:
        return self.that(actual >= minimum, description, f"expected >= {_short(minimum)}, got {_short(actual)}")

    def at_most(self, actual: float, maximum: float, description: str) -> bool:
        return self.that(actual <= maximum, description, f"expected <= {_short(maximum)}, got {_short(actual)}")

    def require(self, condition: object, description: str, detail: str = "") -> None:
        """Like :meth:`that`, but stop the test when the claim fails (later steps depend on it)."""
        if not self.that(condition, description, detail):
            raise FFCheckFailed(f"{description}: {detail}" if detail else description)

    @contextlib.contextmanager
    def raises(self, error_type: type[BaseException], description: str) -> Iterator[None]:
        """Record that the body raised ``error_type`` (and only that)."""
        try:
            yield
        except error_type:
            self.that(True, description)
        except FFError as exc:
            self.that(False, description, f"expected {error_type.__name__}, got {type(exc).__name__}: {exc}")
        else:
            self.that(False, description, f"expected {error_type.__name__}, nothing was raised")

    # ----------------------------------------------------------------- timing and figures

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Time a named step; a step that raises is recorded as not ok and the error propagates."""
        started = time.perf_counter()
        ok = False
        try:
            yield
            ok = True
        finally:
            self.steps.append(FFStepTimingDTO(name=name, duration_ms=(time.perf_counter() - started) * 1000, ok=ok))

    def metric(self, name: str, value: float) -> None:
        self.metrics[name] = float(value)

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    @property
    def failed_assertions(self) -> list[FFAssertionDTO]:
        return [a for a in self.assertions if not a.passed]

    def first_failure(self) -> str:
        failed = self.failed_assertions
        if not failed:
            return ""
        first = failed[0]
        return f"{first.description}: {first.detail}" if first.detail else first.description
