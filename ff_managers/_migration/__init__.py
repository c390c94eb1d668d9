"""The migration engine behind :class:`ff_managers.ff_migration_manager.FFMigrationManager`.

Private: only ``ff_managers`` imports it. Legacy reader, mapping and import, the registry of
migrations, backup / staging / swap / rollback, and the field-by-field comparison of source and
target, which reads the target back through the domain managers' public APIs.
"""

__all__: list[str] = []
