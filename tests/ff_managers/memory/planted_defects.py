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


_recent = conversations.Sessions.recent
_update = conversations.Sessions.update


def recent_ignoring_limit(self: Any, user_id: str, limit: int | None) -> Any:
    """list_sessions returns every session whatever its limit (``limit is None`` inverted):
    mutant Sessions.recent 21."""
    return _recent(self, user_id, None)


def update_refusing_a_cleared_title(self: Any, user_id: str, session_id: str, *, title: object, metadata: object) -> Any:
    """update_session refuses an empty title, so a title cannot be cleared (``allow_empty=False``):
    mutant Sessions.update 15."""
    if title == "":
        raise FFValidationError("title must not be empty", field="title")
    return _update(self, user_id, session_id, title=title, metadata=metadata)


DEFECTS: tuple[PlantedDefect, ...] = (
    PlantedDefect(name="list_sessions_limit_ignored", what=recent_ignoring_limit.__doc__ or "",
                  origin="mutant ff_managers._memory.conversations.xǁSessionsǁrecent__mutmut_21", suite="component",
                  test="memory_contracts", patches=((conversations.Sessions, "recent", recent_ignoring_limit),)),
    PlantedDefect(name="session_title_cannot_be_cleared", what=update_refusing_a_cleared_title.__doc__ or "",
                  origin="mutant ff_managers._memory.conversations.xǁSessionsǁupdate__mutmut_15", suite="component",
                  test="memory_contracts", patches=((conversations.Sessions, "update", update_refusing_a_cleared_title),)),
    PlantedDefect(name="session_metadata_refused_at_its_limit", what=json_object_refused_at_its_limit.__doc__ or "",
                  origin="mutant ff_managers._core.checks.x_check_json_object__mutmut_20", suite="component",
                  test="memory_contracts", patches=((conversations, "check_json_object", json_object_refused_at_its_limit),)),
)
