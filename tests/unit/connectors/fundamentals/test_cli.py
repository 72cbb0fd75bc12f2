"""`streamlines gather fundamentals` on the command line: help, arguments and clear errors
before any service is contacted; `streamlines gather` alone is still the bars gather."""

from __future__ import annotations

from datetime import date

import pytest
from typer.testing import CliRunner

from connectors.fundamentals.cli import parse_dates
from streamlines.cli import app
from streamlines.errors import UserError

# Nothing listens on port 9: a mistake in these tests fails instead of writing to the stack.
NO_SERVICES = {f"STREAMLINES_{name}_PORT": "9" for name in ("INFLUX", "KAFKA", "REPLAY")}


def test_help_names_the_options():
    result = CliRunner().invoke(app, ["gather", "fundamentals", "--help"])
    assert result.exit_code == 0
    for option in ("--symbols", "--start", "--end", "--file", "--publication-lag", "DAYS",
                   "--bucket", "--topic", "--no-kafka", "Nasdaq Data Link"):  # fmt: skip
        assert option in result.output


def test_the_bars_gathers_help_names_the_subcommand_and_keeps_its_options():
    result = CliRunner().invoke(app, ["gather", "--help"])
    assert result.exit_code == 0
    assert "fundamentals" in result.output
    for option in ("--timeframe", "--daily", "--processes"):
        assert option in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["fundamentals", "--symbols", "GOOG"], "--start is required"),
        (["fundamentals", "--start", "2013-01-01", "--end", "2012-01-01"], "is after --end"),
        (["fundamentals", "--symbols", ",", "--start", "2013-01-01"], "no symbols to gather"),
        (["fundamentals", "--file", "x.csv", "--start", "2013-01-01"], "takes no --symbols"),
        (["fundamentals", "--file", "x.csv", "--publication-lag", "3"], "takes no --symbols"),
        (["fundamentals", "--start", "yesterday"], "--start 'yesterday' is not a date"),
        (["fundamentals", "--file", "/nonexistent/x.csv", "--no-kafka"], "no file"),
        (["--symbols", "GOOG", "fundamentals"], "--symbols belong to the bars gather"),
    ],
)
def test_argument_mistakes_are_user_errors(args, message):
    result = CliRunner().invoke(app, ["gather", *args], env=NO_SERVICES)
    assert isinstance(result.exception, UserError), result.output
    assert message in str(result.exception)
    assert result.exception.hint


def test_a_negative_publication_lag_is_refused():
    result = CliRunner().invoke(
        app, ["gather", "fundamentals", "--start", "2012-01-01", "--publication-lag", "-1"]
    )
    assert result.exit_code == 2
    assert "--publication-lag" in result.output


def test_dates_default_to_today_and_times_are_cut_to_their_date():
    today = date(2026, 12, 4)
    assert parse_dates("2004-08-19", None, today) == (date(2004, 8, 19), today)
    assert parse_dates("2004-08-19T20:00:00Z", "2013-03-01", today) == (
        date(2004, 8, 19), date(2013, 3, 1),
    )  # fmt: skip
