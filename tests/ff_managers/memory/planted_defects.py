"""Planted defects reaching ``ff_managers._memory``: surviving mutants killed since by a suite
contract check (collected by ``tests/planted_defects``)."""

from __future__ import annotations

from typing import Any

from ff_managers._core.checks import _refuse_non_plain
from ff_managers._memory import conversations
from ff_utils.ff_errors import FFValidationError
from ff_utils.ff_json_utils import ff_dumps, ff_loads
from tests._planted import PlantedDefect

__all__ = ["DEFECTS"]


def json_object_refused_at_its_limit(value: object, *, field: str, max_bytes: int) -> dict[str, Any]:
    """Metadata of exactly max_bytes is refused (``>=`` for ``>``): mutant check_json_object 20,
    as the conversations module (sessions' metadata) sees it."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise FFValidationError(f"{field} must be a mapping, not {type(value).__name__}", field=field)
    _refuse_non_plain(value, field, field, 0)
    encoded = ff_dumps(dict(value))
    if len(encoded) >= max_bytes:
        raise FFValidationError(f"{field} is {len(encoded):,} bytes as JSON; the limit is {max_bytes:,}", field=field)
    copy: dict[str, Any] = ff_loads(encoded)
    return copy


DEFECTS: tuple[PlantedDefect, ...] = (
    PlantedDefect(name="session_metadata_refused_at_its_limit", what=json_object_refused_at_its_limit.__doc__ or "",
                  origin="mutant ff_managers._core.checks.x_check_json_object__mutmut_20", suite="component",
                  test="memory_contracts", patches=((conversations, "check_json_object", json_object_refused_at_its_limit),)),
)
