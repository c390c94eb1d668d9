"""The comparison's equivalences: the one table of what may differ between a legacy record and its
reconstruction from the target without being a difference.

Each rule names the record kinds and the fields it covers; nothing outside :data:`EQUIVALENCE_RULES`
is forgiven. The table is listed in the migration report's summary (``comparison.equivalences``)
and every field comparison a rule settles is counted per rule (``comparison.forgiven``).

* ``absent-is-default``: a field the legacy record omits equals the target's documented default
  for it (:data:`TARGET_DEFAULTS`);
* ``null-is-absent``: an explicit ``null`` in the legacy record equals an absent field, or the
  target's default, for the fields the legacy reader treats that way (:data:`NULL_AS_ABSENT`);
* ``same-instant``: timestamp fields (:data:`TIMESTAMP_FIELDS`) are equal when they name the same
  instant: epoch seconds or milliseconds, ``Z`` and ``+00:00`` offsets, ``.5`` and ``.500000``
  are all the same time (parsed by the rule the imports use). A naive legacy time is kept naive: it equals only the same naive wall time, never an aware
  one (no time zone is guessed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ff_managers._migration.legacy_format import parse_timestamp

__all__ = [
    "EQUIVALENCE_RULES",
    "NULL_AS_ABSENT",
    "TARGET_DEFAULTS",
    "TIMESTAMP_FIELDS",
    "FFEquivalenceRule",
    "FFFieldComparer",
    "rules_summary",
]


@dataclass(frozen=True)
class FFEquivalenceRule:
    rule_id: str
    applies_to: str
    statement: str


#: Record kind -> field -> the target's documented default for it.
TARGET_DEFAULTS: dict[str, dict[str, Any]] = {
    "message": {"attachments": [], "metadata": {}},
    "panel_message": {},
    "profile": {},
    "session": {},
}
#: Record kind -> fields whose ``null`` the legacy reader reads as "absent".
NULL_AS_ABSENT: dict[str, frozenset[str]] = {
    "message": frozenset({"attachments", "metadata", "message_id", "timestamp"}),
    "panel_message": frozenset({"message_id"}),
    "profile": frozenset(),
    "session": frozenset(),
}
#: Record kind -> its timestamp fields.
TIMESTAMP_FIELDS: dict[str, frozenset[str]] = {
    "message": frozenset({"timestamp"}),
    "panel_message": frozenset({"timestamp"}),
    "profile": frozenset({"created_at", "updated_at"}),
    "session": frozenset({"created_at", "updated_at"}),
}


def _fields(table: dict[str, Any]) -> str:
    return "; ".join(f"{kind}: {', '.join(sorted(fields))}" for kind, fields in table.items() if fields)


EQUIVALENCE_RULES: tuple[FFEquivalenceRule, ...] = (
    FFEquivalenceRule("absent-is-default", _fields(TARGET_DEFAULTS),
                      "a field the legacy record omits equals the target's default for it "
                      "(message attachments [] and metadata {})"),
    FFEquivalenceRule("null-is-absent", _fields(NULL_AS_ABSENT),
                      "an explicit null equals an absent field or the target's default (the legacy reader treats them alike)"),
    FFEquivalenceRule("same-instant", _fields(TIMESTAMP_FIELDS),
                      "timestamps are equal as instants (ISO with any offset, epoch seconds or milliseconds); "
                      "a naive time stays naive and equals only the same naive time"),
)


def rules_summary() -> list[str]:
    """The table as the report prints it: one line a rule."""
    return [f"{r.rule_id}: {r.statement} (applies to {r.applies_to})" for r in EQUIVALENCE_RULES]


def same_instant(expected: Any, actual: Any) -> bool:
    """Both timestamps, and the same instant (aware) or the same wall time (both naive)."""
    a, b = parse_timestamp(expected), parse_timestamp(actual)
    if a is None or b is None or (a.tzinfo is None) != (b.tzinfo is None):
        return False
    return a == b


_ABSENT = object()


class FFFieldComparer:
    """Compares records field by field under :data:`EQUIVALENCE_RULES`, counting what each rule settled."""

    def __init__(self, out: list[str]) -> None:
        self.out = out
        self.forgiven: dict[str, int] = {r.rule_id: 0 for r in EQUIVALENCE_RULES}
        self.fields = 0

    def _equal(self, kind: str, key: str, expected: Any, actual: Any) -> bool:
        if expected is not _ABSENT and actual is not _ABSENT and expected == actual:
            return True
        defaults = TARGET_DEFAULTS.get(kind, {})
        if expected is _ABSENT and key in defaults and actual == defaults[key]:
            self.forgiven["absent-is-default"] += 1
            return True
        if expected is None and key in NULL_AS_ABSENT.get(kind, ()) and (actual is _ABSENT or (key in defaults and actual == defaults[key])):
            self.forgiven["null-is-absent"] += 1
            return True
        if key in TIMESTAMP_FIELDS.get(kind, ()) and same_instant(expected, actual):
            self.forgiven["same-instant"] += 1
            return True
        return False

    def diff(self, where: str, kind: str, expected: dict[str, Any], actual: dict[str, Any]) -> None:
        """Append one line per key that differs under no rule."""
        for key in sorted(set(expected) | set(actual)):
            exp, act = expected.get(key, _ABSENT), actual.get(key, _ABSENT)
            self.fields += 1
            if self._equal(kind, key, exp, act):
                continue
            if act is _ABSENT:
                self.out.append(f"{where}: field {key!r} missing in target")
            elif exp is _ABSENT:
                self.out.append(f"{where}: field {key!r} only in target")
            else:
                self.out.append(f"{where}: field {key!r} differs: {str(exp)[:60]!r} != {str(act)[:60]!r}")
