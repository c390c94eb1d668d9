"""``config.migration``: how a data root is migrated (``main.py migrate``, ``FFMigrationManager``).

These settings used to live in the validation platform's section,
``integration_testing.migration_config``, because the migration engine used to live in
``testing/``. The engine is a product feature now, and so are its settings. The three old keys are
still accepted where they were (:data:`MIGRATION_CONFIG_ALIASES`): in a config file, in an
``FF_INTEGRATION_TESTING__MIGRATION_CONFIG__*`` variable, as keyword arguments and by attribute.
They read and write this section, and setting one warns (``DeprecationWarning``). A value given
both ways, and different, is refused: a setting must have one home.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal

from pydantic import Field, ValidationError

from ff_class_configs._section import FFConfigSection

__all__ = [
    "FFMigrationConfigDTO",
    "MIGRATION_CONFIG_ALIASES",
    "adopt_deprecated_settings",
    "deprecated_settings",
    "warn_deprecated",
]

_OLD = "integration_testing.migration_config"


class FFMigrationConfigDTO(FFConfigSection):
    """Migrating a data root: import batch size, time limit, what to do with corrupt input."""

    batch_size: int = Field(
        1_000, ge=1,
        description="legacy messages handed to a manager per import call (also capped by memory.max_import_messages "
        f"and panel.max_import_messages); deprecated alias: {_OLD}.migration_batch_size",
    )
    timeout_minutes: float = Field(
        60.0, gt=0,
        description="a migration still running after this long stops before anything is swapped in (FFTimeoutError); "
        f"the migration validator holds its whole cycle to it too; deprecated alias: {_OLD}.migration_timeout_minutes",
    )
    corrupt_input_policy: Literal["abort", "quarantine"] = Field(
        "quarantine",
        description="corrupt legacy input: 'abort' refuses the migration before anything is written "
        "(FFCorruptionError); 'quarantine' copies the damaged files aside and imports everything readable; "
        f"deprecated alias: {_OLD}.corrupt_input_policy",
    )


#: Deprecated key under ``integration_testing.migration_config`` -> its key in ``config.migration``.
MIGRATION_CONFIG_ALIASES: dict[str, str] = {
    "migration_batch_size": "batch_size",
    "migration_timeout_minutes": "timeout_minutes",
    "corrupt_input_policy": "corrupt_input_policy",
}


def warn_deprecated(old_key: str, *, stacklevel: int = 2) -> None:
    """One warning per use of an old key, naming the new one (``stacklevel`` as in ``warnings.warn``,
    counted from the caller)."""
    warnings.warn(
        f"{_OLD}.{old_key} is deprecated; set migration.{MIGRATION_CONFIG_ALIASES[old_key]} instead",
        DeprecationWarning, stacklevel=stacklevel + 1,
    )


def deprecated_settings(data: dict[str, Any]) -> tuple[dict[str, Any], FFMigrationConfigDTO | None]:
    """Split the raw ``migration_config`` data into its own keys and the settings given under old keys.

    Raises ValueError (which pydantic reports at ``integration_testing.migration_config``) when an
    old key holds a value the new section refuses.
    """
    moved = {new: data[old] for old, new in MIGRATION_CONFIG_ALIASES.items() if old in data}
    if not moved:
        return data, None
    remaining = {key: value for key, value in data.items() if key not in MIGRATION_CONFIG_ALIASES}
    for old in MIGRATION_CONFIG_ALIASES:
        if old in data:
            warn_deprecated(old)
    try:
        return remaining, FFMigrationConfigDTO.model_validate(moved)
    except ValidationError as exc:
        first = exc.errors()[0]
        new = str(first["loc"][0]) if first["loc"] else "?"
        old = next(o for o, n in MIGRATION_CONFIG_ALIASES.items() if n == new) if new != "?" else "?"
        raise ValueError(f"{old} (deprecated; now migration.{new}): {first['msg']} (got {first.get('input')!r})") from None


def adopt_deprecated_settings(section: FFMigrationConfigDTO, given: FFMigrationConfigDTO) -> None:
    """Copy into ``config.migration`` what was set under the old keys.

    Raises ValueError when a setting was given both ways with different values.
    """
    for name in sorted(given.model_fields_set):
        value = getattr(given, name)
        if name in section.model_fields_set and getattr(section, name) != value:
            old = next(o for o, n in MIGRATION_CONFIG_ALIASES.items() if n == name)
            raise ValueError(
                f"migration.{name} is set twice, to {getattr(section, name)!r} and (under the deprecated "
                f"{_OLD}.{old}) to {value!r}; keep only migration.{name}"
            )
        setattr(section, name, value)
