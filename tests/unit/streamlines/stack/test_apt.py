"""streamlines.stack.apt: apt-get install, with apt-get update and a retry when it fails
(run_step faked: these tests install nothing)."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from streamlines.errors import UserError
from streamlines.stack import apt


class FakeRunStep:
    """run_step for apt-get: records each command; ``install`` fails until the lists are
    updated, or always with ``broken``."""

    def __init__(self, broken: bool = False) -> None:
        self.commands: list[list[str]] = []
        self.updated = False
        self.broken = broken

    def __call__(self, console, description, command, log_file, env=None, cwd=None) -> None:
        self.commands.append([str(part) for part in command])
        assert env == {"DEBIAN_FRONTEND": "noninteractive"}
        if command[1] == "update":
            self.updated = True
        elif self.broken or not self.updated:
            raise UserError("E: Unable to locate package chromium")


@pytest.fixture
def fake_apt(monkeypatch) -> FakeRunStep:
    fake = FakeRunStep()
    monkeypatch.setattr(apt, "run_step", fake)
    monkeypatch.setattr(apt, "require_tool", lambda tool, why: tool)
    return fake


INSTALL = ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]


def test_a_failed_install_updates_the_lists_and_tries_once_more(fake_apt, tmp_path: Path):
    apt.apt_install(Console(quiet=True), "chromium", "a browser", tmp_path / "apt.log")
    assert fake_apt.commands == [INSTALL, ["apt-get", "update"], INSTALL]


def test_an_install_that_fails_again_is_the_users_error(fake_apt, tmp_path: Path):
    fake_apt.broken = True
    with pytest.raises(UserError, match="Unable to locate package"):
        apt.apt_install(Console(quiet=True), "chromium", "a browser", tmp_path / "apt.log")
    assert fake_apt.commands == [INSTALL, ["apt-get", "update"], INSTALL]
