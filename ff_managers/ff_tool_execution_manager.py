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
   and the tool runs in the sandbox (:mod:`ff_managers._tools.sandbox`), retried with backoff
   while it fails transiently (exit 75 or a declared retryable error). The result is logged
   and published as ``tool.executed``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import orjson

from ff_class_configs.ff_configuration_manager_config import FFConfigurationManagerConfigDTO
from ff_class_configs.ff_tool_dtos import (
    FFToolDefinitionDTO,
    FFToolInfoDTO,
    FFToolRefusal,
    FFToolRunResultDTO,
    FFToolRunStatus,
    FFToolUserAccessDTO,
)
from ff_managers._tools.builtin_defs import TOOLS_PACKAGE_PARENT, builtin_tool_definitions
from ff_managers._tools.registry import (
    FFToolRegistry,
    ff_check_path_arguments,
    ff_effective_limits,
    ff_permission_refusal,
)
from ff_managers._tools.resilience import FFBreakerState, FFCircuitBreaker, FFUserRateLimiter, ff_retry
from ff_managers._tools.sandbox import FFSandboxOutcome, FFSandboxRequest, ff_build_environment, ff_run_sandboxed
from ff_managers.ff_component_base import Clock, FFComponentBase
from ff_managers.ff_event_bus import FFEventBus
from ff_utils.ff_errors import FFNotFoundError, FFSandboxViolationError, FFValidationError
from ff_utils.ff_file_ops import ff_atomic_write, ff_ensure_directory, ff_remove_tree
from ff_utils.ff_ids import ff_new_id, ff_validate_id
from ff_utils.ff_json_utils import (
    ff_append_jsonl,
    ff_dumps,
    ff_read_json,
    ff_read_jsonl,
    ff_tail_jsonl,
    ff_update_json,
)

__all__ = ["FFToolExecutionManager"]

Sleep = Callable[[float], Awaitable[None]]

# Exit codes meaning "your input was refused": the tool is healthy, so the breaker counts a success.
_INPUT_REFUSED_EXIT_CODES = frozenset({64, 65, 77})
_FAILED = frozenset({FFToolRunStatus.ERROR, FFToolRunStatus.TIMEOUT, FFToolRunStatus.KILLED})


def _parse_stdout(stdout: bytes) -> tuple[bool, Any]:
    """(parsed, value) of the tool's stdout; a tool's bad JSON is its failure, not corruption."""
    if not stdout.strip():
        return False, None
    try:
        return True, orjson.loads(stdout)
    except orjson.JSONDecodeError:
        return False, None


def _declared_error(document: Any) -> dict[str, Any] | None:
    if isinstance(document, dict) and isinstance(document.get("error"), dict):
        return document["error"]
    return None


class FFToolExecutionManager(FFComponentBase):
    """Registers tools and runs them sandboxed, with permissions, retries, breaker and rate limit."""

    component_name = "tools"

    def __init__(
        self,
        config: FFConfigurationManagerConfigDTO,
        *,
        bus: FFEventBus | None = None,
        clock: Clock | None = None,
        sleep: Sleep | None = None,
    ) -> None:
        super().__init__(config, bus=bus, clock=clock)
        self._settings = config.tools
        self._sleep: Sleep = sleep or asyncio.sleep
        self._registry = FFToolRegistry()
        self._breakers: dict[str, FFCircuitBreaker] = {}
        self._rate_limiter = FFUserRateLimiter(self._settings.rate_limit_per_minute, now=self._seconds)
        if self._settings.register_builtins:
            for definition in builtin_tool_definitions():
                self._registry.register(definition)

    def _seconds(self) -> float:
        return self.clock().timestamp()

    # ------------------------------------------------------------------ registry (sync)

    def register_tool(self, definition: FFToolDefinitionDTO, *, replace: bool = False) -> None:
        """Add a tool. Raises FFConflictError for a taken name unless ``replace``."""
        self._registry.register(definition, replace=replace)
        self._breakers.pop(definition.name, None)

    def unregister_tool(self, name: str) -> None:
        self._registry.unregister(name)
        self._breakers.pop(name, None)

    def get_tool(self, name: str) -> FFToolDefinitionDTO:
        return self._registry.get(name)

    def list_tools(self) -> list[FFToolInfoDTO]:
        return self._registry.describe()

    def breaker_state(self, name: str) -> FFBreakerState:
        self._registry.get(name)
        return self._breaker(name).state

    def _breaker(self, name: str) -> FFCircuitBreaker:
        breaker = self._breakers.get(name)
        if breaker is None:
            breaker = self._breakers[name] = FFCircuitBreaker(
                threshold=self._settings.breaker_failure_threshold,
                cooldown=self._settings.breaker_cooldown_seconds,
                now=self._seconds,
            )
        return breaker

    # ------------------------------------------------------------------ access (roles, grants)

    def _access_path(self, user_id: str) -> Path:
        return self._path("users", ff_validate_id(user_id, "user_id"), "tools", "access.json")

    async def get_access(self, user_id: str) -> FFToolUserAccessDTO:
        """The user's roles and grants (empty when none were given)."""
        async with self._operation():
            path = self._access_path(user_id)
            data = await self._io(ff_read_json, path, None)
            return FFToolUserAccessDTO.model_validate(data) if data else FFToolUserAccessDTO(user_id=user_id)

    async def _change_access(self, user_id: str, field: str, value: str, add: bool) -> FFToolUserAccessDTO:
        path = self._access_path(user_id)

        def update(current: dict[str, Any] | None) -> dict[str, Any]:
            access = FFToolUserAccessDTO.model_validate(current) if current else FFToolUserAccessDTO(user_id=user_id)
            values = set(getattr(access, field))
            values.add(value) if add else values.discard(value)
            return access.model_copy(update={field: sorted(values)}).model_dump(mode="json")

        data = await self._io(ff_update_json, path, update, default=None, durability=self.config.storage.durability)
        return FFToolUserAccessDTO.model_validate(data)

    async def grant_tool(self, user_id: str, tool_name: str) -> FFToolUserAccessDTO:
        """Give ``user_id`` an explicit grant for ``tool_name`` (required for dangerous tools)."""
        async with self._operation():
            self._registry.get(tool_name)
            return await self._change_access(user_id, "grants", tool_name, True)

    async def revoke_tool(self, user_id: str, tool_name: str) -> FFToolUserAccessDTO:
        async with self._operation():
            return await self._change_access(user_id, "grants", tool_name, False)

    async def assign_role(self, user_id: str, role: str) -> FFToolUserAccessDTO:
        async with self._operation():
            return await self._change_access(user_id, "roles", ff_validate_id(role, "role"), True)

    async def remove_role(self, user_id: str, role: str) -> FFToolUserAccessDTO:
        async with self._operation():
            return await self._change_access(user_id, "roles", ff_validate_id(role, "role"), False)

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
            definition = self._registry.get(tool_name)
            validated = self._registry.validate_arguments(definition, arguments or {})
            payload = ff_dumps(validated)
            if len(payload) > self._settings.max_argument_bytes:
                raise FFValidationError(
                    f"arguments of {len(payload):,} bytes exceed {self._settings.max_argument_bytes:,}", field="arguments"
                )
            staged = self._check_files(files)
            run_id = ff_new_id("run-")
            work_dir = self._work_dir(user_id, run_id)
            try:
                ff_check_path_arguments(definition, validated, work_dir)
            except FFSandboxViolationError:
                await self._publish(
                    "tool.refused", {"tool": tool_name, "reason": "sandbox_violation", "run_id": run_id}, user_id=user_id
                )
                raise
            started_at = self.clock()
            refusal = await self._policy_refusal(user_id, definition)
            if refusal is not None:
                result = FFToolRunResultDTO(
                    run_id=run_id, tool=tool_name, user_id=user_id, status=FFToolRunStatus.REFUSED,
                    started_at=started_at, arguments=validated, refusal=refusal,
                    error=f"refused: {refusal.value.replace('_', ' ')}",
                )  # fmt: skip
                await self._record(result)
                await self._publish(
                    "tool.refused", {"tool": tool_name, "reason": refusal.value, "run_id": run_id}, user_id=user_id
                )
                return result
            breaker = self._breaker(tool_name)
            try:
                await self._io(self._prepare_work_dir, work_dir, staged)
                result = await self._run(definition, user_id, run_id, work_dir, validated, payload, started_at)
            except BaseException:
                breaker.release_trial()
                raise
            if result.status in _FAILED and result.exit_code not in _INPUT_REFUSED_EXIT_CODES:
                breaker.record_failure()
            else:
                breaker.record_success()
            await self._record(result)
            if not self._settings.keep_work_dirs:
                await self._io(ff_remove_tree, work_dir)
            await self._publish(
                "tool.executed",
                {
                    "run_id": run_id, "tool": tool_name, "status": result.status.value,
                    "duration_ms": result.duration_ms, "exit_code": result.exit_code,
                    "attempts": result.attempts, "limit_exceeded": result.limit_exceeded,
                },
                user_id=user_id,
            )  # fmt: skip
            return result

    async def list_runs(self, user_id: str, *, limit: int = 50) -> list[FFToolRunResultDTO]:
        """The user's last ``limit`` runs (refusals included), oldest first."""
        async with self._operation():
            path = self._runs_path(user_id)
            records = await self._io(ff_tail_jsonl, path, limit)
            return [FFToolRunResultDTO.model_validate(r) for r in records]

    async def get_run(self, user_id: str, run_id: str) -> FFToolRunResultDTO:
        """One run of this user; FFNotFoundError if the user has no such run."""
        async with self._operation():
            ff_validate_id(run_id, "run_id")
            path = self._runs_path(user_id)

            def find() -> dict[str, Any] | None:
                return next((r for r in ff_read_jsonl(path) if r.get("run_id") == run_id), None)

            record = await self._io(find)
            if record is None:
                raise FFNotFoundError(f"no run {run_id} for user {user_id}", kind="tool_run", key=run_id)
            return FFToolRunResultDTO.model_validate(record)

    # ------------------------------------------------------------------ internals

    def _runs_path(self, user_id: str) -> Path:
        return self._path("users", ff_validate_id(user_id, "user_id"), "tools", "runs.jsonl")

    def _work_dir(self, user_id: str, run_id: str) -> Path:
        try:
            return self._path("users", user_id, "tools", "work", run_id)
        except FFValidationError as exc:  # e.g. users/<uid>/tools/work replaced by a symlink
            raise FFSandboxViolationError(f"unsafe tool workspace for {user_id}: {exc.message}") from exc

    def _check_files(self, files: Mapping[str, bytes] | None) -> dict[str, bytes]:
        staged: dict[str, bytes] = {}
        total = 0
        for name, data in (files or {}).items():
            ff_validate_id(name, "file name")
            if not isinstance(data, (bytes, bytearray)):
                raise FFValidationError(f"file {name!r} must be bytes", field="files")
            total += len(data)
            staged[name] = bytes(data)
        if total > self._settings.max_input_file_bytes:
            raise FFValidationError(
                f"staged files of {total:,} bytes exceed {self._settings.max_input_file_bytes:,}", field="files"
            )
        return staged

    @staticmethod
    def _prepare_work_dir(work_dir: Path, staged: dict[str, bytes]) -> None:
        ff_ensure_directory(work_dir)
        for name, data in staged.items():
            ff_atomic_write(work_dir / name, data, fsync=False)  # scratch input, rebuilt on retry

    async def _policy_refusal(self, user_id: str, definition: FFToolDefinitionDTO) -> FFToolRefusal | None:
        access = await self._io(ff_read_json, self._access_path(user_id), None)
        roles = access.get("roles", []) if access else []
        grants = access.get("grants", []) if access else []
        refusal = ff_permission_refusal(definition, user_id, roles=roles, grants=grants)
        if refusal is not None:
            return refusal
        if not self._rate_limiter.try_acquire(user_id):
            return FFToolRefusal.RATE_LIMITED
        if not self._breaker(definition.name).allow():
            return FFToolRefusal.CIRCUIT_OPEN
        return None

    async def _run(
        self,
        definition: FFToolDefinitionDTO,
        user_id: str,
        run_id: str,
        work_dir: Path,
        arguments: dict[str, Any],
        payload: bytes,
        started_at: Any,
    ) -> FFToolRunResultDTO:
        env = ff_build_environment(
            work_dir,
            pythonpath=TOOLS_PACKAGE_PARENT,
            extra={**definition.env, "FF_TOOL_RUN_ID": run_id, "FF_TOOL_NAME": definition.name},
        )
        request = FFSandboxRequest(
            argv=definition.argv,
            stdin=payload,
            cwd=work_dir,
            env=env,
            limits=ff_effective_limits(definition, self._settings),
            stderr_tail_bytes=self._settings.stderr_tail_bytes,
            watchdog_interval=self._settings.watchdog_interval_seconds,
        )
        attempts = 0
        elapsed = 0.0

        async def attempt() -> FFSandboxOutcome:
            nonlocal attempts, elapsed
            attempts += 1
            outcome = await ff_run_sandboxed(request)
            elapsed += outcome.duration_s
            return outcome

        def transient(outcome: FFSandboxOutcome) -> bool:
            if outcome.limit_exceeded or outcome.launch_error or outcome.signal is not None:
                return False  # timeouts and kills are not retried
            if outcome.exit_code in definition.retryable_exit_codes:
                return True
            declared = _declared_error(_parse_stdout(outcome.stdout)[1]) if outcome.exit_code else None
            return bool(declared and declared.get("retryable") is True)

        outcome = await ff_retry(
            attempt,
            is_transient=transient,
            max_attempts=self._settings.max_retries + 1,
            backoff=self._settings.retry_backoff_seconds,
            backoff_max=self._settings.retry_backoff_max_seconds,
            sleep=self._sleep,
        )
        return self._result(definition, user_id, run_id, arguments, started_at, outcome, attempts, elapsed)

    @staticmethod
    def _result(
        definition: FFToolDefinitionDTO,
        user_id: str,
        run_id: str,
        arguments: dict[str, Any],
        started_at: Any,
        outcome: FFSandboxOutcome,
        attempts: int,
        elapsed: float,
    ) -> FFToolRunResultDTO:
        limits_note = {
            "wall_time": "ran past its wall-time limit and was killed",
            "output": "wrote more output than allowed and was killed",
            "processes": "started more processes than allowed and was killed",
            "cpu_time": "used up its CPU-time limit",
            "file_size": "wrote a file larger than allowed",
            "memory": "ran out of its memory limit",
        }
        parsed, document = _parse_stdout(outcome.stdout)
        status, output, error = FFToolRunStatus.ERROR, None, None
        limit = outcome.limit_exceeded
        if limit == "wall_time":
            status, error = FFToolRunStatus.TIMEOUT, limits_note[limit]
        elif limit in ("output", "processes"):
            status, error = FFToolRunStatus.KILLED, limits_note[limit]
        elif outcome.launch_error:
            error = f"tool could not be started: {outcome.launch_error}"
        elif outcome.signal is not None:
            note = limits_note.get(limit or "", "killed")
            status, error = FFToolRunStatus.KILLED, f"{note} (signal {outcome.signal})"
        elif outcome.exit_code == 0 and parsed:
            status, output = FFToolRunStatus.SUCCESS, document
        elif outcome.exit_code == 0:
            error = "tool exited 0 but did not write a JSON result"
        else:
            declared = _declared_error(document) if parsed else None
            output = document if parsed else None
            if limit in ("memory", "file_size"):  # refused by the kernel; the tool failed on it
                error = limits_note[limit]
            elif declared and isinstance(declared.get("message"), str):
                error = f"{declared.get('type', 'error')}: {declared['message']}"
            else:
                error = f"tool exited with code {outcome.exit_code}"
        return FFToolRunResultDTO(
            run_id=run_id,
            tool=definition.name,
            user_id=user_id,
            status=status,
            started_at=started_at,
            arguments=arguments,
            output=output,
            error=error,
            exit_code=outcome.exit_code,
            signal=outcome.signal,
            duration_ms=round(elapsed * 1000, 3),
            attempts=attempts,
            stdout_truncated=outcome.stdout_truncated,
            limit_exceeded=limit,
            stderr_tail=outcome.stderr_tail.decode("utf-8", errors="replace"),
        )

    async def _record(self, result: FFToolRunResultDTO) -> None:
        storage = self.config.storage
        await self._io(
            ff_append_jsonl,
            self._runs_path(result.user_id),
            result.model_dump(mode="json"),
            durability=storage.durability,
            max_record_bytes=storage.max_record_bytes,
        )

    def _health_details(self) -> dict[str, Any]:
        return {
            "tools": len(self._registry.names()),
            "open_breakers": sorted(n for n, b in self._breakers.items() if b.state != FFBreakerState.CLOSED),
        }
