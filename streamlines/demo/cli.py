"""`streamlines demo`: the README's main command (the work is in ``streamlines.demo.service``)."""

from __future__ import annotations

from typing import Annotated

import typer

from streamlines.demo.service import run_demo
from streamlines.settings import Settings


def demo(
    duration: Annotated[
        float | None, typer.Option(help="Stop after this many seconds (default: until Ctrl-C).")
    ] = None,
    keep_stack: Annotated[
        bool, typer.Option(help="Leave the services running when the demo stops.")
    ] = False,
) -> None:
    """Run the whole pipeline locally on the replay feed; Ctrl-C stops what it started."""
    run_demo(Settings(), duration=duration, keep_stack=keep_stack)
