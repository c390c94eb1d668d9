"""DTOs of the tool execution manager: definitions, limits, permissions and run results."""

from __future__ import annotations

import os
import re
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ff_utils.ff_errors import FFError, FFPermissionError, FFTimeoutError

__all__ = [
    "FFBreakerState",
    "FF_TOOL_RUN_SCHEMA_VERSION",
    "FFToolDefinitionDTO",
    "FFToolInfoDTO",
    "FFToolLimitsDTO",
    "FFToolPermissionsDTO",
    "FFToolRefusal",
    "FFToolRunResultDTO",
    "FFToolRunStatus",
    "FFToolUserAccessDTO",
]

FF_TOOL_RUN_SCHEMA_VERSION = 1
_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]{0,63}")


class FFBreakerState(StrEnum):
    """A tool's circuit breaker, as ``FFToolExecutionManager.breaker_state(name)`` reports it."""

    CLOSED = "closed"  # runs pass; consecutive failures are counted
    OPEN = "open"  # runs are refused until the cool-down has passed
    HALF_OPEN = "half_open"  # one trial run is let through; its result closes or reopens


class FFToolRunStatus(StrEnum):
    """How a run ended."""

    SUCCESS = "success"  # exit 0 and a JSON result on stdout
    ERROR = "error"  # the tool failed (non-zero exit, bad JSON, memory error...)
    TIMEOUT = "timeout"  # killed at its wall-time limit
    KILLED = "killed"  # killed for another limit: output, processes, CPU time, a signal
    REFUSED = "refused"  # never started: permission, grant, rate limit or open breaker


class FFToolRefusal(StrEnum):
    """Why a run was refused before it started."""

    NOT_PERMITTED = "not_permitted"
    GRANT_REQUIRED = "grant_required"
    RATE_LIMITED = "rate_limited"
    CIRCUIT_OPEN = "circuit_open"


class FFToolLimitsDTO(BaseModel):
    """Resource limits of one tool; ``None`` fields take the configured defaults."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    wall_time_seconds: float | None = Field(None, gt=0, le=3600)
    cpu_time_seconds: int | None = Field(None, ge=1, le=3600)
    memory_mb: int | None = Field(None, ge=32, le=65536)
    max_output_bytes: int | None = Field(None, ge=1024, le=256 * 1024 * 1024)
    max_processes: int | None = Field(None, ge=1, le=4096)
    max_open_files: int | None = Field(None, ge=16, le=65536)
    max_file_bytes: int | None = Field(None, ge=1024)


class FFToolPermissionsDTO(BaseModel):
    """Who may run a tool.

    A tool admits the users it names, users with a role it names, or everyone when it names
    neither. A grant (``grant_tool``) also admits a user to an ordinary tool. A dangerous tool
    needs both keys: admission by the lists *and* an explicit grant.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    allowed_users: tuple[str, ...] = Field((), description="user ids admitted by name")
    allowed_roles: tuple[str, ...] = Field((), description="roles admitted (see assign_role)")
    dangerous: bool = Field(False, description="needs grant_tool(user_id, tool) on top of everything else")


class FFToolDefinitionDTO(BaseModel):
    """A registered tool: what it is called, how it is started, what it accepts, who may run it.

    ``argv`` is fixed: arguments never enter it, they reach the tool as JSON on stdin. ``argv[0]``
    must be an absolute path (no PATH lookup that a planted binary could hijack).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$", description="registry key, also the log name")
    description: str = Field(min_length=1, max_length=2000)
    argv: tuple[str, ...] = Field(min_length=1, description="the fixed command, argv[0] absolute")
    parameters: type[BaseModel] = Field(description="pydantic model that validates the arguments before a run")
    path_arguments: tuple[str, ...] = Field((), description="argument names holding paths relative to the run's work dir")
    permissions: FFToolPermissionsDTO = Field(default_factory=FFToolPermissionsDTO)
    limits: FFToolLimitsDTO = Field(default_factory=FFToolLimitsDTO)
    retryable_exit_codes: frozenset[int] = Field(frozenset({75}), description="exit codes that mean 'try again' (75 = EX_TEMPFAIL)")
    env: dict[str, str] = Field(default_factory=dict, description="fixed extra environment (never secrets of the parent)")
    network: Literal["none", "loopback"] = Field(
        "none",
        description="none: no interface up in the sandbox; loopback: its own lo up (127.0.0.1 inside the sandbox only, "
        "never the host's)",
    )
    workspace_view: bool = Field(
        False, description="mount the user's tool workspace (every run's work dir) read-only at /workspace"
    )

    @field_validator("argv")
    @classmethod
    def _check_argv(cls, argv: tuple[str, ...]) -> tuple[str, ...]:
        if any("\x00" in part for part in argv):
            raise ValueError("argv parts may not contain NUL")
        if not os.path.isabs(argv[0]):
            raise ValueError(f"argv[0] must be an absolute path, not {argv[0]!r}")
        if not (os.path.isfile(argv[0]) and os.access(argv[0], os.X_OK)):
            raise ValueError(f"argv[0] {argv[0]!r} is not an executable file")
        return argv

    @field_validator("env")
    @classmethod
    def _check_env(cls, env: dict[str, str]) -> dict[str, str]:
        for key, value in env.items():
            if not _ENV_NAME.fullmatch(key) or "\x00" in value:
                raise ValueError(f"invalid environment entry {key!r}")
        return env


class FFToolInfoDTO(BaseModel):
    """What ``list_tools`` shows: a definition without its Python objects."""

    name: str
    description: str
    parameters_schema: dict[str, Any] = Field(description="JSON schema of the arguments")
    dangerous: bool
    allowed_users: list[str]
    allowed_roles: list[str]


class FFToolUserAccessDTO(BaseModel):
    """A user's roles and explicit tool grants (``users/<uid>/tools/access.json``)."""

    schema_version: int = 1
    user_id: str
    roles: list[str] = Field(default_factory=list)
    grants: list[str] = Field(default_factory=list, description="tool names granted explicitly")


class FFToolRunResultDTO(BaseModel):
    """The outcome of one ``execute_tool`` call; also one line of ``runs.jsonl``."""

    run_id: str
    tool: str
    user_id: str
    status: FFToolRunStatus
    started_at: datetime
    arguments: dict[str, Any] = Field(default_factory=dict, description="the validated arguments")
    output: Any = Field(None, description="the tool's parsed JSON result (on success) or error document")
    error: str | None = Field(None, description="one line saying why the run did not succeed")
    exit_code: int | None = Field(None, description="exit code of the tool; None when killed by a signal or refused")
    signal: int | None = Field(None, description="signal that ended the tool, if any")
    duration_ms: float = Field(0.0, ge=0, description="wall time of all attempts, backoff excluded")
    attempts: int = Field(0, ge=0, description="processes started (0 when refused)")
    stdout_truncated: bool = False
    limit_exceeded: str | None = Field(None, description="wall_time, cpu_time, memory, output, processes, file_size, work_dir_size")
    refusal: FFToolRefusal | None = None
    stderr_tail: str = Field("", description="the end of stderr, for diagnosis")
    sandbox: Literal["bwrap", "none"] | None = Field(
        None, description="bwrap: ran in the bubblewrap sandbox; none: ran UNSANDBOXED (explicitly allowed by config)"
    )
    schema_version: int = FF_TOOL_RUN_SCHEMA_VERSION

    @property
    def ok(self) -> bool:
        return self.status == FFToolRunStatus.SUCCESS

    def raise_for_status(self) -> FFToolRunResultDTO:
        """Return self on success; otherwise raise the FFError that names the failure."""
        if self.status == FFToolRunStatus.SUCCESS:
            return self
        message = f"tool {self.tool} run {self.run_id}: {self.status.value}: {self.error or 'failed'}"
        if self.status == FFToolRunStatus.REFUSED:
            raise FFPermissionError(message, tool=self.tool, refusal=self.refusal)
        if self.status == FFToolRunStatus.TIMEOUT:
            raise FFTimeoutError(message, tool=self.tool)
        raise FFError(message, tool=self.tool, status=self.status.value)
