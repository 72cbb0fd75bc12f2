"""The stack manager's decisions, with fake services (no real processes beyond `python -c`)."""

from __future__ import annotations

import socket
import sys

import pytest
from rich.console import Console

from streamlines.errors import UserError
from streamlines.settings import Settings
from streamlines.stack.manager import Stack
from streamlines.stack.services.base import Health, PortSetting, Service


class FakeService(Service):
    name = "fake"
    script = "import time; time.sleep(60)"
    healthy = True
    port = 0

    def ports(self):
        return [PortSetting(self.port, "STREAMLINES_FAKE_PORT")] if self.port else []

    def install(self, console):
        self.installed = True

    def start(self):
        self.process().start([sys.executable, "-c", self.script])

    def health(self):
        return Health(self.healthy, "fake detail")


@pytest.fixture
def stack(tmp_path):
    settings = Settings(home=tmp_path, start_timeout=5)
    stack = Stack(settings, Console(file=open("/dev/null", "w")))  # noqa: SIM115
    stack.services = {"fake": FakeService(settings)}
    yield stack
    stack.down()


def test_up_starts_then_is_idempotent(stack):
    [status] = stack.up()
    assert status.state == "healthy"
    first_pid = status.pids[0]
    [again] = stack.up()
    assert again.pids == [first_pid]  # not started twice


def test_a_service_that_exits_while_starting_shows_its_log(stack):
    FakeService.script = "import sys; print('bad config line 3', flush=True); sys.exit(2)"
    FakeService.healthy = False
    try:
        with pytest.raises(UserError) as info:
            stack.up()
    finally:
        FakeService.script = "import time; time.sleep(60)"
        FakeService.healthy = True
    assert "fake exited while starting" in str(info.value)
    assert "bad config line 3" in str(info.value)


def test_a_service_that_never_gets_healthy_times_out_with_a_hint(stack):
    FakeService.healthy = False
    try:
        with pytest.raises(UserError) as info:
            stack.up()
    finally:
        FakeService.healthy = True
    assert "did not become healthy within 5s" in str(info.value)
    assert "STREAMLINES_START_TIMEOUT" in str(info.value)


def test_a_taken_port_is_reported_before_starting(stack):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        FakeService.port = listener.getsockname()[1]
        try:
            with pytest.raises(UserError, match="STREAMLINES_FAKE_PORT"):
                stack.up()
        finally:
            FakeService.port = 0
    assert stack.status()[0].state == "down"


def test_unknown_service_names_the_known_ones(stack):
    with pytest.raises(
        UserError, match="choose from kafka, influxdb, kinesis, aws, postgres, flink, replay"
    ):
        stack.select(["kafak"])
