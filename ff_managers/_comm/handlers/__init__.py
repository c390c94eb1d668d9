"""One handler per protocol behind one interface (:class:`.base.FFProtocolHandler`)."""

__all__: list[str] = []
