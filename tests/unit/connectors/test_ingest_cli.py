"""`streamlines ingest` on the command line: help, and clear errors without a traceback."""

from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from streamlines.cli import app


def test_help_names_the_options():
    result = CliRunner().invoke(app, ["ingest", "--help"])
    assert result.exit_code == 0
    for option in ("--symbols", "--crypto", "--sink", "--duration"):
        assert option in result.output


def test_no_symbols_is_a_clear_error():
    result = subprocess.run(
        [sys.executable, "-m", "streamlines.cli", "ingest", "--symbols", "", "--crypto", ""],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "error: no symbols to ingest" in result.stderr
    assert "Traceback" not in result.stderr
