"""The typed errors of distributed runs, in the one hierarchy of :mod:`ff_utils.ff_errors`."""

from __future__ import annotations

from typing import Any

from ff_utils.ff_errors import FFConflictError, FFError, FFValidationError

__all__ = ["FFClusterError", "FFInsecureTransportError", "FFVersionMismatchError"]


class FFInsecureTransportError(FFValidationError):
    """A plain ``tcp://`` scheduler was named without ``--allow-insecure-tcp``.

    Dask's ``tcp://`` is unauthenticated and unencrypted: whoever reaches the port can run code
    on every worker. Refused unless the user says, in so many words, that the network is trusted.
    """


class FFVersionMismatchError(FFConflictError):
    """A worker (or the scheduler) runs other package versions than the client.

    ``differences`` lists one line per package and machine; nothing was run.
    """

    def __init__(self, message: str, *, differences: list[str], **context: Any) -> None:
        super().__init__(message, **context)
        self.differences = differences


class FFClusterError(FFError):
    """The cluster could not be started, reached or used (no worker came, a connection failed)."""
