"""The browser the dashboard's page tests drive: Debian's ``chromium`` (Playwright over CDP, its
executable path set, no browser download). ``streamlines stack browser`` (``make browser``,
which ``make test`` runs) installs it when it is missing and we are root, as the stack installs
PostgreSQL's server; otherwise it names the command to run. Quick and quiet when it is there."""

from __future__ import annotations

import os
from pathlib import Path

from rich.console import Console

from streamlines.errors import UserError
from streamlines.settings import Settings
from streamlines.stack import apt

APT_PACKAGE = "chromium"


def _usable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def ensure_browser(settings: Settings, console: Console) -> Path:
    """The browser's path (``settings.chromium``), installed first if need be."""
    path = settings.chromium
    if _usable(path):
        return path
    if not apt.running_as_root():
        raise UserError(
            f"no browser at {path}: the dashboard's page tests drive Debian's chromium.",
            hint=f"install it: `sudo apt-get install {APT_PACKAGE}` (or set "
            "STREAMLINES_CHROMIUM to a Chromium of your own), then run the command again.",
        )
    log = settings.home / "build" / "chromium-apt.log"
    apt.apt_install(console, APT_PACKAGE, "the dashboard tests' browser", log)
    if not _usable(path):
        raise UserError(
            f"`apt-get install {APT_PACKAGE}` ran, but there is no browser at {path}. See {log}.",
            hint="set STREAMLINES_CHROMIUM to where it was installed, or install it by hand.",
        )
    console.print(f"[green]✓[/green] {APT_PACKAGE} installed: {path}")
    return path
