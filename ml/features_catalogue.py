"""The features Narwhal can use, in model order, and what each needs.

A feature at bar t uses data up to and including t only. ``bars`` features come from the bars
themselves (the price store's, or ripples' 1-minute bars); ``indicators`` features from the
currents job's indicators at the same bar (metric ``<family>_<timeframe>``, field in brackets);
``quotes`` features from ripples' spread, only where quotes exist (null otherwise: XGBoost
handles missing values).

``close``, ``high``, ``low`` and ``volume`` are the bar's split/dividend-adjusted values where
the bar has them (as the currents job computes its indicators on the adjusted close), else the
raw ones; a NaN in a feature's window makes that feature NaN. ``ml.features`` computes them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Feature:
    name: str
    source: str  # "bars", "indicators" or "quotes"
    description: str
    lookback: int = 0  # bars before t it needs (bars features)


FEATURES: tuple[Feature, ...] = (
    Feature("ret_1", "bars", "log return over 1 bar: ln(close_t / close_t-1)", 1),
    Feature("ret_5", "bars", "log return over 5 bars: ln(close_t / close_t-5)", 5),
    Feature("ret_10", "bars", "log return over 10 bars: ln(close_t / close_t-10)", 10),
    Feature("ret_20", "bars", "log return over 20 bars: ln(close_t / close_t-20)", 20),
    Feature(
        "vol_20",
        "bars",
        "sample (n - 1) std of the 20 one-bar log returns ret_1 at t-19 .. t (21 closes)",
        20,
    ),
    Feature("range_rel", "bars", "(high - low) / close of bar t", 0),
    Feature(
        "volume_z_20",
        "bars",
        "(volume_t - mean) / sample std of the 20 volumes t-19 .. t; 0 when all 20 are equal",
        19,
    ),
    Feature("rsi_14", "indicators", "RSI(14, Wilder) [rsi: rsi_14]"),
    Feature("macd_hist", "indicators", "MACD(12, 26, 9) histogram [macd: histogram]"),
    Feature(
        "bb_pct_b",
        "indicators",
        "Bollinger %B: (close - lower) / (upper - lower), 0.5 when upper == lower "
        "[bollinger: upper, lower]",
    ),
    Feature("dist_sma_20", "indicators", "close / SMA(20) - 1 [sma: sma_20]"),
    Feature("dist_sma_50", "indicators", "close / SMA(50) - 1 [sma: sma_50]"),
    Feature("dist_sma_200", "indicators", "close / SMA(200) - 1 [sma: sma_200]"),
    Feature("dist_ema_20", "indicators", "close / EMA(20) - 1 [ema: ema_20]"),
    Feature("dist_ema_50", "indicators", "close / EMA(50) - 1 [ema: ema_50]"),
    Feature(
        "spread_rel",
        "quotes",
        "mean of spread / mid over ripples' spread records (one per trade) in the bar "
        "[ripples: spread]; 1-minute bars only",
    ),
)
FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)
BY_NAME = {f.name: f for f in FEATURES}
# What a model uses unless its config says otherwise: every feature that daily bars have.
DEFAULT_FEATURES: tuple[str, ...] = tuple(f.name for f in FEATURES if f.source != "quotes")
