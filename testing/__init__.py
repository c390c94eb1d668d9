"""The validation platform: integration tests, use cases, performance, security, migration, reports."""

from testing.ff_integration_test_manager import FFIntegrationTestManager
from testing.ff_migration_validator import FFMigrationValidator

__all__: list[str] = ["FFIntegrationTestManager", "FFMigrationValidator"]
