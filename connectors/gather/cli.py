"""`streamlines gather`: historical bars → InfluxDB (bucket ``market``) and Kafka
(``market.bars.history``). Heavy clients are imported inside the command."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from connectors.gather.timeframe import Timeframe
from streamlines.errors import UserError
from streamlines.settings import Settings

if TYPE_CHECKING:
    from connectors.gather.run import Job, ProgressFactory, Report
    from connectors.sinks.kafka import KafkaSink

log = logging.getLogger(__name__)


def parse_time(text: str, option: str) -> datetime:
    """A date (midnight UTC) or an ISO 8601 / RFC 3339 time; naive means UTC."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UserError(
            f"{option} {text!r} is not a date or time",
            "use a date like 2012-01-03 or a UTC time like 2012-01-03T14:30:00Z",
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_symbols(text: str | None) -> list[str]:
    if text is None:
        return []
    symbols = [s.strip().upper() for s in text.split(",") if s.strip()]
    return list(dict.fromkeys(symbols))


def _kafka(settings: Settings, topic: str) -> KafkaSink:
    from kafka.errors import KafkaError

    from connectors.sinks.kafka import KafkaSink, ensure_topics
    from streamlines.contracts.topics import dead_letter_topic

    try:
        names = [topic, dead_letter_topic(topic)]
        ensure_topics(settings.kafka_bootstrap, names, settings.kafka_topic_partitions)
        # A backfill sends many small records at once: larger, later batches cost less CPU.
        return KafkaSink(
            settings.kafka_bootstrap,
            max_in_flight=100_000,
            block_timeout=settings.ingest_block_timeout,
            client_id="streamlines-gather",
            linger_ms=50,
            batch_size=1 << 20,
        )
    except KafkaError as exc:
        raise UserError(
            f"cannot reach Kafka at {settings.kafka_bootstrap}: {exc}",
            "start the local stack with `streamlines stack up`, or pass --no-kafka",
        ) from None


def run_jobs(
    settings: Settings,
    jobs: list[Job],
    timeframe: Timeframe,
    bucket: str,
    topic: str | None,
    concurrency: int,
    progress: ProgressFactory | None = None,
    processes: int = 1,
) -> Report:
    """Gather ``jobs`` into ``bucket`` (and ``topic`` unless None); failures are in the report.
    Progress goes to the terminal's bars, or to ``progress``. With ``processes`` > 1 the symbols
    are split over that many processes (``connectors.gather.processes``)."""
    from connectors.gather.client import BarClient
    from connectors.gather.run import Gatherer
    from connectors.sinks.influx import InfluxWriter

    if processes > 1 and len(jobs) > 1:
        from connectors.gather.processes import run_in_processes
        from connectors.gather.progress import GatherProgress

        if topic:
            _kafka(settings, topic).close(10)  # the topics exist before the children produce
        return run_in_processes(
            settings, jobs, timeframe, bucket, topic, concurrency, processes,
            progress or (lambda windows: GatherProgress(windows)),
        )  # fmt: skip

    client = BarClient.from_settings(settings)
    sink = _kafka(settings, topic) if topic else None
    writer = InfluxWriter.from_settings(settings, bucket)
    log.info(
        "gathering %s bars of %d symbols from %s into InfluxDB bucket %s%s",
        timeframe.value, len(jobs), client.source.name, bucket,
        f" and Kafka topic {topic}" if topic else "",
    )  # fmt: skip
    try:
        gatherer = Gatherer(
            client, writer, sink, topic or "", timeframe, concurrency, progress=progress
        )
        report = gatherer.run(jobs)
    finally:
        writer.close()
        if sink is not None:
            sink.close(10)
    rate = report.bars / report.seconds if report.seconds else 0.0
    log.info(
        "gathered %d bars of %d symbols in %.1f s (%.0f bars/s): %d points written, "
        "%d records sent, %d rejected bars, %d retried requests",
        report.bars, len(jobs) - len(report.failed), report.seconds, rate, report.points,
        report.records, sum(r.rejected for r in report.results.values()), report.retries,
    )  # fmt: skip
    return report


def _check(report: Report, total: int) -> None:
    failed = report.failed
    if not failed:
        return
    lines = "\n".join(f"  {symbol}: {reason}" for symbol, reason in failed.items())
    raise UserError(
        f"{len(failed)} of {total} symbols failed (the others were written):\n{lines}",
        "check the symbol names and the range, then run again: points already written are "
        "overwritten, not duplicated",
    )


def gather(
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
    timeframe: Annotated[Timeframe, typer.Option(help="Bar length.")] = Timeframe.day,
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
    no keys are set, into InfluxDB and Kafka. Re-running overwrites; it never duplicates."""
    settings = Settings()
    wanted = parse_symbols(symbols)
    if symbols is not None and not wanted:
        raise UserError("no symbols to gather", "pass --symbols GOOG,SP500 (or BTC/USD)")
    bucket = bucket or settings.gather_bucket
    target_topic = (topic or settings.gather_topic) if kafka else None
    workers = concurrency or settings.gather_concurrency
    split = processes or settings.gather_processes
    if not daily:
        if at or as_of:
            raise UserError("--at and --as-of go with --daily", "add --daily, or leave them out")
        jobs = _range_jobs(wanted or list(settings.gather_symbols), start, end)
        report = run_jobs(settings, jobs, timeframe, bucket, target_topic, workers,
                          processes=split)  # fmt: skip
        _check(report, len(jobs))
        return
    if start or end:
        raise UserError(
            "--daily appends from each symbol's last stored bar; it takes no --start/--end",
            "leave out --start/--end (use --as-of to take another time as now)",
        )

    def once() -> None:
        from connectors.gather.daily import append_jobs

        now = parse_time(as_of, "--as-of") if as_of else datetime.now(UTC)
        jobs = append_jobs(settings, bucket, timeframe, wanted, now)
        report = run_jobs(settings, jobs, timeframe, bucket, target_topic, workers,
                          processes=split)  # fmt: skip
        _check(report, len(jobs))

    if at is None:
        once()
        return
    from connectors.gather.daily import parse_at, run_every_day

    run_every_day(once, parse_at(at), threading.Event())


def _range_jobs(symbols: list[str], start: str | None, end: str | None) -> list[Job]:
    from connectors.gather.daily import RECENT_DATA_DELAY
    from connectors.gather.run import range_jobs

    if start is None:
        raise UserError(
            "--start is required", "pass --start 2015-01-02, or --daily to append the latest bars"
        )
    first = parse_time(start, "--start")
    last = parse_time(end, "--end") if end else datetime.now(UTC) - RECENT_DATA_DELAY
    if first > last:
        raise UserError(f"--start {start} is after --end {last:%Y-%m-%dT%H:%M}Z", "swap them")
    return range_jobs(symbols, first, last)
