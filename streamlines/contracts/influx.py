"""What Stream Lines stores in InfluxDB: buckets, measurements and tags (the point builders that
write them are ``streamlines.contracts.points``).

- bucket ``market``, measurement ``bars``: gathered bars, tags ``symbol``, ``timeframe``, time =
  the bar's start (``bar_line``). (The audit of deleted bars is in the metadata database:
  ``streamlines.metadata.audit``.)
- bucket ``market``, measurement ``fundamentals``: the records of ``market.fundamentals``, tags
  ``symbol``, ``fact``, fields ``value``, ``source`` and ``estimate``, ``period_end_ns`` when
  known, time = the time the value is valid from (``fundamental_point``).
- bucket ``analytics``, measurements ``ripples``, ``currents`` and ``beacons``: the records of
  the analytics topics, tags ``symbol``, ``metric``, fields = the record's values, time = its
  ``t_ns`` (``analytics_point``).
- bucket ``predictions``, measurement ``predictions``: Narwhal's predictions, tags ``symbol``,
  ``model_id``, ``timeframe``, fields ``value``, ``horizon``, time = the bar's start
  (``prediction_point``).

Every point's time comes from the data, so writing the same record again overwrites it.
"""

from __future__ import annotations

from streamlines.contracts.topics import (
    TOPIC_BEACONS,
    TOPIC_CURRENTS,
    TOPIC_PREDICTIONS,
    TOPIC_RIPPLES,
)

BUCKET_MARKET = "market"
BUCKET_ANALYTICS = "analytics"
BUCKET_PREDICTIONS = "predictions"
BUCKETS = (BUCKET_MARKET, BUCKET_ANALYTICS, BUCKET_PREDICTIONS)

MEASUREMENT_BARS = "bars"
MEASUREMENT_FUNDAMENTALS = "fundamentals"
MEASUREMENT_RIPPLES = "ripples"
MEASUREMENT_CURRENTS = "currents"
MEASUREMENT_BEACONS = "beacons"
MEASUREMENT_PREDICTIONS = "predictions"

# The measurement each analytics topic is stored as, and the bucket of each measurement.
ANALYTICS_MEASUREMENTS = {
    TOPIC_RIPPLES: MEASUREMENT_RIPPLES,
    TOPIC_CURRENTS: MEASUREMENT_CURRENTS,
    TOPIC_BEACONS: MEASUREMENT_BEACONS,
    TOPIC_PREDICTIONS: MEASUREMENT_PREDICTIONS,
}
MEASUREMENT_BUCKETS = {
    MEASUREMENT_FUNDAMENTALS: BUCKET_MARKET,
    MEASUREMENT_RIPPLES: BUCKET_ANALYTICS,
    MEASUREMENT_CURRENTS: BUCKET_ANALYTICS,
    MEASUREMENT_BEACONS: BUCKET_ANALYTICS,
    MEASUREMENT_PREDICTIONS: BUCKET_PREDICTIONS,
}

# Row columns of a Flux result that are not fields of the stored record.
NOT_FIELDS = frozenset(
    {"result", "table", "_start", "_stop", "_time", "_measurement", "symbol", "metric",
     "timeframe", "fact", "t_ns"}
)  # fmt: skip

BAR_FLOAT_FIELDS = (
    "open", "high", "low", "close", "volume", "vwap",
    "adj_open", "adj_high", "adj_low", "adj_close", "adj_volume", "adj_factor",
    "dividend", "split_factor",
)  # fmt: skip
BAR_INT_FIELDS = ("trade_count",)
