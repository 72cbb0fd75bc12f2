from __future__ import annotations

import os
from pathlib import Path

import pytest

from streamlines.errors import UserError
from streamlines.settings import Settings, load_settings


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


def test_each_service_may_be_elsewhere_than_host(monkeypatch):
    for name, value in {
        "HOST": "10.0.0.5",
        "KAFKA_ADDRESS": "kafka-0:9092,kafka-1:9092",
        "INFLUX_ADDRESS": "https://influx.example:8086/",
        "FLINK_ADDRESS": "http://flink-rest:8081",
        "REPLAY_ADDRESS": "http://replay:8765",
        "GRAPHQL_ADDRESS": "http://api:8000/graphql",
        "KINESIS_ADDRESS": "aws",
        "GRAPHQL_BIND": "0.0.0.0",
    }.items():
        monkeypatch.setenv(f"STREAMLINES_{name}", value)
    s = Settings()
    assert s.kafka_bootstrap == "kafka-0:9092,kafka-1:9092"
    assert s.influx_url == "https://influx.example:8086"
    assert s.flink_rest_url == "http://flink-rest:8081"
    assert s.replay_url == "http://replay:8765"
    assert s.graphql_url == "http://api:8000/graphql"
    assert s.kinesis_endpoint is None  # real AWS
    assert not s.kinesis_emulated
    assert s.graphql_listen_host == "0.0.0.0"
    assert s.replay_listen_host == "10.0.0.5"  # not set: host
    assert s.postgres_url.startswith("postgresql+psycopg://streamlines:")


def test_addresses_not_set_follow_host_and_ports():
    s = Settings(host="10.0.0.5", kafka_port=19092, kinesis_port=4000)
    assert s.kafka_bootstrap == "10.0.0.5:19092"
    assert s.kinesis_endpoint == "http://10.0.0.5:4000"
    assert s.kinesis_emulated
    assert s.graphql_url == "http://10.0.0.5:8000/graphql"
    assert s.graphql_listen_host == s.replay_listen_host == "10.0.0.5"


def test_secrets_never_show_in_repr(monkeypatch):
    monkeypatch.setenv("STREAMLINES_INFLUX_TOKEN", "s3cr3t-token")
    s = Settings()
    assert s.influx_token.get_secret_value() == "s3cr3t-token"
    assert "s3cr3t-token" not in repr(s)


def test_aws_is_the_local_emulator_by_default():
    s = Settings()
    assert s.aws_endpoint_url == "http://127.0.0.1:4569"
    assert s.aws_emulated
    assert s.sagemaker_bucket == "streamlines-models"
    assert s.sagemaker_instance_type == "ml.m5.large"
    assert s.sagemaker_xgboost_version == "3.0-5"


def test_aws_endpoint_chooses_real_aws_or_another_emulator(monkeypatch):
    monkeypatch.setenv("STREAMLINES_AWS_ENDPOINT", "aws")
    assert Settings().aws_endpoint_url is None
    assert not Settings().aws_emulated
    monkeypatch.setenv("STREAMLINES_AWS_ENDPOINT", "http://10.0.0.5:4566")
    assert Settings().aws_endpoint_url == "http://10.0.0.5:4566"
    monkeypatch.setenv("STREAMLINES_AWS_PORT", "14569")
    monkeypatch.setenv("STREAMLINES_AWS_ENDPOINT", "local")
    assert Settings().aws_endpoint_url == "http://127.0.0.1:14569"


def test_an_aws_endpoint_that_is_none_of_those_is_refused(monkeypatch):
    monkeypatch.setenv("STREAMLINES_AWS_ENDPOINT", "amazon")
    with pytest.raises(ValueError, match="use `local`"):
        Settings()


def production(monkeypatch: pytest.MonkeyPatch, **secrets: str) -> None:
    monkeypatch.setenv("STREAMLINES_PROFILE", "production")
    for name, value in secrets.items():
        monkeypatch.setenv(f"STREAMLINES_{name.upper()}", value)


def test_the_local_profile_accepts_the_local_stacks_secrets():
    s = Settings()
    assert (s.local_profile, s.public_data, s.graphiql) == (True, True, True)
    assert s.default_secrets() == [
        "STREAMLINES_INFLUX_PASSWORD",
        "STREAMLINES_INFLUX_TOKEN",
        "STREAMLINES_POSTGRES_PASSWORD",
    ]


def test_production_refuses_each_default_secret_by_its_variable(monkeypatch):
    production(monkeypatch, influx_password="own-1", postgres_password="own-2")
    with pytest.raises(ValueError, match=(
        "STREAMLINES_INFLUX_TOKEN is the local stack's default: set a secret of your own for "
        "the production profile"
    )):  # fmt: skip
        Settings()
    monkeypatch.setenv("STREAMLINES_INFLUX_TOKEN", "own-3")
    s = Settings()
    assert s.default_secrets() == []
    assert (s.public_data, s.graphiql) == (False, False)
    monkeypatch.setenv(
        "STREAMLINES_DATABASE_URL", "postgresql+psycopg://streamlines:streamlines-local@db/x"
    )
    with pytest.raises(ValueError, match="STREAMLINES_DATABASE_URL's password is the local"):
        Settings()


def test_load_settings_reports_a_bad_setting_as_a_user_error(monkeypatch):
    production(monkeypatch)
    with pytest.raises(UserError) as refused:
        load_settings()
    assert str(refused.value).startswith(
        "the settings are not valid: STREAMLINES_INFLUX_PASSWORD, STREAMLINES_INFLUX_TOKEN, "
        "STREAMLINES_POSTGRES_PASSWORD are the local stack's defaults"
    )
    monkeypatch.setenv("STREAMLINES_PROFILE", "local")
    monkeypatch.setenv("STREAMLINES_AWS_ENDPOINT", "amazon")
    with pytest.raises(UserError, match="STREAMLINES_AWS_ENDPOINT: 'amazon': use `local`"):
        load_settings()


def problems(monkeypatch, **variables: str) -> str:
    """The UserError `load_settings` reports for the STREAMLINES_* ``variables``."""
    for name, value in variables.items():
        monkeypatch.setenv(f"STREAMLINES_{name}", value)
    with pytest.raises(UserError) as refused:
        load_settings()
    return str(refused.value)


def test_kafka_security_combinations_are_checked_with_the_fix(monkeypatch, tmp_path):
    assert "needs a user: set STREAMLINES_KAFKA_SASL_USERNAME" in problems(
        monkeypatch, KAFKA_SECURITY_PROTOCOL="SASL_SSL"
    )
    assert "needs a password: set STREAMLINES_KAFKA_SASL_PASSWORD" in problems(
        monkeypatch, KAFKA_SASL_USERNAME="alice"
    )
    monkeypatch.setenv("STREAMLINES_KAFKA_SASL_PASSWORD", "hunter2-xyz")
    monkeypatch.setenv("STREAMLINES_KAFKA_SECURITY_PROTOCOL", "SSL")
    refused = problems(monkeypatch)
    assert "STREAMLINES_KAFKA_SECURITY_PROTOCOL is SSL: set it to SASL_SSL" in refused
    assert "hunter2-xyz" not in refused
    for name in ("KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD"):
        monkeypatch.delenv(f"STREAMLINES_{name}")
    monkeypatch.setenv("STREAMLINES_KAFKA_SECURITY_PROTOCOL", "PLAINTEXT")
    assert "STREAMLINES_KAFKA_SSL_CAFILE set but STREAMLINES_KAFKA_SECURITY_PROTOCOL is " in (
        problems(monkeypatch, KAFKA_SSL_CAFILE=str(tmp_path / "ca.pem"))
    )
    assert f"STREAMLINES_KAFKA_SSL_CAFILE: no file at {tmp_path / 'ca.pem'}" in problems(
        monkeypatch, KAFKA_SECURITY_PROTOCOL="SSL"
    )
    (tmp_path / "ca.pem").write_text("pem")
    assert "set STREAMLINES_KAFKA_SSL_CERTFILE too" in problems(
        monkeypatch, KAFKA_SSL_KEYFILE=str(tmp_path / "ca.pem")
    )
    assert "STREAMLINES_KAFKA_SECURITY_PROTOCOL" in problems(
        monkeypatch, KAFKA_SECURITY_PROTOCOL="SASL"
    )  # not one of the four


def test_a_secured_kafka_is_accepted(monkeypatch, tmp_path):
    (tmp_path / "ca.pem").write_text("pem")
    monkeypatch.setenv("STREAMLINES_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("STREAMLINES_KAFKA_SASL_MECHANISM", "SCRAM-SHA-256")
    monkeypatch.setenv("STREAMLINES_KAFKA_SASL_USERNAME", "alice")
    monkeypatch.setenv("STREAMLINES_KAFKA_SASL_PASSWORD", "hunter2-xyz")
    monkeypatch.setenv("STREAMLINES_KAFKA_SSL_CAFILE", str(tmp_path / "ca.pem"))
    settings = load_settings()
    assert settings.kafka_sasl_password is not None
    assert settings.kafka_sasl_password.get_secret_value() == "hunter2-xyz"
    assert "hunter2-xyz" not in repr(settings)


def test_influx_tls_settings_are_checked(monkeypatch, tmp_path):
    (tmp_path / "ca.pem").write_text("pem")
    assert "set STREAMLINES_INFLUX_ADDRESS to its https:// URL" in problems(
        monkeypatch, INFLUX_SSL_CA_CERT=str(tmp_path / "ca.pem")
    )
    monkeypatch.setenv("STREAMLINES_INFLUX_ADDRESS", "https://influx.example:8086")
    assert "STREAMLINES_INFLUX_VERIFY_SSL is false" in problems(
        monkeypatch, INFLUX_VERIFY_SSL="false"
    )
    monkeypatch.setenv("STREAMLINES_INFLUX_VERIFY_SSL", "true")
    assert load_settings().influx_ssl_ca_cert == tmp_path / "ca.pem"
