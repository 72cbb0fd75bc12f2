"""`streamlines gather`: historical bars → InfluxDB (bucket ``market``) and Kafka
(``market.bars.history``). Argument parsing only: the gather is ``connectors.gather.service``."""

from __future__ import annotations

from datetime import UTC, datetime
from datetime import time as dtime
from typing import Annotated

import typer

from streamlines.cli_args import parse_symbols, parse_time
from streamlines.contracts.timeframes import BarTimeframe
from streamlines.errors import UserError
from streamlines.settings import Settings


def parse_at(text: str) -> dtime:
    """``HH:MM`` (UTC) for the daily schedule."""
    try:
        hours, minutes = text.split(":")
        return dtime(int(hours), int(minutes), tzinfo=UTC)
    except ValueError:
        raise UserError(
            f"--at {text!r} is not a time of day", "use HH:MM in UTC, e.g. --at 05:15"
        ) from None


def gather(
    ctx: typer.Context,
    symbols: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated symbols; pairs such as BTC/USD use the crypto API "
            "(default: STREAMLINES_GATHER_SYMBOLS; with --daily: every symbol the bucket has)."
        ),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(help="First bar start, a UTC date or time such as 2015-01-02 (required)."),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option(help="Last bar start, inclusive (default: 15 minutes ago)."),
    ] = None,
    timeframe: Annotated[BarTimeframe, typer.Option(help="Bar length.")] = BarTimeframe.DAY_1,
    daily: Annotated[
        bool,
        typer.Option(
            "--daily",
            help="Append the bars completed since the last stored one, for every symbol the "
            "bucket has at this timeframe (instead of --start/--end).",
        ),
    ] = False,
    at: Annotated[
        str | None,
        typer.Option(
            help="With --daily: keep running and append every day at this UTC time (HH:MM)."
        ),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(help="With --daily: take this UTC time as now (catch up to a past date)."),
    ] = None,
    bucket: Annotated[
        str | None, typer.Option(help="InfluxDB bucket (default: STREAMLINES_GATHER_BUCKET).")
    ] = None,
    topic: Annotated[
        str | None, typer.Option(help="Kafka topic (default: STREAMLINES_GATHER_TOPIC).")
    ] = None,
    kafka: Annotated[
        bool, typer.Option("--kafka/--no-kafka", help="Also send each bar to the Kafka topic.")
    ] = True,
    concurrency: Annotated[
        int | None,
        typer.Option(
            min=1, help="Symbols fetched at once (default: STREAMLINES_GATHER_CONCURRENCY)."
        ),
    ] = None,
    processes: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Processes to spread the symbols over; one process uses about one core "
            "(default: STREAMLINES_GATHER_PROCESSES).",
        ),
    ] = None,
) -> None:
    """Gather historical bars (raw and adjusted) from Alpaca, or the local replay server when
    no keys are set, into InfluxDB and Kafka. Re-running overwrites; it never duplicates.

    `streamlines gather fundamentals` gathers fundamentals instead (see its --help)."""
    if ctx.invoked_subcommand is not None:
        given = [p.opts[0] for p in ctx.command.params if _given(ctx, p.name)]
        if given:
            raise UserError(
                f"{', '.join(given)} belong to the bars gather, not `{ctx.invoked_subcommand}`",
                f"put the options after `{ctx.invoked_subcommand}` (see its --help)",
            )
        return
    # Imported here, not at the top: the service loads alpaca-py (about 0.3 s), which every
    # other `streamlines` command would pay for.
    from connectors.gather import service

    settings = Settings()
    wanted = parse_symbols(symbols)
    if symbols is not None and not wanted:
        raise UserError("no symbols to gather", "pass --symbols GOOG,SP500 (or BTC/USD)")
    target = service.Target(
        bucket or settings.gather_bucket,
        (topic or settings.gather_topic) if kafka else None,
        concurrency or settings.gather_concurrency,
        processes or settings.gather_processes,
    )
    if not daily:
        if at or as_of:
            raise UserError("--at and --as-of go with --daily", "add --daily, or leave them out")
        first, last = parse_range(start, end, service.latest_end(datetime.now(UTC)))
        service.gather_range(
            settings, target, timeframe, wanted or list(settings.gather_symbols), first, last
        )
        return
    if start or end:
        raise UserError(
            "--daily appends from each symbol's last stored bar; it takes no --start/--end",
            "leave out --start/--end (use --as-of to take another time as now)",
        )
    now = parse_time(as_of, "--as-of") if as_of else None
    if at is None:
        service.gather_latest(settings, target, timeframe, wanted, now)
    else:
        service.gather_every_day(settings, target, timeframe, wanted, parse_at(at), now)


def _given(ctx: typer.Context, name: str | None) -> bool:
    """Whether option ``name`` was on the command line (by name: typer vendors its own click,
    whose ``ParameterSource`` is not importable from a public module)."""
    source = ctx.get_parameter_source(name) if name else None
    return source is not None and source.name == "COMMANDLINE"


def parse_range(start: str | None, end: str | None, latest: datetime) -> tuple[datetime, datetime]:
    """``--start`` and ``--end`` (default: ``latest``) as UTC times, first <= last."""
    if start is None:
        raise UserError(
            "--start is required", "pass --start 2015-01-02, or --daily to append the latest bars"
        )
    first = parse_time(start, "--start")
    last = parse_time(end, "--end") if end else latest
    if first > last:
        raise UserError(f"--start {start} is after --end {last:%Y-%m-%dT%H:%M}Z", "swap them")
    return first, last
