"""Which symbols the replay server knows: real data sets, synthetic load tickers, user files."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from connectors.replay.barstats import BarStatsStore
from connectors.replay.feed import SymbolFeed, SynthConfig
from connectors.replay.symbols import REAL_CRYPTO, REAL_STOCKS
from connectors.replay.synth import Trades
from connectors.replay.timeframe import AlpacaTimeframe
from streamlines.datasets import DATASETS, load_bars

# Stock symbols are the data set names; crypto pairs use Alpaca's BASE/QUOTE spelling.
# EUR/USD is a currency pair, served on the crypto feed because it is the only intraday (hourly)
# real series and trades round the clock like crypto.
SYNTHETIC_PREFIX = "SYN"


class UniverseError(ValueError):
    pass


@dataclass
class Universe:
    feeds: dict[str, SymbolFeed] = field(default_factory=dict)

    def add(self, feed: SymbolFeed) -> None:
        self.feeds[feed.symbol] = feed

    def get(self, symbol: str) -> SymbolFeed | None:
        return self.feeds.get(symbol)

    def symbols(self, asset_class: str) -> list[str]:
        return sorted(s for s, f in self.feeds.items() if f.asset_class == asset_class)

    def first_ns(self) -> int:
        return min((f.first_ns for f in self.feeds.values()), default=0)


def _real_feed(symbol: str, asset_class: str, dataset: str, synth: SynthConfig) -> SymbolFeed:
    info = DATASETS[dataset]
    return SymbolFeed(
        symbol,
        asset_class,
        load_bars(dataset),
        AlpacaTimeframe.parse(info.frequency),
        synth,
        f"real: {info.description}",
    )


def synthetic_symbol(k: int) -> str:
    return f"{SYNTHETIC_PREFIX}{k:04d}"


def _synthetic_feed(k: int, synth: SynthConfig) -> SymbolFeed:
    """A load-test ticker: a real daily series scaled by a fixed, seeded factor."""
    base = list(REAL_STOCKS.values())[k % len(REAL_STOCKS)]
    bars = load_bars(base)
    factor = float(np.round(np.exp(np.random.default_rng([synth.seed, k]).normal(0, 0.7)), 4))
    for column in ("open", "high", "low", "close", "adj_close"):
        if column in bars:
            bars[column] = np.round(bars[column] * factor, 2)
    bars["high"] = bars[["open", "high", "close"]].max(axis=1)
    bars["low"] = bars[["open", "low", "close"]].min(axis=1)
    return SymbolFeed(
        synthetic_symbol(k),
        "stock",
        bars,
        AlpacaTimeframe.parse("1Day"),
        synth,
        f"synthetic: real {base} daily bars x {factor}",
    )


def build_universe(
    *,
    symbols: list[str] | None = None,
    size: int | None = None,
    data_files: list[Path] | None = None,
    synth: SynthConfig | None = None,
    stats_store: BarStatsStore | None = None,
) -> Universe:
    """The real series (or only ``symbols``), padded with synthetic stocks up to ``size``
    stock symbols, plus any user files; with ``stats_store``, the bars' trade counts and VWAPs
    are kept there between runs (see ``connectors.replay.barstats``)."""
    synth = synth or SynthConfig()
    universe = Universe()
    wanted = set(symbols) if symbols else None
    _add_real(universe, wanted, synth)
    for path in data_files or []:
        for feed in load_user_file(path, synth):
            universe.add(feed)
    if wanted:
        _add_synthetic_named(universe, sorted(wanted - set(universe.feeds)), synth)
    stocks = len(universe.symbols("stock"))
    for k in range(1, max(0, (size or 0) - stocks) + 1):
        universe.add(_synthetic_feed(k, synth))
    if not universe.feeds:
        raise UniverseError("the symbol universe is empty: pass --symbols or --universe-size")
    if stats_store is not None:
        for feed in universe.feeds.values():
            feed.keep_stats_in(stats_store)
    return universe


def _add_real(universe: Universe, wanted: set[str] | None, synth: SynthConfig) -> None:
    """The real series, all of them or the ``wanted`` ones."""
    for asset_class, datasets in (("stock", REAL_STOCKS), ("crypto", REAL_CRYPTO)):
        for symbol, dataset in datasets.items():
            if wanted is None or symbol in wanted:
                universe.add(_real_feed(symbol, asset_class, dataset, synth))


def _add_synthetic_named(universe: Universe, symbols: list[str], synth: SynthConfig) -> None:
    """Named symbols that are neither real nor in a data file: SYN0001-style synthetic tickers,
    or an error naming the choices."""
    for symbol in symbols:
        if not (symbol.startswith(SYNTHETIC_PREFIX) and symbol[3:].isdigit()):
            known = ", ".join([*REAL_STOCKS, *REAL_CRYPTO])
            raise UniverseError(
                f"unknown symbol {symbol!r}: use one of {known}, SYN0001-style synthetic "
                "tickers, or bring a data file with --data"
            )
        universe.add(_synthetic_feed(int(symbol[3:]), synth))


_TIME_COLUMNS = ("timestamp", "time", "date", "datetime", "t")


def _read_table(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise UniverseError(f"data file {path} does not exist")
    if path.suffix.lower() in (".parquet", ".pq"):
        frame = pd.read_parquet(path)
    elif path.suffix.lower() in (".csv", ".gz"):
        frame = pd.read_csv(path)
    else:
        raise UniverseError(f"data file {path}: use a .csv or .parquet file")
    frame.columns = [str(c).strip().lower().replace(" ", "_") for c in frame.columns]
    if frame.index.name and frame.index.name.lower() in _TIME_COLUMNS:
        frame = frame.reset_index()
    time_column = next((c for c in _TIME_COLUMNS if c in frame.columns), None)
    if time_column is None:
        raise UniverseError(
            f"data file {path}: needs a timestamp column ({', '.join(_TIME_COLUMNS)})"
        )
    frame["timestamp"] = pd.to_datetime(frame.pop(time_column), utc=True)
    return frame


def load_user_file(path: Path, synth: SynthConfig) -> list[SymbolFeed]:
    """Bars (timestamp, open, high, low, close, volume) or trades (timestamp, price, size), with
    a ``symbol`` column or one symbol named by the file stem; asset class ``crypto`` when the
    symbol contains a slash."""
    frame = _read_table(path)
    if "symbol" not in frame.columns:
        frame["symbol"] = path.name.split(".")[0].upper()
    feeds: list[SymbolFeed] = []
    for symbol, rows in frame.groupby("symbol", sort=True):
        rows = rows.set_index("timestamp").sort_index()
        asset_class = "crypto" if "/" in str(symbol) else "stock"
        if {"open", "high", "low", "close", "volume"} <= set(rows.columns):
            frequency = _infer_frequency(pd.DatetimeIndex(rows.index))
            feeds.append(
                SymbolFeed(
                    str(symbol), asset_class, rows, frequency, synth, f"user bars from {path}"
                )
            )
        elif {"price", "size"} <= set(rows.columns):
            feeds.append(RecordedTradesFeed(str(symbol), asset_class, rows, synth, path))
        else:
            raise UniverseError(
                f"data file {path}: needs bar columns open, high, low, close, volume "
                "or trade columns price, size"
            )
    return feeds


def _infer_frequency(index: pd.DatetimeIndex) -> AlpacaTimeframe:
    if len(index) < 2:
        return AlpacaTimeframe.parse("1Day")
    step = pd.Series(index).diff().median()
    for text, length in (("1Min", "1min"), ("1Hour", "1h"), ("1Day", "1D")):
        if step <= pd.Timedelta(length):
            return AlpacaTimeframe.parse(text)
    return (
        AlpacaTimeframe.parse("1Day")
        if step < pd.Timedelta("28D")
        else AlpacaTimeframe.parse("1Month")
    )


class RecordedTradesFeed(SymbolFeed):
    """A user's own trades, replayed as they are; daily bars are aggregated from them."""

    def __init__(
        self, symbol: str, asset_class: str, rows: pd.DataFrame, synth: SynthConfig, path: Path
    ) -> None:
        t = pd.DatetimeIndex(rows.index).as_unit("ns").asi8
        order = np.argsort(t, kind="stable")
        t = t[order]
        # Equal timestamps get +1 ns each so trades stay strictly ordered.
        t = np.maximum.accumulate(t - np.arange(len(t))) + np.arange(len(t))
        price = rows["price"].to_numpy(np.float64)[order]
        size = rows["size"].to_numpy(np.float64)[order]
        days = pd.DatetimeIndex(t).tz_localize("UTC").normalize()
        daily = (
            pd.DataFrame({"price": price, "size": size}, index=days)
            .groupby(level=0)
            .agg(
                open=("price", "first"),
                high=("price", "max"),
                low=("price", "min"),
                close=("price", "last"),
                volume=("size", "sum"),
            )
        )
        super().__init__(
            symbol,
            asset_class,
            daily,
            AlpacaTimeframe.parse("1Day"),
            synth,
            f"user trades from {path}",
        )
        # Each day's window is its first to its last trade (replacing the default session).
        bounds = np.searchsorted(t, self.t)
        self._bounds = np.concatenate([bounds, [len(t)]])
        self.window_start = t[bounds]
        self.window_end = t[np.concatenate([bounds[1:], [len(t)]]) - 1] + 1
        self._recorded = (t, price, size)

    def stats_fingerprint(self) -> str | None:
        return None  # its trades are recorded, not generated: nothing costly to keep

    def _make_trades(self, i: int) -> Trades:
        a, b = int(self._bounds[i]), int(self._bounds[i + 1])
        t, price, size = self._recorded
        return Trades(t[a:b], price[a:b], size[a:b], np.arange(a, b, dtype=np.int64) + 1)
