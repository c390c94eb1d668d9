"""The tool registry: definitions by name, argument validation, path checks, permission rules.

Pure logic, no I/O: the manager asks it questions before anything runs, so a bad argument, a
path outside the work dir or a missing permission is answered without spawning a process or
creating a directory.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ff_class_configs.ff_tool_config import FFToolConfigDTO
from ff_class_configs.ff_tool_dtos import FFToolDefinitionDTO, FFToolInfoDTO, FFToolLimitsDTO, FFToolRefusal
from ff_managers._core.errors import validate_input
from ff_utils.ff_errors import FFConflictError, FFNotFoundError, FFSandboxViolationError, FFValidationError
from ff_utils.ff_file_ops import ff_safe_path

__all__ = ["FFToolRegistry", "ff_check_path_arguments", "ff_effective_limits", "ff_permission_refusal"]


class FFToolRegistry:
    """Tool definitions by name. Registration is synchronous: it touches no disk."""

    def __init__(self) -> None:
        self._tools: dict[str, FFToolDefinitionDTO] = {}

    def register(self, definition: FFToolDefinitionDTO, *, replace: bool = False) -> None:
        """Add ``definition``; FFConflictError if the name is taken and ``replace`` is False."""
        if not isinstance(definition, FFToolDefinitionDTO):
            raise FFValidationError("register_tool takes an FFToolDefinitionDTO", field="definition")
        if definition.name in self._tools and not replace:
            raise FFConflictError(f"tool {definition.name!r} is already registered", tool=definition.name)
        fields = definition.parameters.model_fields
        missing = [name for name in definition.path_arguments if name not in fields]
        if missing:
            raise FFValidationError(f"path_arguments not among the parameters: {missing}", field="path_arguments")
        self._tools[definition.name] = definition

    def unregister(self, name: str) -> None:
        self.get(name)
        del self._tools[name]

    def get(self, name: str) -> FFToolDefinitionDTO:
        """The definition of ``name``; FFNotFoundError when there is none."""
        definition = self._tools.get(name) if isinstance(name, str) else None
        if definition is None:
            raise FFNotFoundError(f"no tool named {name!r}", kind="tool", key=str(name))
        return definition

    def names(self) -> list[str]:
        return sorted(self._tools)

    def describe(self) -> list[FFToolInfoDTO]:
        return [
            FFToolInfoDTO(
                name=d.name,
                description=d.description,
                parameters_schema=d.parameters.model_json_schema(),
                dangerous=d.permissions.dangerous,
                allowed_users=list(d.permissions.allowed_users),
                allowed_roles=list(d.permissions.allowed_roles),
            )
            for _, d in sorted(self._tools.items())
        ]

    @staticmethod
    def validate_arguments(definition: FFToolDefinitionDTO, arguments: dict[str, Any]) -> dict[str, Any]:
        """Plain JSON ``arguments`` checked against the tool's parameter model, as plain JSON data.

        Raises FFValidationError naming the first bad field (``arguments.<name>``).
        """
        model = validate_input(
            definition.parameters, arguments, field="arguments", action=f"run {definition.name}", tool=definition.name
        )
        return model.model_dump(mode="json", exclude_none=True)


def ff_check_path_arguments(definition: FFToolDefinitionDTO, arguments: Mapping[str, Any], work_dir: Path) -> None:
    """Refuse (FFSandboxViolationError) any path argument that would leave ``work_dir``.

    Lexical checks and symlinks below ``work_dir`` both count; the directory need not exist yet.
    """
    for name in definition.path_arguments:
        value = arguments.get(name)
        if value is None:
            continue
        try:
            ff_safe_path(work_dir, value)
        except FFValidationError as exc:
            raise FFSandboxViolationError(
                f"argument {name!r} of {definition.name} is outside the tool's working directory: {exc.message}",
                tool=definition.name,
                field=name,
            ) from exc


def ff_permission_refusal(
    definition: FFToolDefinitionDTO, user_id: str, *, roles: Iterable[str], grants: Iterable[str]
) -> FFToolRefusal | None:
    """Why ``user_id`` may not run the tool, or None when they may (see FFToolPermissionsDTO)."""
    rules = definition.permissions
    granted = definition.name in set(grants)
    open_to_all = not rules.allowed_users and not rules.allowed_roles
    listed = user_id in rules.allowed_users or bool(set(roles) & set(rules.allowed_roles))
    if rules.dangerous:  # two keys: admitted by the lists, and granted explicitly
        if not (open_to_all or listed):
            return FFToolRefusal.NOT_PERMITTED
        return None if granted else FFToolRefusal.GRANT_REQUIRED
    return None if open_to_all or listed or granted else FFToolRefusal.NOT_PERMITTED


def ff_effective_limits(definition: FFToolDefinitionDTO, config: FFToolConfigDTO) -> FFToolLimitsDTO:
    """The tool's limits with every unset field taken from the configuration defaults."""
    own = definition.limits
    return FFToolLimitsDTO(
        wall_time_seconds=own.wall_time_seconds or config.default_wall_time_seconds,
        cpu_time_seconds=own.cpu_time_seconds or config.default_cpu_time_seconds,
        memory_mb=own.memory_mb or config.default_memory_mb,
        max_output_bytes=own.max_output_bytes or config.default_max_output_bytes,
        max_processes=own.max_processes or config.default_max_processes,
        max_open_files=own.max_open_files or config.default_max_open_files,
        max_file_bytes=own.max_file_bytes or config.default_max_file_bytes,
    )
