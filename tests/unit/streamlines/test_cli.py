"""Every command answers --help; errors reach the user as a message, not a traceback."""

from __future__ import annotations

from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from streamlines.cli import app
from streamlines.errors import UserError
from tests.support.processes import run_cli


def _command_paths(group: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [prefix]
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            paths += _command_paths(command, (*prefix, name))
        else:
            paths.append((*prefix, name))
    return paths


COMMANDS = _command_paths(typer.main.get_command(app))


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "streamlines")
def test_every_command_has_help(path):
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_stack_commands_exist():
    expected = {("stack", c) for c in ("install", "up", "down", "status", "logs", "env")}
    assert expected <= set(COMMANDS)


def test_user_error_prints_message_and_fix_without_traceback():
    result = run_cli("stack", "status", "kafak")
    assert result.returncode == 1
    assert "unknown service(s): kafak" in result.stderr
    assert "fix: choose from" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_stack_env_prints_exports_for_this_stack(tmp_path):
    result = CliRunner().invoke(app, ["stack", "env"], env={"STREAMLINES_HOME": str(tmp_path)})
    assert result.exit_code == 0, result.output
    assert f"export FLINK_CONF_DIR={tmp_path}/stack/conf/flink" in result.output
    assert f"export FLINK_LIB_DIR={tmp_path}/stack/flink/lib" in result.output
    assert "pyflink/bin:$PATH" in result.output


def test_jobs_submit_names_the_known_jobs():
    # A UserError: main() prints it as `error: ... fix: ...` and exits 1 (tests/unit/streamlines/
    # test_errors.py); here it is the exception the command raised.
    result = CliRunner().invoke(app, ["jobs", "submit", "nope"])
    assert isinstance(result.exception, UserError)
    assert "no job 'nope'" in str(result.exception)
    assert "ripples" in str(result.exception)
