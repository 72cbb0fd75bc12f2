"""The deployment files' validators: Docker Compose and kubeconform, built from their Go modules
by scripts/deploy-tools.sh into <STREAMLINES_HOME>/tools (by `make test` first, or here on a
machine where they are missing), and Kubernetes' OpenAPI spec from the same place."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from streamlines.settings import Settings

REPO = Path(__file__).resolve().parents[3]
KUBERNETES_VERSION = "v1.34.3"


@dataclass(frozen=True)
class DeployTools:
    compose_plugin: Path  # the `docker compose` CLI plugin (runs on its own as well)
    kubeconform: Path
    kubernetes_openapi: Path  # swagger.json

    def compose(self, *args: str) -> list[str]:
        """``docker compose <args>`` through the Docker CLI when it is installed (the plugin
        found in DOCKER_CONFIG, see ``compose_env``), else the plugin binary by itself."""
        if shutil.which("docker"):
            return ["docker", "compose", *args]
        return [str(self.compose_plugin), *args]

    @property
    def docker_config(self) -> Path:
        return self.compose_plugin.parent.parent


@pytest.fixture(scope="session")
def deploy_tools() -> DeployTools:
    tools = Settings().home / "tools"
    found = DeployTools(
        tools / "docker" / "cli-plugins" / "docker-compose",
        tools / "bin" / "kubeconform",
        tools / "kubernetes-openapi" / KUBERNETES_VERSION / "swagger.json",
    )
    if not all(path.exists() for path in vars(found).values()):
        build = subprocess.run(
            ["bash", str(REPO / "scripts" / "deploy-tools.sh")],
            capture_output=True,
            text=True,
            timeout=1800,
        )
        if build.returncode != 0:
            pytest.skip(
                "the deployment validators could not be built (scripts/deploy-tools.sh needs "
                f"Go and the Go module proxy): {(build.stdout + build.stderr)[-500:]}"
            )
    return found


def settings_from_env(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The Settings a process gets with exactly the STREAMLINES_* variables ``env``."""
    for name in os.environ:
        if name.startswith("STREAMLINES_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings(_env_file=None)
