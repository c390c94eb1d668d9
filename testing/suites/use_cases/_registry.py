"""The one registry of the use-case suite, kept apart so the category modules can import it."""

from __future__ import annotations

from ff_class_configs.ff_integration_testing_config import FFTestingLevel
from testing.runner import FFSuiteRegistry

__all__ = ["REGISTRY"]

REGISTRY = FFSuiteRegistry("use_cases", level=FFTestingLevel.END_TO_END)
