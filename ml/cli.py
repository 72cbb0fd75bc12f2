"""`streamlines ml`: Narwhal's command line (argument parsing only; the work is
``ml.service``)."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType
from typing import Annotated

import typer
from rich.table import Table

from ml.config import LabelSpec, TrainingConfig, load_config, parse_config
from ml.features_catalogue import DEFAULT_FEATURES
from streamlines.cli_args import parse_symbols, parse_time
from streamlines.console import make_console
from streamlines.contracts.timeframes import BarTimeframe
from streamlines.errors import UserError
from streamlines.settings import Settings

STRATEGIES = ("long_flat", "long_short")


def _service() -> ModuleType:
    """``ml.service``, imported when a command runs: it loads xgboost, pandas and
    influxdb_client (~0.35 s), which every other `streamlines` command would pay at start."""
    return importlib.import_module("ml.service")


app = typer.Typer(
    help="Narwhal: features, XGBoost models, predictions and backtests.", no_args_is_help=True
)


def _required(value: str | None, option: str) -> str:
    if not value:
        raise UserError(f"{option} is required", f"pass {option}, e.g. {option} 2010-01-04")
    return value


@app.command()
def features(
    out: Annotated[Path, typer.Option(help="Parquet file to write the matrix to.")],
    config: Annotated[
        Path | None, typer.Option(help="A training config (JSON): its symbols, range, features.")
    ] = None,
    symbols: Annotated[str | None, typer.Option(help="Comma-separated symbols.")] = None,
    start: Annotated[str | None, typer.Option(help="First bar start (UTC date or time).")] = None,
    end: Annotated[str | None, typer.Option(help="End (exclusive), UTC date or time.")] = None,
    timeframe: Annotated[BarTimeframe, typer.Option(help="Bar length.")] = BarTimeframe.DAY_1,
    horizon: Annotated[int, typer.Option(help="Label horizon in bars.")] = 5,
    kind: Annotated[str, typer.Option(help="classification or regression.")] = "classification",
) -> None:
    """Write the feature matrix (symbol, time, the features in model order, label) to Parquet."""
    if config is not None:
        chosen = load_config(config)
    else:
        chosen = parse_config(
            {
                "name": "features",
                "symbols": parse_symbols(_required(symbols, "--symbols")),
                "start": parse_time(_required(start, "--start"), "--start").isoformat(),
                "end": parse_time(_required(end, "--end"), "--end").isoformat(),
                "timeframe": timeframe.value,
                "features": list(DEFAULT_FEATURES),
                "label": LabelSpec.model_validate({"kind": kind, "horizon": horizon}).model_dump(),
            }
        )
    console = make_console(stderr=True)
    with console.status("loading bars and indicators from InfluxDB"):
        matrix = _service().feature_matrix(Settings(), chosen)
    written = _service().write_matrix(matrix, out)
    console.print(f"wrote {len(matrix):,} rows x {len(chosen.features)} features to {written}")


@app.command()
def train(
    config: Annotated[Path, typer.Argument(help="The training config (JSON).")],
    backend: Annotated[
        str | None, typer.Option(help="local or sagemaker (default: the config's).")
    ] = None,
) -> None:
    """Train a model from a config and keep it in the model store; prints its id."""
    chosen: TrainingConfig = load_config(config)
    if backend is not None:
        chosen = parse_config({**chosen.to_json(), "backend": backend})
    console = make_console(stderr=True)
    with console.status("training") as status:
        record = _service().train_model(Settings(), chosen, step=status.update)
    console.print(f"model {record.model_id}: {_metrics_text(record.metrics)}")
    typer.echo(record.model_id)


@app.command()
def models() -> None:
    """List the models in the store, oldest first, with their validation metrics."""
    table = Table("model id", "name", "created", "metrics")
    for record in _service().list_models(Settings()):
        table.add_row(record.model_id, record.name, f"{record.created_at:%Y-%m-%d %H:%M}",
                      _metrics_text(record.metrics))  # fmt: skip
    make_console().print(table)


@app.command()
def predict(
    model_id: Annotated[str, typer.Argument(help="The model (see `streamlines ml models`).")],
    start: Annotated[str, typer.Option(help="First bar start (UTC date or time).")],
    end: Annotated[str, typer.Option(help="End (exclusive), UTC date or time.")],
    symbols: Annotated[
        str | None, typer.Option(help="Comma-separated symbols (default: the model's).")
    ] = None,
) -> None:
    """Score bars in [start, end) into the predictions bucket and topic (a re-run overwrites)."""
    settings = Settings()
    console = make_console(stderr=True)
    with console.status(f"scoring the bars of model {model_id}"):
        report = _service().predict_range(settings, model_id, parse_symbols(symbols),
                                          parse_time(start, "--start"),
                                          parse_time(end, "--end"))  # fmt: skip
    console.print(
        f"{report.published.predictions:,} predictions: {report.published.points_written:,} "
        f"points in {settings.predictions_bucket}, {report.published.records_sent:,} records "
        f"on {settings.predictions_topic}"
    )


@app.command()
def backtest(
    model_id: Annotated[str, typer.Argument(help="The model (see `streamlines ml models`).")],
    start: Annotated[str, typer.Option(help="First bar start (UTC date or time).")],
    end: Annotated[str, typer.Option(help="End (exclusive), UTC date or time.")],
    strategy: Annotated[str, typer.Option(help="long_flat or long_short.")] = "long_flat",
    cost_bps: Annotated[float, typer.Option(help="Cost per unit of turnover, in bp.")] = 5.0,
) -> None:
    """Backtest the model's predictions on its symbols over [start, end); kept with the model."""
    if strategy not in STRATEGIES:
        raise UserError(f"--strategy {strategy!r}", f"use one of {', '.join(STRATEGIES)}")
    settings = Settings()
    service = _service()
    with make_console(stderr=True).status("scoring and backtesting"):
        spec = service.backtest_spec(settings, model_id, strategy, cost_bps)
        record = service.backtest_model(settings, model_id, parse_time(start, "--start"),
                                        parse_time(end, "--end"), spec)  # fmt: skip
    table = Table("metric", "strategy", "buy and hold", title=f"backtest {record.backtest_id}")
    mine = record.result.portfolio.strategy.to_json()
    hold = record.result.portfolio.buy_and_hold.to_json()
    for name in mine:
        table.add_row(name, _number(mine[name]), _number(hold[name]))
    make_console().print(table)


@app.command()
def export(
    model_id: Annotated[str, typer.Argument(help="The model (see `streamlines ml models`).")],
    out: Annotated[Path, typer.Option(help="File or folder to write model.tar.gz to.")],
) -> None:
    """Copy the model's model.tar.gz (loadable by plain xgboost and SageMaker's XGBoost)."""
    typer.echo(_service().export_model(Settings(), model_id, out))


def _metrics_text(metrics: dict[str, object]) -> str:
    return ", ".join(f"{k} {_number(v)}" for k, v in sorted(metrics.items()))


def _number(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
