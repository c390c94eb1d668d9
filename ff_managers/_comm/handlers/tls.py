"""The client TLS context of a tcp or websocket endpoint (https builds its own in the HTTP handler)."""

from __future__ import annotations

import ssl

from ff_class_configs.ff_comm_dtos import FFEndpointDTO

__all__ = ["ff_client_ssl_context"]


def ff_client_ssl_context(endpoint: FFEndpointDTO) -> ssl.SSLContext | None:
    """The TLS context for a tcp/websocket endpoint with ``tls`` (None without)."""
    if not endpoint.tls:
        return None
    if isinstance(endpoint.tls_verify, str):
        return ssl.create_default_context(cafile=endpoint.tls_verify)
    context = ssl.create_default_context()
    if endpoint.tls_verify is False:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context
