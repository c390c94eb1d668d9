"""The validation platform: integration tests, use cases, performance, security, migration, reports."""

from testing.ff_migration_validator import FFMigrationValidator

__all__: list[str] = ["FFMigrationValidator"]
