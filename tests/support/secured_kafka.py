"""A Kafka broker of the test's own with a SASL_SSL listener (PLAIN, one user) beside its
PLAINTEXT one: a CA and the broker's certificate made with ``openssl`` in the test's
directory, the project's Kafka service (jars, storage, process handling) on private ports and
state, with the listener added to its server.properties. The PLAINTEXT listener serves the
health check and lets a test look at the topics without the client code under test."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from streamlines.child import free_port
from streamlines.settings import Settings
from streamlines.stack.services.kafka import KafkaService
from tests.support.private_stack import private_settings

USER = "alice"
PASSWORD = "alice-s3cret-7"  # the test broker's own user


@dataclass(frozen=True)
class Tls:
    ca: Path  # the CA's certificate (PEM): what clients trust
    broker: Path  # the broker's PKCS#8 key and its certificate (PEM), signed by the CA


def make_tls(directory: Path, host: str) -> Tls:
    """A CA and a broker certificate for ``host`` (an IP address or a name) it signed."""
    directory.mkdir(parents=True, exist_ok=True)

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True)

    openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=Stream Lines test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    )  # fmt: skip
    openssl(
        "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "broker.key", "-out", "broker.csr",
        "-subj", f"/CN={host}",
    )  # fmt: skip
    kind = "IP" if host.replace(".", "").isdigit() else "DNS"
    (directory / "broker.ext").write_text(f"subjectAltName={kind}:{host},DNS:localhost\n")
    openssl(
        "x509", "-req", "-in", "broker.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "2", "-out", "broker.crt", "-extfile", "broker.ext",
    )  # fmt: skip
    broker = directory / "broker.pem"
    broker.write_text(
        (directory / "broker.key").read_text() + (directory / "broker.crt").read_text()
    )
    return Tls(directory / "ca.pem", broker)


class SecuredKafkaService(KafkaService):
    """The project's Kafka service with a SASL_SSL listener on ``sasl_port`` added."""

    def __init__(self, settings: Settings, sasl_port: int, tls: Tls) -> None:
        super().__init__(settings)
        self.sasl_port = sasl_port
        self.tls = tls

    def server_properties(self) -> dict[str, str]:
        s, properties = self.settings, super().server_properties()
        plain, controller = f"{s.host}:{s.kafka_port}", f"{s.host}:{s.kafka_controller_port}"
        secured = f"{s.host}:{self.sasl_port}"
        # The broker's own login module: its classpath has Kafka's client unrelocated.
        jaas = (
            "org.apache.kafka.common.security.plain.PlainLoginModule required "
            f'user_{USER}="{PASSWORD}";'
        )
        return properties | {
            "listeners": f"PLAINTEXT://{plain},SASL_SSL://{secured},CONTROLLER://{controller}",
            "advertised.listeners": f"PLAINTEXT://{plain},SASL_SSL://{secured}",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL,"
            "CONTROLLER:PLAINTEXT",
            "sasl.enabled.mechanisms": "PLAIN",
            "listener.name.sasl_ssl.plain.sasl.jaas.config": jaas,
            "listener.name.sasl_ssl.ssl.keystore.type": "PEM",
            "listener.name.sasl_ssl.ssl.keystore.location": str(self.tls.broker),
        }


@dataclass(frozen=True)
class SecuredBroker:
    plain: Settings  # the broker's PLAINTEXT listener (and its stack's settings)
    tls: Tls
    sasl_port: int

    def client_settings(self, password: str = PASSWORD, **more: object) -> Settings:
        """Settings of a client of the SASL_SSL listener, as a user would set them."""
        values: dict[str, object] = {
            "kafka_address": f"{self.plain.host}:{self.sasl_port}",
            "kafka_security_protocol": "SASL_SSL",
            "kafka_sasl_mechanism": "PLAIN",
            "kafka_sasl_username": USER,
            "kafka_sasl_password": password,
            "kafka_ssl_cafile": self.tls.ca,
        }
        return Settings(**(values | more))  # type: ignore[arg-type]


def listening(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=1).close()
    except OSError:
        return False
    return True


@contextmanager
def secured_broker(directory: Path) -> Iterator[SecuredBroker]:
    """A broker as the module says, in ``directory``, healthy; stopped at the end."""
    plain, _ = private_settings(directory / "stack")
    tls = make_tls(directory / "tls", plain.host)
    service = SecuredKafkaService(plain, free_port(), tls)
    service.install(Console(stderr=True))
    service.start()
    try:
        deadline = time.monotonic() + plain.start_timeout
        while not (service.health().ok and listening(plain.host, service.sasl_port)):
            dead = [p for p in service.processes() if not p.is_running()]
            assert not dead, dead[0].log_tail()
            assert time.monotonic() < deadline, service.processes()[0].log_tail()
            time.sleep(0.5)
        yield SecuredBroker(plain, tls, service.sasl_port)
    finally:
        for process in service.processes():
            process.stop()
