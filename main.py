"""FF Platform command line (``python main.py COMMAND``); the commands live in ``testing.cli``."""

from __future__ import annotations

import sys

from testing.cli import COMMANDS, build_parser, main

__all__ = ["COMMANDS", "build_parser", "main"]

if __name__ == "__main__":
    sys.exit(main())
