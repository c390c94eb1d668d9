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
   (:mod:`ff_managers._tools.sandbox`, under bubblewrap; without it the call raises
   FFSandboxViolationError unless ``tools.allow_unsandboxed``), retried with backoff while it fails transiently (exit 75
   or a declared retryable error). The result is logged and returned.

Storage goes through the manager's :class:`~ff_utils.ff_store.FFStore`: the run log with its
durability, the scratch files of a run without fsync (they are rebuilt on a retry and are not
data), and every stored run back through :meth:`FFStore.load` (a line that does not fit the
schema is FFCorruptionError naming the log).
"""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ff_class_configs.ff_tool_config import FFToolConfigDTO
from ff_class_configs.ff_tool_dtos import FFToolDefinitionDTO, FFToolRefusal, FFToolRunResultDTO, FFToolRunStatus
from ff_managers._core.bwrap import FF_SANDBOX_WORK_DIR, ff_bwrap_problem, ff_python_roots, ff_resolve_bwrap
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
        self._probed: dict[str | None, str | None] = {}  # bwrap path -> why it cannot sandbox (None: it can)

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

    async def isolation(self) -> str:
        """``bwrap``, or ``none`` when config allows unsandboxed runs and bwrap cannot sandbox here.

        Raises FFSandboxViolationError saying why when tools cannot run sandboxed and may not run
        otherwise. The probe (one bwrap start) is cached per bwrap path.
        """
        bwrap = ff_resolve_bwrap(self.settings.bwrap_path)
        if bwrap in self._probed:  # no thread hop per run for an answer that is cached anyway
            problem = self._probed[bwrap]
        else:
            problem = self._probed[bwrap] = await asyncio.to_thread(ff_bwrap_problem, bwrap)
        if problem is None:
            return "bwrap"
        if self.settings.allow_unsandboxed:
            return "none"
        raise FFSandboxViolationError(
            f"tools do not run without the sandbox: {problem} (tools.allow_unsandboxed is off)", reason="no_sandbox"
        )

    async def execute(self, plan: FFToolRunPlan) -> FFToolRunResultDTO:
        """Refuse by policy or run the tool; either way the result is logged before it is returned."""
        started_at = self.clock()
        isolation = await self.isolation()
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
            await asyncio.to_thread(self._prepare_work_dir, plan, isolation)
            result = await self._run(plan, started_at, isolation)
        except BaseException:
            breaker.release_trial()
            raise
        if ff_counts_against_breaker(result):
            breaker.record_failure()
        else:
            breaker.record_success()
        await asyncio.to_thread(self._finish, plan, result)
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

    def _prepare_work_dir(self, plan: FFToolRunPlan, isolation: str) -> None:
        self.store.ensure_dir(plan.work_dir)
        if isolation == "bwrap":
            self._check_not_exposed()
            return  # the staged files travel into the sandbox's own /work (see sandbox_files)
        for name, data in plan.files.items():
            self.scratch.write_bytes(plan.work_dir / name, data)  # scratch input, rebuilt on retry

    def _check_not_exposed(self) -> None:
        """Refuse to run when a read-only mount of the sandbox would contain the data root."""
        root = self.store.root.resolve()
        for exposed in (*ff_python_roots(), str(TOOLS_PACKAGE_PARENT / "tools_builtin")):
            base = Path(exposed).resolve()
            if root == base or base in root.parents:
                raise FFSandboxViolationError(
                    f"the data root {root} lies inside {base}, which tool sandboxes see read-only: move the data root"
                )

    def _finish(self, plan: FFToolRunPlan, result: FFToolRunResultDTO) -> None:
        """Log the result, then drop the work dir unless it is kept: one thread hop for both."""
        self._log(result)
        if not self.settings.keep_work_dirs or self.store.encrypted:  # a tool's files are plaintext: not kept at rest
            self.store.remove_tree(plan.work_dir)

    def _write_back(self, plan: FFToolRunPlan, files: list[tuple[str, bytes]]) -> None:
        """The sandbox's /work files into the run's work dir; a name the store refuses is skipped."""
        for name, data in files:
            try:
                target = self.store.path("users", plan.user_id, "tools", "work", plan.run_id, *name.split("/"))
                self.store.ensure_dir(target.parent)
                self.scratch.write_bytes(target, data)
            except FFValidationError:
                continue

    def _request(self, plan: FFToolRunPlan, isolation: str) -> FFSandboxRequest:
        definition, settings = plan.definition, self.settings
        sandboxed = isolation == "bwrap"
        env = ff_build_environment(
            Path(FF_SANDBOX_WORK_DIR) if sandboxed else plan.work_dir,
            pythonpath=TOOLS_PACKAGE_PARENT,
            extra={**definition.env, "FF_TOOL_RUN_ID": plan.run_id, "FF_TOOL_NAME": definition.name},
        )
        read_only = [str(TOOLS_PACKAGE_PARENT / "tools_builtin"), *_program_files(definition.argv, self.store.root)]
        extra_args: tuple[str, ...] = ()
        if definition.workspace_view:
            workspace = plan.work_dir.parent
            if sandboxed:
                extra_args = ("--ro-bind", str(workspace), "/workspace")
                env["FF_TOOL_WORKSPACE"] = "/workspace"
            else:
                env["FF_TOOL_WORKSPACE"] = str(workspace)
        mib = 1024 * 1024
        return FFSandboxRequest(
            argv=definition.argv,
            stdin=plan.payload,
            cwd=plan.work_dir,
            env=env,
            limits=ff_effective_limits(definition, settings),
            stderr_tail_bytes=settings.stderr_tail_bytes,
            watchdog_interval=settings.watchdog_interval_seconds,
            isolation=isolation,
            bwrap=ff_resolve_bwrap(settings.bwrap_path) or settings.bwrap_path,
            network=definition.network,
            work_bytes=settings.sandbox_work_dir_mb * mib,
            read_only=tuple(read_only),
            files=tuple(sorted(plan.files.items())),
            out_cap=settings.sandbox_copy_back_mb * mib,
            uid=settings.sandbox_uid_base + secrets.randbelow(settings.sandbox_uid_count),
            extra=extra_args,
        )

    async def _run(self, plan: FFToolRunPlan, started_at: datetime, isolation: str) -> FFToolRunResultDTO:
        definition, settings = plan.definition, self.settings
        request = self._request(plan, isolation)
        attempts = 0
        elapsed = 0.0

        async def attempt() -> FFSandboxOutcome:
            nonlocal attempts, elapsed, request
            attempts += 1
            outcome = await ff_run_sandboxed(request)
            elapsed += outcome.duration_s
            if outcome.files:  # the work dir persists across attempts, as it does on the host
                request = dataclasses.replace(request, files=tuple(outcome.files))
            return outcome

        outcome = await ff_retry(
            attempt,
            is_transient=lambda outcome: ff_is_transient(definition, outcome),
            max_attempts=settings.max_retries + 1,
            backoff=settings.retry_backoff_seconds,
            backoff_max=settings.retry_backoff_max_seconds,
            sleep=self.sleep,
        )
        if outcome.files and settings.keep_work_dirs:
            await asyncio.to_thread(self._write_back, plan, outcome.files)
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


def _program_files(argv: tuple[str, ...], data_root: Path) -> list[str]:
    """The files a registered command names (its script, say), made visible read-only in the sandbox.

    A tool registered as ``python /opt/tools/fetch.py`` must find its script; only regular files named
    by absolute path are mounted (never a directory), and never anything under the data root.
    """
    out = []
    for part in argv[1:]:
        path = Path(part)
        if path.is_absolute() and path.is_file() and not path.resolve().is_relative_to(data_root):
            out.append(str(path.resolve()))
    return out
