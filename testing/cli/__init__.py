"""FF Platform command line: parse arguments, call the library, print one line per error.

Like sqlite-utils' CLI, every command opens the library, calls one function and turns ``FFError``
into ``Name: message`` on stderr with exit code 2. Each command group is a small module here that
registers itself in ``COMMANDS`` (see ``_registry``); ``main.py`` at the repository root and the
installed console script both call ``main``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from ff_class_configs import load_config
from ff_utils.ff_errors import FFError
from ff_utils.ff_logging import cli_logging
from testing.runner import FFOutsideTestsFilter

# Each module registers its commands on import; this order is the order `--help` lists them in.
from . import _data_root, _migrate, _runs, _bench, _serve, _apikey  # noqa: F401,I001
from . import _keys, _cluster, _mutate, _shard, _schedule, _distributed_load  # noqa: F401
from ._console import make_console
from ._registry import COMMANDS, EXIT_CHECK_FAILED, EXIT_OK, EXIT_USAGE, command, program_name
from ._version import distribution_version

__all__ = ["COMMANDS", "EXIT_CHECK_FAILED", "EXIT_OK", "EXIT_USAGE", "build_parser", "command", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=program_name(), description="FF Platform: flat-file chat data and its validation platform")
    parser.add_argument("--version", action="version", version=f"ff-platform {distribution_version()}",
                        help="print the installed version and exit")
    parser.add_argument("--config", type=Path, help="JSON config file")
    parser.add_argument("--environment", choices=["development", "staging", "production_like", "performance"],
                        help="preset of settings under the config file and FF_* variables (default: FF_ENVIRONMENT, else development)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (help_text, arguments, _function) in COMMANDS.items():
        arguments(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv: Sequence[str] | None = None, *, console: Console | None = None) -> int:
    """Run one command; return the exit code (0 ok, 1 a check failed, 2 bad usage/config/input)."""
    out = console or make_console()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed its one line
        return int(exc.code or 0) and EXIT_USAGE
    try:
        config = load_config(args.config, environment=args.environment)
        # Log records print on the same console as the progress bars (never glued onto one).
        with cli_logging(out) as handler:
            # Records a running test caused (the suites inject faults on purpose) go to the run's
            # log file and the report, beside that test; the console shows only the rest.
            handler.addFilter(FFOutsideTestsFilter())
            return COMMANDS[args.command][2](args, config, out)
    except FFError as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
