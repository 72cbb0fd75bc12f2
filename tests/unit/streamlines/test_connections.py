"""streamlines.connections: the settings as kafka-python's and InfluxDBClient's keyword
arguments and as the Java Kafka client's properties (no broker needed)."""

from __future__ import annotations

import logging
import os
import ssl
import stat
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException, Producer
from kafka.errors import KafkaConnectionError, KafkaTimeoutError, SaslAuthenticationFailedError

from streamlines.connections import (
    FLINK_KAFKA_PACKAGE,
    LIBRDKAFKA_PROPERTIES,
    REDACTED,
    influx_client_config,
    kafka_client_config,
    kafka_client_config_from_properties,
    kafka_errors,
    kafka_java_properties,
    kafka_job_arguments,
    kafka_librdkafka_config,
    redacted,
)
from streamlines.errors import UserError
from streamlines.settings import Settings

PASSWORD = 'pa"ss\\word'  # a quote and a backslash: the JAAS config must quote them


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    for name in [n for n in os.environ if n.startswith("STREAMLINES_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def ca(tmp_path: Path) -> Path:
    path = tmp_path / "ca.pem"
    path.write_text("-----BEGIN CERTIFICATE-----\n")
    return path


def sasl_ssl(ca: Path, **more: Any) -> Settings:
    return Settings(
        kafka_address="broker:9094",
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="alice",
        kafka_sasl_password=PASSWORD,
        kafka_ssl_cafile=ca,
        **more,
    )


def test_plaintext_is_the_bootstrap_servers_alone():
    assert kafka_client_config(Settings()) == {"bootstrap_servers": "127.0.0.1:9092"}
    assert kafka_client_config("k:1") == {"bootstrap_servers": "k:1"}
    assert kafka_java_properties(Settings()) == {}


def test_sasl_ssl_client_keyword_arguments(ca):
    assert kafka_client_config(sasl_ssl(ca)) == {
        "bootstrap_servers": "broker:9094",
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "alice",
        "sasl_plain_password": PASSWORD,
        "ssl_cafile": str(ca),
    }


def test_java_properties_name_the_flink_connectors_login_module_and_a_pem_truststore(ca):
    properties = kafka_java_properties(sasl_ssl(ca))
    assert properties == {
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.jaas.config": f"{FLINK_KAFKA_PACKAGE}.common.security.scram.ScramLoginModule "
        'required username="alice" password="pa\\"ss\\\\word";',
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": str(ca),
    }
    plain = Settings(
        kafka_security_protocol="SASL_PLAINTEXT", kafka_sasl_username="u", kafka_sasl_password="p"
    )
    jaas = kafka_java_properties(plain, package="org.apache.kafka")["sasl.jaas.config"]
    assert jaas == (
        'org.apache.kafka.common.security.plain.PlainLoginModule required username="u" '
        'password="p";'
    )


def every_security_setting(tmp_path: Path, ca: Path) -> Settings:
    certfile, keyfile = tmp_path / "client.pem", tmp_path / "client.key"
    certfile.write_text("certificate")
    keyfile.write_text("key")
    return sasl_ssl(ca, kafka_ssl_certfile=certfile, kafka_ssl_keyfile=keyfile)


def test_librdkafka_config_maps_every_security_setting(tmp_path, ca):
    settings = every_security_setting(tmp_path, ca)
    # Every keyword argument kafka-python gets has its librdkafka property.
    assert set(kafka_client_config(settings)) == set(LIBRDKAFKA_PROPERTIES)
    assert kafka_librdkafka_config(settings) == {
        "bootstrap.servers": "broker:9094",
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "alice",
        "sasl.password": PASSWORD,
        "ssl.ca.location": str(ca),
        "ssl.certificate.location": str(tmp_path / "client.pem"),
        "ssl.key.location": str(tmp_path / "client.key"),
    }
    assert kafka_librdkafka_config("k:1") == {"bootstrap.servers": "k:1"}
    assert kafka_librdkafka_config(Settings()) == {"bootstrap.servers": "127.0.0.1:9092"}
    # librdkafka knows the names (it reads the TLS files when it starts: none here).
    plain = Settings(
        kafka_security_protocol="SASL_PLAINTEXT", kafka_sasl_username="u", kafka_sasl_password="p"
    )
    Producer(kafka_librdkafka_config(plain) | {"logger": logging.getLogger("test")})


def test_librdkafka_reads_the_key_from_the_certificates_file_as_kafka_python_does(tmp_path, ca):
    both = tmp_path / "client.pem"
    both.write_text("key and certificate")
    settings = Settings(kafka_security_protocol="SSL", kafka_ssl_cafile=ca, kafka_ssl_certfile=both)
    assert "ssl_keyfile" not in kafka_client_config(settings)
    assert kafka_librdkafka_config(settings)["ssl.key.location"] == str(both)


def test_a_kafka_python_setting_without_a_librdkafka_property_is_refused(monkeypatch):
    monkeypatch.setattr(
        "streamlines.connections.kafka_security_config",
        lambda settings: {"ssl_check_hostname": False},
    )
    with pytest.raises(ValueError, match="ssl_check_hostname"):
        kafka_librdkafka_config(Settings())


def test_a_jobs_properties_give_its_own_client_the_same_login(ca):
    settings = sasl_ssl(ca)
    config = kafka_client_config_from_properties("broker:9094", kafka_java_properties(settings))
    assert config == kafka_client_config(settings)
    assert kafka_client_config_from_properties("k:1", {}) == {"bootstrap_servers": "k:1"}


def test_a_client_certificate_is_the_java_keystore_when_it_holds_the_key(tmp_path, ca):
    both = tmp_path / "client.pem"
    both.write_text("key and certificate")
    properties = kafka_java_properties(
        Settings(kafka_security_protocol="SSL", kafka_ssl_cafile=ca, kafka_ssl_certfile=both)
    )
    assert properties["ssl.keystore.type"] == "PEM"
    assert properties["ssl.keystore.location"] == str(both)
    key = tmp_path / "client.key"
    key.write_text("key")
    separate = Settings(
        kafka_security_protocol="SSL", kafka_ssl_certfile=both, kafka_ssl_keyfile=key
    )
    assert kafka_client_config(separate)["ssl_keyfile"] == str(key)
    with pytest.raises(UserError) as refused:
        kafka_java_properties(separate)
    assert "STREAMLINES_KAFKA_SSL_KEYFILE" in str(refused.value)
    assert "STREAMLINES_KAFKA_SSL_CERTFILE" in str(refused.value.hint)


def test_job_arguments_keep_the_secret_off_the_command_line(tmp_path, ca):
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    arguments = kafka_job_arguments(sasl_ssl(ca), secrets)
    assert PASSWORD not in " ".join(arguments)
    assert arguments[:2] == ["--kafka-property", "security.protocol=SASL_SSL"]
    given = dict(zip(arguments[::2], arguments[1::2], strict=True))
    assert given["--kafka-property-file"] == f"sasl.jaas.config={secrets / 'sasl.jaas.config'}"
    secret = secrets / "sasl.jaas.config"
    assert 'password="pa\\"ss\\\\word"' in secret.read_text()
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert kafka_job_arguments(Settings(), secrets) == []


def test_redacted_masks_secret_properties_also_as_sql_literals():
    jaas = 'M required username="u" password="it\'s";'
    sql = f"'properties.sasl.jaas.config' = '{jaas.replace(chr(39), chr(39) * 2)}'"
    shown = redacted(sql, {"sasl.jaas.config": jaas, "security.protocol": "SASL_SSL"})
    assert shown == f"'properties.sasl.jaas.config' = '{REDACTED}'"
    assert redacted("SASL_SSL", {"security.protocol": "SASL_SSL"}) == "SASL_SSL"


def config() -> dict[str, Any]:
    return {
        "bootstrap_servers": "broker:9094",
        "sasl_mechanism": "PLAIN",
        "sasl_plain_username": "alice",
        "sasl_plain_password": PASSWORD,
    }


def test_a_refused_login_is_a_user_error_naming_the_settings():
    with pytest.raises(UserError) as refused, kafka_errors(config()):
        raise SaslAuthenticationFailedError("Authentication failed: Invalid username or password")
    assert "refused the SASL login of user 'alice'" in str(refused.value)
    assert "STREAMLINES_KAFKA_SASL_PASSWORD" in str(refused.value.hint)
    assert PASSWORD not in str(refused.value) + str(refused.value.hint)


def bootstrap_failing_after(cause: BaseException | None) -> None:
    """As kafka-python fails a login: it retries until its bootstrap timeout, logs each
    failure, and then raises only "Unable to bootstrap"."""
    if cause is not None:
        logging.getLogger("kafka.net.manager").error("Connection failed: %s", cause)
    raise KafkaTimeoutError("Unable to bootstrap from broker:9094")


def handshake_failure() -> KafkaConnectionError:
    """As kafka-python reports a TLS failure: a KafkaConnectionError raised while handling
    the ssl.SSLError."""
    try:
        try:
            raise ssl.SSLError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
        except ssl.SSLError as exc:
            raise KafkaConnectionError(f"Handshake failed: {exc}")  # noqa: B904 - as kafka-python
    except KafkaConnectionError as wrapped:
        return wrapped


def test_a_bootstrap_timeout_is_explained_by_the_failure_kafka_python_logged():
    secured = {"security_protocol": "SASL_SSL"}
    with pytest.raises(UserError) as refused, kafka_errors(config()):
        bootstrap_failing_after(SaslAuthenticationFailedError("Invalid password"))
    assert "refused the SASL login" in str(refused.value)
    with pytest.raises(UserError) as untrusted, kafka_errors(config()):
        bootstrap_failing_after(handshake_failure())
    assert "TLS connection" in str(untrusted.value)
    assert "CERTIFICATE_VERIFY_FAILED" in str(untrusted.value)
    assert "STREAMLINES_KAFKA_SSL_CAFILE" in str(untrusted.value.hint)
    hung_up = KafkaConnectionError("socket disconnected")
    with pytest.raises(UserError) as closed, kafka_errors(config() | secured):
        bootstrap_failing_after(hung_up)
    assert "closed the connection during the SASL login of user 'alice'" in str(closed.value)
    with pytest.raises(KafkaTimeoutError), kafka_errors(config()):  # not a SASL client
        bootstrap_failing_after(hung_up)
    # Any other timeout goes through as it was, and the log is left as it was found.
    with pytest.raises(KafkaTimeoutError), kafka_errors(config()):
        bootstrap_failing_after(None)
    handlers = logging.getLogger("kafka").handlers
    assert not [h for h in handlers if type(h).__name__ == "_LoggedFailures"]


def test_influx_client_verifies_tls_with_the_given_ca(ca):
    local = influx_client_config(Settings())
    assert local == {
        "url": "http://127.0.0.1:8086",
        "token": "streamlines-local-token",
        "org": "streamlines",
        "verify_ssl": True,
    }
    https = Settings(influx_address="https://influx.example:8086", influx_ssl_ca_cert=ca)
    assert influx_client_config(https)["ssl_ca_cert"] == str(ca)
    unverified = Settings(influx_address="https://influx.example:8086", influx_verify_ssl=False)
    assert influx_client_config(unverified)["verify_ssl"] is False


def librdkafka_failure(code: int, reason: str) -> KafkaException:
    return KafkaException(KafkaError(code, reason))


def test_librdkafkas_failures_are_user_errors_naming_the_settings():
    login = "SASL authentication error: Authentication failed: Invalid username or password"
    with pytest.raises(UserError) as refused, kafka_errors(config()):
        raise librdkafka_failure(KafkaError._AUTHENTICATION, login)
    expected = f"Kafka at broker:9094 refused the SASL login of user 'alice' (PLAIN): {login}"
    assert refused.value.args[0] == expected
    assert "STREAMLINES_KAFKA_SASL_PASSWORD" in str(refused.value.hint)
    assert PASSWORD not in str(refused.value) + str(refused.value.hint)
    with pytest.raises(UserError) as untrusted, kafka_errors(config()):
        raise librdkafka_failure(KafkaError._SSL, "SSL handshake failed: certificate verify failed")
    assert "the TLS connection to Kafka at broker:9094 failed" in str(untrusted.value)
    assert "STREAMLINES_KAFKA_SSL_CAFILE" in str(untrusted.value.hint)
    with pytest.raises(UserError) as unreachable, kafka_errors(config()):
        raise librdkafka_failure(KafkaError._TRANSPORT, "Failed to get metadata")
    assert unreachable.value.args[0] == "cannot reach Kafka at broker:9094: Failed to get metadata"
    assert "STREAMLINES_KAFKA_ADDRESS" in str(unreachable.value.hint)
    with pytest.raises(UserError, match="does not allow this"), kafka_errors(config()):
        raise librdkafka_failure(KafkaError.TOPIC_AUTHORIZATION_FAILED, "Topic authorization")
    # Any other failure goes through as it was.
    with pytest.raises(KafkaException, match="No such configuration"), kafka_errors(config()):
        raise librdkafka_failure(KafkaError._INVALID_ARG, "No such configuration property")
