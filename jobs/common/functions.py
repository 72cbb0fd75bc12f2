"""The jobs' Java functions (``jobs/java``, built and put on the cluster's classpath by
``streamlines stack install``): the SQL that registers each for a job's statements."""

from __future__ import annotations

# Each symbol's bars in event-time order, repeats of a millisecond dropped (OrderedBars.java):
# ``ordered_bars(input => TABLE t PARTITION BY symbol)`` over a table with a watermark.
ORDERED_BARS_DDL = (
    "CREATE TEMPORARY SYSTEM FUNCTION IF NOT EXISTS ordered_bars"
    " AS 'dev.streamlines.flink.OrderedBars' LANGUAGE JAVA"
)

# Each symbol's bars joined with their indicator records, one row per bar once every family is
# settled for it (SettledBars.java): ``settled_bars(input => TABLE t PARTITION BY symbol,
# families => 'a,b', lookback => n, history => 'c,d')`` over rows of ``t_ns``, ``kind`` and
# DOUBLE value columns.
SETTLED_BARS_DDL = (
    "CREATE TEMPORARY SYSTEM FUNCTION IF NOT EXISTS settled_bars"
    " AS 'dev.streamlines.flink.SettledBars' LANGUAGE JAVA"
)

# The ripples job's metrics of each symbol, from its trades and quotes in event-time order
# (TradeAnalytics.java): ``trade_analytics(input => TABLE t PARTITION BY symbol)`` over a
# table with a watermark and rows of ``t_ns``, ``is_quote``, ``price``, ``size``,
# ``bid_price`` and ``ask_price``.
TRADE_ANALYTICS_DDL = (
    "CREATE TEMPORARY SYSTEM FUNCTION IF NOT EXISTS trade_analytics"
    " AS 'dev.streamlines.flink.TradeAnalytics' LANGUAGE JAVA"
)

# A prediction's JSON bytes for a raw-format sink (PredictionJson.java): ``prediction_json(symbol,
# t_ns, model_id, timeframe, horizon, value)``.
PREDICTION_JSON_DDL = (
    "CREATE TEMPORARY SYSTEM FUNCTION IF NOT EXISTS prediction_json"
    " AS 'dev.streamlines.flink.PredictionJson' LANGUAGE JAVA"
)
