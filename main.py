"""FF Platform command line: parse arguments, call the library, print one line per error.

Like sqlite-utils' CLI, every command opens the library, calls one function and turns
``FFError`` into ``Name: message`` on stderr with exit code 2. Nothing here that the library
lacks: commands are registered in ``COMMANDS`` and each is a few lines.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from ff_class_configs import FFConfigurationManagerConfigDTO, load_config
from ff_managers.ff_data_root import ff_data_root_status, ff_ensure_data_root
from ff_utils.ff_errors import FFError

EXIT_OK, EXIT_CHECK_FAILED, EXIT_USAGE = 0, 1, 2

Command = Callable[[argparse.Namespace, FFConfigurationManagerConfigDTO, Console], int]
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Command]] = {}


def command(name: str, help_text: str, arguments: Callable[[argparse.ArgumentParser], None] = lambda p: None):
    """Register a sub-command: its help, its arguments and the function that runs it."""

    def register(function: Command) -> Command:
        COMMANDS[name] = (help_text, arguments, function)
        return function

    return register


def _data_dir_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, help="data root (default: the configured one, ./ff_data)")


@command("init", "create a data root with ff_meta.json naming its schema version", _data_dir_argument)
def cmd_init(args: argparse.Namespace, config: FFConfigurationManagerConfigDTO, console: Console) -> int:
    root = Path(args.data_dir or config.storage.base_path)
    meta = ff_ensure_data_root(root)
    console.print(f"data root ready: {root.resolve()} (schema version {meta.schema_version})")
    return EXIT_OK


@command("status", "show what a data root holds", _data_dir_argument)
def cmd_status(args: argparse.Namespace, config: FFConfigurationManagerConfigDTO, console: Console) -> int:
    status = ff_data_root_status(Path(args.data_dir or config.storage.base_path))
    table = Table(title=f"data root {status.path}")
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row("schema version", str(status.schema_version) if status.schema_version is not None else "none (not initialised)")
    table.add_row("users", str(status.users))
    table.add_row("files", f"{status.files:,}")
    table.add_row("bytes", f"{status.bytes:,}")
    for area, count in sorted(status.areas.items()):
        table.add_row(f"  files in {area}/", f"{count:,}")
    console.print(table)
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="main.py", description="FF Platform: flat-file chat data and its validation platform")
    parser.add_argument("--config", type=Path, help="JSON config file")
    parser.add_argument("--environment", choices=["development", "staging", "production_like", "performance"])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (help_text, arguments, _function) in COMMANDS.items():
        arguments(sub.add_parser(name, help=help_text, description=help_text))
    return parser



def main(argv: Sequence[str] | None = None, *, console: Console | None = None) -> int:
    """Run one command; return the exit code (0 ok, 1 a check failed, 2 bad usage/config/input)."""
    out = console or Console()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed its one line
        return int(exc.code or 0) and EXIT_USAGE
    try:
        config = load_config(args.config, environment=args.environment)
        return COMMANDS[args.command][2](args, config, out)
    except FFError as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
