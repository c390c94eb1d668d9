"""How a test is declared: a small spec object around one async function, registered in a list.

A test is ``async def run(ctx, check)``: it sets up what it needs through ``ctx`` (the wired
managers), acts, and records claims on ``check``. Optional ``setup``/``cleanup`` hooks run around
every attempt; cleanup runs even when the attempt fails.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ff_class_configs.ff_integration_testing_config import FFTestingLevel
from testing.runner._checker import FFChecker

__all__ = ["FFTestSpec", "FFTestFunction", "FFHook", "FFSuiteRegistry"]

FFTestFunction = Callable[[Any, FFChecker], Awaitable[None]]
FFHook = Callable[[Any], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class FFTestSpec:
    """One test: identity, what it exercises, what it needs first, and the function that runs it."""

    test_id: str
    name: str
    suite: str
    run: FFTestFunction
    components: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    """Ordering only: start once these have finished, whatever their outcome (a failed fault test
    must not stop the checks that read the whole run's evidence)."""
    level: FFTestingLevel = FFTestingLevel.INTEGRATION
    timeout_seconds: float | None = None
    setup: FFHook | None = None
    cleanup: FFHook | None = None
    tags: dict[str, str] = field(default_factory=dict)


class FFSuiteRegistry:
    """An ordered list of specs for one suite, filled by a decorator.

    ``@registry.test("name", components=("memory",))`` turns a function into a spec whose id is
    ``<suite>.<function name>``. ``depends_on`` skips the test when a dependency did not
    succeed; ``after`` only orders it behind tests that may fail (absent ones are ignored).
    """

    def __init__(self, suite: str, level: FFTestingLevel = FFTestingLevel.INTEGRATION) -> None:
        self.suite = suite
        self.level = level
        self.specs: list[FFTestSpec] = []

    def test(
        self,
        name: str,
        *,
        components: Iterable[str] = (),
        depends_on: Iterable[str] = (),
        after: Iterable[str] = (),
        timeout_seconds: float | None = None,
        setup: FFHook | None = None,
        cleanup: FFHook | None = None,
        tags: dict[str, str] | None = None,
    ) -> Callable[[FFTestFunction], FFTestFunction]:
        def register(function: FFTestFunction) -> FFTestFunction:
            test_id = f"{self.suite}.{function.__name__}"
            if any(spec.test_id == test_id for spec in self.specs):
                raise ValueError(f"duplicate test id {test_id}")
            self.specs.append(
                FFTestSpec(
                    test_id=test_id,
                    name=name,
                    suite=self.suite,
                    run=function,
                    components=tuple(components),
                    depends_on=tuple(d if "." in d else f"{self.suite}.{d}" for d in depends_on),
                    after=tuple(d if "." in d else f"{self.suite}.{d}" for d in after),
                    level=self.level,
                    timeout_seconds=timeout_seconds,
                    setup=setup,
                    cleanup=cleanup,
                    tags=dict(tags or {}),
                )
            )
            return function

        return register
