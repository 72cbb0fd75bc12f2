"""The one way the project talks to AWS: ``aws_session(settings)``.

With the local stack's emulator (``STREAMLINES_AWS_ENDPOINT=local``, service ``aws``) or another
endpoint URL, every client the session makes goes to that endpoint and signs with dummy
credentials. With real AWS (``STREAMLINES_AWS_ENDPOINT=aws``) it is a plain boto3 session with
boto3's own credential chain, and nothing here ever reads, prints or logs a credential.

Not part of the local stack's code: the jobs and Narwhal use it against real AWS too.
"""

from __future__ import annotations

import functools
from typing import Any

from streamlines.settings import Settings

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
