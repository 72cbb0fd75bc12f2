"""The ``metric`` of each analytics record (``analytics.*`` topics, InfluxDB tag ``metric``)."""

from __future__ import annotations

# ripples (jobs/ripples): per symbol, from trades and quotes.
METRIC_BAR_1S = "bar_1s"
METRIC_BAR_1M = "bar_1m"
METRIC_ROLLING = "rolling_5m"
METRIC_SPREAD = "spread"
RIPPLES_METRICS = (METRIC_BAR_1S, METRIC_BAR_1M, METRIC_ROLLING, METRIC_SPREAD)

# currents (jobs/currents): per symbol and bar timeframe, from bars.
METRIC_VOLATILITY = "volatility_24h"
VOLATILITY_TIMEFRAME = "1Min"
CROSSOVER_PREFIX = "cross_"


def indicator_metric(name: str, timeframe: str) -> str:
    """The metric of one indicator family (or crossover) at one timeframe, e.g. ``sma_1Day``."""
    return f"{name}_{timeframe}"


def crossover_name(kind: str, fast: int, slow: int) -> str:
    """A moving-average pair's metric stem, e.g. ``cross_sma50_sma200`` (the record's metric
    is ``indicator_metric(crossover_name(...), timeframe)``)."""
    return f"{CROSSOVER_PREFIX}{kind}{fast}_{kind}{slow}"


# beacons (jobs/beacons): per symbol and trading day, fundamentals against daily closes.
# valuation_1Day at each daily bar's t_ns: close, pe, earnings_yield, dividend_yield,
# price_sales, cape and the fundamentals they were computed from (see jobs.beacons).
METRIC_VALUATION = "valuation_1Day"
EVENT_KINDS = ("earnings", "dividend", "split")
# The fundamental fact each event kind comes from.
EVENT_FACTS = {"earnings": "earnings_announcement", "dividend": "dividend", "split": "split"}
# Event windows in trading days relative to the reaction day 0, and their names in metrics and
# value keys: "0_1" is day 0 to day +1, "m1_5" day -1 to day +5.
EVENT_WINDOWS: dict[str, tuple[int, int]] = {"0_1": (0, 1), "m1_5": (-1, 5)}
EVENT_PREFIX = "event_"
EVENT_STUDY_PREFIX = "event_study_"


def event_metric(kind: str) -> str:
    """The metric of one event of ``kind`` (at its day 0's bar time), e.g. ``event_earnings``."""
    return f"{EVENT_PREFIX}{kind}"


def event_study_metric(kind: str, window: str) -> str:
    """The metric of the event study of ``kind`` over ``window`` (a key of ``EVENT_WINDOWS``),
    e.g. ``event_study_earnings_0_1``."""
    return f"{EVENT_STUDY_PREFIX}{kind}_{window}"
