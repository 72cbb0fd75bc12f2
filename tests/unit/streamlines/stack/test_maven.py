"""streamlines.stack.maven.build_jar: the project's own jar is built once per version of its
sources, in a copy (the checkout stays clean), and a stale build is replaced. Maven itself is
faked: the fake writes the jar where ``mvn package`` would."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from streamlines.errors import UserError
from streamlines.stack import maven


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    calls: list[list[str]] = []

    def fake_mvn(console: Console, description: str, command: list[str], log: Path) -> None:
        calls.append(command)
        target = Path(command[command.index("-f") + 1]).parent / "target"
        target.mkdir()
        (target / "functions-0.1.0.jar").write_bytes(b"jar %d" % len(calls))

    monkeypatch.setattr(maven, "require_tool", lambda *_: None)
    monkeypatch.setattr(maven, "run_step", fake_mvn)
    return calls


def project(tmp_path: Path) -> Path:
    root = tmp_path / "java"
    (root / "src" / "main").mkdir(parents=True)
    (root / "pom.xml").write_text("<project/>")
    (root / "src" / "main" / "F.java").write_text("class F {}")
    return root


def test_built_once_per_version_of_the_sources(tmp_path, builds):
    source, dest = project(tmp_path), tmp_path / "cache"
    jar = maven.build_jar(Console(), "functions", source, "functions", dest)
    assert jar.parent == dest / "libs"
    assert jar.name.startswith("functions-")
    assert jar.read_bytes() == b"jar 1"
    assert not (source / "target").exists()
    assert maven.build_jar(Console(), "functions", source, "functions", dest) == jar
    assert len(builds) == 1

    (source / "src" / "main" / "F.java").write_text("class F { int x; }")
    rebuilt = maven.build_jar(Console(), "functions", source, "functions", dest)
    assert rebuilt != jar
    assert len(builds) == 2
    assert sorted((dest / "libs").iterdir()) == [rebuilt]


def test_a_build_without_one_jar_is_an_error(tmp_path, monkeypatch, builds):
    monkeypatch.setattr(maven, "run_step", lambda *_: None)
    with pytest.raises(UserError, match="built 0 jars"):
        maven.build_jar(Console(), "functions", project(tmp_path), "functions", tmp_path / "c")
