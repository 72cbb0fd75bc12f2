"""A Kinesis endpoint: the kinesis-mock emulator, from npm (package `kinesis-local`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console

from streamlines.stack.commands import require_tool, run_step
from streamlines.stack.services.base import Health, PortSetting, Service

KINESIS_LOCAL_VERSION = "0.6.2"


def kinesis_client(endpoint: str | None, region: str) -> Any:
    """A boto3 Kinesis client: the emulator at ``endpoint`` (it accepts any credentials), or
    real AWS when ``endpoint`` is None (boto3's endpoint and credential chain); untyped, as
    boto3's clients are."""
    import boto3  # imported on use: it adds a third of a second to every CLI start
    from botocore.config import Config  # likewise: 0.08 s

    if endpoint is None:
        return boto3.client(
            "kinesis", region_name=region, config=Config(retries={"mode": "standard"})
        )
    return boto3.client(
        "kinesis",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="local",
        aws_secret_access_key="local",  # the emulator accepts any credentials
        config=Config(retries={"max_attempts": 2}, connect_timeout=2, read_timeout=5),
    )


class KinesisService(Service):
    name = "kinesis"

    @property
    def package_dir(self) -> Path:
        return self.cache_dir / f"kinesis-local-{KINESIS_LOCAL_VERSION}"

    @property
    def main_js(self) -> Path:
        return self.package_dir / "node_modules" / "kinesis-local" / "main.js"

    def ports(self) -> list[PortSetting]:
        return [
            PortSetting(self.settings.kinesis_port, "STREAMLINES_KINESIS_PORT"),
            PortSetting(self.settings.kinesis_tls_port, "STREAMLINES_KINESIS_TLS_PORT"),
        ]

    def install(self, console: Console) -> None:
        if self.main_js.exists():
            return
        npm = require_tool("npm", "install the Kinesis emulator")
        self.package_dir.mkdir(parents=True, exist_ok=True)
        run_step(
            console,
            f"Installing kinesis-local {KINESIS_LOCAL_VERSION} from npm",
            [npm, "install", "--no-audit", "--no-fund", "--prefix", str(self.package_dir),
             f"kinesis-local@{KINESIS_LOCAL_VERSION}"],
            self.package_dir / "npm.log",
        )  # fmt: skip

    def start(self) -> None:
        s = self.settings
        node = require_tool("node", "run the Kinesis emulator")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {
            "KINESIS_MOCK_PLAIN_PORT": str(s.kinesis_port),
            "KINESIS_MOCK_TLS_PORT": str(s.kinesis_tls_port),
            "AWS_REGION": s.aws_region,
            "LOG_LEVEL": "WARN",
            "SHOULD_PERSIST_DATA": "true",
            "PERSIST_PATH": str(self.data_dir),
            "CREATE_STREAM_DURATION": "100ms",
            "DELETE_STREAM_DURATION": "100ms",
        }
        self.process().start([node, str(self.main_js)], env=env, cwd=self.main_js.parent)

    def health(self) -> Health:
        client = kinesis_client(self.settings.kinesis_endpoint, self.settings.aws_region)
        try:
            streams = client.list_streams()["StreamNames"]
        except (BotoCoreError, ClientError) as exc:
            return Health(False, f"no answer at {self.settings.kinesis_endpoint or 'AWS'}: {exc}")
        return Health(True, f"{self.settings.kinesis_endpoint or 'AWS'}, {len(streams)} streams")
