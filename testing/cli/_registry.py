"""The command registry every CLI module adds to, and the exit codes all commands share.

Each command is a function ``(args, config, console) -> exit code`` registered with its help text
and an argument builder, so a new command is one small module: import ``command`` and decorate.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from rich.console import Console

from ff_class_configs import FFConfigurationManagerConfigDTO

__all__ = ["COMMANDS", "Command", "EXIT_CHECK_FAILED", "EXIT_OK", "EXIT_USAGE", "command", "data_dir_argument", "program_name"]

EXIT_OK, EXIT_CHECK_FAILED, EXIT_USAGE = 0, 1, 2

Command = Callable[[argparse.Namespace, FFConfigurationManagerConfigDTO, Console], int]
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Command]] = {}


def command(name: str, help_text: str, arguments: Callable[[argparse.ArgumentParser], None] = lambda p: None):
    """Register a sub-command: its help, its arguments and the function that runs it."""

    def register(function: Command) -> Command:
        COMMANDS[name] = (help_text, arguments, function)
        return function

    return register


def data_dir_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, help="data root (default: the configured one, ./ff_data)")


def program_name() -> str:
    """How the user started the CLI, for messages that suggest a command: ``ff`` (the console
    script) or ``main.py`` (a source checkout, and in-process calls)."""
    return "ff" if Path(sys.argv[0]).name == "ff" else "main.py"
