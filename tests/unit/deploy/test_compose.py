"""docker-compose.yml as `docker compose config` reads it (loaded, interpolated from the
environment and validated against the compose schema by Docker Compose itself; no Docker engine
needed), and checked against the project: the services of the demo, the settings' names, the
jobs' command lines, the connector jar and the InfluxDB buckets."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest

from jobs.registry import JOBS
from streamlines.contracts.topics import TOPIC_BEACONS, TOPIC_CURRENTS, TOPIC_RIPPLES
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
# Variables the file reads that are compose's own knobs, not Stream Lines settings.
COMPOSE_KNOBS = {"RIPPLES_OUT_OF_ORDERNESS", "FLINK_JOB_ARGS", "NARWHAL_MODEL", "GATHER_START"}


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


@pytest.fixture(scope="module")
def config(deploy_tools: DeployTools, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The file as compose resolves it, with every profile's services."""
    result = run_compose(
        deploy_tools,
        tmp_path_factory.mktemp("compose"),
        "--profile", "*", "config", "--format", "json",
        env=SECRETS,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    loaded: dict[str, Any] = json.loads(result.stdout)
    return loaded


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
    text = COMPOSE_FILE.read_text().replace("    depends_on: [net]\n", "    depend_on: [net]\n", 1)
    broken.write_text(text)
    env = {**SECRETS, "DOCKER_CONFIG": str(deploy_tools.docker_config)}
    args = ["-f", str(broken), "--project-directory", str(REPO), "config", "--quiet"]
    result = subprocess.run(deploy_tools.compose(*args), env={**os.environ, **env},
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode != 0
    assert "depend_on" in result.stderr
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


def test_environment_of_each_process_is_valid_settings(config: dict[str, Any]) -> None:
    """Each process's environment, as compose passes it, makes valid Settings that reach
    Kafka and InfluxDB where they listen (in the shared namespace) and PostgreSQL by name."""
    for name in ("replay", "ingest", "sink-ripples", "graphql", "gather"):
        service = config["services"][name]
        assert service["network_mode"] == "service:net"
        env = {k: v for k, v in service["environment"].items() if k.startswith("STREAMLINES_")}
        with pytest.MonkeyPatch.context() as monkeypatch:
            settings = settings_from_env(env, monkeypatch)
        assert settings.kafka_bootstrap == "127.0.0.1:9092"
        assert settings.influx_url == "http://127.0.0.1:8086"
        assert settings.default_secrets() == []
        assert settings.metadata_url.startswith("postgresql+psycopg://")
        assert "@postgres:5432/" in settings.metadata_url


def test_dependencies_and_ports_are_coherent(config: dict[str, Any]) -> None:
    services = config["services"]
    net_aliases = set(services["net"]["networks"]["default"]["aliases"])
    assert {"kafka", "influxdb"} <= net_aliases  # how Flink reaches the shared namespace
    published: list[int] = []
    for name, service in services.items():
        for target, condition in service.get("depends_on", {}).items():
            assert target in services, f"{name} depends on {target}"
            if condition["condition"] == "service_healthy":
                assert "healthcheck" in services[target], f"{target} has no healthcheck"
            if condition["condition"] == "service_completed_successfully":
                assert services[target]["restart"] == "no"
        mode = service.get("network_mode", "")
        if mode.startswith("service:"):
            assert mode.removeprefix("service:") in services
            assert "ports" not in service, f"{name}: publish on the namespace's owner"
        published += [int(port["published"]) for port in service.get("ports", [])]
    assert len(published) == len(set(published))
    graphql_port = str(Settings.model_fields["graphql_port"].default)
    assert graphql_port in {str(p) for p in published}
    for name in ("ingest", "gather", "graphql", "sink-ripples", "submit"):
        assert services[name]["depends_on"]["kafka"]["condition"] == "service_healthy"


def test_taskmanagers_scale(config: dict[str, Any]) -> None:
    taskmanager = config["services"]["taskmanager"]
    assert taskmanager["deploy"]["replicas"] >= 1
    assert "container_name" not in taskmanager
    assert "ports" not in taskmanager
    properties = taskmanager["environment"]["FLINK_PROPERTIES"]
    assert "jobmanager.rpc.address: jobmanager" in properties


def _submitted(script: str) -> dict[str, list[str]]:
    """job -> its options, from the submit service's `submit <job> <options>` lines."""
    lines = re.findall(r"^submit (\w+)(.*)$", script, flags=re.MULTILINE)
    return {job: shlex.split(rest) for job, rest in lines}


def test_every_job_is_submitted_with_its_required_options(config: dict[str, Any]) -> None:
    services = config["services"]
    script = services["submit"]["command"][0]
    assert "flink run -d -m jobmanager:8081 -py /opt/streamlines/jobs/$$job/__main__.py" in script
    assert '--bootstrap kafka:9092 "$$@"' in script
    submitted = {
        job: ["--bootstrap", "kafka:9092", *args] for job, args in _submitted(script).items()
    }
    narwhal = services["submit-narwhal"]["command"]
    py = narwhal.index("-py")
    assert narwhal[py + 1] == "/opt/streamlines/jobs/narwhal/__main__.py"
    submitted["narwhal"] = narwhal[py + 2 :]
    assert set(submitted) == set(JOBS)
    for job, args in submitted.items():
        check_job_args(job, args, bootstrap="kafka:9092")


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
