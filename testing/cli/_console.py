"""The CLI's rich console: the terminal's width on a terminal, no hard wrapping anywhere else.

rich wraps every line at the console width, and a console that is not a terminal gets 80 columns,
so piped or redirected output (``ff migrate ... | tee log``, CI logs) came out hard-wrapped at 80
columns with paths split across lines, which no one can copy or grep. ``soft_wrap=True`` leaves
long lines to whatever shows them (a terminal wraps them softly, a file keeps them whole), and off a
terminal the width is so large that tables are as wide as their content instead of folding cells.
A terminal keeps its own width, so tables still fit the window.
"""

from __future__ import annotations

from typing import IO

from rich.console import Console

__all__ = ["PIPED_WIDTH", "make_console"]

#: Width of a console that is not a terminal: wide enough that no table cell or path is folded.
PIPED_WIDTH = 10_000


def make_console(file: IO[str] | None = None, *, force_terminal: bool | None = None) -> Console:
    """The console every CLI command prints on (``file`` defaults to stdout)."""
    console = Console(file=file, soft_wrap=True, force_terminal=force_terminal)
    if not console.is_terminal:
        console = Console(file=file, soft_wrap=True, force_terminal=force_terminal, width=PIPED_WIDTH)
    return console
