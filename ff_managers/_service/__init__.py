"""The service's private package: one module per job (see ff_managers/ff_service_manager.py)."""

__all__: list[str] = []
