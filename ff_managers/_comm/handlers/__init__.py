"""One handler per protocol behind one interface (:class:`.base.FFProtocolHandler`)."""
