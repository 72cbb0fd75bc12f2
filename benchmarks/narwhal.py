"""Narwhal: training time, batch scoring rows/s and in-stream scoring rows/s per slot, each
beside its target (issue 12) and a peer or baseline measured in the same run.

The data: **1-minute bars generated from real daily bars** (GOOG, S&P 500, NASDAQ from
``streamlines.datasets``) by ``connectors.replay.synth``, as ``benchmarks/workload.py`` makes
trades: each real day becomes a 390-minute session (14:30 UTC on the real date) of
``--trades-per-minute`` synthetic trades that open, close, touch the high and the low and sum to
the volume of the real day; the trades are aggregated into 1-minute OHLCV bars. The currents
indicators of those bars (SMA 20/50/200, EMA 20/50, Wilder RSI 14, MACD(12, 26, 9) histogram,
Bollinger(20, 2) bands) are computed here with pandas as the currents job defines them.

The 30 columns: the 15 features ``ml.features`` computes from bars and indicators
(``DEFAULT_FEATURES``: ret_1/5/10/20, vol_20, range_rel, volume_z_20, rsi_14, macd_hist,
bb_pct_b, dist_sma_20/50/200, dist_ema_20/50) on the 1-minute bars, and the same 15 computed by
``ml.features.feature_frame`` on 5-minute bars (the 1-minute bars resampled, with the
indicators of the 5-minute closes), named ``<feature>_5m``; each 1-minute row takes the last
5-minute bar that has closed by the end of its own minute (no look-ahead). Label: the sign of
the log return over the next ``--horizon`` 1-minute bars (``ml.features.label``). Rows are
split evenly over the three symbols, sorted by (time, symbol): the matrix contract.

1. **Training** (target <= 30 s): ``ml.train.train_local`` on the matrix: walk-forward folds
   (``--folds``, early stopping after ``--early-stopping`` rounds, at most ``--num-round``)
   **and** the final model, i.e. what ``streamlines ml train`` runs. Peer: ``xgboost.train``
   with the same parameters on the same NumPy array (DMatrix construction included) for as
   many rounds as train_local's final model, no folds: the same model without Narwhal's
   validation, so the ratio is the cost of walk-forward validation and the rest.
2. **Batch scoring** (target >= 500,000 rows/s): ``ml.artifacts.predict`` of the trained model
   (written to ``model.tar.gz`` and loaded back) on the matrix, beside the peer
   ``Booster.predict`` on a DMatrix of the NumPy array; and ``ml.predict.score_frames`` (features
   from the bars + scoring) with a model of the 15 1-minute features (what the stream scores),
   on the same bars.
3. **In-stream scoring** (target >= 50,000 rows/s per slot): ``--stream-bars`` bars of the three
   symbols on a fresh live-bars topic (``Bar`` JSON) and their indicator records on a fresh
   indicators topic (``AnalyticsRecord`` JSON, as currents writes them: one record per bar, every
   bar, metric ``indicators_1Min``, every family's values keyed ``<family>.<field>``, null while
   warming up); ``flink run -py jobs/narwhal/__main__.py --bounded --parallelism 1`` on the local
   cluster, timed by Flink's own job duration (REST API), rows = bars scored; then the same on a
   hundredth of the bars (at least 300), whose duration is the fixed cost (start-up, the first
   bundle): the rate once running is the extra bars over the extra seconds, the figure held
   against the target (both are printed). The default backlog, 800,000 bars, is long enough for
   the rate once running to be the job's steady one (on 60,000 bars the job works ~2 s after
   its start-up, much of it before the JIT has compiled the hot code). Baseline: a plain
   kafka-python consumer reading the same two topics, holding each symbol's bars in the job's
   own ``SymbolWindow`` (``ml.features.feature_frame`` over the window), scoring ready bars in
   batches with ``Booster.predict`` and producing the ``Prediction`` JSON to a topic, measured
   the same two ways.

Every measurement runs ``--runs`` times after waiting for a quiet machine (``--quiet-wait``);
the medians and every run's figure are printed, with the CPU used by other processes.

    python -m benchmarks.narwhal [--rows 1000000] [--stream-bars 800000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb
from kafka import KafkaConsumer, TopicPartition
from rich.console import Console

if __package__ in (None, ""):  # run as a file: make the `benchmarks` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.workload import (
    SEED,
    SYMBOLS,
    CpuMeter,
    add_quiet_wait_option,
    delete_consumer_groups,
    delete_topics,
    fast_producer,
    topic_size,
    unique_prefix,
    wait_for_quiet,
)
from connectors.replay import synth
from connectors.sinks.kafka import ensure_topics
from jobs.narwhal.window import BAR_VALUES, INDICATOR_KEYS, SymbolWindow
from jobs.registry import find_job
from ml.artifacts import LoadedModel, load_artifact, predict, write_artifact
from ml.config import TrainingConfig, parse_config
from ml.features import INDICATOR_COLUMNS, feature_frame, label
from ml.features_catalogue import DEFAULT_FEATURES
from ml.models import LocalModelStore
from ml.predict import score_frames
from ml.train import TrainedModel, train_local, xgboost_params
from streamlines.console import make_console
from streamlines.contracts.events import AnalyticsRecord, Bar, Prediction
from streamlines.contracts.indicators import INDICATORS, compact_values, indicators_metric
from streamlines.contracts.time import NS_PER_MINUTE
from streamlines.datasets import load_bars
from streamlines.settings import Settings
from streamlines.stack.http import request_json
from streamlines.stack.services.flink import FlinkService

JOB = find_job("narwhal").file
TARGET_TRAIN_S = 30.0
TARGET_BATCH_ROWS_S = 500_000
TARGET_STREAM_ROWS_S = 50_000
SESSION_MINUTES = 390  # 14:30-21:00 UTC
COARSE = 5  # minutes per bar of the second scale
FEATURES_30 = (*DEFAULT_FEATURES, *(f"{name}_{COARSE}m" for name in DEFAULT_FEATURES))
TIMEFRAME = "1Min"
INDICATORS_METRIC = indicators_metric(TIMEFRAME)
BASELINE_BATCH = 512  # bars per feature_frame call in the baseline (the job's BATCH_BARS)


# --- the data: 1-minute bars from real daily bars -------------------------------------------


def _minute_bars(source_index: int, days: int, trades_per_minute: int) -> pd.DataFrame:
    """``days`` real daily bars of one source as 1-minute bars of synthetic trades."""
    source = SYMBOLS[source_index]
    daily = load_bars(source.dataset)
    daily = daily[daily["volume"] >= SESSION_MINUTES * trades_per_minute]
    if len(daily) < days:
        raise SystemExit(f"{source.dataset} has {len(daily)} usable days, {days} needed")
    parts = []
    for ordinal, (day, row) in enumerate(daily.iloc[:days].iterrows()):
        start = int(pd.Timestamp(day).normalize().value) + (14 * 60 + 30) * NS_PER_MINUTE
        spec = synth.BarSpec(
            float(row.open), float(row.high), float(row.low), float(row.close),
            float(row.volume), start, start + SESSION_MINUTES * NS_PER_MINUTE,
        )  # fmt: skip
        trades = synth.generate_trades(
            spec,
            SESSION_MINUTES * trades_per_minute,
            synth.bar_rng(SEED, source.symbol, ordinal),
            tick=source.tick,
            integral_volume=source.integral_volume,
            first_id=0,
        )
        parts.append(_aggregate(trades))
    return pd.concat(parts, ignore_index=True)


def _aggregate(trades: synth.Trades) -> pd.DataFrame:
    """1-minute OHLCV bars of time-ordered trades (minutes without a trade have no bar)."""
    minute = trades.t // NS_PER_MINUTE
    starts = np.flatnonzero(np.r_[True, minute[1:] != minute[:-1]])
    ends = np.r_[starts[1:], len(minute)] - 1
    return pd.DataFrame(
        {
            "time": pd.to_datetime(minute[starts] * NS_PER_MINUTE, unit="ns", utc=True),
            "open": trades.price[starts],
            "high": np.maximum.reduceat(trades.price, starts),
            "low": np.minimum.reduceat(trades.price, starts),
            "close": trades.price[ends],
            "volume": np.add.reduceat(trades.size, starts),
        }
    )


def with_indicators(bars: pd.DataFrame) -> pd.DataFrame:
    """``bars`` with the indicator input columns of ``ml.features`` (the currents job's
    definitions: pandas rolling means, ``ewm(adjust=False)``, Wilder's RSI, population-std
    Bollinger bands)."""
    close = bars["close"]
    out = bars.copy()
    for n in (20, 50, 200):
        out[f"sma_{n}"] = close.rolling(n).mean()
    for n in (20, 50):
        out[f"ema_{n}"] = close.ewm(span=n, adjust=False, min_periods=n).mean()
    change = close.diff()
    gain = change.clip(lower=0.0).ewm(alpha=1 / 14, adjust=False, min_periods=14).mean()
    loss = (-change).clip(lower=0.0).ewm(alpha=1 / 14, adjust=False, min_periods=14).mean()
    out["rsi_14"] = 100.0 - 100.0 / (1.0 + gain / loss)
    line = close.ewm(span=12, adjust=False).mean() - close.ewm(span=26, adjust=False).mean()
    histogram = line - line.ewm(span=9, adjust=False).mean()
    out["macd_histogram"] = histogram.where(np.arange(1, len(close) + 1) >= 34)
    middle, std = close.rolling(20).mean(), close.rolling(20).std(ddof=0)
    out["bollinger_upper"], out["bollinger_lower"] = middle + 2 * std, middle - 2 * std
    return out


def _coarse(bars: pd.DataFrame) -> pd.DataFrame:
    """The 1-minute bars resampled to ``COARSE``-minute bars (bars of each session only)."""
    grouped = bars.set_index("time").resample(f"{COARSE}min")
    coarse = grouped.agg(
        {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}
    ).dropna(subset=["close"])
    return coarse.rename_axis("time").reset_index()


def symbol_rows(symbol: str, bars: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """One symbol's rows: ``symbol``, ``time``, the 30 features, ``label``."""
    fine = feature_frame(bars, DEFAULT_FEATURES)
    coarse_bars = _coarse(bars)
    coarse = feature_frame(with_indicators(coarse_bars), DEFAULT_FEATURES)
    # A coarse bar [T, T + 5 min) has closed when its last minute [T + 4 min, T + 5 min) has.
    coarse["time"] = coarse["time"] + pd.Timedelta(minutes=COARSE - 1)
    coarse = coarse.rename(columns={n: f"{n}_{COARSE}m" for n in DEFAULT_FEATURES})
    rows = pd.merge_asof(fine, coarse, on="time", direction="backward")
    rows.insert(0, "symbol", symbol)
    rows["label"] = label(bars["close"].reset_index(drop=True), horizon, "classification")
    return rows


@dataclass(frozen=True)
class Data:
    frames: dict[str, pd.DataFrame]  # symbol -> 1-minute bars with indicator columns
    matrix: pd.DataFrame  # the matrix contract, FEATURES_30, labelled rows only
    seconds: float


def build_data(rows: int, trades_per_minute: int, horizon: int) -> Data:
    started = time.perf_counter()
    sources = range(3)  # GOOG, SPX, NDX: real daily stock bars
    per_symbol = -(-rows // len(sources))
    days = -(-(per_symbol + horizon + 1) // (SESSION_MINUTES - 5)) + 1
    frames, parts = {}, []
    for index in sources:
        bars = with_indicators(_minute_bars(index, days, trades_per_minute))
        symbol = SYMBOLS[index].symbol
        part = symbol_rows(symbol, bars, horizon)
        part = part[part["label"].notna()].iloc[:per_symbol]
        frames[symbol] = bars.iloc[: len(part)].reset_index(drop=True)
        parts.append(part)
    matrix = pd.concat(parts, ignore_index=True)
    order = np.lexsort((matrix["symbol"].to_numpy(), matrix["time"].array.asi8))
    matrix = matrix.iloc[order[:rows]].reset_index(drop=True)
    return Data(frames, matrix, time.perf_counter() - started)


# --- measuring ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    seconds: list[float]
    others: list[float]  # cores used by other processes during each run

    def per_s(self, count: int) -> list[float]:
        return [count / s for s in self.seconds]


def measure(
    console: Console,
    settings: Settings,
    what: str,
    runs: int,
    quiet_wait: float,
    work: Callable[[], float | None],
) -> Measured:
    """Run ``work`` ``runs`` times on a quiet machine; its seconds (the wall time of the call,
    unless it returns its own figure)."""
    seconds, others = [], []
    for run in range(1, runs + 1):
        wait_for_quiet(console, quiet_wait)
        with console.status(f"{what}: run {run}"), CpuMeter(settings) as cpu:
            started = time.perf_counter()
            own = work()
            elapsed = time.perf_counter() - started if own is None else own
        seconds.append(elapsed)
        others.append(cpu.others)
        console.print(f"  {what}, run {run}: {elapsed:.2f} s ({cpu.summary()})")
    return Measured(seconds, others)


def _figures(values: list[float], fmt: str = ",.0f") -> str:
    runs = ", ".join(f"{v:{fmt}}" for v in values)
    return f"median {statistics.median(values):{fmt}} (runs: {runs})"


def _against(value: float, target: float, higher_is_better: bool) -> str:
    met = value >= target if higher_is_better else value <= target
    ratio = value / target
    return f"{ratio:.2f}x of target: {'met' if met else '[red]not met[/red]'}"


# --- 1. training ---------------------------------------------------------------------------


def training_config(args: argparse.Namespace, data: Data) -> TrainingConfig:
    """A valid config of the 15 catalogue features, then the 30 columns put in (the config's
    validation knows the catalogue names only; train_local takes the columns by name)."""
    times = data.matrix["time"]
    config = parse_config(
        {
            "name": "bench-narwhal",
            "symbols": sorted(data.frames),
            "start": times.min().isoformat(),
            "end": (times.max() + pd.Timedelta(minutes=1)).isoformat(),
            "timeframe": TIMEFRAME,
            "label": {"kind": "classification", "horizon": args.horizon},
            "hyperparameters": {
                "num_round": args.num_round,
                "max_depth": args.max_depth,
                "eta": args.eta,
                "early_stopping_rounds": args.early_stopping,
                "seed": 1,
            },
            "splits": {"folds": args.folds, "min_train_fraction": 0.5},
        }
    )
    return config.model_copy(update={"features": list(FEATURES_30)})


def bench_training(
    args: argparse.Namespace,
    data: Data,
    config: TrainingConfig,
    console: Console,
    settings: Settings,
) -> tuple[TrainedModel, dict[str, Measured]]:
    trained: list[TrainedModel] = []

    def narwhal() -> None:
        trained.append(train_local(data.matrix, config))

    x = data.matrix[list(FEATURES_30)].to_numpy("float64")
    y = data.matrix["label"].to_numpy("float64")
    params = xgboost_params(config)
    results = {
        "narwhal": measure(console, settings, "train_local", args.runs, args.quiet_wait, narwhal)
    }
    rounds = trained[-1].num_round  # the peer trains the final model's rounds: the same model

    def peer() -> None:
        xgb.train(params, xgb.DMatrix(x, label=y, missing=np.nan), rounds)

    results["peer"] = measure(console, settings, "xgboost.train", args.runs, args.quiet_wait, peer)
    return trained[-1], results


def report_training(
    args: argparse.Namespace,
    data: Data,
    model: TrainedModel,
    results: dict[str, Measured],
    console: Console,
) -> None:
    narwhal, peer = results["narwhal"], results["peer"]
    folds = ", ".join(
        f"fold {f.number}: {f.train_rows:,} rows, {f.rounds_run}" for f in model.folds
    )
    console.print(
        f"\n[bold]1. Training[/bold]: {len(data.matrix):,} rows x {len(FEATURES_30)} features "
        f"(matrix built in {data.seconds:.1f} s, not timed); params max_depth {args.max_depth}, "
        f"eta {args.eta}, num_round {args.num_round}, early stopping {args.early_stopping} "
        f"rounds, tree_method hist; walk-forward: {args.folds} folds ({folds} run), "
        f"final model {model.num_round} rounds"
    )
    median = statistics.median(narwhal.seconds)
    console.print(
        f"  train_local (folds + final) s: {_figures(narwhal.seconds, '.1f')}  target <= "
        f"{TARGET_TRAIN_S:.0f} s: {_against(median, TARGET_TRAIN_S, False)}"
    )
    console.print(
        f"  peer xgboost.train, {model.num_round} rounds (the final model's), no folds, s: "
        f"{_figures(peer.seconds, '.1f')}; train_local / peer = "
        f"{median / statistics.median(peer.seconds):.2f}x"
    )


# --- 2. batch scoring ----------------------------------------------------------------------


def stream_model(
    data: Data, config: TrainingConfig, rows: int
) -> tuple[TrainedModel, TrainingConfig]:
    """A model of the 15 one-minute features (what the stream computes), trained with
    train_local on the first ``rows`` rows: batch ``score_frames`` and the stream score it."""
    config15 = config.model_copy(update={"features": list(DEFAULT_FEATURES), "name": "bench-1m"})
    matrix = data.matrix.iloc[:rows][["symbol", "time", *DEFAULT_FEATURES, "label"]]
    return train_local(matrix, config15), config15


def bench_batch(
    args: argparse.Namespace,
    data: Data,
    loaded: LoadedModel,
    model15: LoadedModel,
    console: Console,
    settings: Settings,
) -> dict[str, Measured]:
    x = data.matrix[list(FEATURES_30)].to_numpy("float64")
    booster = loaded.booster
    start = min(f["time"].iloc[0] for f in data.frames.values()).to_pydatetime()
    end = max(f["time"].iloc[-1] for f in data.frames.values()) + pd.Timedelta(1, "min")
    return {
        "predict": measure(
            console,
            settings,
            "ml.artifacts.predict",
            args.runs,
            args.quiet_wait,
            lambda: _none(predict(loaded, data.matrix)),
        ),
        "peer": measure(
            console,
            settings,
            "Booster.predict",
            args.runs,
            args.quiet_wait,
            lambda: _none(booster.predict(xgb.DMatrix(x, missing=np.nan), validate_features=False)),
        ),
        "score_frames": measure(
            console,
            settings,
            "ml.predict.score_frames",
            args.runs,
            args.quiet_wait,
            lambda: _none(score_frames(model15, data.frames, start, end.to_pydatetime())),
        ),
    }


def _none(_: object) -> None:
    return None


def report_batch(
    data: Data,
    loaded: LoadedModel,
    model15: LoadedModel,
    results: dict[str, Measured],
    console: Console,
) -> None:
    rows = len(data.matrix)
    bars = sum(len(f) for f in data.frames.values())
    trees = loaded.booster.num_boosted_rounds()
    console.print(
        f"\n[bold]2. Batch scoring[/bold]: {rows:,} rows, the trained model ({trees} trees of "
        f"30 features); score_frames: {bars:,} bars with a {model15.booster.num_boosted_rounds()}"
        "-tree model of the 15 one-minute features"
    )
    for key, what in (
        ("predict", "ml.artifacts.predict rows/s"),
        ("peer", "peer Booster.predict rows/s"),
    ):
        per_s = results[key].per_s(rows)
        console.print(
            f"  {what:<38} {_figures(per_s)}  "
            f"{_against(statistics.median(per_s), TARGET_BATCH_ROWS_S, True)}"
        )
    per_s = results["score_frames"].per_s(bars)
    console.print(
        f"  {'score_frames (features + scoring) rows/s':<38} {_figures(per_s)}  "
        f"{_against(statistics.median(per_s), TARGET_BATCH_ROWS_S, True)}"
    )


# --- 3. in the stream ----------------------------------------------------------------------


@dataclass(frozen=True)
class StreamInput:
    prefix: str
    bars_topic: str
    indicators_topic: str
    bars: int
    indicator_records: int


def _bar_messages(symbol: str, bars: pd.DataFrame) -> Iterator[tuple[bytes, bytes]]:
    key = symbol.encode()
    times = bars["time"].array.asi8.tolist()
    columns = [bars[c].tolist() for c in BAR_VALUES]
    for t_ns, *values in zip(times, *columns, strict=True):
        fields = dict(zip(BAR_VALUES, values, strict=True))
        yield key, Bar(symbol=symbol, t_ns=t_ns, timeframe=TIMEFRAME, **fields).to_wire()


def _other_values(close: pd.Series) -> pd.DataFrame:
    """The values a per-bar record carries that no feature reads (the currents job writes them
    too), by (family, field), so that the topic's records are as large as the job's."""
    line = close.ewm(span=12, adjust=False).mean() - close.ewm(span=26, adjust=False).mean()
    n = np.arange(1, len(close) + 1)
    return pd.DataFrame(
        {
            ("ema", "ema_200"): close.ewm(span=200, adjust=False, min_periods=200).mean(),
            ("macd", "macd"): line.where(n >= 26),
            ("macd", "signal"): line.ewm(span=9, adjust=False).mean().where(n >= 34),
            ("bollinger", "middle"): close.rolling(20).mean(),
            ("bollinger", "std"): close.rolling(20).std(ddof=0),
        }
    )


def _indicator_messages(symbol: str, bars: pd.DataFrame) -> Iterator[tuple[bytes, bytes]]:
    """One record per bar, every bar (the first included), as currents writes them: the
    values of every family (those the features read and the others), keyed
    ``<family>.<field>``, null while warming up."""
    key = symbol.encode()
    times = bars["time"].array.asi8.tolist()
    others = _other_values(bars["close"])
    families = [*INDICATOR_COLUMNS.values(), *others.columns]  # (family, field) of each column
    values = pd.concat([bars[list(INDICATOR_COLUMNS)], others], axis=1)
    rows = values.itertuples(index=False, name=None)
    for t_ns, row in zip(times, rows, strict=True):
        values = compact_values(
            (family, {field: None if np.isnan(v) else float(v)})
            for (family, field), v in zip(families, row, strict=True)
        )
        yield (
            key,
            AnalyticsRecord(
                symbol=symbol, t_ns=t_ns, metric=INDICATORS_METRIC, values=values
            ).to_wire(),
        )


def prefill_stream(settings: Settings, data: Data, bars: int, console: Console) -> StreamInput:
    prefix = unique_prefix("narwhal")
    bars_topic, indicators_topic = f"{prefix}-bars", f"{prefix}-currents"
    ensure_topics(settings.kafka_bootstrap, [bars_topic, indicators_topic])
    per_symbol = -(-bars // len(data.frames))
    producer = fast_producer(settings)
    counts = {bars_topic: 0, indicators_topic: 0}
    started = time.perf_counter()
    with console.status(f"pre-filling {bars_topic} and {indicators_topic}"):
        try:
            for symbol, frame in data.frames.items():
                part = frame.iloc[:per_symbol]
                for topic, messages in (
                    (bars_topic, _bar_messages(symbol, part)),
                    (indicators_topic, _indicator_messages(symbol, part)),
                ):
                    for key, value in messages:
                        producer.send(topic, key=key, value=value, partition=0)
                        counts[topic] += 1
            producer.flush(timeout=300)
        finally:
            producer.close()
    console.print(
        f"pre-filled {counts[bars_topic]:,} bars and {counts[indicators_topic]:,} indicator "
        f"records in {time.perf_counter() - started:.1f} s"
    )
    return StreamInput(
        prefix, bars_topic, indicators_topic, counts[bars_topic], counts[indicators_topic]
    )


def run_job(
    settings: Settings, stream: StreamInput, model_id: str, model_dir: Path, run: int
) -> tuple[float, int]:
    """(Flink's job seconds, records written) of one bounded run with parallelism 1."""
    output, group = f"{stream.prefix}-out{run}", f"{stream.prefix}-flink{run}"
    command, env = FlinkService(settings).cli_command(
        "run", "-py", str(JOB), "--bootstrap", settings.kafka_bootstrap,
        "--model", model_id, "--model-dir", str(model_dir), "--history-topic", "",
        "--live-topic", stream.bars_topic, "--indicators-topic", stream.indicators_topic,
        "--output-topic", output, "--group-id", group, "--bounded", "--parallelism", "1",
    )  # fmt: skip
    try:
        result = subprocess.run(
            command, env={**os.environ, **env}, capture_output=True, text=True, timeout=1800
        )
        match = re.search(r"JobID ([0-9a-f]{32})", result.stdout + result.stderr)
        if result.returncode != 0 or not match:
            raise SystemExit(f"flink run failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
        job = request_json("GET", f"{settings.flink_rest_url}/jobs/{match.group(1)}", timeout=10)
        if job.get("state") != "FINISHED":
            raise SystemExit(f"job {match.group(1)} ended {job.get('state')}")
        _print_busy(job)
        return job["duration"] / 1000, topic_size(settings, output)
    finally:
        delete_topics(settings, [output])
        delete_consumer_groups(settings, [group])


def _print_busy(job: dict[str, Any]) -> None:
    """Each task's busy time (Flink's accumulated busy time): where the job's time went."""
    for vertex in job.get("vertices", []):
        metrics = vertex.get("metrics", {})
        print(
            f"    busy {metrics.get('accumulated-busy-time', 0) / 1000:6.1f} s, back-pressured "
            f"{metrics.get('accumulated-backpressured-time', 0) / 1000:6.1f} s, "
            f"{metrics.get('read-records', 0):>9,} records in: {vertex['name'][:100]}"
        )


class PythonBaseline:
    """The plain-Python consumer: both topics to their end offsets, the job's per-symbol
    ``SymbolWindow`` (``feature_frame``), ``Booster.predict`` per batch, Prediction JSON out."""

    def __init__(self, settings: Settings, model: LoadedModel, model_id: str, output: str) -> None:
        self.settings = settings
        self.booster = model.booster
        self.names = list(model.feature_names)
        self.model_id = model_id
        self.horizon = int(model.metadata["config"]["label"]["horizon"])
        self.output = output
        self.windows: dict[str, SymbolWindow] = {}
        self.producer = fast_producer(settings)
        self.written = 0

    def run(self, topics: list[str]) -> int:
        consumer = KafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap,
            enable_auto_commit=False,
            max_poll_records=5000,
            fetch_max_bytes=64 << 20,
        )
        try:
            partitions = [TopicPartition(t, 0) for t in topics]
            consumer.assign(partitions)
            consumer.seek_to_beginning(*partitions)
            ends = consumer.end_offsets(partitions)
            self._consume(consumer, ends)
        finally:
            consumer.close()
        for symbol, window in self.windows.items():
            self._score(symbol, window.ready(flush=True))
        self.producer.flush(timeout=300)
        self.producer.close()
        return self.written

    def _consume(self, consumer: KafkaConsumer, ends: dict[TopicPartition, int]) -> None:
        done: set[TopicPartition] = {p for p, end in ends.items() if end == 0}
        while len(done) < len(ends):
            for partition, messages in consumer.poll(timeout_ms=1000).items():
                for message in messages:
                    self._message(json.loads(message.value))
                if consumer.position(partition) >= ends[partition]:
                    done.add(partition)
                    consumer.pause(partition)

    def _message(self, record: dict[str, Any]) -> None:
        symbol, t_ns = record["symbol"], record["t_ns"]
        window = self.windows.setdefault(symbol, SymbolWindow())
        if "metric" in record:
            if record["metric"] != INDICATORS_METRIC:
                return  # no other metric in the topic; as the job, leave any out
            values = record["values"]
            window.add_indicators(
                INDICATORS, t_ns, {c: values.get(k) for c, k in INDICATOR_KEYS.items()}
            )
        else:
            window.add_bar(t_ns, [record[c] for c in BAR_VALUES])
        count = window.settled_count()
        if count >= BASELINE_BATCH:
            self._score(symbol, window.take(count))

    def _score(self, symbol: str, rows: pd.DataFrame) -> None:
        if rows.empty:
            return
        x = rows[self.names].to_numpy("float64")
        values = self.booster.predict(xgb.DMatrix(x, missing=np.nan, feature_names=self.names))
        key = symbol.encode()
        for t_ns, value in zip(rows["t_ns"].tolist(), values.tolist(), strict=True):
            prediction = Prediction(
                symbol=symbol,
                t_ns=t_ns,
                model_id=self.model_id,
                timeframe=TIMEFRAME,
                horizon=self.horizon,
                value=value,
            )
            self.producer.send(self.output, key=key, value=prediction.to_wire(), partition=0)
        self.written += len(rows)


@dataclass(frozen=True)
class StreamRuns:
    """The runs of both on one input: seconds per run, and predictions written per run."""

    stream: StreamInput
    results: dict[str, Measured]
    written: dict[str, list[int]]


def start_up_bars(args: argparse.Namespace) -> int:
    """The size of the small input that measures each one's fixed cost (start-up, the first
    bundle): a hundredth of the stream, at least 300 bars."""
    return max(args.stream_bars // 100, 300)


def bench_stream(
    args: argparse.Namespace,
    data: Data,
    model15: tuple[TrainedModel, TrainingConfig],
    console: Console,
    settings: Settings,
) -> tuple[StreamRuns, StreamRuns]:
    """The runs on ``--stream-bars`` bars, then on a hundredth of them."""
    with tempfile.TemporaryDirectory(prefix="bench-narwhal-") as scratch:
        store = LocalModelStore(Path(scratch))
        record = store.save(*model15)
        loaded = store.load(record.model_id)
        run = iter(range(1, 10_000))

        def runs_on(bars: int, warmups: int) -> StreamRuns:
            stream = prefill_stream(settings, data, bars, console)
            written: dict[str, list[int]] = {"flink": [], "python": []}

            def flink() -> float:
                seconds, records = run_job(
                    settings, stream, record.model_id, Path(scratch), next(run)
                )
                written["flink"].append(records)
                return seconds

            def python() -> None:
                output = f"{stream.prefix}-py-out"
                ensure_topics(settings.kafka_bootstrap, [output])
                try:
                    baseline = PythonBaseline(settings, loaded, record.model_id, output)
                    topics = [stream.bars_topic, stream.indicators_topic]
                    written["python"].append(baseline.run(topics))
                finally:
                    delete_topics(settings, [output])

            try:
                # The task manager's first job compiles Flink's, Kafka's and the codecs' code,
                # which a cluster that has run a job has compiled: runs not counted.
                for n in range(1, warmups + 1):
                    console.print(f"  narwhal job, {bars:,} bars, warm-up {n}: {flink():.2f} s")
                written["flink"].clear()
                results = {
                    "flink": measure(
                        console, settings, f"narwhal job, {bars:,} bars", args.runs,
                        args.quiet_wait, flink,
                    ),
                    "python": measure(
                        console, settings, f"Python consumer, {bars:,} bars", args.runs,
                        args.quiet_wait, python,
                    ),
                }  # fmt: skip
            finally:
                delete_topics(settings, [stream.bars_topic, stream.indicators_topic])
            return StreamRuns(stream, results, written)

        return runs_on(args.stream_bars, args.warmup_runs), runs_on(start_up_bars(args), 0)


def steady_rate(big: StreamRuns, small: StreamRuns, who: str) -> float:
    """Rows per second once running: the extra bars of the big input over the extra seconds
    (medians), so that the fixed cost both inputs pay (start-up) drops out."""
    extra_s = statistics.median(big.results[who].seconds) - statistics.median(
        small.results[who].seconds
    )
    return (big.stream.bars - small.stream.bars) / extra_s if extra_s > 0 else float("inf")


def report_stream(big: StreamRuns, small: StreamRuns, console: Console) -> None:
    stream, results, written = big.stream, big.results, big.written
    console.print(
        f"\n[bold]3. In-stream scoring[/bold]: {stream.bars:,} 1-minute bars of "
        f"{len(SYMBOLS) - 1} symbols + {stream.indicator_records:,} indicator records; "
        f"predictions written per run: Flink {written['flink']}, Python {written['python']} "
        f"(start-up runs on {small.stream.bars:,} bars: Flink {small.written['flink']}, "
        f"Python {small.written['python']})"
    )
    flink = results["flink"].per_s(stream.bars)
    python = results["python"].per_s(stream.bars)
    flink_steady, python_steady = (steady_rate(big, small, who) for who in ("flink", "python"))
    console.print(f"  narwhal job seconds (Flink):    {_figures(results['flink'].seconds, '.1f')}")
    console.print(
        f"  start-up, {small.stream.bars:,} bars:        "
        f"{_figures(small.results['flink'].seconds, '.1f')}"
    )
    console.print(f"  narwhal job rows/s per slot, start-up included: {_figures(flink)}")
    console.print(
        f"  narwhal job rows/s per slot, running (extra bars / extra seconds): "
        f"{flink_steady:,.0f}  {_against(flink_steady, TARGET_STREAM_ROWS_S, True)}"
    )
    console.print(f"  Python consumer seconds:        {_figures(results['python'].seconds, '.1f')}")
    console.print(
        f"  start-up, {small.stream.bars:,} bars:        "
        f"{_figures(small.results['python'].seconds, '.2f')}"
    )
    console.print(
        f"  Python consumer rows/s, start-up included: {_figures(python)}; Flink/Python "
        f"{statistics.median(flink) / statistics.median(python):.2f}x"
    )
    console.print(
        f"  Python consumer rows/s, running: {python_steady:,.0f}; Flink/Python "
        f"{flink_steady / python_steady:.2f}x"
    )


# --- main ----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the matrix")
    parser.add_argument("--stream-bars", type=int, default=800_000, help="bars in the stream")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--warmup-runs", type=int, default=1,
        help="narwhal job runs on the stream before the measured ones, not counted",
    )  # fmt: skip
    parser.add_argument("--trades-per-minute", type=int, default=8)
    parser.add_argument("--horizon", type=int, default=5, help="label horizon in bars")
    parser.add_argument("--num-round", type=int, default=100)
    parser.add_argument("--max-depth", type=int, default=6)
    parser.add_argument("--eta", type=float, default=0.1)
    parser.add_argument("--early-stopping", type=int, default=10, help="rounds")
    parser.add_argument("--folds", type=int, default=2, help="walk-forward folds")
    parser.add_argument(
        "--only",
        choices=("training", "batch", "stream"),
        action="append",
        help="run only these parts (repeatable; default all)",
    )
    add_quiet_wait_option(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    parts = set(args.only or ("training", "batch", "stream"))
    settings, console = Settings(), make_console()
    with console.status(f"building {args.rows:,} rows from real daily bars"):
        data = build_data(args.rows, args.trades_per_minute, args.horizon)
    console.print(
        f"matrix: {len(data.matrix):,} rows x {len(FEATURES_30)} features of "
        f"{', '.join(data.frames)} 1-minute bars, {data.matrix['time'].min():%Y-%m-%d} .. "
        f"{data.matrix['time'].max():%Y-%m-%d}, built in {data.seconds:.1f} s"
    )
    config = training_config(args, data)
    reports: list[Callable[[], None]] = []
    model: TrainedModel | None = None
    if "training" in parts:
        model, training = bench_training(args, data, config, console, settings)
        reports.append(lambda: report_training(args, data, model, training, console))  # type: ignore[arg-type]
    if parts & {"batch", "stream"}:
        model15 = stream_model(data, config, min(len(data.matrix), 250_000))
    if "batch" in parts:
        model = model or train_local(data.matrix, config)
        with tempfile.TemporaryDirectory() as scratch:
            loaded = load_artifact(write_artifact(model, config, Path(scratch)))
        loaded15 = LoadedModel(model15[0].booster, tuple(DEFAULT_FEATURES), {}, Path("."))
        batch = bench_batch(args, data, loaded, loaded15, console, settings)
        reports.append(lambda: report_batch(data, loaded, loaded15, batch, console))
    if "stream" in parts:
        big, small = bench_stream(args, data, model15, console, settings)
        reports.append(lambda: report_stream(big, small, console))
    for report in reports:
        report()
    console.print(f"\nruns: {args.runs}; CPU of other processes is printed per run above")


if __name__ == "__main__":
    main()
