"""Private package of the shard manager (``ff_managers.ff_shard_manager``): users spread over data roots."""

__all__: list[str] = []
