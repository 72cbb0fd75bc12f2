"""The store of gathered bars (bucket ``market``, measurement ``bars``; written by
``streamlines gather``, see ``streamlines.contracts.influx``).

Besides the rows every store reads, it reads long series as NumPy columns for downsampling: one
lean Flux query per field (no pivot, which costs InfluxDB about a second per 100,000 bars of
seven fields), run side by side and parsed as CSV by pyarrow."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.csv as pacsv

from graphql_server.flux import FluxStore
from graphql_server.validation import TimeRange
from streamlines.contracts.influx import MEASUREMENT_BARS

# One field of one symbol's bars of one timeframe, [start, stop), oldest first (a storage read
# InfluxDB pushes down whole: range, filter on tags and field, limit, keep).
FIELD_FLUX = """
from(bucket: bucket_name)
  |> range(start: time(v: start_ns), stop: time(v: stop_ns))
  |> filter(fn: (r) => r._measurement == measurement and r.symbol == symbol)
  |> filter(fn: (r) => r.timeframe == timeframe and r._field == field)
  |> limit(n: max_rows)
  |> keep(columns: ["_time", "_value"])
"""

_CSV_COLUMNS = pacsv.ConvertOptions(
    include_columns=["_time", "_value"],
    column_types={"_time": pa.timestamp("ns", tz="UTC"), "_value": pa.float64()},
)


@dataclass(frozen=True)
class FieldColumn:
    """One field of a series: its times (UTC ns, ascending) and values."""

    t_ns: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]


class BarStore(FluxStore):
    """Reads gathered bars (``bars``, shared with the recompute of corrections)."""

    def field_column(
        self, symbol: str, timeframe: str, field: str, window: TimeRange, max_rows: int
    ) -> FieldColumn:
        """One field of the bars of one symbol and timeframe starting in [start, end)."""
        params = {
            "bucket_name": self.market_bucket,
            "measurement": MEASUREMENT_BARS,
            "symbol": symbol,
            "timeframe": timeframe,
            "field": field,
            "start_ns": window.start_ns,
            "stop_ns": window.end_ns,
            "max_rows": max_rows,
        }
        return parse_field_csv(self._flux.run_csv(FIELD_FLUX, params, self.market_bucket))


def parse_field_csv(data: bytes) -> FieldColumn:
    """The ``_time`` and ``_value`` columns of an unannotated Flux CSV answer (no rows: an
    empty answer)."""
    if not data.strip():
        return FieldColumn(np.empty(0, np.int64), np.empty(0, np.float64))
    table = pacsv.read_csv(io.BytesIO(data), convert_options=_CSV_COLUMNS)
    times = table.column("_time").cast(pa.int64()).to_numpy()
    values = table.column("_value").to_numpy()
    return FieldColumn(times.astype(np.int64, copy=False), values.astype(np.float64, copy=False))


def align(columns: dict[str, FieldColumn]) -> tuple[npt.NDArray[np.int64], dict[str, np.ndarray]]:
    """The bars' times (every time any field has) and each field's values at them (NaN where a
    bar lacks the field)."""
    found = [c.t_ns for c in columns.values()]
    times = found[0] if found else np.empty(0, np.int64)
    for other in found[1:]:
        if not np.array_equal(times, other):
            times = np.union1d(times, other)
    aligned: dict[str, np.ndarray] = {}
    for name, column in columns.items():
        if np.array_equal(column.t_ns, times):
            aligned[name] = column.values
        else:
            full = np.full(len(times), np.nan)
            full[np.searchsorted(times, column.t_ns)] = column.values
            aligned[name] = full
    return times, aligned
