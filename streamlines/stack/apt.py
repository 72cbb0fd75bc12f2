"""Debian packages the project takes from the distribution (PostgreSQL's server, chromium):
installed with apt-get when we are root (containers, CI); otherwise the caller tells the user
the command."""

from __future__ import annotations

import os
from pathlib import Path

from rich.console import Console

from streamlines.errors import UserError
from streamlines.stack.commands import require_tool, run_step

APT_ENV = {"DEBIAN_FRONTEND": "noninteractive"}


def running_as_root() -> bool:
    return os.geteuid() == 0


def apt_install(console: Console, package: str, what: str, log: Path) -> None:
    """``apt-get install -y --no-install-recommends <package>``; when it fails (usually no
    package lists yet, a fresh container, or stale ones) ``apt-get update`` and once more."""
    apt_get = require_tool("apt-get", f"install {what} (Debian's `{package}`)")
    install = [apt_get, "install", "-y", "--no-install-recommends", package]
    description = f"Installing {what} (apt-get install {package})"
    try:
        run_step(console, description, install, log, env=APT_ENV)
    except UserError:
        console.print(f"apt-get install failed; updating the package lists (log: {log})")
        run_step(console, "Updating the package lists (apt-get update)",
                 [apt_get, "update"], log, env=APT_ENV)  # fmt: skip
        run_step(console, description, install, log, env=APT_ENV)
