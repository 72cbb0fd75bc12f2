"""The currents job's command line: topics, run mode and indicator periods."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass

from jobs.common.options import (
    RunOptions,
    add_from_time_argument,
    add_run_arguments,
    run_options,
)
from jobs.currents.per_bar import BarConfig
from jobs.currents.recursive import RecursiveConfig
from streamlines.contracts.topics import TOPIC_BARS, TOPIC_BARS_HISTORY, TOPIC_CURRENTS

MAX_BOLLINGER_PERIOD = 100  # the deviation is one SQL term per bar of the window


@dataclass(frozen=True)
class CrossoverSpec:
    kind: str  # "sma" or "ema"
    fast: int
    slow: int

    def __str__(self) -> str:
        return f"{self.kind}:{self.fast}:{self.slow}"


DEFAULT_CROSSOVERS = (CrossoverSpec("sma", 50, 200), CrossoverSpec("ema", 12, 26))


@dataclass(frozen=True, kw_only=True)
class Options(RunOptions):
    group_id: str = "currents"
    history_topic: str | None = TOPIC_BARS_HISTORY  # None: left out (see topics.py)
    live_topic: str | None = TOPIC_BARS
    output_topic: str = TOPIC_CURRENTS
    from_time_ms: int | None = None  # where the live source starts; None: its beginning
    sma_periods: tuple[int, ...] = (20, 50, 200)
    ema_periods: tuple[int, ...] = (20, 50, 200)
    rsi_period: int = 14
    bollinger_period: int = 20
    bollinger_k: float = 2.0
    macd: tuple[int, int, int] = (12, 26, 9)
    crossovers: tuple[CrossoverSpec, ...] = DEFAULT_CROSSOVERS

    def bar_config(self) -> BarConfig:
        recursive = RecursiveConfig(
            ema_periods=self.ema_periods,
            rsi_period=self.rsi_period,
            macd=self.macd,
            ema_crossovers=self._pairs("ema"),
            sma_crossovers=self._pairs("sma"),
        )
        return BarConfig(self.sma_periods, self.bollinger_k, recursive)

    def _pairs(self, kind: str) -> tuple[tuple[int, int], ...]:
        return tuple((c.fast, c.slow) for c in self.crossovers if c.kind == kind)

    def all_sma_periods(self) -> list[int]:
        """The SMAs the SQL computes: those reported and those of the SMA crossovers."""
        crossing = [p for pair in self._pairs("sma") for p in pair]
        return sorted({*self.sma_periods, *crossing})


def parse_args(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="currents",
        description="Per-symbol indicators from bars and the 24-hour volatility ranking.",
    )
    parser.add_argument(
        "--history-topic", default=TOPIC_BARS_HISTORY, help="gathered bars ('' for none)"
    )
    parser.add_argument("--live-topic", default=TOPIC_BARS, help="live bars ('' for none)")
    parser.add_argument("--output-topic", default=TOPIC_CURRENTS)
    add_run_arguments(parser, "currents")
    add_from_time_argument(
        parser, "the live topic's beginning (the history topic is always read whole)"
    )
    parser.add_argument("--sma", type=_periods, default=(20, 50, 200), metavar="N,N,...")
    parser.add_argument("--ema", type=_periods, default=(20, 50, 200), metavar="N,N,...")
    parser.add_argument("--rsi", type=_period, default=14, metavar="N")
    parser.add_argument("--bollinger", type=_bollinger_period, default=20, metavar="N")
    parser.add_argument("--bollinger-k", type=_positive_float, default=2.0, metavar="K")
    parser.add_argument("--macd", type=_macd, default=(12, 26, 9), metavar="FAST,SLOW,SIGNAL")
    parser.add_argument(
        "--crossovers",
        type=_crossovers,
        default=DEFAULT_CROSSOVERS,
        metavar="KIND:FAST:SLOW,...",
        help="moving-average pairs, KIND sma or ema (default sma:50:200,ema:12:26; '' for none)",
    )
    args = parser.parse_args(argv)
    return Options(
        **run_options(parser, args, "currents"),
        history_topic=args.history_topic or None,
        live_topic=args.live_topic or None,
        output_topic=args.output_topic,
        from_time_ms=args.from_time,
        sma_periods=args.sma,
        ema_periods=args.ema,
        rsi_period=args.rsi,
        bollinger_period=args.bollinger,
        bollinger_k=args.bollinger_k,
        macd=args.macd,
        crossovers=args.crossovers,
    )


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, not {text}")
    return value


def _period(text: str) -> int:
    value = int(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"a period must be at least 2, not {text}")
    return value


def _periods(text: str) -> tuple[int, ...]:
    periods = tuple(sorted({_period(part) for part in text.split(",") if part.strip()}))
    if not periods:
        raise argparse.ArgumentTypeError("give at least one period, e.g. 20,50,200")
    return periods


def _bollinger_period(text: str) -> int:
    value = _period(text)
    if value > MAX_BOLLINGER_PERIOD:
        raise argparse.ArgumentTypeError(f"at most {MAX_BOLLINGER_PERIOD}, not {text}")
    return value


def _macd(text: str) -> tuple[int, int, int]:
    parts = [_period(p) for p in text.split(",")]
    if len(parts) != 3 or parts[0] >= parts[1]:
        raise argparse.ArgumentTypeError(f"FAST,SLOW,SIGNAL with FAST < SLOW, not {text}")
    return parts[0], parts[1], parts[2]


def _crossovers(text: str) -> tuple[CrossoverSpec, ...]:
    specs = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        kind, _, periods = item.partition(":")
        fast, _, slow = periods.partition(":")
        if kind not in ("sma", "ema") or not fast.isdigit() or not slow.isdigit():
            raise argparse.ArgumentTypeError(f"use KIND:FAST:SLOW, e.g. sma:50:200, not {item}")
        spec = CrossoverSpec(kind, _period(fast), _period(slow))
        if spec.fast >= spec.slow:
            raise argparse.ArgumentTypeError(f"FAST must be shorter than SLOW in {item}")
        specs.append(spec)
    return tuple(dict.fromkeys(specs))
