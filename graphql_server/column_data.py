"""Columns of a series as NumPy arrays, parsed from Flux's CSV answers by pyarrow (for long
series, which the client library's records would take seconds to build), and lined up by
time."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.csv as pacsv

_CSV_COLUMNS = pacsv.ConvertOptions(
    include_columns=["_time", "_value"],
    column_types={"_time": pa.timestamp("ns", tz="UTC"), "_value": pa.float64()},
)


_METRIC_CSV_COLUMNS = pacsv.ConvertOptions(
    include_columns=["_time", "_field", "_value"],
    column_types={
        "_time": pa.timestamp("ns", tz="UTC"),
        "_field": pa.string(),
        "_value": pa.float64(),
    },
)


@dataclass(frozen=True)
class FieldColumn:
    """One field of a series: its times (UTC ns, ascending) and values."""

    t_ns: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]


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


def parse_fields_csv(data: bytes) -> dict[str, FieldColumn]:
    """The ``_time``, ``_field`` and ``_value`` columns of an unannotated Flux CSV answer, as a
    column per field (times ascending)."""
    if not data.strip():
        return {}
    table = pacsv.read_csv(io.BytesIO(data), convert_options=_METRIC_CSV_COLUMNS)
    times = table.column("_time").cast(pa.int64()).to_numpy().astype(np.int64, copy=False)
    names = np.asarray(table.column("_field").to_numpy(zero_copy_only=False), dtype=object)
    values = table.column("_value").to_numpy().astype(np.float64, copy=False)
    out = {}
    for name in dict.fromkeys(names.tolist()):
        mine = names == name
        order = np.argsort(times[mine], kind="stable")
        out[str(name)] = FieldColumn(times[mine][order], values[mine][order])
    return out


def at_times(column: FieldColumn, t_ns: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """The column's values at ``t_ns`` (NaN where it has none)."""
    out = np.full(len(t_ns), np.nan)
    if len(column.t_ns) == 0 or len(t_ns) == 0:
        return out
    where = np.searchsorted(column.t_ns, t_ns).clip(max=len(column.t_ns) - 1)
    found = column.t_ns[where] == t_ns
    out[found] = column.values[where[found]]
    return out
