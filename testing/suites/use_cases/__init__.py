"""The use-case suite: the 22 chat use cases of docs/USE_CASES.md as scripted scenarios.

No model is called: scripted participants produce the turns, and each scenario runs against the
real managers on the run's data root with fresh users of its own, then checks what was stored
and read back (through the managers' APIs and, where it matters, from the files on disk).
Scenarios live in one small module per category; :mod:`._catalog` names them all, and every
result carries ``details["use_case"]`` so the report can lift it into FFUseCaseValidationDTO.
"""

from __future__ import annotations

from testing.suites.use_cases import basic, context_memory, development, multi_participant, specialized  # noqa: F401 (registers)
from testing.suites.use_cases._catalog import CATEGORIES, USE_CASE_CATALOG, FFUseCaseSpec, use_case_spec
from testing.suites.use_cases._registry import REGISTRY

# Report in the catalog's order (the order of docs/USE_CASES.md), whatever order the modules load in.
_POSITION = {spec.use_case_id: index for index, spec in enumerate(USE_CASE_CATALOG)}
REGISTRY.specs.sort(key=lambda spec: _POSITION[spec.test_id.split(".", 1)[1]])

__all__ = ["CATEGORIES", "REGISTRY", "USE_CASE_CATALOG", "FFUseCaseSpec", "use_case_spec"]
