"""deploy/k8s validated by kubeconform, strict, against Kubernetes' own schemas (its OpenAPI
spec, from the Go module k8s.io/kubernetes) and the Flink Kubernetes Operator's published CRDs
(crds/: its Helm chart's, release-1.13.0), and checked against the project: one
FlinkDeployment per job with the job's required options, settings that exist."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from jobs.registry import JOBS
from streamlines.settings import Settings
from streamlines.stack.services.flink import FLINK_VERSION
from tests.unit.deploy.conftest import REPO, DeployTools, settings_from_env
from tests.unit.deploy.job_args import check_job_args
from tests.unit.deploy.k8s_schemas import crd_schemas, kubernetes_schemas

K8S = REPO / "deploy" / "k8s"
CRDS = sorted((Path(__file__).parent / "crds").glob("*.yml"))


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
        ("FlinkDeployment", ("flinkVersion: v2_0", "flinkVersion: v9_9"), "flinkVersion"),
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


def test_settings_exist(monkeypatch: pytest.MonkeyPatch) -> None:
    fields = set(Settings.model_fields)
    names: set[str] = set()
    for resource in resources():
        if resource["kind"] == "ConfigMap":
            names |= set(resource["data"])
        if resource["kind"] == "Secret":
            names |= set(resource["stringData"])
    assert names
    assert sorted(n for n in names if n.removeprefix("STREAMLINES_").lower() not in fields) == []
    settings = settings_from_env(_settings_env(), monkeypatch)
    assert settings.kafka_bootstrap == "127.0.0.1:9092"  # the loopback sidecar's


def _settings_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for resource in resources():
        if resource["kind"] == "ConfigMap":
            env |= resource["data"]
        if resource["kind"] == "Secret":
            env |= {k: v for k, v in resource["stringData"].items() if v}
    return env
