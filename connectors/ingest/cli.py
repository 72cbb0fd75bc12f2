"""`streamlines ingest`: argument parsing only; the ingest is ``connectors.ingest.service``."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from streamlines.settings import Settings


class SinkKind(StrEnum):
    kafka = "kafka"
    kinesis = "kinesis"


def split_symbols(value: str | None, default: tuple[str, ...]) -> list[str]:
    """Comma-separated symbols, upper case; ``default`` when not given."""
    if value is None:
        return list(default)
    return [s.strip().upper() for s in value.split(",") if s.strip()]


def ingest(
    symbols: Annotated[
        str | None,
        typer.Option(help="Stocks, comma-separated (default: STREAMLINES_INGEST_SYMBOLS)."),
    ] = None,
    crypto: Annotated[
        str | None,
        typer.Option(help="Crypto pairs such as BTC/USD, comma-separated; '' for none."),
    ] = None,
    sink: Annotated[SinkKind | None, typer.Option(help="Where events go.")] = None,
    duration: Annotated[
        float | None, typer.Option(help="Stop after this many seconds (default: until Ctrl-C).")
    ] = None,
) -> None:
    """Stream trades, quotes and minute bars from Alpaca (or the local replay server when no
    keys are set) into Kafka topics or Kinesis streams, keyed by symbol."""
    # Imported here, not at the top: the service loads alpaca-py's streams and boto3 (about
    # 0.4 s), which every other `streamlines` command would pay for.
    from connectors.ingest.service import run_ingest

    settings = Settings()
    stocks = split_symbols(symbols, settings.ingest_symbols)
    pairs = split_symbols(crypto, settings.ingest_crypto)
    # A pair given with the stocks belongs on the crypto stream.
    pairs += [s for s in stocks if "/" in s]
    stocks = [s for s in stocks if "/" not in s]
    kind = sink.value if sink else settings.ingest_sink
    run_ingest(settings, stocks, pairs, kind, duration)
