"""FFToolExecutionManager: a registry of tools, run in a sandbox, every run logged.

One ``execute_tool`` call goes through these gates in order; the first that says no decides:

1. the tool exists (FFNotFoundError) and the arguments fit its parameter model
   (FFValidationError): nothing is spawned, no directory is created, nothing is written;
2. path arguments stay inside the run's working directory (FFSandboxViolationError, published
   as ``tool.refused``; nothing is written);
3. permission, the user's rate limit and the tool's circuit breaker: a refusal is a *result*
   (status ``refused``), logged to ``users/<uid>/tools/runs.jsonl`` and published as
   ``tool.refused``, so forbidden attempts are audited;
4. the run: ``users/<uid>/tools/work/<run_id>/`` is created, staged files are written into it,
   and the tool runs in the sandbox, retried with backoff while it fails transiently (exit 75
   or a declared retryable error). The result is logged and published as ``tool.executed``.

This module is the public door and stays thin: each method checks its input, makes one call
into :mod:`ff_managers._tools` (registry, access, runs, sandbox, resilience) and publishes its
event. How the gates work is documented there (:mod:`ff_managers._tools.runs`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from ff_class_configs.ff_configuration_manager_config import FFConfigurationManagerConfigDTO
from ff_class_configs.ff_tool_dtos import (
    FFBreakerState,
    FFToolDefinitionDTO,
    FFToolInfoDTO,
    FFToolRunResultDTO,
    FFToolUserAccessDTO,
)
from ff_managers._core.checks import check_limit
from ff_managers._tools.access import FFToolAccess
from ff_managers._tools.builtin_defs import builtin_tool_definitions
from ff_managers._tools.registry import FFToolRegistry
from ff_managers._tools.runs import FFToolRuns, Sleep
from ff_managers.ff_component_base import Clock, FFComponentBase
from ff_managers.ff_event_bus import FFEventBus
from ff_utils.ff_errors import FFSandboxViolationError
from ff_utils.ff_ids import ff_validate_id
from ff_utils.ff_store import FFStore

__all__ = ["FFToolExecutionManager"]

_MAX_RUNS_LISTED = 100_000  # a listing is a page, not the whole history (the bound memory's listings use too)


def _run_event(result: FFToolRunResultDTO) -> tuple[str, dict[str, Any]]:
    """``tool.refused`` (policy said no) or ``tool.executed``, with ids and numbers but no content."""
    if result.refusal is not None:
        return "tool.refused", {"tool": result.tool, "reason": result.refusal.value, "run_id": result.run_id}
    return "tool.executed", {
        "run_id": result.run_id, "tool": result.tool, "status": result.status.value,
        "duration_ms": result.duration_ms, "exit_code": result.exit_code,
        "attempts": result.attempts, "limit_exceeded": result.limit_exceeded,
    }  # fmt: skip


class FFToolExecutionManager(FFComponentBase):
    """Registers tools and runs them sandboxed, with permissions, retries, breaker and rate limit."""

    component_name = "tools"

    def __init__(
        self,
        config: FFConfigurationManagerConfigDTO,
        *,
        bus: FFEventBus | None = None,
        clock: Clock | None = None,
        store: FFStore | None = None,
        sleep: Sleep | None = None,
    ) -> None:
        super().__init__(config, bus=bus, clock=clock, store=store)
        self._registry = FFToolRegistry()
        self._access = FFToolAccess(self.store)
        self._runs = FFToolRuns(
            self.store, config.tools, self._registry, self._access, clock=self.clock, sleep=sleep or asyncio.sleep
        )
        if config.tools.register_builtins:
            for definition in builtin_tool_definitions():
                self._registry.register(definition)

    # ------------------------------------------------------------------ registry (sync)

    def register_tool(self, definition: FFToolDefinitionDTO, *, replace: bool = False) -> None:
        """Add a tool. Raises FFConflictError for a taken name unless ``replace``."""
        self._registry.register(definition, replace=replace)
        self._runs.breakers.forget(definition.name)

    def unregister_tool(self, name: str) -> None:
        self._registry.unregister(name)
        self._runs.breakers.forget(name)

    def get_tool(self, name: str) -> FFToolDefinitionDTO:
        return self._registry.get(name)

    def list_tools(self) -> list[FFToolInfoDTO]:
        return self._registry.describe()

    def breaker_state(self, name: str) -> FFBreakerState:
        self._registry.get(name)
        return self._runs.breakers.get(name).state

    # ------------------------------------------------------------------ access (roles, grants)

    async def get_access(self, user_id: str) -> FFToolUserAccessDTO:
        """The user's roles and grants (empty when none were given)."""
        async with self._operation():
            return await self._io(self._access.read, ff_validate_id(user_id, "user_id"))

    async def grant_tool(self, user_id: str, tool_name: str) -> FFToolUserAccessDTO:
        """Give ``user_id`` an explicit grant for ``tool_name`` (required for dangerous tools)."""
        async with self._operation():
            ff_validate_id(user_id, "user_id")
            self._registry.get(tool_name)
            return await self._io(self._access.change, user_id, "grants", tool_name, add=True)

    async def revoke_tool(self, user_id: str, tool_name: str) -> FFToolUserAccessDTO:
        async with self._operation():
            return await self._io(self._access.change, ff_validate_id(user_id, "user_id"), "grants", tool_name, add=False)

    async def assign_role(self, user_id: str, role: str) -> FFToolUserAccessDTO:
        async with self._operation():
            ff_validate_id(user_id, "user_id")
            return await self._io(self._access.change, user_id, "roles", ff_validate_id(role, "role"), add=True)

    async def remove_role(self, user_id: str, role: str) -> FFToolUserAccessDTO:
        async with self._operation():
            ff_validate_id(user_id, "user_id")
            return await self._io(self._access.change, user_id, "roles", ff_validate_id(role, "role"), add=False)

    # ------------------------------------------------------------------ runs

    async def execute_tool(
        self,
        user_id: str,
        tool_name: str,
        arguments: Mapping[str, Any] | None = None,
        *,
        files: Mapping[str, bytes] | None = None,
    ) -> FFToolRunResultDTO:
        """Run ``tool_name`` for ``user_id`` and return how it went.

        ``files`` are staged into the run's working directory (name -> bytes) for tools that
        read files (``extract_text``). Raises FFNotFoundError (no such tool), FFValidationError
        (bad arguments or files) and FFSandboxViolationError (a path outside the working
        directory) before anything runs; refusals by policy come back as status ``refused``.
        """
        async with self._operation():
            ff_validate_id(user_id, "user_id")
            plan = self._runs.plan(user_id, tool_name, arguments, files)
            try:
                self._runs.check_paths(plan)
            except FFSandboxViolationError:
                await self._publish(
                    "tool.refused", {"tool": tool_name, "reason": "sandbox_violation", "run_id": plan.run_id}, user_id=user_id
                )
                raise
            result = await self._runs.execute(plan)
            await self._publish(*_run_event(result), user_id=user_id)
            return result

    async def list_runs(self, user_id: str, *, limit: int = 50) -> list[FFToolRunResultDTO]:
        """The user's last ``limit`` runs (refusals included), oldest first; ``limit`` 0 reads none."""
        async with self._operation():
            ff_validate_id(user_id, "user_id")
            return await self._io(self._runs.recent, user_id, check_limit(limit, maximum=_MAX_RUNS_LISTED, minimum=0))

    async def get_run(self, user_id: str, run_id: str) -> FFToolRunResultDTO:
        """One run of this user; FFNotFoundError if the user has no such run."""
        async with self._operation():
            ff_validate_id(run_id, "run_id")
            return await self._io(self._runs.find, ff_validate_id(user_id, "user_id"), run_id)

    def _health_details(self) -> dict[str, Any]:
        return {"tools": len(self._registry.names()), "open_breakers": self._runs.breakers.not_closed()}
