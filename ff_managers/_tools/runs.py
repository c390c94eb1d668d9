"""One ``execute_tool`` call from checked input to logged result, and the run log it writes.

The manager's gates, in order (the first that says no decides):

1. :meth:`FFToolRuns.plan`: the tool exists (FFNotFoundError); the arguments are a plain JSON
   object within ``tools.max_argument_bytes`` (NaN and infinity refused, per
   :mod:`ff_managers._core.checks`) that fits the tool's parameter model; the staged files are
   named safely and within their size limit (FFValidationError); and the run's working
   directory is a safe path (FFSandboxViolationError). Nothing is written.
2. :meth:`FFToolRuns.check_paths`: path arguments stay inside the working directory
   (FFSandboxViolationError; the manager publishes it as ``tool.refused``). Nothing is written.
3. :meth:`FFToolRuns.execute`: permission, the user's rate limit and the tool's circuit breaker.
   A refusal is a *result* (status ``refused``), logged to ``users/<uid>/tools/runs.jsonl`` so
   forbidden attempts are audited. Otherwise ``users/<uid>/tools/work/<run_id>/`` is created,
   the staged files are written into it, and the tool runs in the sandbox
   (:mod:`ff_managers._tools.sandbox`), retried with backoff while it fails transiently (exit 75
   or a declared retryable error). The result is logged and returned.

Storage goes through the manager's :class:`~ff_utils.ff_store.FFStore`: the run log with its
durability, the scratch files of a run without fsync (they are rebuilt on a retry and are not
data), and every stored run back through :meth:`FFStore.load` (a line that does not fit the
schema is FFCorruptionError naming the log).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ff_class_configs.ff_tool_config import FFToolConfigDTO
from ff_class_configs.ff_tool_dtos import FFToolDefinitionDTO, FFToolRefusal, FFToolRunResultDTO, FFToolRunStatus
from ff_managers._core.checks import check_json_object
from ff_managers._tools.access import FFToolAccess
from ff_managers._tools.builtin_defs import TOOLS_PACKAGE_PARENT
from ff_managers._tools.registry import FFToolRegistry, ff_check_path_arguments, ff_effective_limits, ff_permission_refusal
from ff_managers._tools.resilience import FFToolBreakers, FFUserRateLimiter, ff_retry
from ff_managers._tools.results import ff_counts_against_breaker, ff_is_transient, ff_run_result
from ff_managers._tools.sandbox import FFSandboxOutcome, FFSandboxRequest, ff_build_environment, ff_run_sandboxed
from ff_utils.ff_errors import FFNotFoundError, FFSandboxViolationError, FFValidationError
from ff_utils.ff_ids import ff_new_id, ff_validate_id
from ff_utils.ff_json_utils import ff_dumps
from ff_utils.ff_store import FFStore

__all__ = ["FFToolRunPlan", "FFToolRuns", "Sleep"]

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class FFToolRunPlan:
    """A checked ``execute_tool`` call: what runs, for whom, where. Nothing of it is on disk yet."""

    definition: FFToolDefinitionDTO
    user_id: str
    run_id: str
    arguments: dict[str, Any]
    payload: bytes
    files: dict[str, bytes]
    work_dir: Path


class FFToolRuns:
    """Plans, runs and logs tool runs; owns the breakers and the rate limit they are held to."""

    def __init__(
        self,
        store: FFStore,
        settings: FFToolConfigDTO,
        registry: FFToolRegistry,
        access: FFToolAccess,
        *,
        clock: Callable[[], datetime],
        sleep: Sleep,
    ) -> None:
        self.store = store
        self.settings = settings
        self.registry = registry
        self.access = access
        self.clock = clock
        self.sleep = sleep
        self.scratch = store.with_settings(durability="never").with_middleware(None)  # a tool reads them as is

        def seconds() -> float:  # the breakers and the bucket count plain seconds of the injected clock
            return clock().timestamp()

        self.breakers = FFToolBreakers(
            threshold=settings.breaker_failure_threshold, cooldown=settings.breaker_cooldown_seconds, now=seconds
        )
        self.rate_limiter = FFUserRateLimiter(settings.rate_limit_per_minute, now=seconds)

    # ------------------------------------------------------------------ gates 1 and 2 (no I/O)

    def plan(
        self, user_id: str, tool_name: str, arguments: Mapping[str, Any] | None, files: Mapping[str, bytes] | None
    ) -> FFToolRunPlan:
        """Check a call (gate 1) and give the run its id and working directory."""
        definition = self.registry.get(tool_name)
        plain = check_json_object(arguments, field="arguments", max_bytes=self.settings.max_argument_bytes)
        validated = self.registry.validate_arguments(definition, plain)
        payload = ff_dumps(validated)
        staged = self._check_files(files)
        run_id = ff_new_id("run-")
        return FFToolRunPlan(definition, user_id, run_id, validated, payload, staged, self._work_dir(user_id, run_id))

    @staticmethod
    def check_paths(plan: FFToolRunPlan) -> None:
        """Gate 2: FFSandboxViolationError for a path argument outside the run's working directory."""
        ff_check_path_arguments(plan.definition, plan.arguments, plan.work_dir)

    def _work_dir(self, user_id: str, run_id: str) -> Path:
        try:
            return self.store.path("users", user_id, "tools", "work", run_id)
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
        if total > self.settings.max_input_file_bytes:
            raise FFValidationError(
                f"staged files of {total:,} bytes exceed {self.settings.max_input_file_bytes:,}", field="files"
            )
        return staged

    # ------------------------------------------------------------------ gate 3 and the run

    async def execute(self, plan: FFToolRunPlan) -> FFToolRunResultDTO:
        """Refuse by policy or run the tool; either way the result is logged before it is returned."""
        started_at = self.clock()
        refusal = await self._policy_refusal(plan)
        if refusal is not None:
            result = FFToolRunResultDTO(
                run_id=plan.run_id, tool=plan.definition.name, user_id=plan.user_id, status=FFToolRunStatus.REFUSED,
                started_at=started_at, arguments=plan.arguments, refusal=refusal,
                error=f"refused: {refusal.value.replace('_', ' ')}",
            )  # fmt: skip
            await asyncio.to_thread(self._log, result)
            return result
        breaker = self.breakers.get(plan.definition.name)
        try:
            await asyncio.to_thread(self._prepare_work_dir, plan)
            result = await self._run(plan, started_at)
        except BaseException:
            breaker.release_trial()
            raise
        if ff_counts_against_breaker(result):
            breaker.record_failure()
        else:
            breaker.record_success()
        await asyncio.to_thread(self._log, result)
        if not self.settings.keep_work_dirs or self.store.encrypted:  # a tool's files are plaintext: not kept at rest
            await asyncio.to_thread(self.store.remove_tree, plan.work_dir)
        return result

    async def _policy_refusal(self, plan: FFToolRunPlan) -> FFToolRefusal | None:
        access = await asyncio.to_thread(self.access.read, plan.user_id)
        refusal = ff_permission_refusal(plan.definition, plan.user_id, roles=access.roles, grants=access.grants)
        if refusal is not None:
            return refusal
        if not self.rate_limiter.try_acquire(plan.user_id):
            return FFToolRefusal.RATE_LIMITED
        if not self.breakers.get(plan.definition.name).allow():
            return FFToolRefusal.CIRCUIT_OPEN
        return None

    def _prepare_work_dir(self, plan: FFToolRunPlan) -> None:
        self.store.ensure_dir(plan.work_dir)
        for name, data in plan.files.items():
            self.scratch.write_bytes(plan.work_dir / name, data)  # scratch input, rebuilt on retry

    async def _run(self, plan: FFToolRunPlan, started_at: datetime) -> FFToolRunResultDTO:
        definition, settings = plan.definition, self.settings
        env = ff_build_environment(
            plan.work_dir,
            pythonpath=TOOLS_PACKAGE_PARENT,
            extra={**definition.env, "FF_TOOL_RUN_ID": plan.run_id, "FF_TOOL_NAME": definition.name},
        )
        request = FFSandboxRequest(
            argv=definition.argv,
            stdin=plan.payload,
            cwd=plan.work_dir,
            env=env,
            limits=ff_effective_limits(definition, settings),
            stderr_tail_bytes=settings.stderr_tail_bytes,
            watchdog_interval=settings.watchdog_interval_seconds,
        )
        attempts = 0
        elapsed = 0.0

        async def attempt() -> FFSandboxOutcome:
            nonlocal attempts, elapsed
            attempts += 1
            outcome = await ff_run_sandboxed(request)
            elapsed += outcome.duration_s
            return outcome

        outcome = await ff_retry(
            attempt,
            is_transient=lambda outcome: ff_is_transient(definition, outcome),
            max_attempts=settings.max_retries + 1,
            backoff=settings.retry_backoff_seconds,
            backoff_max=settings.retry_backoff_max_seconds,
            sleep=self.sleep,
        )
        return ff_run_result(
            definition, user_id=plan.user_id, run_id=plan.run_id, arguments=plan.arguments,
            started_at=started_at, outcome=outcome, attempts=attempts, elapsed=elapsed,
        )  # fmt: skip

    # ------------------------------------------------------------------ the run log

    def _runs_path(self, user_id: str) -> Path:
        return self.store.path("users", user_id, "tools", "runs.jsonl")

    def _log(self, result: FFToolRunResultDTO) -> None:
        self.store.append(self._runs_path(result.user_id), result.model_dump(mode="json"))

    def recent(self, user_id: str, limit: int) -> list[FFToolRunResultDTO]:
        """The user's last ``limit`` runs, oldest first (blocking)."""
        path = self._runs_path(user_id)
        return [self.store.load(FFToolRunResultDTO, record, path) for record in self.store.tail_jsonl(path, limit)]

    def find(self, user_id: str, run_id: str) -> FFToolRunResultDTO:
        """One run of this user; FFNotFoundError if the user has no such run (blocking)."""
        path = self._runs_path(user_id)
        for record in self.store.read_jsonl(path):
            if isinstance(record, dict) and record.get("run_id") == run_id:
                return self.store.load(FFToolRunResultDTO, record, path)
        raise FFNotFoundError(f"no run {run_id} for user {user_id}", kind="tool_run", key=run_id)
