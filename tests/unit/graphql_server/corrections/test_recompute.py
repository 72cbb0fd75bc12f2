"""The recompute's pure parts: exact delete times, safe predicates, which metrics it replaces."""

from graphql_server.corrections.recompute import predicate_string, series_metrics
from streamlines.contracts.events import AnalyticsRecord
from streamlines.contracts.time import rfc3339_ns


def test_delete_times_keep_every_nanosecond():
    assert rfc3339_ns(1_325_566_800_000_000_001) == "2012-01-03T05:00:00.000000001Z"
    assert rfc3339_ns(0) == "1970-01-01T00:00:00.000000000Z"


def test_a_predicate_string_cannot_end_early():
    assert predicate_string('GO"OG') == '"GO\\"OG"'
    assert predicate_string("A\\") == '"A\\\\"'


def record(metric: str) -> AnalyticsRecord:
    return AnalyticsRecord(symbol="GOOG", metric=metric, t_ns=1, values={"x": 1.0})


def test_only_the_series_own_metrics_are_replaced():
    records = [record("sma_1Day"), record("sma_1Min"), record("volatility_24h")]
    assert series_metrics(records, "1Day", {"cross_sma50_sma200_1Day", "rsi_1Min"}) == {
        "sma_1Day",
        "cross_sma50_sma200_1Day",
    }
    # the 24-hour volatility comes from minute bars only
    assert series_metrics(records, "1Min", {"rsi_1Min"}) == {"sma_1Min", "rsi_1Min",
                                                            "volatility_24h"}  # fmt: skip
