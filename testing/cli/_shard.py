"""`shard init|owner|move`: users spread over several data roots, and moving one between them.

``init`` writes a first routing table; ``owner`` says which shard owns a user; ``move`` moves one
user's tree (copy, freeze, verify checksums, switch the routing table, remove from the source),
resuming an interrupted move of the same user, or rolling it back with ``--abort``. The routing
table defaults to ``comm.shard_routing`` when that is a file. See docs/SCALING.md.

Exit codes: 0 done; 2 bad usage or a move that cannot go on (the message says why).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import orjson
from rich.console import Console

from ff_class_configs import FFConfigurationManagerConfigDTO
from ff_managers import FFShardManager

from ._registry import EXIT_OK, command

__all__ = ["cmd_shard"]


def _shard_spec(text: str) -> tuple[str, dict[str, str]]:
    """``ID=URL`` or ``ID=URL@DATA_ROOT``."""
    name, sep, rest = text.partition("=")
    if not sep or not name or not rest:
        raise argparse.ArgumentTypeError(f"expected ID=URL[@DATA_ROOT], got {text!r}")
    url, _, root = rest.partition("@")
    return name, {"url": url, **({"data_root": str(Path(root).resolve())} if root else {})}


def _arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True, help="init | owner | move")
    init = sub.add_parser("init", help="write a first routing table (version 1)")
    init.add_argument("--shard", type=_shard_spec, action="append", required=True, metavar="ID=URL[@DATA_ROOT]",
                      help="a shard: its service URL and, to move users in or out from here, its data root (repeatable)")
    init.add_argument("--replace", action="store_true", help="replace an existing table")
    owner = sub.add_parser("owner", help="the shard that owns a user")
    owner.add_argument("user")
    move = sub.add_parser("move", help="move one user's tree to another shard (resumes an interrupted move)")
    move.add_argument("user")
    move.add_argument("--from", dest="source", required=True, metavar="DIR_OR_URL",
                      help="the data root, or a shard URL of the routing table (which gives its data root)")
    move.add_argument("--to", dest="dest", required=True, metavar="DIR_OR_URL", help="the same, for the destination")
    move.add_argument("--abort", action="store_true", help="roll back an unfinished move that has not switched ownership yet")
    for each in (init, owner, move):
        each.add_argument("--routing", type=Path, help="the routing table file (default: comm.shard_routing when it is a file)")


def _routing(args: argparse.Namespace, config: FFConfigurationManagerConfigDTO) -> Path | None:
    if args.routing is not None:
        return Path(args.routing)
    configured = config.comm.shard_routing
    return Path(configured) if configured and not configured.startswith(("http://", "https://")) else None


@command("shard", "sharded users: a routing table over several data roots, and moving one user between them", _arguments)
def cmd_shard(args: argparse.Namespace, config: FFConfigurationManagerConfigDTO, console: Console) -> int:
    manager = FFShardManager(_routing(args, config))
    if args.action == "init":
        table = manager.create_table(dict(args.shard), replace=args.replace)
        console.print(f"routing table {manager.routing} version {table.version}: {', '.join(table.document.shards)}", highlight=False)
        return EXIT_OK
    if args.action == "owner":
        console.print(manager.owner(args.user), highlight=False)
        return EXIT_OK
    if args.abort:
        journal = manager.abort_move(args.user, args.source, args.dest)
        console.print(f"move of {args.user} rolled back (it had reached {journal['aborted_from']}); {args.source} serves it", highlight=False)
        return EXIT_OK
    journal = manager.move_user(args.user, args.source, args.dest)
    resumed = f" (resumed after {journal['resumed_from']})" if journal.get("resumed_from") else ""
    console.print(f"moved {args.user}: {journal['files']} files, {journal['bytes']} bytes, manifest {journal['manifest_sha256'][:12]}; "
                  f"routing version {journal.get('routing_version')}; writes frozen {journal.get('frozen_s')} s{resumed}", highlight=False)  # fmt: skip
    console.print(orjson.dumps(journal["seconds"]).decode(), highlight=False, markup=False)
    return EXIT_OK
