"""Apache Kafka, single node in KRaft mode, from its Maven Central jars, run with `java -cp`."""

from __future__ import annotations

import base64
import subprocess
import uuid

from kafka import KafkaAdminClient
from kafka.errors import KafkaError
from rich.console import Console

from streamlines.connections import kafka_client_config
from streamlines.errors import UserError
from streamlines.stack.commands import require_tool
from streamlines.stack.maven import resolve_jars
from streamlines.stack.services.base import Health, PortSetting, Service

KAFKA_VERSION = "4.1.1"
# The Kafka POM brings slf4j but no logging backend; log4j2 is what Kafka's own distribution uses.
LOG4J_VERSION = "2.24.3"
SLF4J_VERSION = "2.0.17"

_LOG4J2 = """status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.stdout.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = warn
logger.apache.name = org.apache.kafka
logger.apache.level = warn
logger.started.name = kafka.server.KafkaRaftServer
logger.started.level = info
"""


def new_cluster_id() -> str:
    """A random KRaft cluster id: a UUID in URL-safe base64, drawn again while it starts with
    "-" (the storage tool would read such an id as an option; Kafka's own ``Uuid.randomUuid``
    does the same)."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


class KafkaService(Service):
    name = "kafka"

    @property
    def libs(self) -> str:
        return str(self.cache_dir / f"kafka-{KAFKA_VERSION}" / "libs" / "*")

    def ports(self) -> list[PortSetting]:
        return [
            PortSetting(self.settings.kafka_port, "STREAMLINES_KAFKA_PORT"),
            PortSetting(self.settings.kafka_controller_port, "STREAMLINES_KAFKA_CONTROLLER_PORT"),
        ]

    def install(self, console: Console) -> None:
        require_tool("java", "run Kafka")
        resolve_jars(
            console,
            f"Apache Kafka {KAFKA_VERSION}",
            [
                f"org.apache.kafka:kafka_2.13:{KAFKA_VERSION}",
                f"org.slf4j:slf4j-api:{SLF4J_VERSION}",
                f"org.apache.logging.log4j:log4j-slf4j2-impl:{LOG4J_VERSION}",
                f"org.apache.logging.log4j:log4j-core:{LOG4J_VERSION}",
            ],
            self.cache_dir / f"kafka-{KAFKA_VERSION}",
        )

    def server_properties(self) -> dict[str, str]:
        """The broker's server.properties (one PLAINTEXT listener on ``kafka_port``)."""
        s = self.settings
        return {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@{s.host}:{s.kafka_controller_port}",
            "listeners": f"PLAINTEXT://{s.host}:{s.kafka_port},CONTROLLER://{s.host}:{s.kafka_controller_port}",
            "advertised.listeners": f"PLAINTEXT://{s.host}:{s.kafka_port}",
            "controller.listener.names": "CONTROLLER",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "inter.broker.listener.name": "PLAINTEXT",
            "log.dirs": str(self.data_dir),
            "num.partitions": "1",
            "auto.create.topics.enable": "true",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "5",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            "log.retention.hours": "168",
        }

    def _write_config(self) -> None:
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        text = "".join(f"{key}={value}\n" for key, value in self.server_properties().items())
        (self.conf_dir / "server.properties").write_text(text)
        (self.conf_dir / "log4j2.properties").write_text(_LOG4J2)

    def _java(self, main: str, *args: str, heap: str) -> list[str]:
        return [
            "java",
            f"-Xmx{heap}",
            f"-Xms{heap}",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.conf_dir / 'log4j2.properties'}",
            "-cp",
            self.libs,
            main,
            *args,
        ]

    def _format_storage_once(self) -> None:
        if (self.data_dir / "meta.properties").exists():
            return
        cluster_id = new_cluster_id()
        config = str(self.conf_dir / "server.properties")
        command = self._java(
            "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", config, heap="256m"
        )
        log = self.process("kafka-format").log_file
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:
            code = subprocess.call(command, stdout=out, stderr=subprocess.STDOUT)
        if code != 0:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
            raise UserError(
                f"formatting Kafka's storage in {self.data_dir} failed (exit {code}):\n{tail}",
                hint=f"remove {self.data_dir} and run `streamlines stack up` again.",
            )

    def start(self) -> None:
        self._write_config()
        self._format_storage_once()
        command = self._java(
            "kafka.Kafka", str(self.conf_dir / "server.properties"), heap=self.settings.kafka_heap
        )
        self.process().start(command)

    def health(self) -> Health:
        try:
            admin = KafkaAdminClient(
                **kafka_client_config(self.settings),
                request_timeout_ms=3000,
                bootstrap_timeout_ms=3000,
                client_id="streamlines-health",
            )
        except KafkaError as exc:
            return Health(False, f"no broker at {self.settings.kafka_bootstrap}: {exc}")
        try:
            topics = admin.list_topics()
        except KafkaError as exc:
            return Health(False, f"broker did not answer: {exc}")
        finally:
            admin.close()
        return Health(True, f"broker {self.settings.kafka_bootstrap}, {len(topics)} topics")
