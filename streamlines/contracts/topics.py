"""Kafka topic names (Kinesis stream names too) and their dead-letter companions."""

from __future__ import annotations

TOPIC_TRADES = "market.trades"
TOPIC_QUOTES = "market.quotes"
TOPIC_BARS = "market.bars"
TOPIC_BARS_HISTORY = "market.bars.history"
# Fundamentals (earnings, dividends, shares, splits, announcements), each from when valid.
TOPIC_FUNDAMENTALS = "market.fundamentals"
TOPIC_RIPPLES = "analytics.ripples"
TOPIC_CURRENTS = "analytics.currents"
TOPIC_PREDICTIONS = "analytics.predictions"
# beacons (jobs/beacons): valuation ratios, event moves and event studies, keyed by symbol; an
# upsert stream: a later record with the same (symbol, metric, t_ns) replaces the earlier one.
TOPIC_BEACONS = "analytics.beacons"
DLQ_SUFFIX = ".dlq"


def dead_letter_topic(topic: str) -> str:
    """Where the records of ``topic`` that do not fit the schema go, with the reason."""
    return f"{topic}{DLQ_SUFFIX}"
