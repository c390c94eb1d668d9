"""Configuration of the validation platform (names from the Phase 6 design, as pydantic models)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import Field, ModelWrapValidatorHandler, PrivateAttr, model_validator

from ff_class_configs._section import FFConfigSection
from ff_class_configs.ff_migration_config import (
    FFMigrationConfigDTO,
    adopt_deprecated_settings,
    deprecated_settings,
    warn_deprecated,
)

__all__ = [
    "FFTestingLevel",
    "FFTestEnvironment",
    "FFPerformanceTestConfigDTO",
    "FFSecurityTestConfigDTO",
    "FFMigrationTestConfigDTO",
    "FFQualityGatesConfigDTO",
    "FFCrossSystemTestConfigDTO",
    "FFIntegrationTestingConfigDTO",
    "SUITE_NAMES",
]

SUITE_NAMES = ("component", "use_cases", "performance", "security", "failure", "migration", "cross_system")


class FFTestingLevel(StrEnum):
    UNIT = "unit"
    COMPONENT = "component"
    INTEGRATION = "integration"
    END_TO_END = "end_to_end"
    PERFORMANCE = "performance"
    SECURITY = "security"
    MIGRATION = "migration"


class FFTestEnvironment(StrEnum):
    DEVELOPMENT = "development"
    STAGING = "staging"
    PRODUCTION_LIKE = "production_like"
    PERFORMANCE = "performance"


class FFPerformanceTestConfigDTO(FFConfigSection):
    """Load test: simulated users, a target rate, and the thresholds that decide pass or fail."""

    profile: Literal["quick", "full"] = "quick"
    concurrent_users: int = Field(8, ge=1, le=1_000)
    requests_per_second: float = Field(
        100.0, gt=0, description="target rate over all users; 200/s saturates a 2-core machine, which measures queueing, not latency"
    )
    test_duration_seconds: float = Field(10.0, gt=0)
    ramp_up_seconds: float = Field(2.0, ge=0)
    max_p95_ms: float = Field(250.0, gt=0, description="p95 ceiling of every operation without its own")
    operation_p95_ms: dict[str, float] = Field(
        default_factory=lambda: {"run_tool": 1_500.0},
        description="p95 ceilings of single operations; a tool run starts a sandboxed process, "
        "so it cannot share the ceiling of an in-process append",
    )
    max_error_rate_percent: float = Field(1.0, ge=0, le=100)
    max_memory_usage_mb: float = Field(1_024.0, gt=0)
    max_cpu_usage_percent: float = Field(400.0, gt=0, description="process CPU, 100 = one core")
    regression_margin_percent: float = Field(50.0, ge=0, description="slower than baseline by more is a regression")
    full_duration_seconds: float = Field(120.0, gt=0, description="duration of the 'full' profile")


class FFSecurityTestConfigDTO(FFConfigSection):
    """Which groups of attacks to attempt."""

    test_path_traversal: bool = True
    test_injection: bool = True
    test_user_isolation: bool = True
    test_sandbox: bool = True
    test_oversized_payloads: bool = True
    test_audit_tampering: bool = True
    test_data_encryption: bool = True


class FFMigrationTestConfigDTO(FFConfigSection):
    """Migration validation: the generated legacy data and the rollback trial.

    ``migration_batch_size``, ``migration_timeout_minutes`` and ``corrupt_input_policy`` moved to
    ``config.migration`` (``batch_size``, ``timeout_minutes``, ``corrupt_input_policy``). They are
    still accepted here, as deprecated aliases that read and write ``config.migration`` (see
    :mod:`ff_class_configs.ff_migration_config`); they are properties, so a dump of the config holds
    each value once, under ``migration``.
    """

    preserve_original_data: bool = True
    test_rollback_procedures: bool = Field(True, description="the validation rolls the migration back and applies it again")
    generated_users: int = Field(4, ge=1, description="users in the legacy root the validation generates")
    generated_sessions_per_user: int = Field(3, ge=1, description="chat sessions per generated user")
    # The section the aliases read and write: config.migration once the whole config links it
    # (FFConfigurationManagerConfigDTO), until then this section's own.
    _migration: FFMigrationConfigDTO = PrivateAttr(default_factory=FFMigrationConfigDTO)
    _linked: bool = PrivateAttr(False)

    @model_validator(mode="wrap")
    @classmethod
    def _accept_deprecated_keys(cls, data: Any, handler: ModelWrapValidatorHandler[FFMigrationTestConfigDTO]) -> FFMigrationTestConfigDTO:
        given = None
        if isinstance(data, dict):
            data, given = deprecated_settings(data)
        section = handler(data)
        if given is not None:
            section._migration = given
        return section

    def link(self, migration: FFMigrationConfigDTO) -> None:
        """Make the aliases read and write ``migration`` (config.migration), first handing it
        whatever was set under the old keys while this section stood alone."""
        if self._migration is migration:
            return
        if not self._linked:
            adopt_deprecated_settings(migration, self._migration)
        self._migration, self._linked = migration, True

    @property
    def migration_batch_size(self) -> int:
        """Deprecated: ``config.migration.batch_size``."""
        return self._migration.batch_size

    @migration_batch_size.setter
    def migration_batch_size(self, value: int) -> None:
        warn_deprecated("migration_batch_size", stacklevel=4)  # past pydantic's __setattr__, to the assignment
        self._migration.batch_size = value

    @property
    def migration_timeout_minutes(self) -> float:
        """Deprecated: ``config.migration.timeout_minutes``."""
        return self._migration.timeout_minutes

    @migration_timeout_minutes.setter
    def migration_timeout_minutes(self, value: float) -> None:
        warn_deprecated("migration_timeout_minutes", stacklevel=4)
        self._migration.timeout_minutes = value

    @property
    def corrupt_input_policy(self) -> Literal["abort", "quarantine"]:
        """Deprecated: ``config.migration.corrupt_input_policy``."""
        return self._migration.corrupt_input_policy

    @corrupt_input_policy.setter
    def corrupt_input_policy(self, value: Literal["abort", "quarantine"]) -> None:
        warn_deprecated("corrupt_input_policy", stacklevel=4)
        self._migration.corrupt_input_policy = value


class FFCrossSystemTestConfigDTO(FFConfigSection):
    """The cross-system suite: real ``serve`` instances under open-loop load and injected faults,
    held to seed 000's success criteria (the profile is ``performance_config.profile``)."""

    instances_quick: int = Field(2, ge=2, le=16, description="instances the quick profile starts")
    instances_full: int = Field(3, ge=2, le=16, description="instances the full profile starts")
    requests_per_second: float = Field(50.0, gt=0, le=2_000, description="open-loop arrival rate over HTTP, WebSocket and TCP together")
    full_requests_per_second: float = Field(80.0, gt=0, le=2_000, description="arrival rate of the full profile")
    steady_seconds: float = Field(4.0, ge=0, description="fault-free load before the first fault (quick)")
    full_steady_seconds: float = Field(30.0, ge=0, description="fault-free load before the first fault (full)")
    fault_hold_seconds: float = Field(1.5, gt=0, description="how long a freeze or proxy fault lasts (quick)")
    full_fault_hold_seconds: float = Field(4.0, gt=0, description="how long a freeze or proxy fault lasts (full)")
    recovery_timeout_seconds: float = Field(12.0, gt=0, description="longest wait for a faulted instance to serve again before the fault counts as not recovered")
    lease_seconds: float = Field(2.0, gt=0, description="instance lease of the suite's own instances (discovery drops a killed one after it)")
    heartbeat_seconds: float = Field(0.5, gt=0, description="lease renewal period of the suite's own instances")
    udp_datagrams_per_phase: int = Field(150, ge=1, description="StatsD datagrams sent per UDP phase (clean, drop, duplicate, reorder)")
    max_in_flight: int = Field(256, ge=1, description="requests the generator has outstanding; an arrival beyond it is shed (and the latency gates become inconclusive)")
    min_attempts: int = Field(1000, ge=1, description="attempts below which the availability gate is inconclusive (99.9 % needs 1000 to show)")
    min_steady_samples: int = Field(50, ge=1, description="steady-state successes per transport below which its latency gate is inconclusive")
    min_udp_datagrams: int = Field(100, ge=1, description="datagrams outside the drop fault below which the UDP gate is inconclusive")
    min_availability_percent: float = Field(99.9, ge=0, le=100, description="seed 000: service availability > 99.9 %")
    max_p95_ms: float = Field(100.0, gt=0, description="seed 000: communication latency < 100 ms (steady-state p95 per transport)")
    max_recovery_seconds: float = Field(5.0, gt=0, description="seed 000: recovery time < 5 s (fault cleared -> first success on the instance)")
    min_udp_delivered_percent: float = Field(99.0, ge=0, le=100, description="seed 000: data exchange success > 99 % (UDP without the drop fault)")
    min_error_recovery_percent: float = Field(95.0, ge=0, le=100, description="seed 000: error recovery > 95 % (faults after which the instance is back in rotation)")
    saturated_cpu_percent: float = Field(90.0, gt=0, description="the generator's mean CPU (100 = one core) at which it counts as saturated")
    max_schedule_slip_ms: float = Field(20.0, gt=0, description="p95 of how late the generator sent against its schedule past which it counts as saturated (starved of CPU)")


class FFQualityGatesConfigDTO(FFConfigSection):
    """What a run must achieve to be called green."""

    min_pass_rate_percent: float = Field(100.0, ge=0, le=100)
    no_failures_in: list[str] = Field(default_factory=lambda: ["security", "migration", "use_cases"])
    max_p95_ms: float | None = Field(None, description="overrides performance_config.max_p95_ms when set")
    max_security_findings: int = Field(0, ge=0)
    allow_flaky: bool = True


class FFIntegrationTestingConfigDTO(FFConfigSection):
    """The validation platform as a whole."""

    test_environment: FFTestEnvironment = FFTestEnvironment.DEVELOPMENT
    seed: int = 20_250_101
    max_parallel_tests: int = Field(4, ge=1, le=64)
    test_timeout_seconds: float = Field(120.0, gt=0)
    max_retry_attempts: int = Field(1, ge=0, le=10, description="extra attempts after a failure")
    stop_on_first_failure: bool = False
    report_output_formats: list[Literal["json", "html", "pdf", "junit"]] = Field(
        default_factory=lambda: ["json", "html", "pdf", "junit"]
    )
    history_runs_shown: int = Field(10, ge=1)
    performance_config: FFPerformanceTestConfigDTO = Field(default_factory=FFPerformanceTestConfigDTO)
    security_config: FFSecurityTestConfigDTO = Field(default_factory=FFSecurityTestConfigDTO)
    migration_config: FFMigrationTestConfigDTO = Field(default_factory=FFMigrationTestConfigDTO)
    quality_gates: FFQualityGatesConfigDTO = Field(default_factory=FFQualityGatesConfigDTO)
    cross_system_config: FFCrossSystemTestConfigDTO = Field(default_factory=FFCrossSystemTestConfigDTO)
    # config.migration, once the whole config links it: a migration_config assigned later is linked too.
    _migration: FFMigrationConfigDTO | None = PrivateAttr(None)

    @model_validator(mode="after")
    def _link_migration_config(self) -> FFIntegrationTestingConfigDTO:
        if self._migration is not None:
            self.migration_config.link(self._migration)
        return self

    def link(self, migration: FFMigrationConfigDTO) -> None:
        """Point ``migration_config``'s deprecated aliases at ``migration`` (config.migration)."""
        self._migration = migration
        self.migration_config.link(migration)
