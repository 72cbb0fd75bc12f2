"""The points Stream Lines writes to InfluxDB, built from the contract's events (the buckets,
measurements and tags are ``streamlines.contracts.influx``). A module of its own because it
needs influxdb_client, which the settings and the command line's start-up should not load."""

from __future__ import annotations

from influxdb_client import Point

from streamlines.contracts.events import AnalyticsRecord, Fundamental, HistoryBar, Prediction
from streamlines.contracts.indicators import expand
from streamlines.contracts.influx import (
    BAR_FLOAT_FIELDS,
    MEASUREMENT_BARS,
    MEASUREMENT_FUNDAMENTALS,
    MEASUREMENT_PREDICTIONS,
)

_TAG_ESCAPES = str.maketrans({",": "\\,", "=": "\\=", " ": "\\ "})


def _tag(value: str) -> str:
    return value.translate(_TAG_ESCAPES)


def bar_line(bar: HistoryBar) -> str:
    """A gathered bar as one line of InfluxDB line protocol (nanosecond precision).

    Built directly (``influxdb_client.Point`` costs about ten times as much per bar); float
    fields are always written as floats, because InfluxDB refuses a field whose type changes
    (an integral volume would otherwise become an integer field). ``dividend`` and
    ``split_factor`` only when known.
    """
    fields = [
        f"{name}={float(value)!r}"
        for name in BAR_FLOAT_FIELDS
        if (value := getattr(bar, name)) is not None
    ]
    if bar.trade_count is not None:
        fields.append(f"trade_count={bar.trade_count}i")
    series = f"{MEASUREMENT_BARS},symbol={_tag(bar.symbol)},timeframe={_tag(bar.timeframe)}"
    return f"{series} {','.join(fields)} {bar.t_ns}"


def record_points(payload: bytes | str, measurement: str) -> list[Point]:
    """The points of one record of an analytics topic stored as ``measurement``: a
    ``Prediction`` for ``predictions``, an ``AnalyticsRecord`` otherwise (one point per family
    for the currents job's per-bar record, ``streamlines.contracts.indicators``). Raises
    ``SchemaError`` (with the reason) for a record that does not fit."""
    if measurement == MEASUREMENT_PREDICTIONS:
        return [prediction_point(Prediction.from_wire(payload))]
    return [analytics_point(r, measurement) for r in expand(AnalyticsRecord.from_wire(payload))]


def analytics_point(record: AnalyticsRecord, measurement: str) -> Point:
    """An analytics record as one point: tags symbol and metric, its non-null values."""
    point = Point(measurement).tag("symbol", record.symbol).tag("metric", record.metric)
    for name, value in record.values.items():
        if value is not None:
            point = point.field(name, value)
    return point.time(record.t_ns)


def prediction_point(prediction: Prediction) -> Point:
    """A prediction as one point in measurement ``predictions``."""
    return (
        Point(MEASUREMENT_PREDICTIONS)
        .tag("symbol", prediction.symbol)
        .tag("model_id", prediction.model_id)
        .tag("timeframe", prediction.timeframe)
        .field("value", float(prediction.value))
        .field("horizon", int(prediction.horizon))
        .time(prediction.t_ns)
    )


def fundamental_point(fundamental: Fundamental) -> Point:
    """A fundamental as one point in measurement ``fundamentals``: tags symbol and fact, time =
    the time it is valid from, so ``(symbol, fact, t_ns)`` is one point and a rewrite (a replay,
    a corrected figure) overwrites it. ``source`` is a field, not a tag: a second source for the
    same fact and time replaces the first instead of adding a series. Numbers are always written
    as floats (``period_end_ns`` as an integer): InfluxDB refuses a field whose type changes."""
    point = (
        Point(MEASUREMENT_FUNDAMENTALS)
        .tag("symbol", fundamental.symbol)
        .tag("fact", fundamental.fact)
        .field("value", float(fundamental.value))
        .field("source", fundamental.source)
        .field("revision", int(fundamental.revision))
    )
    if fundamental.estimate is not None:
        point = point.field("estimate", float(fundamental.estimate))
    if fundamental.period_end_ns is not None:
        point = point.field("period_end_ns", int(fundamental.period_end_ns))
    return point.time(fundamental.t_ns)
