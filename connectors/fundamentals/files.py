"""Users' own fundamentals: a CSV or Parquet file with the ``Fundamental``'s columns, one fact a
row. ``symbol``, ``fact``, ``value`` and a time are required: ``t_ns`` (UTC nanoseconds) or
``date`` (``YYYY-MM-DD``, taken as 00:00 UTC), not both; ``source`` defaults to ``file``;
``estimate``, ``period_end_ns`` and ``revision`` are optional. An empty cell is a missing value.

A file that cannot be read, or lacks a required column or has one the schema does not know, is a
``UserError`` before anything is written. A row that cannot be read (a date or number that is
not one) becomes a ``Candidate`` with the problem; the schema's own checks are the service's.
Rows are numbered from 1, the header not counted.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from numbers import Integral
from pathlib import Path
from typing import Any

import pandas as pd

from connectors.fundamentals.mapping import Candidate, Record, utc_midnight_ns
from streamlines.errors import UserError

REQUIRED = ("symbol", "fact", "value")
TIME_COLUMNS = ("t_ns", "date")
OPTIONAL = ("source", "estimate", "period_end_ns", "revision")
COLUMNS = (*REQUIRED, *TIME_COLUMNS, *OPTIONAL)
DEFAULT_SOURCE = "file"
_FLOATS = ("value", "estimate")
_INTEGERS = ("t_ns", "period_end_ns", "revision")
_FORM = (
    "columns symbol, fact, value, t_ns (UTC nanoseconds) or date (YYYY-MM-DD), and optionally "
    "source, estimate, period_end_ns, revision (see docs/gather.md)"
)


class BadCell(ValueError):
    """A cell that is not what its column holds."""


def read_table(path: Path) -> pd.DataFrame:
    """The file as strings (CSV) or its own types (Parquet); a ``UserError`` if unreadable."""
    if not path.is_file():
        raise UserError(f"no file {path}", "pass the path of a CSV or Parquet file")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            return pd.read_parquet(path)
        return pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except Exception as exc:  # pandas and pyarrow raise many kinds; all mean "cannot read"
        raise UserError(
            f"cannot read {path}: {type(exc).__name__}: {exc}",
            f"give a CSV (with a header row) or a Parquet file (.parquet) with {_FORM}",
        ) from None


def check_columns(path: Path, columns: list[str]) -> None:
    missing = [c for c in REQUIRED if c not in columns]
    if not any(c in columns for c in TIME_COLUMNS):
        missing.append("t_ns or date")
    unknown = [c for c in columns if c not in COLUMNS]
    if missing or unknown:
        parts = [f"no column {', '.join(missing)}" if missing else "",
                 f"unknown column {', '.join(unknown)}" if unknown else ""]  # fmt: skip
        raise UserError(f"{path}: {'; '.join(p for p in parts if p)}", f"give it {_FORM}")


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _number(column: str, value: Any) -> float | int:
    """A float (``value``, ``estimate``) or an integer (``t_ns``, ``period_end_ns``,
    ``revision``); ``BadCell`` otherwise. Non-finite floats are passed on for the schema to
    refuse with its own reason."""
    try:
        if isinstance(value, str):
            text = value.strip()
            return float(text) if column in _FLOATS else int(text)
        if column in _FLOATS:
            return float(value)
        if isinstance(value, Integral):  # int64 from Parquet: exact, not through a float
            return int(value)
        number = float(value)
        if math.isfinite(number) and number == int(number):
            return int(number)
        raise ValueError
    except (TypeError, ValueError, OverflowError):
        kind = "a number" if column in _FLOATS else "a whole number"
        raise BadCell(f"{column}: {value!r} is not {kind}") from None


def _date(value: Any) -> date:
    """A ``date`` cell: ``YYYY-MM-DD`` text, or a date or timestamp (Parquet)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return datetime.strptime(str(value).strip(), "%Y-%m-%d").date()
    except ValueError:
        raise BadCell(f"date: {value!r} is not YYYY-MM-DD") from None


def row_record(row: dict[str, Any]) -> Record:
    """A row's fields as a would-be ``Fundamental`` record; ``BadCell`` for a cell it cannot
    read or a row with both or neither of ``t_ns`` and ``date``."""
    cells = {k: v for k, v in row.items() if not _missing(v)}
    record: Record = {}
    for column, value in cells.items():
        if column in _FLOATS or column in _INTEGERS:
            record[column] = _number(column, value)
        elif column != "date":
            record[column] = str(value).strip()
    if "date" in cells:
        if "t_ns" in cells:
            raise BadCell("t_ns and date are both given: keep one")
        record["t_ns"] = utc_midnight_ns(_date(cells["date"]))
    elif "t_ns" not in cells:
        raise BadCell("no t_ns or date: when the value became valid")
    record.setdefault("source", DEFAULT_SOURCE)
    return record


def _jsonable(value: Any) -> Any:
    """A cell as JSON can hold it, for the dead letter (numpy numbers, timestamps, NaN)."""
    if _missing(value):
        return None
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, int | float | str | bool):
        return value
    return str(value)


def file_candidates(path: Path) -> list[Candidate]:
    """Every row of the file as a ``Candidate`` (``where`` = ``row N``)."""
    table = read_table(path)
    columns = [str(c) for c in table.columns]
    check_columns(path, columns)
    table.columns = pd.Index(columns)
    out = []
    for number, row in enumerate(table.to_dict("records"), start=1):
        raw = {str(k): _jsonable(v) for k, v in row.items()}
        try:
            out.append(Candidate(f"row {number}", raw, row_record(row)))
        except BadCell as exc:
            out.append(Candidate(f"row {number}", raw, None, f"invalid fundamental: {exc}"))
    return out
