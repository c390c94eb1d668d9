"""`serve`: run the service (HTTP/HTTPS + WebSocket, TCP, UDP) until SIGTERM or SIGINT, then exit 0.

A thin call into FFServiceManager.serve. Ports default to ``config.service``; ``0`` picks a free
port and ``off`` turns TCP or UDP off. The ready file (``--ready-file``) is written atomically
once every listener is bound, with the real ports; a supervisor or a test waits for it.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from rich.console import Console

from ff_class_configs import FFConfigurationManagerConfigDTO
from ff_managers import FFServiceManager

from ._registry import command, data_dir_argument

__all__ = ["cmd_serve", "port", "port_or_off"]


def port(text: str) -> int:
    """A port number (0: pick a free one)."""
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"not a port: {text!r}")
    return int(text)


def port_or_off(text: str) -> int | None:
    """A port number (0: pick a free one) or ``off``."""
    if text.lower() == "off":
        return None
    return port(text)


def _serve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="address to bind (default: service.host, 127.0.0.1)")
    parser.add_argument("--port", type=port, help="HTTP/WebSocket port (default: service.http_port, 8080; 0: free port)")
    parser.add_argument("--tcp-port", type=port_or_off, default=argparse.SUPPRESS, help="JSON-RPC over TCP: N, 0 or off (default: service.tcp_port)")
    parser.add_argument("--udp-port", type=port_or_off, default=argparse.SUPPRESS, help="StatsD over UDP: N, 0 or off (default: service.udp_port)")
    data_dir_argument(parser)
    parser.add_argument("--ssl-keyfile", type=Path, help="PEM private key: serve HTTPS/WSS (and TLS on TCP)")
    parser.add_argument("--ssl-certfile", type=Path, help="PEM certificate chain for --ssl-keyfile")
    parser.add_argument("--ready-file", type=Path, help="write {pid, instance_id, host, ports, tls} here once listening")
    parser.add_argument("--instance-id", help="this instance's id (default: a new random one)")


@command("serve", "serve the managers over HTTP(S), WebSocket, TCP and UDP until SIGTERM", _serve_arguments)
def cmd_serve(args: argparse.Namespace, config: FFConfigurationManagerConfigDTO, console: Console) -> int:
    if args.data_dir is not None:
        config = config.with_base_path(args.data_dir)
    service = FFServiceManager(config, instance_id=args.instance_id)
    start = {"host": args.host, "http_port": args.port, "ssl_keyfile": args.ssl_keyfile, "ssl_certfile": args.ssl_certfile,
             "ready_file": args.ready_file}  # fmt: skip
    for name in ("tcp_port", "udp_port"):  # left out: the configured value (None: off)
        if name in vars(args):
            start[name] = vars(args)[name]
    console.print(f"serving {config.storage.base_path} as {service.instance_id} (SIGTERM or Ctrl+C stops)", highlight=False)
    return asyncio.run(service.serve(**start))
