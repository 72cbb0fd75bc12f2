"""docker-compose.yml as `docker compose config` reads it (loaded, interpolated from the
environment and validated against the compose schema by Docker Compose itself; no Docker engine
needed), and checked against the project: the services of the demo, the settings' names and the
addresses they give each process, the jobs' command lines, the connector jar and the InfluxDB
buckets."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from graphql_server.exposure import check_secrets_for
from jobs.registry import JOBS
from streamlines.connections import kafka_client_config
from streamlines.contracts.topics import TOPIC_BEACONS, TOPIC_CURRENTS, TOPIC_RIPPLES
from streamlines.errors import UserError
from streamlines.settings import Settings
from streamlines.stack.services.flink import FLINK_CONNECTORS, FLINK_VERSION
from tests.unit.deploy.conftest import REPO, DeployTools, settings_from_env
from tests.unit.deploy.job_args import check_job_args

COMPOSE_FILE = REPO / "docker-compose.yml"
SECRETS = {
    "STREAMLINES_INFLUX_TOKEN": "compose-test-token",
    "STREAMLINES_INFLUX_PASSWORD": "compose-test-influx",
    "STREAMLINES_POSTGRES_PASSWORD": "compose-test-postgres",
}
# What the demo runs: the backing services, Flink, each process, and the job submission.
DEMO_SERVICES = {
    "kafka", "influxdb", "postgres", "jobmanager", "taskmanager", "replay", "ingest",
    "sink-ripples", "sink-currents", "sink-beacons", "sink-predictions", "graphql", "submit",
}  # fmt: skip
# The processes of the project's image: each reads Settings from its environment.
PROCESSES = (
    "replay", "ingest", "gather", "graphql",
    "sink-ripples", "sink-currents", "sink-beacons", "sink-predictions",
)  # fmt: skip
# Where each service is, by compose service name: what every process must be told.
KAFKA = "kafka:9092"
INFLUX = "http://influxdb:8086"
FLINK = "http://jobmanager:8081"
# Variables the file reads that are compose's own knobs, not Stream Lines settings.
COMPOSE_KNOBS = {
    "RIPPLES_OUT_OF_ORDERNESS", "FLINK_JOB_ARGS", "NARWHAL_MODEL", "GATHER_START", "TLS_DIR",
}  # fmt: skip
# The services that talk to Kafka or InfluxDB (the processes but replay, and the submissions).
CLIENTS = (*(name for name in PROCESSES if name != "replay"), "submit", "submit-narwhal")
# Where the TLS files are in the containers (TLS_DIR mounted read-only).
TLS_MOUNT = "/etc/streamlines/tls"


def run_compose(
    tools: DeployTools, tmp_path: Path, *args: str, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """``docker compose -f docker-compose.yml <args>`` with only ``env`` from the caller
    (no STREAMLINES_* of this machine's environment, an empty env file instead of .env)."""
    env_file = tmp_path / "empty.env"
    env_file.write_text("")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("STREAMLINES_")}
    command = tools.compose(
        "-f", str(COMPOSE_FILE), "--project-directory", str(REPO),
        "--env-file", str(env_file), *args,
    )  # fmt: skip
    return subprocess.run(
        command,
        env={**clean, **env, "DOCKER_CONFIG": str(tools.docker_config)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def resolve(tools: DeployTools, tmp_path: Path, env: dict[str, str]) -> dict[str, Any]:
    """The file as compose resolves it with ``env``, with every profile's services."""
    result = run_compose(tools, tmp_path, "--profile", "*", "config", "--format", "json", env=env)
    assert result.returncode == 0, result.stderr
    loaded: dict[str, Any] = json.loads(result.stdout)
    return loaded


@pytest.fixture(scope="module")
def config(deploy_tools: DeployTools, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return resolve(deploy_tools, tmp_path_factory.mktemp("compose"), SECRETS)


def process_settings(service: dict[str, Any]) -> Settings:
    """The Settings a service's process gets from the environment compose gives it (a
    variable without a value, not set where compose runs, is not set in the container)."""
    env = {
        k: v
        for k, v in service["environment"].items()
        if k.startswith("STREAMLINES_") and v is not None
    }
    with pytest.MonkeyPatch.context() as monkeypatch:
        return settings_from_env(env, monkeypatch)


def test_the_file_is_valid_and_has_every_service_of_the_demo(config: dict[str, Any]) -> None:
    services = config["services"]
    assert set(services) >= DEMO_SERVICES
    assert {"gather", "submit-narwhal"} <= set(services)  # in profiles history, narwhal
    default = {name for name, s in services.items() if not s.get("profiles")}
    assert default >= DEMO_SERVICES


def test_the_official_images_serve_kafka_influxdb_and_postgres(config: dict[str, Any]) -> None:
    services = config["services"]
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert services["influxdb"]["image"].startswith("influxdb:2.")
    assert services["postgres"]["image"].startswith("postgres:")
    flink = services["jobmanager"]
    assert flink["build"]["dockerfile"] == "docker/flink/Dockerfile"
    for name in ("taskmanager", "submit", "submit-narwhal"):
        assert services[name]["image"] == flink["image"]


def test_the_secrets_are_required_by_name(deploy_tools: DeployTools, tmp_path: Path) -> None:
    result = run_compose(deploy_tools, tmp_path, "config", "--quiet", env={})
    assert result.returncode != 0
    assert "STREAMLINES_" in result.stderr
    assert "deploy/compose.env.example" in result.stderr


def test_a_broken_file_is_refused(deploy_tools: DeployTools, tmp_path: Path) -> None:
    """The validator is real: a misspelt key and a dependency on no service are errors."""
    broken = tmp_path / "docker-compose.yml"
    text = COMPOSE_FILE.read_text().replace("    healthcheck:\n", "    healthcheks:\n", 1)
    broken.write_text(text)
    env = {**SECRETS, "DOCKER_CONFIG": str(deploy_tools.docker_config)}
    args = ["-f", str(broken), "--project-directory", str(REPO), "config", "--quiet"]
    result = subprocess.run(deploy_tools.compose(*args), env={**os.environ, **env},
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode != 0
    assert "healthcheks" in result.stderr
    text = COMPOSE_FILE.read_text().replace("kafka: {condition: service_healthy}", "kafak: {}", 1)
    broken.write_text(text)
    result = subprocess.run(deploy_tools.compose(*args), env={**os.environ, **env},
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode != 0
    assert "kafak" in result.stderr


def test_every_streamlines_variable_is_a_setting() -> None:
    text = COMPOSE_FILE.read_text()
    used = set(re.findall(r"\bSTREAMLINES_[A-Z0-9_]+", text))
    assert used, "the file uses no settings"
    fields = set(Settings.model_fields)
    unknown = sorted(
        name for name in used if name.removeprefix("STREAMLINES_").lower() not in fields
    )
    assert unknown == []
    others = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", text)) - used
    assert others <= COMPOSE_KNOBS, "document a new compose-only variable in docs/cluster.md"


def test_every_container_has_its_own_network_identity(config: dict[str, Any]) -> None:
    """No shared network namespace (`network_mode: service:...`), no loopback forwarding:
    each service is a container of its own on the project's network."""
    services = config["services"]
    for name, service in services.items():
        assert "network_mode" not in service, f"{name} shares another's network namespace"
        assert set(service.get("networks", {"default": None})) == {"default"}, name
        assert "socat" not in json.dumps(service), name
    assert "net" not in services
    assert "socat" not in (REPO / "docker" / "streamlines" / "Dockerfile").read_text()


def test_each_process_reaches_the_services_by_name(config: dict[str, Any]) -> None:
    """Each process's environment, as compose passes it, makes valid Settings that reach every
    service by its compose name, and the servers listen on every interface."""
    services = config["services"]
    for name in PROCESSES:
        settings = process_settings(services[name])
        assert settings.kafka_bootstrap == KAFKA, name
        assert settings.influx_url == INFLUX, name
        assert settings.flink_rest_url == FLINK, name
        assert settings.replay_url == "http://replay:8765", name
        assert settings.graphql_url == "http://graphql:8000/graphql", name
        assert settings.replay_listen_host == "0.0.0.0", name
        assert settings.graphql_listen_host == "0.0.0.0", name
        assert settings.default_secrets() == [], name
        assert settings.metadata_url.startswith("postgresql+psycopg://")
        assert "@postgres:5432/" in settings.metadata_url
    # each address names the service that listens there
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert services["influxdb"]["image"].startswith("influxdb:")
    assert services["jobmanager"]["command"] == ["jobmanager"]
    assert services["replay"]["command"][:2] == ["replay", "serve"]
    assert services["graphql"]["command"][:2] == ["graphql", "serve"]
    # and the servers are not told otherwise on their command line
    assert "--host" not in services["replay"]["command"] + services["graphql"]["command"]
    check_secrets_for(process_settings(services["graphql"]))  # it accepts to listen there


def test_the_graphql_server_refuses_the_default_secrets(
    deploy_tools: DeployTools, tmp_path: Path
) -> None:
    """Listening on 0.0.0.0, the server started with the local stack's secrets would refuse
    to run: the three required secrets are the ones the check names."""
    defaults = {name: Settings.model_fields[name.removeprefix("STREAMLINES_").lower()].default
                for name in SECRETS}  # fmt: skip
    env = {name: value.get_secret_value() for name, value in defaults.items()}
    config = resolve(deploy_tools, tmp_path, env)
    settings = process_settings(config["services"]["graphql"])
    assert len(settings.default_secrets()) == 4  # the three, and the database URL's password
    with pytest.raises(UserError, match=r"would listen on 0\.0\.0\.0"):
        check_secrets_for(settings)


def test_the_server_ports_move_the_addresses(deploy_tools: DeployTools, tmp_path: Path) -> None:
    env = {**SECRETS, "STREAMLINES_GRAPHQL_PORT": "8100", "STREAMLINES_REPLAY_PORT": "8800"}
    services = resolve(deploy_tools, tmp_path, env)["services"]
    for name in PROCESSES:
        settings = process_settings(services[name])
        assert settings.graphql_url == "http://graphql:8100/graphql"
        assert settings.replay_url == "http://replay:8800"
    assert settings.graphql_port == 8100
    assert settings.replay_port == 8800
    assert {p["target"] for p in services["graphql"]["ports"]} == {8100}
    assert {p["target"] for p in services["replay"]["ports"]} == {8800}


def test_kafka_advertises_the_address_the_others_use(config: dict[str, Any]) -> None:
    """Clients bootstrap from kafka:9092 and then connect to what the broker advertises: the
    listener the containers use must advertise that same address and listen beyond loopback."""
    env = config["services"]["kafka"]["environment"]
    listeners = dict(item.split("://") for item in env["KAFKA_LISTENERS"].split(","))
    advertised = dict(item.split("://") for item in env["KAFKA_ADVERTISED_LISTENERS"].split(","))
    assert advertised["PLAINTEXT"] == KAFKA
    assert listeners["PLAINTEXT"] in (":9092", "0.0.0.0:9092")
    assert env["KAFKA_INTER_BROKER_LISTENER_NAME"] == "PLAINTEXT"
    # from the Docker host, on the published port
    assert advertised["HOST"] == "localhost:9094"
    assert {p["published"] for p in config["services"]["kafka"]["ports"]} == {"9094"}
    # the data on the volume (the image's default log.dirs is under /tmp)
    volume = config["services"]["kafka"]["volumes"][0]
    assert env["KAFKA_LOG_DIRS"] == volume["target"] == "/var/lib/kafka/data"


def test_dependencies_and_ports_are_coherent(config: dict[str, Any]) -> None:
    services = config["services"]
    published: list[int] = []
    for name, service in services.items():
        for target, condition in service.get("depends_on", {}).items():
            assert target in services, f"{name} depends on {target}"
            if condition["condition"] == "service_healthy":
                assert "healthcheck" in services[target], f"{target} has no healthcheck"
            if condition["condition"] == "service_completed_successfully":
                assert services[target]["restart"] == "no"
        published += [int(port["published"]) for port in service.get("ports", [])]
    assert len(published) == len(set(published))
    # each port is published by the container that listens on it
    targets = {name: {p["target"] for p in s.get("ports", [])} for name, s in services.items()}
    assert {name: ports for name, ports in targets.items() if ports} == {
        "kafka": {9094}, "influxdb": {8086}, "jobmanager": {8081},
        "replay": {Settings.model_fields["replay_port"].default},
        "graphql": {Settings.model_fields["graphql_port"].default},
    }  # fmt: skip
    for name in ("ingest", "gather", "graphql", "sink-ripples", "submit"):
        assert services[name]["depends_on"]["kafka"]["condition"] == "service_healthy"


def test_taskmanagers_scale(config: dict[str, Any]) -> None:
    taskmanager = config["services"]["taskmanager"]
    assert taskmanager["deploy"]["replicas"] >= 1
    assert "container_name" not in taskmanager
    assert "ports" not in taskmanager
    properties = taskmanager["environment"]["FLINK_PROPERTIES"]
    assert "jobmanager.rpc.address: jobmanager" in properties


KAFKA_ARGS = "$${kafka_args[@]}"  # the submit scripts' Kafka security arguments


def _flink_run(script: str) -> list[str]:
    """The words of the script's ``flink run`` command (its continuation lines joined)."""
    lines = [line.strip() for line in re.sub(r"\\\n\s*", " ", script).splitlines()]
    (line,) = [line for line in lines if line.startswith("flink run")]
    return shlex.split(line)


def _submitted(script: str) -> dict[str, list[str]]:
    """job -> its options, from the submit service's `submit <job> <options>` lines."""
    lines = re.findall(r"^submit (\w+)(.*)$", script, flags=re.MULTILINE)
    return {job: shlex.split(rest) for job, rest in lines}


def test_every_job_is_submitted_with_its_required_options(config: dict[str, Any]) -> None:
    services = config["services"]
    script = services["submit"]["command"][0]
    assert "flink run -d -m jobmanager:8081 -py /opt/streamlines/jobs/$$job/__main__.py" in script
    # the settings' Kafka security as the jobs' --kafka-property arguments (see below)
    assert '--bootstrap "$$STREAMLINES_KAFKA_ADDRESS" "$${kafka_args[@]}" "$$@"' in script
    # the topics are made where the jobs read them (the same settings)
    assert "ensure_topics(settings, names, settings.kafka_topic_partitions)" in script
    assert process_settings(services["submit"]).kafka_bootstrap == KAFKA
    submitted = {job: ["--bootstrap", KAFKA, *args] for job, args in _submitted(script).items()}
    narwhal = _flink_run(services["submit-narwhal"]["command"][0])
    py = narwhal.index("-py")
    assert narwhal[py + 1] == "/opt/streamlines/jobs/narwhal/__main__.py"
    assert narwhal[py + 2 : py + 5] == ["--bootstrap", "$$STREAMLINES_KAFKA_ADDRESS", KAFKA_ARGS]
    assert process_settings(services["submit-narwhal"]).kafka_bootstrap == KAFKA
    submitted["narwhal"] = ["--bootstrap", KAFKA, *narwhal[py + 5 :]]
    assert set(submitted) == set(JOBS)
    for job, args in submitted.items():
        check_job_args(job, args, bootstrap=KAFKA)


def test_the_sinks_cover_the_analytics_topics(config: dict[str, Any]) -> None:
    topics = {TOPIC_RIPPLES, TOPIC_CURRENTS, TOPIC_BEACONS, Settings().predictions_topic}
    sunk = set()
    for name, service in config["services"].items():
        command = service.get("command") or []
        if name.startswith("sink-"):
            assert command[:2] == ["sink", "influx"]
            sunk.add(command[command.index("--topic") + 1])
    assert sunk == topics


def test_the_buckets_are_the_settings(config: dict[str, Any]) -> None:
    script = config["services"]["influxdb-buckets"]["command"][0]
    made = dict(re.findall(r"^make_bucket (\S+) ?(\S*)$", script, flags=re.MULTILINE))
    settings = Settings()
    assert set(made) == set(settings.influx_buckets)
    for bucket, seconds in settings.influx_shard_group_seconds.items():
        assert made[bucket] == f"{seconds // 3600}h"


def test_the_flink_image_has_the_stacks_connector_and_flink_version() -> None:
    dockerfile = (REPO / "docker" / "flink" / "Dockerfile").read_text()
    assert re.search(rf"^FROM flink:{re.escape(FLINK_VERSION)}-java17$", dockerfile, re.M)
    connectors = re.findall(r"^ARG KAFKA_CONNECTOR=(\S+)$", dockerfile, flags=re.MULTILINE)
    assert connectors == FLINK_CONNECTORS
    project = (REPO / "docker" / "streamlines" / "Dockerfile").read_text()
    assert "FROM python:3.11-" in project
    assert "requirements.lock" in project


# A deployment against your own Kafka (TLS, SASL) and https InfluxDB: the env file's settings.
SECURED = {
    "STREAMLINES_KAFKA_ADDRESS": "kafka-0.example:9094,kafka-1.example:9094",
    "STREAMLINES_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
    "STREAMLINES_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
    "STREAMLINES_KAFKA_SASL_USERNAME": "streamlines",
    "STREAMLINES_KAFKA_SASL_PASSWORD": "compose-test-sasl-password",
    "STREAMLINES_KAFKA_SSL_CAFILE": f"{TLS_MOUNT}/kafka-ca.pem",
    "STREAMLINES_KAFKA_SSL_CERTFILE": f"{TLS_MOUNT}/kafka-client.pem",
    "STREAMLINES_INFLUX_ADDRESS": "https://influx.example:8086",
    "STREAMLINES_INFLUX_SSL_CA_CERT": f"{TLS_MOUNT}/influx-ca.pem",
}


@pytest.fixture
def tls_dir(tmp_path: Path) -> Path:
    """A TLS_DIR with the PEM files SECURED names."""
    directory = tmp_path / "tls"
    directory.mkdir()
    for name in ("kafka-ca.pem", "kafka-client.pem", "influx-ca.pem"):
        (directory / name).write_text("-----BEGIN CERTIFICATE-----\n")
    return directory


def tls_mount(service: dict[str, Any]) -> dict[str, Any]:
    (mount,) = [v for v in service.get("volumes", []) if v["target"] == TLS_MOUNT]
    return mount


def container_settings(service: dict[str, Any]) -> dict[str, str]:
    """The service's STREAMLINES_* environment with its TLS paths where the files really are:
    in the directory mounted at TLS_MOUNT."""
    source = tls_mount(service)["source"]
    return {
        k: v.replace(TLS_MOUNT, source, 1) if v.startswith(f"{TLS_MOUNT}/") else v
        for k, v in service["environment"].items()
        if k.startswith("STREAMLINES_") and v is not None
    }


def test_the_security_settings_and_files_reach_every_kafka_and_influxdb_client(
    deploy_tools: DeployTools, tmp_path: Path, tls_dir: Path
) -> None:
    env = {**SECRETS, **SECURED, "TLS_DIR": str(tls_dir)}
    services = resolve(deploy_tools, tmp_path, env)["services"]
    # the Flink processes read the CA too: the jobs' Kafka tables run on the TaskManagers
    for name in (*CLIENTS, "jobmanager", "taskmanager"):
        mount = tls_mount(services[name])
        assert (mount["type"], mount["source"], mount.get("read_only")) == (
            "bind",
            str(tls_dir),
            True,
        ), name
    for name in CLIENTS:
        given = services[name]["environment"]
        assert {k: given.get(k) for k in SECURED} == SECURED, name
        with pytest.MonkeyPatch.context() as monkeypatch:
            settings = settings_from_env(container_settings(services[name]), monkeypatch)
        assert kafka_client_config(settings) == {
            "bootstrap_servers": SECURED["STREAMLINES_KAFKA_ADDRESS"],
            "security_protocol": "SASL_SSL",
            "sasl_mechanism": "SCRAM-SHA-512",
            "sasl_plain_username": "streamlines",
            "sasl_plain_password": "compose-test-sasl-password",
            "ssl_cafile": str(tls_dir / "kafka-ca.pem"),
            "ssl_certfile": str(tls_dir / "kafka-client.pem"),
        }, name
        assert settings.influx_url == "https://influx.example:8086", name
        assert (settings.influx_ssl_ca_cert, settings.influx_verify_ssl) == (
            tls_dir / "influx-ca.pem",
            True,
        ), name


def test_by_default_every_client_is_plaintext_and_verifies_influxdb(
    deploy_tools: DeployTools, tmp_path: Path, config: dict[str, Any]
) -> None:
    for name in CLIENTS:
        settings = process_settings(config["services"][name])
        assert kafka_client_config(settings) == {"bootstrap_servers": KAFKA}, name
        assert (settings.influx_url, settings.influx_ssl_ca_cert) == (INFLUX, None), name
        assert settings.influx_verify_ssl, name
    env = {**SECRETS, "STREAMLINES_INFLUX_VERIFY_SSL": "false"}
    services = resolve(deploy_tools, tmp_path, env)["services"]
    for name in CLIENTS:
        assert not process_settings(services[name]).influx_verify_ssl, name


def test_the_submissions_give_the_jobs_the_kafka_security_without_the_password_in_argv(
    deploy_tools: DeployTools, tmp_path: Path, tls_dir: Path
) -> None:
    """Each submit script's Python part, run as the container would (its environment, the
    TLS files mounted), writes the jobs' --kafka-property arguments; the script passes them to
    `flink run`. The JAAS config (the password) is a file, not an argument."""
    env = {**SECRETS, **SECURED, "TLS_DIR": str(tls_dir)}
    services = resolve(deploy_tools, tmp_path, env)["services"]
    for name in ("submit", "submit-narwhal"):
        script = services[name]["command"][0]
        assert 'mapfile -t kafka_args < "$$KAFKA_SECRETS/arguments"' in script
        assert KAFKA_ARGS in _flink_run(script), name
        (python,) = re.findall(r"^python - <<'PY'\n(.*?)^PY$", script, flags=re.M | re.S)
        if name == "submit":  # not run here: it makes the topics on Kafka first
            python = python.replace("ensure_topics(settings,", "(lambda *a: None)(settings,")
        secrets = tmp_path / name
        secrets.mkdir()
        clean = {k: v for k, v in os.environ.items() if not k.startswith("STREAMLINES_")}
        run = subprocess.run(
            [sys.executable, "-c", python],
            env={**clean, **container_settings(services[name]), "KAFKA_SECRETS": str(secrets),
                 "PYTHONPATH": str(REPO)},
            cwd=tmp_path, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        arguments = (secrets / "arguments").read_text().splitlines()
        assert arguments[:4] == [
            "--kafka-property", "security.protocol=SASL_SSL",
            "--kafka-property", "sasl.mechanism=SCRAM-SHA-512",
        ], name  # fmt: skip
        jaas = secrets / "sasl.jaas.config"
        assert ["--kafka-property-file", f"sasl.jaas.config={jaas}"] == arguments[4:6], name
        assert f"ssl.truststore.location={tls_dir / 'kafka-ca.pem'}" in arguments, name
        assert "compose-test-sasl-password" not in " ".join(arguments), name
        assert 'password="compose-test-sasl-password"' in jaas.read_text(), name
