"""The rich consoles the command line prints with.

On a terminal, rich wraps lines at the terminal's width. Written to a file or a pipe (``tee``,
a test capturing the output), rich would wrap at ``COLUMNS`` or a guessed 80 columns and break
lines in the middle of a phrase; there, ``make_console`` does not wrap at all: each line
printed is one line of output.
"""

from __future__ import annotations

from typing import IO

from rich.console import Console

# Columns given to a console that is not a terminal: wider than any line the project prints,
# so nothing wraps (rich pads no plain line to the width, so it costs nothing).
UNWRAPPED_WIDTH = 100_000


def make_console(*, stderr: bool = False, file: IO[str] | None = None) -> Console:
    """A console on stdout (``stderr``: stderr, or ``file``) that wraps lines only on a
    terminal, at the terminal's width."""
    console = Console(stderr=stderr, file=file)
    if not console.is_terminal:
        console.width = UNWRAPPED_WIDTH
    return console
