"""`streamlines gather fundamentals`: fundamentals → Kafka (``market.fundamentals``) and InfluxDB
(measurement ``fundamentals``). Argument parsing only: the gather is
``connectors.fundamentals.service``."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer

from streamlines.cli_args import parse_symbols, parse_time
from streamlines.console import make_console
from streamlines.errors import UserError
from streamlines.settings import Settings


def fundamentals(
    symbols: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated symbols (default: STREAMLINES_GATHER_SYMBOLS). The index "
            "symbol (STREAMLINES_INDEX_SYMBOL, SP500) gets the S&P 500's monthly earnings, "
            "dividends and E10; the others their earnings announcements; all their dividends "
            "and splits."
        ),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(help="First date, YYYY-MM-DD (required unless --file)."),
    ] = None,
    end: Annotated[str | None, typer.Option(help="Last date, inclusive (default: today).")] = None,
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            help="Gather this CSV or Parquet file of your own instead (columns symbol, fact, "
            "value, t_ns or date, and optionally source, estimate, period_end_ns, revision).",
        ),
    ] = None,
    publication_lag: Annotated[
        int | None,
        typer.Option(
            "--publication-lag",
            min=0,
            metavar="DAYS",
            help="Days after its date before an index month's value counts as known "
            "(default: STREAMLINES_FUNDAMENTALS_PUBLICATION_LAG_DAYS, 0).",
        ),
    ] = None,
    bucket: Annotated[
        str | None,
        typer.Option(help="InfluxDB bucket (default: STREAMLINES_FUNDAMENTALS_BUCKET, market)."),
    ] = None,
    topic: Annotated[
        str | None,
        typer.Option(
            help="Kafka topic (default: STREAMLINES_FUNDAMENTALS_TOPIC, market.fundamentals)."
        ),
    ] = None,
    kafka: Annotated[
        bool, typer.Option("--kafka/--no-kafka", help="Also send each record to the Kafka topic.")
    ] = True,
) -> None:
    """Gather fundamentals (S&P 500 earnings, dividends and E10; earnings announcements;
    dividends and splits) from Nasdaq Data Link and Alpaca, or the local replay server when no
    keys are set, or from a file of your own, into Kafka and InfluxDB. Re-running overwrites;
    it never duplicates."""
    # Imported here: the service loads alpaca-py and pandas, which --help need not wait for.
    from connectors.fundamentals import service

    settings = Settings()
    target = service.Target(
        bucket or settings.fundamentals_bucket,
        (topic or settings.fundamentals_topic) if kafka else None,
    )
    console = make_console()
    if file is not None:
        if symbols or start or end or publication_lag is not None:
            raise UserError(
                "--file gathers the file's rows only; it takes no --symbols, --start, --end "
                "or --publication-lag",
                "leave them out, or run without --file for the providers' data",
            )
        report = service.gather_file(settings, target, file)
        for line in service.summary(report, target):
            console.print(line, markup=False, highlight=False)
        service.raise_problems(report, rows=True)
        return
    wanted = parse_symbols(symbols)
    if symbols is not None and not wanted:
        raise UserError("no symbols to gather", "pass --symbols GOOG,SP500")
    first, last = parse_dates(start, end, datetime.now(UTC).date())
    lag = settings.fundamentals_publication_lag_days if publication_lag is None else publication_lag
    request = service.SymbolsRequest(wanted or list(settings.gather_symbols), first, last, lag)
    report = service.gather_symbols(settings, target, request)
    for line in service.summary(report, target):
        console.print(line, markup=False, highlight=False)
    service.raise_problems(report)


def parse_dates(start: str | None, end: str | None, today: date) -> tuple[date, date]:
    """``--start`` and ``--end`` (default: ``today``) as dates, first <= last."""
    if start is None:
        raise UserError(
            "--start is required", "pass --start 2004-08-19, or --file PATH for a file of yours"
        )
    first = parse_time(start, "--start").date()
    last = parse_time(end, "--end").date() if end else today
    if first > last:
        raise UserError(f"--start {start} is after --end {last}", "swap them")
    return first, last
