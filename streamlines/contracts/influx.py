"""What Stream Lines stores in InfluxDB: buckets, measurements, tags and the point builders.

- bucket ``market``, measurement ``bars``: gathered bars, tags ``symbol``, ``timeframe``, time =
  the bar's start (``bar_line``); measurement ``bar_deletions``: the audit of deleted bars.
- bucket ``analytics``, measurements ``ripples`` and ``currents``: the records of the analytics
  topics, tags ``symbol``, ``metric``, fields = the record's values, time = its ``t_ns``
  (``analytics_point``).
- bucket ``predictions``, measurement ``predictions``: Narwhal's predictions, tags ``symbol``,
  ``model_id``, ``timeframe``, fields ``value``, ``horizon``, time = the bar's start
  (``prediction_point``).

Every point's time comes from the data, so writing the same record again overwrites it.
"""

from __future__ import annotations

from influxdb_client import Point

from streamlines.contracts.events import AnalyticsRecord, HistoryBar, Prediction
from streamlines.contracts.topics import TOPIC_CURRENTS, TOPIC_PREDICTIONS, TOPIC_RIPPLES

BUCKET_MARKET = "market"
BUCKET_ANALYTICS = "analytics"
BUCKET_PREDICTIONS = "predictions"
BUCKETS = (BUCKET_MARKET, BUCKET_ANALYTICS, BUCKET_PREDICTIONS)

MEASUREMENT_BARS = "bars"
MEASUREMENT_BAR_DELETIONS = "bar_deletions"
MEASUREMENT_RIPPLES = "ripples"
MEASUREMENT_CURRENTS = "currents"
MEASUREMENT_PREDICTIONS = "predictions"

# The measurement each analytics topic is stored as, and the bucket of each measurement.
ANALYTICS_MEASUREMENTS = {
    TOPIC_RIPPLES: MEASUREMENT_RIPPLES,
    TOPIC_CURRENTS: MEASUREMENT_CURRENTS,
    TOPIC_PREDICTIONS: MEASUREMENT_PREDICTIONS,
}
MEASUREMENT_BUCKETS = {
    MEASUREMENT_RIPPLES: BUCKET_ANALYTICS,
    MEASUREMENT_CURRENTS: BUCKET_ANALYTICS,
    MEASUREMENT_PREDICTIONS: BUCKET_PREDICTIONS,
}

# Row columns of a Flux result that are not fields of the stored record.
NOT_FIELDS = frozenset(
    {"result", "table", "_start", "_stop", "_time", "_measurement", "symbol", "metric",
     "timeframe", "t_ns"}
)  # fmt: skip

BAR_FLOAT_FIELDS = (
    "open", "high", "low", "close", "volume", "vwap",
    "adj_open", "adj_high", "adj_low", "adj_close", "adj_volume", "adj_factor",
    "dividend", "split_factor",
)  # fmt: skip
BAR_INT_FIELDS = ("trade_count",)
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


def record_point(payload: bytes | str, measurement: str) -> Point:
    """The point of one record of an analytics topic stored as ``measurement``: a
    ``Prediction`` for ``predictions``, an ``AnalyticsRecord`` otherwise. Raises
    ``SchemaError`` (with the reason) for a record that does not fit."""
    if measurement == MEASUREMENT_PREDICTIONS:
        return prediction_point(Prediction.from_wire(payload))
    return analytics_point(AnalyticsRecord.from_wire(payload), measurement)


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
