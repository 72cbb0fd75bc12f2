"""The narwhal job's command line: which model (``--model``: an id, ``latest:<config name>``;
or ``--model-path``), where models are kept, the topics, the timeframe and how often to look
for a newer model, on top of the run options every job has."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from jobs.common.options import RunOptions, add_run_arguments, positive_int, run_options
from streamlines.contracts.timeframes import BarTimeframe
from streamlines.contracts.topics import (
    TOPIC_BARS,
    TOPIC_BARS_HISTORY,
    TOPIC_CURRENTS,
    TOPIC_PREDICTIONS,
)

LATEST_PREFIX = "latest:"
MODEL_KINDS = ("id", "latest", "path")


@dataclass(frozen=True)
class ModelSpec:
    """Which model scores: ``id`` (one model of the store, fixed), ``latest`` (the newest
    model of a training config's name in the store, re-checked every ``--reload-seconds``) or
    ``path`` (one ``model.tar.gz``, fixed)."""

    kind: str
    value: str

    def __str__(self) -> str:
        return f"{LATEST_PREFIX}{self.value}" if self.kind == "latest" else self.value

    @classmethod
    def parse(cls, text: str) -> ModelSpec:
        """``latest:<config name>`` or a model id."""
        text = text.strip()
        if text.startswith(LATEST_PREFIX):
            name = text.removeprefix(LATEST_PREFIX).strip()
            if not name:
                raise argparse.ArgumentTypeError("give the config name: latest:<name>")
            return cls("latest", name)
        if not text:
            raise argparse.ArgumentTypeError("give a model id or latest:<config name>")
        return cls("id", text)


@dataclass(frozen=True, kw_only=True)
class Options(RunOptions):
    group_id: str = "narwhal"
    model: ModelSpec | None = None  # None only with --print-sql
    model_dir: Path | None = None  # None: the settings' model store (resolved in job.py)
    timeframe: BarTimeframe | None = None  # None: the model's
    reload_seconds: int = 60
    history_topic: str | None = TOPIC_BARS_HISTORY  # None: left out
    live_topic: str | None = TOPIC_BARS
    indicators_topic: str = TOPIC_CURRENTS
    output_topic: str = TOPIC_PREDICTIONS


def parse_args(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="narwhal",
        description="Per-symbol predictions of a Narwhal model from bars and indicators.",
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--model",
        "--model-id",
        dest="model",
        type=ModelSpec.parse,
        metavar="ID|latest:NAME",
        help="a model id of the store, or latest:<config name>: the newest model of that "
        "name, switched to without a restart when a newer one is saved",
    )
    which.add_argument(
        "--model-path", type=Path, metavar="FILE", help="a model.tar.gz (instead of --model)"
    )
    parser.add_argument(
        "--model-dir", type=Path, metavar="DIR", help="the model store (default: the settings')"
    )
    parser.add_argument(
        "--timeframe",
        type=BarTimeframe,
        choices=list(BarTimeframe),
        help="the bars to score (default and only choice: the model's timeframe)",
    )
    parser.add_argument(
        "--reload-seconds",
        type=positive_int,
        default=60,
        metavar="SECONDS",
        help="how often --model latest:NAME looks for a newer model (default 60)",
    )
    parser.add_argument(
        "--history-topic", default=TOPIC_BARS_HISTORY, help="gathered bars ('' for none)"
    )
    parser.add_argument("--live-topic", default=TOPIC_BARS, help="live bars ('' for none)")
    parser.add_argument("--indicators-topic", default=TOPIC_CURRENTS, help="currents' records")
    parser.add_argument("--output-topic", default=TOPIC_PREDICTIONS)
    add_run_arguments(parser, "narwhal")
    args = parser.parse_args(argv)
    model = args.model
    if args.model_path is not None:
        model = ModelSpec("path", str(args.model_path.expanduser().resolve()))
    if model is None and not args.print_sql:
        parser.error("give --model ID, --model latest:NAME or --model-path FILE")
    if model is None and args.timeframe is None:
        parser.error("--print-sql without a model needs --timeframe")
    return Options(
        **run_options(parser, args, "narwhal"),
        model=model,
        model_dir=args.model_dir.expanduser().resolve() if args.model_dir else None,
        timeframe=args.timeframe,
        reload_seconds=args.reload_seconds,
        history_topic=args.history_topic or None,
        live_topic=args.live_topic or None,
        indicators_topic=args.indicators_topic,
        output_topic=args.output_topic,
    )
