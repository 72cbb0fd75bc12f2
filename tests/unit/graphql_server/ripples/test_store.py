"""What the store sends to InfluxDB: constant Flux, the client's values only as parameters."""

from datetime import UTC, datetime
from typing import cast

import pytest
from influxdb_client.client.query_api import QueryApi
from influxdb_client.rest import ApiException
from urllib3.connection import HTTPConnection
from urllib3.exceptions import NewConnectionError

from graphql_server.errors import BackendUnavailable
from graphql_server.ripples.store import SERIES_FLUX, AnalyticsStore
from graphql_server.validation import TimeRange
from streamlines.settings import Settings


class Recorder:
    def __init__(self, fail: Exception | None = None) -> None:
        self.calls: list[tuple[str, dict]] = []
        self.fail = fail

    def query(self, flux: str, params: dict) -> list:
        self.calls.append((flux, params))
        if self.fail:
            raise self.fail
        return []


def store_with(recorder: Recorder) -> AnalyticsStore:
    store = AnalyticsStore(Settings(graphql_analytics_bucket="analytics"))
    # The recorder stands in for influxdb_client's QueryApi, which would need a live server.
    store._flux._query = cast(QueryApi, recorder)
    return store


def test_a_hostile_symbol_travels_as_a_parameter_not_as_flux():
    recorder = Recorder()
    hostile = 'GOOG") |> drop(columns: ["_value"]) //'
    window = TimeRange(datetime(2012, 1, 3, tzinfo=UTC), datetime(2012, 1, 4, tzinfo=UTC))
    store_with(recorder).series(hostile, "bar_1m", window, 10)
    ((flux, params),) = recorder.calls
    assert flux == SERIES_FLUX
    assert params["symbol"] == hostile
    assert params["metric"] == "bar_1m"
    assert params["start_time"] == window.start
    assert params["max_points"] == 10


@pytest.mark.parametrize(
    ("failure", "message"),
    [
        (ApiException(status=404), "no bucket 'analytics'"),
        (ApiException(status=400), "refused the query (400)"),
        # Only raised and classified, never asked for its connection, so none is made.
        (
            NewConnectionError(cast(HTTPConnection, None), "refused"),
            "did not answer: start it with",
        ),
    ],
)
def test_influxdb_failures_become_messages_that_say_what_to_do(failure, message):
    with pytest.raises(BackendUnavailable, match=message.replace("(", r"\(").replace(")", r"\)")):
        store_with(Recorder(failure)).symbols()
