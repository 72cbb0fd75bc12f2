from __future__ import annotations

import os
from pathlib import Path

import pytest

from streamlines.settings import Settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """Only what each test sets: no STREAMLINES_* from the caller, no .env from the repo."""
    for name in [n for n in os.environ if n.startswith("STREAMLINES_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_defaults_are_local():
    s = Settings()
    assert s.kafka_bootstrap == "127.0.0.1:9092"
    assert s.influx_url == "http://127.0.0.1:8086"
    assert s.state_dir == Path.home() / ".cache" / "streamlines" / "stack"


def test_environment_and_dotenv_override(monkeypatch, tmp_path):
    (tmp_path / ".env").write_text("STREAMLINES_KAFKA_PORT=19092\nSTREAMLINES_INFLUX_PORT=18086\n")
    monkeypatch.setenv("STREAMLINES_INFLUX_PORT", "28086")
    s = Settings()
    assert s.kafka_port == 19092  # from .env
    assert s.influx_port == 28086  # the environment wins over .env


def test_secrets_never_show_in_repr(monkeypatch):
    monkeypatch.setenv("STREAMLINES_INFLUX_TOKEN", "s3cr3t-token")
    s = Settings()
    assert s.influx_token.get_secret_value() == "s3cr3t-token"
    assert "s3cr3t-token" not in repr(s)
