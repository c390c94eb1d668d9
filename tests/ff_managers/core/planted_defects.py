"""Planted defects inside ``ff_managers._core``: surviving mutants of the shared checks, each
killed since by a suite contract check (collected by ``tests/planted_defects``).

Each replacement is the mutant's function, written out: mutmut's change and nothing else.
"""

from __future__ import annotations

import re

from ff_managers._core import checks
from ff_utils.ff_errors import FFValidationError
from tests._planted import PlantedDefect

__all__ = ["DEFECTS"]


def checked_text_refuses_at_the_limit(value: object, field: str, max_chars: int, allow_empty: bool, refused: re.Pattern[str]) -> str:
    """Text of exactly max_chars characters is refused (``>=`` for ``>``): mutant _checked_text 14."""
    if not isinstance(value, str):
        raise FFValidationError(f"{field} must be text, not {type(value).__name__}", field=field)
    if not allow_empty and not value.strip():
        raise FFValidationError(f"{field} is empty", field=field)
    if len(value) >= max_chars:
        raise FFValidationError(f"{field} has {len(value):,} characters; the limit is {max_chars:,}", field=field)
    found = refused.search(value)
    if found is not None:
        raise FFValidationError(f"{field} holds the control character U+{ord(found.group()):04X} at position {found.start()}",
                                field=field, value=value[:60])
    return value


_MUTANT = "mutant ff_managers._core.checks.x__checked_text__mutmut_14"

DEFECTS: tuple[PlantedDefect, ...] = tuple(
    PlantedDefect(name=f"{name}_refused_at_its_limit", what=checked_text_refuses_at_the_limit.__doc__ or "", origin=_MUTANT,
                  suite="component", test=test, patches=((checks, "_checked_text", checked_text_refuses_at_the_limit),))
    for name, test in (("memory_content", "memory_contracts"), ("panel_content", "panel_contracts"))
)
