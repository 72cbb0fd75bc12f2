"""The local stack's AWS: moto in server mode (PyPI `moto[server]`), service `aws`.

One HTTP endpoint on the loopback interface serves every AWS API that moto emulates; Narwhal
uses two: S3 stores real objects (training data, model archives) and SageMaker's API records
training jobs (it runs none: ``ml/sagemaker_runner.py`` does the compute). Its state is in
memory: a restart of the service empties it.

``aws_session(settings)`` is the one way the project talks to AWS: with the emulator, every
client it makes goes to the emulator and signs with dummy credentials; with real AWS
(``STREAMLINES_AWS_ENDPOINT=aws``) it is a plain boto3 session with boto3's own credential
chain, and nothing here ever reads, prints or logs a credential.
"""

from __future__ import annotations

import functools
import importlib.util
import sys
from typing import Any

from rich.console import Console

from streamlines.errors import UserError
from streamlines.settings import Settings
from streamlines.stack.services.base import Health, PortSetting, Service

# The emulator accepts any credentials; these only make boto3 sign its requests.
EMULATOR_ACCESS_KEY = "streamlines-local"
EMULATOR_SECRET_KEY = "streamlines-local"  # a dummy: the emulator checks none


def aws_session(settings: Settings) -> Any:
    """A boto3 session for ``settings``' AWS (untyped, as boto3's objects are)."""
    import boto3  # imported on use: it adds a third of a second to every CLI start

    if not settings.aws_emulated:
        return boto3.Session(region_name=settings.aws_region)
    endpoint = settings.aws_endpoint_url
    assert endpoint is not None  # an emulator always has a URL
    return _endpoint_session_type()(
        endpoint,
        aws_access_key_id=EMULATOR_ACCESS_KEY,
        aws_secret_access_key=EMULATOR_SECRET_KEY,
        region_name=settings.aws_region,
    )


@functools.cache
def _endpoint_session_type() -> type:
    """``EndpointSession``, defined on first use so that boto3 is imported only then."""
    import boto3
    from botocore.config import Config

    class EndpointSession(boto3.Session):
        """A boto3 session whose clients all go to one endpoint (an emulator serving every
        service). Also what the SageMaker SDK's resources use: they take a session, not an
        endpoint, and make their clients with ``session.client(name, region, config=...)``."""

        def __init__(self, endpoint_url: str, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.endpoint_url = endpoint_url

        def client(self, service_name: str, *args: Any, **kwargs: Any) -> Any:
            if len(args) < 5:  # endpoint_url is the sixth positional parameter
                kwargs.setdefault("endpoint_url", self.endpoint_url)
            # Path-style S3 URLs (bucket in the path, not the host name), and a quick answer
            # when the emulator is down; a caller's own config wins where both set something.
            ours = Config(
                s3={"addressing_style": "path"},
                retries={"max_attempts": 2},
                connect_timeout=2,
                read_timeout=30,
            )
            given = kwargs.get("config")
            kwargs["config"] = ours if given is None else ours.merge(given)
            return super().client(service_name, *args, **kwargs)

    return EndpointSession


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
