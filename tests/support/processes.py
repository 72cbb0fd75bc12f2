"""Running the project's command line as a child process in a test: the one place tests start
it. ``run_cli`` runs ``streamlines <args>`` to the end; ``start_cli`` starts it and leaves the
waiting to the test. (The project's servers, replay and GraphQL, on a port of their own:
``streamlines.child``.)"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping

STREAMLINES = (sys.executable, "-m", "streamlines.cli")


def cli_command(*args: str) -> list[str]:
    """The command line of ``streamlines <args>``, run by this interpreter."""
    return [*STREAMLINES, *args]


def _environment(env: Mapping[str, str] | None) -> dict[str, str] | None:
    return None if env is None else {**os.environ, **env}


def run_cli(
    *args: str, env: Mapping[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run ``streamlines <args>`` to the end (at most ``timeout`` s), its output captured as
    text; ``env``: variables set on top of this process's environment."""
    return subprocess.run(
        cli_command(*args), env=_environment(env), capture_output=True, text=True, timeout=timeout
    )


def start_cli(*args: str, env: Mapping[str, str] | None = None) -> subprocess.Popen[str]:
    """Start ``streamlines <args>`` with stdout and stderr piped as text; the test waits for
    it (``communicate``)."""
    return subprocess.Popen(
        cli_command(*args),
        env=_environment(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
