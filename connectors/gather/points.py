"""How a gathered bar is stored in InfluxDB (bucket ``market``), as line protocol.

One point per bar: measurement ``bars``, tags ``symbol`` and ``timeframe`` (``1Day``,
``1Hour``, ``1Min``), time = the bar's start (``t_ns``), fields:

- ``open, high, low, close, volume`` (floats), ``trade_count`` (integer), ``vwap``: as traded;
- ``adj_open, adj_high, adj_low, adj_close, adj_volume``: adjusted for splits and dividends
  (Alpaca's ``adjustment=all``), and ``adj_factor`` = adj_close / close;
- ``dividend``, ``split_factor``: only when known (never written today, see docs/gather.md).

The same bar always lands on the same series and time, so writing it again overwrites it.
Lines are built directly (not with ``influxdb_client.Point``, which costs about ten times as
much per bar) and float fields are always written as floats, because InfluxDB refuses a field
whose type changes (an integral volume would otherwise become an integer field).
"""

from __future__ import annotations

from streamlines.contracts.events import HistoryBar

MEASUREMENT = "bars"
FLOAT_FIELDS = (
    "open",
    "high",
    "low",
    "close",
    "volume",
    "vwap",
    "adj_open",
    "adj_high",
    "adj_low",
    "adj_close",
    "adj_volume",
    "adj_factor",
    "dividend",
    "split_factor",
)
INT_FIELDS = ("trade_count",)
_TAG_ESCAPES = str.maketrans({",": "\\,", "=": "\\=", " ": "\\ "})


def _tag(value: str) -> str:
    return value.translate(_TAG_ESCAPES)


def line(bar: HistoryBar) -> str:
    """The bar as one line of InfluxDB line protocol (nanosecond precision)."""
    fields = [
        f"{name}={float(value)!r}"
        for name in FLOAT_FIELDS
        if (value := getattr(bar, name)) is not None
    ]
    if bar.trade_count is not None:
        fields.append(f"trade_count={bar.trade_count}i")
    series = f"{MEASUREMENT},symbol={_tag(bar.symbol)},timeframe={_tag(bar.timeframe)}"
    return f"{series} {','.join(fields)} {bar.t_ns}"
