"""The one configuration object every manager takes, and :func:`load_config` that builds it.

Precedence, lowest first: built-in defaults < the environment's preset < the JSON file (its
top level, then its ``environments.<name>`` block) < ``FF_*`` environment variables < keyword
arguments. Environment variables address nested fields with ``__``:
``FF_STORAGE__DURABILITY=batch``, ``FF_INTEGRATION_TESTING__PERFORMANCE_CONFIG__CONCURRENT_USERS=4``;
``FF_BASE_PATH`` and ``FF_ENVIRONMENT`` are short forms.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ff_class_configs.ff_comm_config import FFCommConfigDTO
from ff_class_configs.ff_integration_testing_config import FFIntegrationTestingConfigDTO, FFTestEnvironment
from ff_class_configs.ff_knowledge_config import FFKnowledgeConfigDTO
from ff_class_configs.ff_memory_config import FFMemoryConfigDTO
from ff_class_configs.ff_metrics_config import FFMetricsConfigDTO
from ff_class_configs.ff_migration_config import FFMigrationConfigDTO
from ff_class_configs.ff_panel_config import FFPanelConfigDTO
from ff_class_configs.ff_service_config import FFServiceConfigDTO
from ff_class_configs.ff_tool_config import FFToolConfigDTO
from ff_class_configs.ff_storage_config import FFStorageConfigDTO
from ff_utils.ff_errors import FFConfigError

__all__ = ["FFConfigurationManagerConfigDTO", "load_config", "ENVIRONMENT_PRESETS"]


class FFConfigurationManagerConfigDTO(BaseModel):
    """Everything FF Platform can be configured with, in one validated object."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    environment: FFTestEnvironment = Field(
        FFTestEnvironment.DEVELOPMENT, description="preset applied under the file and variables (see ENVIRONMENT_PRESETS)"
    )
    storage: FFStorageConfigDTO = Field(default_factory=FFStorageConfigDTO)
    memory: FFMemoryConfigDTO = Field(default_factory=FFMemoryConfigDTO)
    panel: FFPanelConfigDTO = Field(default_factory=FFPanelConfigDTO)
    knowledge: FFKnowledgeConfigDTO = Field(default_factory=FFKnowledgeConfigDTO)
    tools: FFToolConfigDTO = Field(default_factory=FFToolConfigDTO)
    metrics: FFMetricsConfigDTO = Field(default_factory=FFMetricsConfigDTO)
    migration: FFMigrationConfigDTO = Field(default_factory=FFMigrationConfigDTO)
    service: FFServiceConfigDTO = Field(default_factory=FFServiceConfigDTO)
    comm: FFCommConfigDTO = Field(default_factory=FFCommConfigDTO)
    integration_testing: FFIntegrationTestingConfigDTO = Field(default_factory=FFIntegrationTestingConfigDTO)

    @model_validator(mode="after")
    def _link_deprecated_migration_settings(self) -> FFConfigurationManagerConfigDTO:
        """``integration_testing.migration_config``'s old migration keys read and write ``migration``
        (runs again whenever either section is assigned)."""
        self.integration_testing.link(self.migration)
        return self

    def with_base_path(self, base_path: Path | str) -> FFConfigurationManagerConfigDTO:
        """A copy pointing at another data root (test runs use a fresh one)."""
        copy = self.model_copy(deep=True)
        copy.storage.base_path = Path(base_path)
        return copy


ENVIRONMENT_PRESETS: dict[str, dict[str, Any]] = {
    "development": {},
    "staging": {"integration_testing": {"test_environment": "staging"}},
    "production_like": {
        "integration_testing": {
            "test_environment": "production_like",
            "performance_config": {"concurrent_users": 16, "test_duration_seconds": 30},
        }
    },
    "performance": {
        "integration_testing": {
            "test_environment": "performance",
            "performance_config": {"profile": "full", "concurrent_users": 32, "test_duration_seconds": 120},
        }
    },
}

_ENV_PREFIX = "FF_"
_ENV_SHORT_FORMS = {"FF_BASE_PATH": ("storage", "base_path"), "FF_ENVIRONMENT": ("environment",)}
_ENV_IGNORED = {"FF_LOG_LEVEL"}


def _deep_merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _nest(keys: tuple[str, ...], value: Any) -> dict[str, Any]:
    nested: Any = value
    for key in reversed(keys):
        nested = {key: nested}
    return nested


def _env_value(raw: str) -> Any:
    """Numbers, booleans and lists arrive as JSON; anything else is a plain string."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw


def _from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    """The ``FF_*`` variables that name a config field, as a nested dict.

    Only variables whose first part is a top-level field (``FF_STORAGE__...``) are read, so an
    unrelated ``FF_SOMETHING`` in the environment does not break start-up; inside a known
    section an unknown field is still an error (a typo should not pass silently).
    """
    layer: dict[str, Any] = {}
    sections = set(FFConfigurationManagerConfigDTO.model_fields)
    for name, raw in environ.items():
        if not name.startswith(_ENV_PREFIX) or name in _ENV_IGNORED:
            continue
        keys = _ENV_SHORT_FORMS.get(name) or tuple(part.lower() for part in name[len(_ENV_PREFIX):].split("__"))
        if keys[0] not in sections:
            continue
        value = raw if keys[-1] in ("base_path",) else _env_value(raw)
        layer = _deep_merge(layer, _nest(keys, value))
    return layer


def _read_file(path: Path) -> dict[str, Any]:
    try:
        data = orjson.loads(path.read_bytes())
    except FileNotFoundError as exc:
        raise FFConfigError(f"config file not found: {path}", path=path) from exc
    except orjson.JSONDecodeError as exc:
        raise FFConfigError(f"config file is not valid JSON: {exc}", path=path) from exc
    except OSError as exc:
        raise FFConfigError(f"config file unreadable: {exc.strerror}", path=path) from exc
    if not isinstance(data, dict):
        raise FFConfigError("config file must hold a JSON object", path=path)
    return data


def _describe(exc: ValidationError) -> str:
    errors = exc.errors()
    first = errors[0]
    where = ".".join(str(p) for p in first["loc"]) or "config"
    got = first.get("input")
    shown = f" (got {got!r})" if not isinstance(got, (dict, list)) else ""
    more = f"; and {len(errors) - 1} more problem(s)" if len(errors) > 1 else ""
    return f"invalid config: {where}: {first['msg']}{shown}{more}"


def load_config(
    path: Path | str | None = None,
    *,
    environment: str | None = None,
    base_path: Path | str | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> FFConfigurationManagerConfigDTO:
    """Build the configuration from defaults, a JSON file, ``FF_*`` variables and arguments.

    Raises FFConfigError with one line naming the field and the allowed values when any layer
    holds a bad value.
    """
    env_layer = _from_environment(os.environ if environ is None else environ)
    file_layer = _read_file(Path(path)) if path is not None else {}
    chosen = environment or env_layer.get("environment") or file_layer.get("environment") or "development"
    if chosen not in ENVIRONMENT_PRESETS:
        allowed = ", ".join(ENVIRONMENT_PRESETS)
        raise FFConfigError(f"invalid config: environment: must be one of {allowed} (got {chosen!r})", field="environment")
    per_environment = file_layer.pop("environments", {}) if isinstance(file_layer.get("environments"), dict) else {}
    merged: dict[str, Any] = {}
    for layer in (ENVIRONMENT_PRESETS[chosen], file_layer, per_environment.get(chosen, {}), env_layer, overrides or {}):
        merged = _deep_merge(merged, layer)
    merged["environment"] = chosen
    if base_path is not None:
        merged = _deep_merge(merged, {"storage": {"base_path": str(base_path)}})
    try:
        return FFConfigurationManagerConfigDTO.model_validate(merged)
    except ValidationError as exc:
        raise FFConfigError(_describe(exc)) from exc
