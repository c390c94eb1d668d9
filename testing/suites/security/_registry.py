"""The security suite's one registry; the group modules add their checks to it on import."""

from __future__ import annotations

from ff_class_configs.ff_integration_testing_config import FFTestingLevel
from testing.runner import FFSuiteRegistry

__all__ = ["REGISTRY"]

REGISTRY = FFSuiteRegistry("security", level=FFTestingLevel.SECURITY)
