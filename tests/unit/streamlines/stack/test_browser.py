"""streamlines.stack.browser: chromium found, installed as root, or the command named to a user
(apt-get faked: these tests install nothing)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from rich.console import Console

from streamlines.errors import UserError
from streamlines.settings import Settings
from streamlines.stack import apt, browser
from streamlines.stack.browser import ensure_browser


def _executable(path: Path) -> None:
    path.write_text("#!/bin/sh\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


class FakeInstall:
    """apt.apt_install: records the package; ``makes`` the file it would install, if any."""

    def __init__(self, makes: Path | None) -> None:
        self.makes = makes
        self.packages: list[str] = []

    def __call__(self, console: Console, package: str, what: str, log: Path) -> None:
        self.packages.append(package)
        if self.makes is not None:
            _executable(self.makes)


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(home=tmp_path / "home", chromium=tmp_path / "chromium")


def _as(monkeypatch, root: bool, install: FakeInstall) -> None:
    monkeypatch.setattr(apt, "running_as_root", lambda: root)
    monkeypatch.setattr(apt, "apt_install", install)


def test_an_installed_browser_is_left_alone(settings, monkeypatch):
    _executable(settings.chromium)
    install = FakeInstall(None)
    _as(monkeypatch, True, install)
    assert ensure_browser(settings, Console(quiet=True)) == settings.chromium
    assert install.packages == []


def test_as_root_a_missing_browser_is_installed_from_debian(settings, monkeypatch):
    install = FakeInstall(settings.chromium)
    _as(monkeypatch, True, install)
    assert ensure_browser(settings, Console(quiet=True)) == settings.chromium
    assert install.packages == [browser.APT_PACKAGE] == ["chromium"]


def test_a_user_is_told_the_exact_command(settings, monkeypatch):
    install = FakeInstall(settings.chromium)
    _as(monkeypatch, False, install)
    with pytest.raises(UserError) as error:
        ensure_browser(settings, Console(quiet=True))
    assert str(settings.chromium) in str(error.value)
    assert "sudo apt-get install chromium" in str(error.value)
    assert install.packages == []


def test_an_install_without_the_browser_after_it_says_where_to_look(settings, monkeypatch):
    _as(monkeypatch, True, FakeInstall(None))  # the package put it elsewhere, or nowhere
    with pytest.raises(UserError, match="ran, but there is no browser") as error:
        ensure_browser(settings, Console(quiet=True))
    assert "STREAMLINES_CHROMIUM" in str(error.value)
