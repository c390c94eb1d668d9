"""`apikey create|list|revoke`: API keys of the service, kept hashed under the data root.

``create`` prints the key once, alone on its line on stdout (nothing else goes to stdout, so
``KEY=$(python main.py apikey create --user alice)`` works); the data root keeps only its hash.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.table import Table

from ff_class_configs import FFConfigurationManagerConfigDTO
from ff_managers import FFServiceManager
from ff_managers.ff_data_root import ff_ensure_data_root

from ._registry import EXIT_OK, command, data_dir_argument

__all__ = ["cmd_apikey"]


def _apikey_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True, help="create | list | revoke")
    create = sub.add_parser("create", help="create a key for one user; prints it once")
    create.add_argument("--user", required=True, help="the user the key acts for")
    create.add_argument("--role", action="append", default=[], help="a role the key carries (repeatable; e.g. admin)")
    data_dir_argument(create)
    listing = sub.add_parser("list", help="list keys (never the keys themselves)")
    data_dir_argument(listing)
    revoke = sub.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("key_id", help="the key's id (see apikey list)")
    data_dir_argument(revoke)


@command("apikey", "create, list and revoke the service's API keys", _apikey_arguments)
def cmd_apikey(args: argparse.Namespace, config: FFConfigurationManagerConfigDTO, console: Console) -> int:
    if args.data_dir is not None:
        config = config.with_base_path(args.data_dir)
    ff_ensure_data_root(Path(config.storage.base_path))
    service = FFServiceManager(config)
    err = Console(stderr=True)
    if args.action == "create":
        created = service.create_api_key(args.user, args.role)
        print(created.key, flush=True)
        err.print(f"key {created.key_id} for {created.user_id} (roles: {', '.join(created.roles) or 'none'}); "
                  "it is shown only now", highlight=False)  # fmt: skip
    elif args.action == "list":
        table = Table(title="API keys")
        for column in ("key id", "user", "roles", "created", "revoked"):
            table.add_column(column)
        for key in service.list_api_keys():
            revoked = key.revoked_at.isoformat() if key.revoked_at else ""
            table.add_row(key.key_id, key.user_id, ",".join(key.roles), key.created_at.isoformat(), revoked)
        console.print(table)
    else:
        revoked = service.revoke_api_key(args.key_id)
        console.print(f"revoked {revoked.key_id} ({revoked.user_id})", highlight=False)
    return EXIT_OK
