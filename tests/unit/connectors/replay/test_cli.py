"""CLI errors name what was wrong and how to fix it; no stack traces."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from connectors.replay.cli import app, parse_speed
from streamlines.errors import UserError

runner = CliRunner()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--speed", "fast"], "--speed"),
        (["--start", "yesterday-ish"], "--start"),
        (["--symbols", "AAPL"], "unknown symbol"),
        (["--credentials", "nocolon"], "KEY:SECRET"),
        (["--rest-error-status", "418"], "429"),
    ],
)
def test_bad_flags_explain_themselves(args, message):
    result = runner.invoke(app, ["serve", *args])
    assert isinstance(result.exception, UserError)
    assert message in str(result.exception)


def test_python_dash_m_prints_errors_as_streamlines_does():
    result = subprocess.run(
        [sys.executable, "-m", "connectors.replay", "serve", "--speed", "fast"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "error: --speed 'fast'" in result.stderr
    assert "Traceback" not in result.stderr


def test_help_on_every_command():
    for command in (["--help"], ["serve", "--help"], ["symbols", "--help"]):
        assert runner.invoke(app, command).exit_code == 0


def test_symbols_lists_real_and_synthetic():
    result = runner.invoke(app, ["symbols", "--universe-size", "4"])
    assert "GOOG" in result.output
    assert "SYN0001" in result.output
    assert "real" in result.output


def test_speed_parsing():
    assert parse_speed("max") is None
    assert parse_speed("60") == 60.0
    with pytest.raises(ValueError, match="-1"):
        parse_speed("-1")


def test_a_bad_corporate_actions_file_names_its_lines(tmp_path):
    path = tmp_path / "actions.csv"
    path.write_text(
        "symbol,type,ex_date,rate,new_rate,old_rate,record_date,payable_date\n"
        "GOOG,cash_dividend,2012-06-01,0.5,,,,\n"
        "GOOG,forward_split,2014-04-03,,1,2,,\n"
    )
    result = runner.invoke(app, ["serve", "--corporate-actions", str(path)])
    assert isinstance(result.exception, UserError)
    message = str(result.exception)
    assert message.startswith(f"--corporate-actions: {path}: line 3: a forward split")
    assert "fix: a CSV with the header symbol,type,ex_date,rate" in message
