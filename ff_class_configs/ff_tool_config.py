"""Configuration of sandboxed tool execution: the sandbox, default limits, resilience, storage of runs.

Tools run under bubblewrap (see ff_managers/_core/bwrap.py for the walls). When bwrap is missing
or cannot create namespaces, tools do not run, unless ``allow_unsandboxed`` says explicitly that
running them on the host (limits, watchdog and output cap only) is acceptable; every result of
such a run says ``sandbox: "none"``.
"""

from __future__ import annotations

from pydantic import Field

from ff_class_configs._section import FFConfigSection

__all__ = ["FFToolConfigDTO"]


class FFToolConfigDTO(FFConfigSection):
    """Sandboxed tool execution: default limits (a definition may override them) and resilience."""

    bwrap_path: str = Field("/usr/bin/bwrap", description="bubblewrap: an absolute path, or a name looked up on PATH")
    allow_unsandboxed: bool = Field(
        False, description="run tools WITHOUT bubblewrap when it is missing or cannot create namespaces (results say so)"
    )
    sandbox_work_dir_mb: int = Field(64, ge=1, le=16384, description="size of the run's writable /work tmpfs")
    sandbox_copy_back_mb: int = Field(64, ge=0, le=16384, description="most bytes of /work copied back to the run's work dir")
    sandbox_uid_base: int = Field(200_000, ge=1000, description="first of the unprivileged uids a run gets (one per run)")
    sandbox_uid_count: int = Field(65_536, ge=1, le=1_000_000, description="how many uids runs are spread over")
    default_wall_time_seconds: float = Field(10.0, gt=0, description="a run past this is killed (status timeout)")
    default_cpu_time_seconds: int = Field(10, ge=1, description="RLIMIT_CPU of the tool process")
    default_memory_mb: int = Field(512, ge=32, description="RLIMIT_AS (address space) of the tool process")
    default_max_output_bytes: int = Field(256 * 1024, ge=1024, description="stdout past this is cut and the tool killed")
    default_max_processes: int = Field(16, ge=1, le=4096, description="processes a run may have at once (watchdog + RLIMIT_NPROC)")
    default_max_open_files: int = Field(64, ge=16, description="RLIMIT_NOFILE of the tool process")
    default_max_file_bytes: int = Field(16 * 1024 * 1024, ge=1024, description="RLIMIT_FSIZE: largest file a tool may write")
    max_argument_bytes: int = Field(1024 * 1024, ge=1024, description="largest JSON arguments document")
    max_input_file_bytes: int = Field(32 * 1024 * 1024, ge=1024, description="largest total of files staged into a run")
    stderr_tail_bytes: int = Field(4096, ge=256, description="how much of the end of stderr a result keeps")
    watchdog_interval_seconds: float = Field(0.02, gt=0, le=1.0, description="how often the process count is checked")
    max_retries: int = Field(2, ge=0, le=10, description="extra attempts after a transient failure")
    retry_backoff_seconds: float = Field(0.05, ge=0, description="first backoff; doubles per retry")
    retry_backoff_max_seconds: float = Field(2.0, ge=0, description="cap of one backoff")
    breaker_failure_threshold: int = Field(5, ge=1, description="consecutive failed runs that open a tool's breaker")
    breaker_cooldown_seconds: float = Field(30.0, gt=0, description="open time before one trial run is let through")
    rate_limit_per_minute: int = Field(600, ge=1, description="runs per user per minute (token bucket, burst = this)")
    keep_work_dirs: bool = Field(True, description="keep users/<uid>/tools/work/<run_id>/ after a run (tool outputs)")
    register_builtins: bool = Field(True, description="register the built-in tools at construction")
