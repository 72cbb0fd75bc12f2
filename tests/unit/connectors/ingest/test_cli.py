"""`streamlines ingest` on the command line: help, and clear errors without a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from typer.testing import CliRunner

from connectors.ingest.cli import split_symbols
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


def test_unreachable_kafka_is_a_clear_error():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here once the probe closes
    env = {
        **os.environ,
        "STREAMLINES_KAFKA_PORT": str(port),
        "STREAMLINES_INGEST_BLOCK_TIMEOUT": "1",
    }
    result = subprocess.run(
        [sys.executable, "-m", "streamlines.cli", "ingest", "--symbols", "GOOG"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 1
    assert f"error: cannot reach Kafka at 127.0.0.1:{port}" in result.stderr
    assert "fix: start the local stack" in result.stderr
    assert "Traceback" not in result.stderr


def test_symbol_lists():
    assert split_symbols(" goog, sp500 ,,", ()) == ["GOOG", "SP500"]
    assert split_symbols(None, ("A",)) == ["A"]
    assert split_symbols("", ("A",)) == []
