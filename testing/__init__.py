"""The validation platform: integration tests, use cases, performance, security, migration, reports."""

__all__: list[str] = []
