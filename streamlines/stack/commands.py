"""Run an install step (mvn, go, cargo, npm) with a live progress line and a full log."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from rich.console import Console

from streamlines.errors import UserError


def require_tool(tool: str, why: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise UserError(
            f"`{tool}` is not on PATH; it is needed to {why}.",
            hint=f"install {tool} (see the README's requirements) and run the command again.",
        )
    return path


def run_step(
    console: Console,
    description: str,
    command: Sequence[str | os.PathLike[str]],
    log_file: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> None:
    """Run ``command``; show its latest output line under ``description`` while it runs."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with (
        log_file.open("a", encoding="utf-8", errors="replace") as log,
        console.status(f"{description} …") as status,
    ):
        log.write(f"\n$ {' '.join(str(c) for c in command)}\n")
        proc = subprocess.Popen(
            [str(c) for c in command],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            cwd=cwd,
            text=True,
            errors="replace",
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            last = line.strip()
            if last:
                elapsed = int(time.monotonic() - started)
                status.update(f"{description} [{elapsed}s] [dim]{last[:100]}[/dim]")
        code = proc.wait()
    if code != 0:
        tail = "\n".join(log_file.read_text(errors="replace").splitlines()[-25:])
        raise UserError(
            f"{description} failed (exit {code}). Last lines of {log_file}:\n{tail}",
            hint="read the whole log above for the cause; fix it and run the command again "
            "(finished steps are cached and not repeated).",
        )
    console.print(f"[green]✓[/green] {description} ({time.monotonic() - started:.0f}s)")
