"""The local stack's AWS: moto in server mode (PyPI `moto[server]`), service `aws`.

One HTTP endpoint on the loopback interface serves every AWS API that moto emulates; Narwhal
uses two: S3 stores real objects (training data, model archives) and SageMaker's API records
training jobs (it runs none: ``ml/sagemaker_runner.py`` does the compute). Its state is in
memory: a restart of the service empties it.

The project talks to it (and to real AWS) through ``streamlines.aws.aws_session``.
"""

from __future__ import annotations

import importlib.util
import sys

from rich.console import Console

from streamlines.aws import aws_session
from streamlines.errors import UserError
from streamlines.stack.services.base import Health, PortSetting, Service


class AwsService(Service):
    name = "aws"

    def ports(self) -> list[PortSetting]:
        return [PortSetting(self.settings.aws_port, "STREAMLINES_AWS_PORT")]

    def install(self, console: Console) -> None:
        """Installed with the project (a Python dependency); checked here."""
        if importlib.util.find_spec("moto") is None or importlib.util.find_spec("flask") is None:
            raise UserError(
                "moto[server] (the AWS emulator) is not installed in this environment",
                "run scripts/bootstrap.sh to install the locked dependencies",
            )

    def command(self) -> list[str]:
        s = self.settings
        return [sys.executable, "-m", "moto.server", "--host", s.host, "--port", str(s.aws_port)]

    def start(self) -> None:
        self.process().start(self.command())

    def health(self) -> Health:
        from botocore.exceptions import BotoCoreError, ClientError

        endpoint = f"http://{self.settings.host}:{self.settings.aws_port}"
        s3 = aws_session(self.settings.model_copy(update={"aws_endpoint": endpoint})).client("s3")
        try:
            buckets = s3.list_buckets()["Buckets"]
        except (BotoCoreError, ClientError) as exc:
            return Health(False, f"no answer at {endpoint}: {exc}")
        return Health(True, f"{endpoint} (S3, SageMaker), {len(buckets)} buckets")
