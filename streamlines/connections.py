"""How the project's clients reach Kafka and InfluxDB: the one place that turns the settings
(``STREAMLINES_KAFKA_SECURITY_PROTOCOL`` and its companions, ``STREAMLINES_INFLUX_SSL_CA_CERT``)
into kafka-python's and InfluxDBClient's keyword arguments, librdkafka's properties (the
producer, confluent-kafka), and the Java Kafka client's properties that the Flink jobs are
given (``--kafka-property``)."""

from __future__ import annotations

import logging
import os
import re
import ssl
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from confluent_kafka import KafkaError as LibrdkafkaError
from confluent_kafka import KafkaException
from kafka.errors import (
    AuthorizationError,
    KafkaConnectionError,
    KafkaTimeoutError,
    SaslAuthenticationFailedError,
    UnsupportedSaslMechanismError,
)

from streamlines.errors import UserError
from streamlines.settings import Settings

# The Flink SQL Kafka connector (flink-sql-connector-kafka, on the cluster's lib/) carries the
# Kafka client relocated under this package: a JAAS config naming org.apache.kafka's login
# modules fails there with "class not found".
FLINK_KAFKA_PACKAGE = "org.apache.flink.kafka.shaded.org.apache.kafka"
LOGIN_MODULES = {
    "PLAIN": "common.security.plain.PlainLoginModule",
    "SCRAM-SHA-256": "common.security.scram.ScramLoginModule",
    "SCRAM-SHA-512": "common.security.scram.ScramLoginModule",
}
# Java client properties whose value is a secret: never on a command line or in printed SQL.
SECRET_PROPERTIES = frozenset(
    {
        "sasl.jaas.config",
        "ssl.key.password",
        "ssl.keystore.key",
        "ssl.keystore.password",
        "ssl.truststore.password",
    }
)
REDACTED = "******"
_JAAS_OPTION = re.compile(r'(\w+)\s*=\s*"((?:[^"\\]|\\.)*)"')


def kafka_security_config(settings: Settings) -> dict[str, Any]:
    """kafka-python's security keyword arguments (none for PLAINTEXT)."""
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return {}
    config: dict[str, Any] = {"security_protocol": protocol}
    if protocol.startswith("SASL_"):
        password = settings.kafka_sasl_password
        config |= {
            "sasl_mechanism": settings.kafka_sasl_mechanism,
            "sasl_plain_username": settings.kafka_sasl_username,
            "sasl_plain_password": password.get_secret_value() if password else None,
        }
    if protocol in ("SSL", "SASL_SSL"):
        files = {
            "ssl_cafile": settings.kafka_ssl_cafile,
            "ssl_certfile": settings.kafka_ssl_certfile,
            "ssl_keyfile": settings.kafka_ssl_keyfile,
        }
        config |= {key: str(path) for key, path in files.items() if path is not None}
    return config


def kafka_client_config(kafka: Settings | str) -> dict[str, Any]:
    """The keyword arguments every KafkaProducer, KafkaConsumer and KafkaAdminClient of the
    project starts from: the bootstrap servers and the security settings. A string is the
    bootstrap servers of a PLAINTEXT broker (a test's own)."""
    if isinstance(kafka, str):
        return {"bootstrap_servers": kafka}
    return {"bootstrap_servers": kafka.kafka_bootstrap, **kafka_security_config(kafka)}


# kafka-python's keyword argument -> librdkafka's property, for every key that
# ``kafka_client_config`` gives: ``kafka_librdkafka_config`` refuses one missing here.
LIBRDKAFKA_PROPERTIES = {
    "bootstrap_servers": "bootstrap.servers",
    "security_protocol": "security.protocol",
    "sasl_mechanism": "sasl.mechanism",
    "sasl_plain_username": "sasl.username",
    "sasl_plain_password": "sasl.password",
    "ssl_cafile": "ssl.ca.location",
    "ssl_certfile": "ssl.certificate.location",
    "ssl_keyfile": "ssl.key.location",
}


def kafka_librdkafka_config(kafka: Settings | str) -> dict[str, str]:
    """``kafka_client_config`` as librdkafka's properties (confluent-kafka's clients): the
    same bootstrap servers and security settings, translated key by key."""
    config = kafka_client_config(kafka)
    unmapped = sorted(set(config) - set(LIBRDKAFKA_PROPERTIES))
    if unmapped:
        raise ValueError(f"no librdkafka property for kafka-python's {', '.join(unmapped)}")
    properties = {
        LIBRDKAFKA_PROPERTIES[key]: str(value) for key, value in config.items() if value is not None
    }
    if "ssl_certfile" in config and "ssl_keyfile" not in config:
        # Python's ssl (kafka-python) reads the key from the certificate's file then;
        # librdkafka reads it from ssl.key.location only.
        properties["ssl.key.location"] = str(config["ssl_certfile"])
    return properties


def kafka_java_properties(settings: Settings, package: str = FLINK_KAFKA_PACKAGE) -> dict[str, str]:
    """The same settings as the Java Kafka client's properties (``security.protocol``, ...),
    for the Flink jobs' tables (``package``: where the client's classes are, see
    ``FLINK_KAFKA_PACKAGE``). TLS files are PEM, read from the same paths on the machines
    the job's tasks run on (``ssl.truststore.type=PEM``, Kafka clients 2.7 and later)."""
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return {}
    properties: dict[str, str] = {"security.protocol": protocol}
    if protocol.startswith("SASL_"):
        mechanism = settings.kafka_sasl_mechanism
        password = settings.kafka_sasl_password
        properties["sasl.mechanism"] = mechanism
        properties["sasl.jaas.config"] = (
            f"{package}.{LOGIN_MODULES[mechanism]} required "
            f"username={_jaas_quoted(settings.kafka_sasl_username or '')} "
            f"password={_jaas_quoted(password.get_secret_value() if password else '')};"
        )
    if settings.kafka_ssl_cafile is not None:
        properties["ssl.truststore.type"] = "PEM"
        properties["ssl.truststore.location"] = str(settings.kafka_ssl_cafile)
    certfile, keyfile = settings.kafka_ssl_certfile, settings.kafka_ssl_keyfile
    if certfile is not None:
        if keyfile is not None and keyfile != certfile:
            raise UserError(
                "the Flink jobs' Kafka client (Java) reads a client certificate's key from the "
                f"certificate's file, and STREAMLINES_KAFKA_SSL_KEYFILE is another ({keyfile})",
                "put the key (PKCS#8 PEM, `openssl pkcs8 -topk8 -nocrypt`) and the certificate "
                "into one file and set STREAMLINES_KAFKA_SSL_CERTFILE to it, without "
                "STREAMLINES_KAFKA_SSL_KEYFILE",
            )
        properties["ssl.keystore.type"] = "PEM"
        properties["ssl.keystore.location"] = str(certfile)
    return properties


def kafka_client_config_from_properties(
    bootstrap: str, properties: Mapping[str, str]
) -> dict[str, Any]:
    """kafka-python's keyword arguments from the Java client's properties a job was given
    (``kafka_java_properties``): the job's own admin client checks topics with them."""
    config: dict[str, Any] = {"bootstrap_servers": bootstrap}
    protocol = properties.get("security.protocol", "PLAINTEXT")
    if protocol == "PLAINTEXT":
        return config
    config["security_protocol"] = protocol
    if "sasl.mechanism" in properties:
        config["sasl_mechanism"] = properties["sasl.mechanism"]
    options = dict(_JAAS_OPTION.findall(properties.get("sasl.jaas.config", "")))
    if "username" in options:
        config["sasl_plain_username"] = _jaas_unquoted(options["username"])
    if "password" in options:
        config["sasl_plain_password"] = _jaas_unquoted(options["password"])
    if properties.get("ssl.truststore.type") == "PEM" and "ssl.truststore.location" in properties:
        config["ssl_cafile"] = properties["ssl.truststore.location"]
    if properties.get("ssl.keystore.type") == "PEM" and "ssl.keystore.location" in properties:
        config["ssl_certfile"] = properties["ssl.keystore.location"]
    if properties.get("ssl.endpoint.identification.algorithm") == "":
        config["ssl_check_hostname"] = False
    return config


def kafka_job_arguments(settings: Settings, secret_dir: Path) -> list[str]:
    """A job's ``--kafka-property KEY=VALUE`` arguments for the settings (none for PLAINTEXT).
    A secret (the JAAS config with the password) is written to a file of its own in
    ``secret_dir`` (readable by this user only) and given as ``--kafka-property-file
    KEY=PATH``: a command line is visible to every user of the machine (``ps``). The job
    reads the file when it starts; the caller removes ``secret_dir`` once it has."""
    arguments = []
    for key, value in kafka_java_properties(settings).items():
        if key in SECRET_PROPERTIES:
            path = secret_dir / key
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as out:
                out.write(value)
            arguments += ["--kafka-property-file", f"{key}={path}"]
        else:
            arguments += ["--kafka-property", f"{key}={value}"]
    return arguments


def redacted(text: str, properties: Mapping[str, str]) -> str:
    """``text`` (say, a job's SQL) with the values of the secret ``properties`` masked."""
    for key, value in properties.items():
        if key in SECRET_PROPERTIES and value:
            text = text.replace(value.replace("'", "''"), REDACTED).replace(value, REDACTED)
    return text


LOGIN_FAILURES = (SaslAuthenticationFailedError, UnsupportedSaslMechanismError)
# librdkafka's error codes (confluent-kafka's KafkaError) of the same failures.
LIBRDKAFKA_FAILURES = {
    LibrdkafkaError._AUTHENTICATION: "login",
    LibrdkafkaError._SSL: "tls",
    LibrdkafkaError.TOPIC_AUTHORIZATION_FAILED: "acl",
    LibrdkafkaError.CLUSTER_AUTHORIZATION_FAILED: "acl",
    LibrdkafkaError._TRANSPORT: "unreachable",
    LibrdkafkaError._ALL_BROKERS_DOWN: "unreachable",
    LibrdkafkaError._TIMED_OUT: "unreachable",
    LibrdkafkaError._RESOLVE: "unreachable",
}
LOGIN_HINT = (
    "check STREAMLINES_KAFKA_SASL_USERNAME, STREAMLINES_KAFKA_SASL_PASSWORD and "
    "STREAMLINES_KAFKA_SASL_MECHANISM"
)


class _LoggedFailures(logging.Handler):
    """The exceptions kafka-python logs as it retries a connection: at the end of its bootstrap
    timeout it raises only "Unable to bootstrap", whatever the cause was."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.causes: list[BaseException] = []

    def emit(self, record: logging.LogRecord) -> None:
        if isinstance(record.args, tuple):
            self.causes += [arg for arg in record.args if isinstance(arg, BaseException)]

    @property
    def hung_up(self) -> bool:
        """The broker closed a connection after accepting it."""
        return any(
            isinstance(c, KafkaConnectionError) and "socket disconnected" in str(c)
            for c in self.causes
        )

    def cause(self) -> BaseException | None:
        """The last login or TLS failure logged, if any (kafka-python wraps a TLS failure in
        a KafkaConnectionError, raised while handling it)."""
        found = [
            failure
            for cause in self.causes
            if (failure := _login_or_tls_failure(cause)) is not None
        ]
        return found[-1] if found else None


def _login_or_tls_failure(exc: BaseException | None) -> BaseException | None:
    while exc is not None:
        if isinstance(exc, (*LOGIN_FAILURES, ssl.SSLError)):
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


@contextmanager
def kafka_errors(config: Mapping[str, Any]) -> Iterator[None]:
    """Kafka refusing the login of a client built from ``config`` (kafka-python's keyword
    arguments), or TLS failing, as a UserError that names the settings to check (not a stack
    trace). Other failures of kafka-python go through as they are. A confluent-kafka client
    (built from ``kafka_librdkafka_config``) raises a KafkaException with librdkafka's error:
    those above, and an unreachable broker, are UserErrors too."""
    failures = _LoggedFailures()
    logger = logging.getLogger("kafka")
    logger.addHandler(failures)
    try:
        yield
    except (*LOGIN_FAILURES, AuthorizationError) as exc:
        raise _kafka_user_error(config, exc) from None
    except KafkaException as exc:
        error = exc.args[0] if exc.args and isinstance(exc.args[0], LibrdkafkaError) else None
        if error is None or error.code() not in LIBRDKAFKA_FAILURES:
            raise
        raise _librdkafka_user_error(config, error) from None
    except KafkaTimeoutError:
        cause = failures.cause()
        if cause is not None:
            raise _kafka_user_error(config, cause) from None
        if str(config.get("security_protocol", "")).startswith("SASL_") and failures.hung_up:
            # The broker answers a refused login and then hangs up; kafka-python does not
            # always read the answer before it sees the hang-up.
            raise UserError(
                f"Kafka at {config['bootstrap_servers']} closed the connection during "
                f"{_login(config)}, every time (a wrong user, password or mechanism does this)",
                f"{LOGIN_HINT}, and that STREAMLINES_KAFKA_SECURITY_PROTOCOL matches the "
                "broker's listener",
            ) from None
        raise
    finally:
        logger.removeHandler(failures)


def _kafka_user_error(config: Mapping[str, Any], exc: BaseException) -> UserError:
    if isinstance(exc, LOGIN_FAILURES):
        return _failure_user_error(config, "login", _first_line(exc))
    if isinstance(exc, ssl.SSLError):
        return _failure_user_error(config, "tls", _first_line(exc))
    return _failure_user_error(config, "acl", _first_line(exc))


def _librdkafka_user_error(config: Mapping[str, Any], error: LibrdkafkaError) -> UserError:
    return _failure_user_error(config, LIBRDKAFKA_FAILURES[error.code()], error.str())


def _failure_user_error(config: Mapping[str, Any], failure: str, detail: str) -> UserError:
    where = f"Kafka at {config['bootstrap_servers']}"
    if failure == "login":
        return UserError(f"{where} refused {_login(config)}: {detail}", LOGIN_HINT)
    if failure == "tls":
        return UserError(
            f"the TLS connection to {where} failed: {detail}",
            "check STREAMLINES_KAFKA_SSL_CAFILE (the CA that signed the broker's certificate), "
            "that STREAMLINES_KAFKA_ADDRESS is a name or address in that certificate, and that "
            "STREAMLINES_KAFKA_SECURITY_PROTOCOL matches the broker's listener",
        )
    if failure == "unreachable":
        return UserError(
            f"cannot reach {where}: {detail}",
            "check STREAMLINES_KAFKA_ADDRESS and STREAMLINES_KAFKA_SECURITY_PROTOCOL, or start "
            "the local stack with `streamlines stack up`",
        )
    return UserError(
        f"{where} does not allow this: {detail}",
        "ask the cluster's administrator for the ACLs of STREAMLINES_KAFKA_SASL_USERNAME",
    )


def influx_client_config(settings: Settings) -> dict[str, Any]:
    """The keyword arguments every InfluxDBClient of the project starts from: URL, token, org
    and TLS verification."""
    config: dict[str, Any] = {
        "url": settings.influx_url,
        "token": settings.influx_token.get_secret_value(),
        "org": settings.influx_org,
        "verify_ssl": settings.influx_verify_ssl,
    }
    if settings.influx_ssl_ca_cert is not None:
        config["ssl_ca_cert"] = str(settings.influx_ssl_ca_cert)
    return config


def _login(config: Mapping[str, Any]) -> str:
    return (
        f"the SASL login of user {config.get('sasl_plain_username')!r} "
        f"({config.get('sasl_mechanism')})"
    )


def _jaas_quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _jaas_unquoted(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
