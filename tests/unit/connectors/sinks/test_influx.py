"""The one InfluxDB writer's error handling: transient failures are retried, the rest become
clear errors (the InfluxDB boundary is faked; the integration tests write to a real one)."""

from __future__ import annotations

from typing import Any, cast

import pytest
from influxdb_client.client.write_api import WriteApi
from influxdb_client.rest import ApiException
from urllib3.connection import HTTPConnection
from urllib3.exceptions import NewConnectionError

from connectors.sinks.influx import InfluxUnavailable, InfluxWriter
from streamlines.errors import UserError


class FakeWriteApi:
    """Fails with ``failures`` in turn, then accepts; records what was written."""

    def __init__(self, failures: list[Exception]) -> None:
        self.failures = list(failures)
        self.calls = 0
        self.written: list[Any] = []

    def write(self, *, record: list[Any], **_kwargs: Any) -> None:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        self.written.extend(record)

    def close(self) -> None:
        pass


def writer_with(
    failures: list[Exception], delays: tuple[float, ...] = (0.0, 0.0)
) -> tuple[InfluxWriter, FakeWriteApi]:
    writer = InfluxWriter("http://127.0.0.1:1", "token", "org", "analytics", retry_delays=delays)
    fake = FakeWriteApi(failures)
    # The fake stands in for influxdb_client's WriteApi, which would need a live server.
    writer._write = cast(WriteApi, fake)
    return writer, fake


def api_error(status: int, body: str = "") -> ApiException:
    error = ApiException(status=status, reason="test")
    error.body = body
    return error


def test_transient_failures_are_retried_and_nothing_is_lost():
    writer, fake = writer_with([api_error(503), api_error(500, '{"message":"timeout"}')])
    assert writer.write(["m v=1 1", "m v=2 2"]) == 2
    assert fake.calls == 3
    assert fake.written == ["m v=1 1", "m v=2 2"]


def test_a_failure_that_lasts_ends_in_a_clear_error():
    writer, fake = writer_with([api_error(500, '{"message":"timeout"}')] * 3)
    with pytest.raises(UserError, match="timed out writing to bucket 'analytics'") as raised:
        writer.write(["m v=1 1"])
    assert "shard groups" in str(raised.value)
    assert fake.calls == 3  # the first try and the two retries


def test_no_retry_for_a_request_influxdb_will_never_take():
    writer, fake = writer_with([api_error(404)])
    with pytest.raises(UserError, match="no bucket 'analytics'"):
        writer.write(["m v=1 1"])
    assert fake.calls == 1
    writer, fake = writer_with([api_error(400, "unable to parse")])
    with pytest.raises(UserError, match=r"refused a write to bucket 'analytics' \(400\)"):
        writer.write(["m v=oops"])
    assert fake.calls == 1


def test_an_unreachable_influxdb_is_retried_then_named():
    # The error is only raised and classified, never asked for its connection, so none is made.
    down = NewConnectionError(cast(HTTPConnection, None), "Connection refused")
    writer, fake = writer_with([down, down, down])
    with pytest.raises(UserError, match="cannot reach InfluxDB") as raised:
        writer.write(["m v=1 1"])
    assert "streamlines stack up" in str(raised.value)
    assert fake.calls == 3
    # Transient all along: a caller that can wait (the analytics sink) pauses on this one.
    assert isinstance(raised.value, InfluxUnavailable)


def test_only_transient_failures_are_unavailable():
    writer, _ = writer_with([api_error(503)] * 3)
    with pytest.raises(InfluxUnavailable, match=r"\(503\)"):
        writer.write(["m v=1 1"])
    writer, _ = writer_with([api_error(400, "unable to parse")])
    with pytest.raises(UserError) as raised:
        writer.write(["m v=oops"])
    assert not isinstance(raised.value, InfluxUnavailable)
