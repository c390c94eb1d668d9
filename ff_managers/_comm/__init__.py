"""The communication manager's internals (private to ``ff_managers``): balancing, failover, handlers, routing."""

__all__: list[str] = []
