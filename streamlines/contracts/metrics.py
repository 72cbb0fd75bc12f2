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
