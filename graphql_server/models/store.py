"""Reads of Narwhal's predictions in InfluxDB (bucket ``predictions``, STREAMLINES_PREDICTIONS_
BUCKET; measurement ``predictions``, one point per symbol, model and bar start) with constant
Flux and bound parameters (see ``graphql_server.flux``)."""

from __future__ import annotations

from dataclasses import dataclass

from graphql_server.flux import FluxStore
from graphql_server.validation import TimeRange
from streamlines.contracts.influx import MEASUREMENT_PREDICTIONS
from streamlines.settings import Settings

# One model's predictions of one symbol over [start, stop), one row per bar start with the
# fields as columns and the exact nanosecond time.
PREDICTIONS_FLUX = """
from(bucket: bucket_name)
  |> range(start: time(v: start_ns), stop: time(v: stop_ns))
  |> filter(fn: (r) => r._measurement == measurement and r.symbol == symbol)
  |> filter(fn: (r) => r.model_id == model_id)
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
  |> group()
  |> sort(columns: ["_time"])
  |> limit(n: max_rows)
  |> map(fn: (r) => ({r with t_ns: int(v: r._time)}))
"""


@dataclass(frozen=True)
class StoredPrediction:
    symbol: str
    model_id: str
    t_ns: int
    timeframe: str
    horizon: int
    value: float


class PredictionStore(FluxStore):
    """The predictions bucket."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.predictions_bucket = settings.predictions_bucket

    def predictions(
        self, symbol: str, model_id: str, window: TimeRange, max_rows: int
    ) -> list[StoredPrediction]:
        """The model's predictions for bars of ``symbol`` starting in [start, end), oldest
        first."""
        params = {
            "bucket_name": self.predictions_bucket,
            "measurement": MEASUREMENT_PREDICTIONS,
            "symbol": symbol,
            "model_id": model_id,
            "start_ns": window.start_ns,
            "stop_ns": window.end_ns,
            "max_rows": max_rows,
        }
        tables = self._flux.run(PREDICTIONS_FLUX, params, self.predictions_bucket)
        found = []
        for table in tables:
            for record in table.records:
                row = record.values
                found.append(
                    StoredPrediction(
                        symbol=str(row["symbol"]),
                        model_id=str(row["model_id"]),
                        t_ns=int(row["t_ns"]),
                        timeframe=str(row.get("timeframe") or ""),
                        horizon=int(row["horizon"]),
                        value=float(row["value"]),
                    )
                )
        return found
