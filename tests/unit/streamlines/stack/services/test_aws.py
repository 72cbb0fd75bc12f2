"""The `aws` service's configuration: its port, its command (loopback only), where its clients
go and with which credentials, and its health probe against nothing and against moto."""

from __future__ import annotations

import os
import socket
import sys

import pytest

from streamlines.aws import EMULATOR_ACCESS_KEY, aws_session
from streamlines.settings import Settings
from streamlines.stack.manager import SERVICE_NAMES
from streamlines.stack.services.aws import AwsService
from tests.support.moto_server import moto_endpoint


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    for name in [n for n in os.environ if n.startswith(("STREAMLINES_", "AWS_"))]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no .env of the repository


def test_the_stack_starts_it_like_the_others():
    assert "aws" in SERVICE_NAMES


def test_its_port_and_command_bind_the_loopback_interface(tmp_path):
    service = AwsService(Settings(home=tmp_path, aws_port=14569))
    [port] = service.ports()
    assert (port.port, port.env_var) == (14569, "STREAMLINES_AWS_PORT")
    assert service.command() == [
        sys.executable, "-m", "moto.server", "--host", "127.0.0.1", "--port", "14569",
    ]  # fmt: skip
    assert service.process().log_file == tmp_path / "stack" / "logs" / "aws.log"


def test_the_emulator_session_points_every_client_at_it_with_dummy_credentials():
    settings = Settings(aws_port=14569)
    session = aws_session(settings)
    credentials = session.get_credentials()
    assert credentials.access_key == EMULATOR_ACCESS_KEY
    for service in ("s3", "sagemaker"):
        client = session.client(service)
        assert client.meta.endpoint_url == "http://127.0.0.1:14569"
        assert client.meta.region_name == "us-east-1"
    assert session.client("s3").meta.config.s3["addressing_style"] == "path"


def test_real_aws_uses_boto3s_own_endpoints_and_credentials(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREALKEY")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "real-secret")
    settings = Settings(aws_endpoint="aws", aws_region="eu-west-1")
    session = aws_session(settings)
    assert session.get_credentials().access_key == "AKIAREALKEY"
    assert (
        session.client("sagemaker").meta.endpoint_url
        == "https://api.sagemaker.eu-west-1.amazonaws.com"
    )
    assert "real-secret" not in repr(session) + repr(settings)


def test_another_emulators_url_is_an_emulator():
    settings = Settings(aws_endpoint="http://aws.internal:4566/")
    assert settings.aws_endpoint_url == "http://aws.internal:4566"
    assert settings.aws_emulated
    assert aws_session(settings).client("s3").meta.endpoint_url == "http://aws.internal:4566"


def test_health_is_false_with_the_reason_when_nothing_answers(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    health = AwsService(Settings(home=tmp_path, aws_port=port)).health()
    assert not health.ok
    assert f"no answer at http://127.0.0.1:{port}" in health.detail


def test_health_lists_the_buckets_of_a_running_emulator(tmp_path):
    with moto_endpoint() as url:
        port = int(url.rsplit(":", 1)[1])
        settings = Settings(home=tmp_path, aws_port=port)
        aws_session(settings).client("s3").create_bucket(Bucket="health-check-bucket")
        health = AwsService(settings).health()
    assert health.ok, health.detail
    assert health.detail.startswith(f"http://127.0.0.1:{port} (S3, SageMaker), ")
    assert "bucket" in health.detail
