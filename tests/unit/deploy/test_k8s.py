"""deploy/k8s validated by kubeconform, strict, against Kubernetes' own schemas (its OpenAPI
spec, from the Go module k8s.io/kubernetes) and the Flink Kubernetes Operator's published CRDs
(crds/: its Helm chart's, release-1.13.0), and checked against the project: one
FlinkDeployment per job with the job's required options, settings that exist, and every
container's settings reaching the services by their Service names."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from graphql_server.exposure import check_secrets_for
from jobs.registry import JOBS
from streamlines.connections import kafka_client_config
from streamlines.errors import UserError
from streamlines.settings import Settings
from streamlines.stack.services.flink import FLINK_VERSION
from tests.unit.deploy.conftest import REPO, DeployTools, settings_from_env
from tests.unit.deploy.job_args import check_job_args
from tests.unit.deploy.k8s_schemas import crd_schemas, kubernetes_schemas

K8S = REPO / "deploy" / "k8s"
CRDS = sorted((Path(__file__).parent / "crds").glob("*.yml"))
# The Services the namespace must have besides its own (kustomization.yaml, docs/cluster.md).
EXTERNAL_SERVICES = {"kafka": 9092, "influxdb": 8086, "postgres": 5432}
# The REST Service the Flink Kubernetes Operator makes for a FlinkDeployment, and its port.
FLINK_REST_SUFFIX, FLINK_REST_PORT = "-rest", 8081


def manifest_files() -> list[Path]:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    return [K8S / name for name in kustomization["resources"]]


def resources() -> list[dict[str, Any]]:
    return [
        doc
        for path in manifest_files()
        for doc in yaml.safe_load_all(path.read_text())
        if doc is not None
    ]


@pytest.fixture(scope="module")
def schemas(deploy_tools: DeployTools, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("schemas")
    crd_schemas(CRDS, out)
    kinds = {(r["kind"], r["apiVersion"]) for r in resources()}
    core = {(kind, api) for kind, api in kinds if not api.startswith("flink.apache.org/")}
    kubernetes_schemas(deploy_tools.kubernetes_openapi, core, out)
    return out


def kubeconform(
    tools: DeployTools, schemas: Path, *files: Path
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(tools.kubeconform), "-strict", "-summary", "-output", "text",
            "-schema-location", f"{schemas}/{{{{ .ResourceKind }}}}{{{{ .KindSuffix }}}}.json",
            *map(str, files),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip


def test_every_file_is_listed_in_the_kustomization() -> None:
    listed = {path.name for path in manifest_files()}
    assert listed == {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}


def test_the_manifests_validate(deploy_tools: DeployTools, schemas: Path) -> None:
    result = kubeconform(deploy_tools, schemas, *manifest_files())
    assert result.returncode == 0, result.stdout + result.stderr
    count = len(resources())
    assert f"Valid: {count}, Invalid: 0, Errors: 0, Skipped: 0" in result.stdout


@pytest.mark.parametrize(
    ("kind", "mistake", "reported"),
    [
        ("FlinkDeployment", ("flinkVersion: v2_2", "flinkVersion: v9_9"), "flinkVersion"),
        ("FlinkDeployment", ("upgradeMode: savepoint", "upgradMode: savepoint"), "upgradMode"),
        ("Deployment", ("  replicas: 1\n", "  replica: 1\n"), "replica"),
        ("Deployment", ("containerPort: 8000", "containerPort: eight"), "containerPort"),
    ],
)
def test_a_wrong_manifest_is_refused(
    deploy_tools: DeployTools,
    schemas: Path,
    tmp_path: Path,
    kind: str,
    mistake: tuple[str, str],
    reported: str,
) -> None:
    """The schemas are real: a wrong enum, an unknown field or a wrong type is an error."""
    name = "flink-jobs.yaml" if kind == "FlinkDeployment" else "graphql.yaml"
    text = (K8S / name).read_text()
    assert mistake[0] in text
    (tmp_path / name).write_text(text.replace(mistake[0], mistake[1], 1))
    result = kubeconform(deploy_tools, schemas, tmp_path / name)
    assert result.returncode != 0
    assert reported in result.stdout


def test_one_flink_deployment_per_job_with_its_options() -> None:
    deployments = {r["metadata"]["name"]: r for r in resources() if r["kind"] == "FlinkDeployment"}
    assert set(deployments) == set(JOBS)
    for name, deployment in deployments.items():
        spec = deployment["spec"]
        assert spec["flinkVersion"] == "v" + "_".join(FLINK_VERSION.split(".")[:2])
        assert spec["image"].endswith(f":{FLINK_VERSION}")
        job = spec["job"]
        assert job["jarURI"] == f"local:///opt/flink/opt/flink-python-{FLINK_VERSION}.jar"
        assert job["entryClass"] == "org.apache.flink.client.python.PythonDriver"
        assert job["upgradeMode"] == "savepoint"
        args = job["args"]
        py = args.index("-py")
        path = Path(args[py + 1]).relative_to("/opt/streamlines")
        assert REPO / path == JOBS[name].file
        check_job_args(name, args[py + 2 :], bootstrap="kafka:9092")


def test_settings_exist() -> None:
    fields = set(Settings.model_fields)
    names: set[str] = set()
    for resource in resources():
        if resource["kind"] == "ConfigMap":
            names |= set(resource["data"])
        if resource["kind"] == "Secret":
            names |= set(resource["stringData"])
    assert names
    assert sorted(n for n in names if n.removeprefix("STREAMLINES_").lower() not in fields) == []


def pod_specs(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each workload's pod spec by its name: the Deployments' and the FlinkDeployments'
    (their pod template, which the operator's JobManager and TaskManager pods start from)."""
    specs = {}
    for resource in docs:
        if resource["kind"] == "Deployment":
            specs[resource["metadata"]["name"]] = resource["spec"]["template"]["spec"]
        if resource["kind"] == "FlinkDeployment":
            specs[resource["metadata"]["name"]] = resource["spec"]["podTemplate"]["spec"]
    return specs


def container_env(container: dict[str, Any], docs: list[dict[str, Any]]) -> dict[str, str]:
    """A container's environment as Kubernetes builds it: envFrom in order, then env."""
    by_name = {
        (r["kind"], r["metadata"]["name"]): r.get("data") or r.get("stringData") or {}
        for r in docs
        if r["kind"] in ("ConfigMap", "Secret")
    }
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env |= by_name[("ConfigMap", source["configMapRef"]["name"])]
        if "secretRef" in source:
            env |= by_name[("Secret", source["secretRef"]["name"])]
    for variable in container.get("env", []):
        env[variable["name"]] = variable["value"]
    return env


def test_no_loopback_sidecars() -> None:
    """Each pod reaches the others through their Services: no sidecar forwarding 127.0.0.1."""
    for name, spec in pod_specs(resources()).items():
        assert "initContainers" not in spec, name
        assert len(spec["containers"]) == 1, name
        assert "socat" not in yaml.safe_dump(spec), name
    assert "127.0.0.1" not in (K8S / "settings.yaml").read_text()


def test_each_container_reaches_the_services_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    docs = resources()
    specs = pod_specs(docs)
    jobs = {r["metadata"]["name"]: r for r in docs if r["kind"] == "FlinkDeployment"}
    assert jobs
    assert len(specs) > len(jobs)
    for name, spec in specs.items():
        settings = settings_from_env(container_env(spec["containers"][0], docs), monkeypatch)
        assert settings.kafka_bootstrap == "kafka:9092", name
        assert settings.influx_url == "http://influxdb:8086", name
        assert settings.flink_rest_url == f"http://ripples{FLINK_REST_SUFFIX}:8081", name
        assert settings.replay_url == "http://replay:8765", name
        assert settings.graphql_url == "http://graphql:8000/graphql", name
        assert settings.replay_listen_host == "0.0.0.0", name
        assert settings.graphql_listen_host == "0.0.0.0", name
        if name == "graphql":
            check_secrets_for(settings)  # it accepts to listen on 0.0.0.0
        if name not in jobs:  # the jobs have no Secret: they need no database
            assert "@postgres:5432/" in settings.metadata_url, name
        else:  # the job's Kafka is the settings' (its option, not a setting)
            args = jobs[name]["spec"]["job"]["args"]
            assert args[args.index("--bootstrap") + 1] == settings.kafka_bootstrap


def test_every_address_is_a_service(monkeypatch: pytest.MonkeyPatch) -> None:
    """The hosts and ports in the settings are Services: the manifests' own (with that port),
    the operator's REST Service of a FlinkDeployment, or those the namespace must provide."""
    docs = resources()
    services = {
        r["metadata"]["name"]: {port["port"] for port in r["spec"]["ports"]}
        for r in docs
        if r["kind"] == "Service"
    }
    for resource in docs:
        if resource["kind"] == "FlinkDeployment":
            services[resource["metadata"]["name"] + FLINK_REST_SUFFIX] = {FLINK_REST_PORT}
    for name, port in EXTERNAL_SERVICES.items():
        services.setdefault(name, {port})
    specs = pod_specs(docs)
    spec = specs["graphql"]
    settings = settings_from_env(container_env(spec["containers"][0], docs), monkeypatch)
    addresses = [
        f"//{settings.kafka_bootstrap}", settings.influx_url, settings.flink_rest_url,
        settings.replay_url, settings.graphql_url, settings.metadata_url,
    ]  # fmt: skip
    for address in addresses:
        parts = urlsplit(address)
        assert parts.hostname in services, address
        assert parts.port in services[parts.hostname], address
    # the servers' Services forward to the port each server listens on
    graphql_port = spec["containers"][0]["ports"][0]["containerPort"]
    assert graphql_port == settings.graphql_port
    replay = specs["replay"]["containers"][0]
    assert replay["ports"][0]["containerPort"] == settings.replay_port
    assert "--host" not in replay["args"] + spec["containers"][0]["args"]


def test_the_graphql_server_refuses_the_default_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pod listens on 0.0.0.0: with the local stack's secrets in streamlines-secrets it
    would refuse to start, which is why the Secret's values must be replaced."""
    docs = resources()
    env = container_env(pod_specs(docs)["graphql"]["containers"][0], docs)
    env["STREAMLINES_INFLUX_TOKEN"] = "streamlines-local-token"
    settings = settings_from_env(env, monkeypatch)
    with pytest.raises(UserError, match=r"would listen on 0\.0\.0\.0"):
        check_secrets_for(settings)


TLS_MOUNT = "/etc/streamlines/tls"
# The settings that reach Kafka and InfluxDB through TLS and SASL (docs/cluster.md).
SECURITY_SETTINGS = {
    "STREAMLINES_KAFKA_SECURITY_PROTOCOL", "STREAMLINES_KAFKA_SASL_MECHANISM",
    "STREAMLINES_KAFKA_SASL_USERNAME", "STREAMLINES_KAFKA_SASL_PASSWORD",
    "STREAMLINES_INFLUX_VERIFY_SSL",
}  # fmt: skip
SASL_LOGIN = {"STREAMLINES_KAFKA_SASL_USERNAME", "STREAMLINES_KAFKA_SASL_PASSWORD"}


def kafka_or_influxdb_clients(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The pods that talk to Kafka or InfluxDB: every workload but the replay server."""
    return {name: spec for name, spec in pod_specs(docs).items() if name != "replay"}


def commented_examples() -> dict[str, str]:
    """The settings settings.yaml shows commented out (the TLS files' paths)."""
    text = (K8S / "settings.yaml").read_text()
    return dict(re.findall(r"^  # (STREAMLINES_[A-Z_]+): (\S+)$", text, flags=re.MULTILINE))


def test_every_kafka_and_influxdb_client_gets_the_security_settings_and_the_tls_files(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    docs = resources()
    secrets = {k for r in docs if r["kind"] == "Secret" for k in r["stringData"]}
    configs = {k for r in docs if r["kind"] == "ConfigMap" for k in r["data"]}
    assert "STREAMLINES_KAFKA_SASL_PASSWORD" in secrets - configs  # a secret, not in a ConfigMap
    jobs = {r["metadata"]["name"] for r in docs if r["kind"] == "FlinkDeployment"}
    for name, spec in kafka_or_influxdb_clients(docs).items():
        (container,) = spec["containers"]
        env = container_env(container, docs)
        # the jobs take Kafka's security as their arguments (they need no password in env)
        wanted = SECURITY_SETTINGS - (SASL_LOGIN if name in jobs else set())
        assert wanted <= set(env), name
        # by default: PLAINTEXT, http, certificates verified
        settings = settings_from_env(env, monkeypatch)
        assert kafka_client_config(settings) == {"bootstrap_servers": "kafka:9092"}, name
        assert (settings.influx_ssl_ca_cert, settings.influx_verify_ssl) == (None, True), name
        # the Secret streamlines-tls at TLS_MOUNT, read-only; optional until it is created
        volumes = {v["name"]: v for v in spec["volumes"]}
        (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == TLS_MOUNT]
        assert mount.get("readOnly") is True, name
        assert volumes[mount["name"]]["secret"] == {
            "secretName": "streamlines-tls", "optional": True
        }, name  # fmt: skip


def test_the_documented_tls_settings_point_into_the_mounted_secret(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """settings.yaml's commented-out TLS paths, uncommented with SASL_SSL, an https InfluxDB
    and a user in the Secret (what docs/cluster.md tells you to do), make valid settings whose
    files are in the Secret's mount."""
    examples = commented_examples()
    assert set(examples) == {
        "STREAMLINES_KAFKA_SSL_CAFILE", "STREAMLINES_KAFKA_SSL_CERTFILE",
        "STREAMLINES_KAFKA_SSL_KEYFILE", "STREAMLINES_INFLUX_SSL_CA_CERT",
    }  # fmt: skip
    for path in examples.values():
        assert Path(path).parent == Path(TLS_MOUNT), path
        (tmp_path / Path(path).name).write_text("-----BEGIN CERTIFICATE-----\n")
    docs = resources()
    env = container_env(kafka_or_influxdb_clients(docs)["ingest"]["containers"][0], docs)
    env |= {k: v.replace(TLS_MOUNT, str(tmp_path)) for k, v in examples.items()}
    env |= {
        "STREAMLINES_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "STREAMLINES_KAFKA_SASL_USERNAME": "streamlines",
        "STREAMLINES_KAFKA_SASL_PASSWORD": "k8s-test-password",
        "STREAMLINES_INFLUX_ADDRESS": "https://influxdb:8086",
    }
    settings = settings_from_env(env, monkeypatch)
    config = kafka_client_config(settings)
    assert (config["security_protocol"], config["sasl_plain_password"]) == (
        "SASL_SSL", "k8s-test-password"
    )  # fmt: skip
    assert config["ssl_cafile"] == str(tmp_path / "kafka-ca.pem")
    assert settings.influx_ssl_ca_cert == tmp_path / "influx-ca.pem"
