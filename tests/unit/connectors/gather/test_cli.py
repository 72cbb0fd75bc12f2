"""`streamlines gather` on the command line: help, arguments, and clear errors before any
service is contacted."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC
from datetime import time as dtime

import pytest
from typer.testing import CliRunner

from connectors.gather.cli import parse_at
from streamlines.cli import app
from streamlines.errors import UserError

# Nothing listens on port 9: a mistake in these tests fails instead of writing to the stack.
NO_SERVICES = {f"STREAMLINES_{name}_PORT": "9" for name in ("INFLUX", "KAFKA", "REPLAY")}


def test_help_names_the_options():
    result = CliRunner().invoke(app, ["gather", "--help"])
    assert result.exit_code == 0
    for option in (
        "--symbols",
        "--start",
        "--end",
        "--timeframe",
        "--daily",
        "--at",
        "--as-of",
        "--bucket",
        "--topic",
        "--no-kafka",
        "--concurrency",
        "1Day",
        "1Hour",
        "1Min",
    ):
        assert option in result.output  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--symbols", "GOOG"], "--start is required"),
        (["--start", "2013-01-01", "--end", "2012-01-01"], "is after --end"),
        (["--start", "2013-01-01", "--at", "05:00"], "--at and --as-of go with --daily"),
        (["--daily", "--start", "2013-01-01"], "--daily appends from each symbol's last"),
        (["--symbols", ",", "--start", "2013-01-01"], "no symbols to gather"),
        (["--daily", "--symbols", " "], "no symbols to gather"),
    ],
)
def test_argument_mistakes_are_user_errors(args, message):
    result = CliRunner().invoke(app, ["gather", *args], env=NO_SERVICES)
    assert isinstance(result.exception, UserError), result.output
    assert message in str(result.exception)
    assert result.exception.hint


def test_the_user_sees_the_message_and_the_fix_not_a_traceback():
    result = subprocess.run(
        [sys.executable, "-m", "streamlines.cli", "gather", "--symbols", "GOOG"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **NO_SERVICES},
    )
    assert result.returncode == 1
    assert "error: --start is required" in result.stderr
    assert "fix: pass --start" in result.stderr
    assert "Traceback" not in result.stderr


def test_parse_at_wants_hours_and_minutes():
    assert parse_at("05:15") == dtime(5, 15, tzinfo=UTC)
    for bad in ("5", "25:00", "noon"):
        with pytest.raises(UserError, match="is not a time of day"):
            parse_at(bad)
