"""What the predictions store sends to InfluxDB (constant Flux, the client's values only as
parameters) and how it reads the rows back."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import cast

from influxdb_client.client.query_api import QueryApi

from graphql_server.models.store import PREDICTIONS_FLUX, PredictionStore, StoredPrediction
from graphql_server.validation import TimeRange
from streamlines.settings import Settings


class Recorder:
    def __init__(self, rows: list[dict]) -> None:
        self.rows = rows
        self.calls: list[tuple[str, dict]] = []

    def query(self, flux: str, params: dict) -> list:
        self.calls.append((flux, params))
        return [SimpleNamespace(records=[SimpleNamespace(values=r) for r in self.rows])]


def test_a_hostile_model_id_is_a_parameter_and_rows_become_predictions() -> None:
    row = {"symbol": "GOOG", "model_id": "m", "timeframe": "1Day", "t_ns": 1_325_566_800 * 10**9,
           "value": 0.625, "horizon": 5, "_time": "ignored", "result": "_result"}  # fmt: skip
    recorder = Recorder([row])
    store = PredictionStore(Settings(predictions_bucket="preds-x"))
    store._flux._query = cast(QueryApi, recorder)
    hostile = 'm") |> drop(columns: ["_value"]) //'
    window = TimeRange(datetime(2012, 1, 3, tzinfo=UTC), datetime(2012, 1, 4, tzinfo=UTC))
    found = store.predictions("GOOG", hostile, window, 11)
    ((flux, params),) = recorder.calls
    assert flux == PREDICTIONS_FLUX
    assert params == {"bucket_name": "preds-x", "measurement": "predictions", "symbol": "GOOG",
                      "model_id": hostile, "start_ns": window.start_ns, "stop_ns": window.end_ns,
                      "max_rows": 11}  # fmt: skip
    assert found == [StoredPrediction("GOOG", "m", 1_325_566_800 * 10**9, "1Day", 5, 0.625)]
    store.close()
