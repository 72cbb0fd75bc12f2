"""`gather --daily`: append the latest completed bars of every tracked symbol, once, or every
day at a set UTC time (an in-process alternative to cron).

A tracked symbol is one the bucket already has bars of, at the timeframe asked for. For each,
the run fetches from just after its last stored bar up to now and keeps the bars whose period
has ended (start + length <= now), so a missed day is caught up on the next run. A symbol named
with ``--symbols`` that the bucket does not have yet gets its latest completed bar only.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from datetime import time as dtime

from influxdb_client import InfluxDBClient
from influxdb_client.rest import ApiException
from urllib3.exceptions import HTTPError

from connectors.gather.run import Job
from streamlines.connections import influx_client_config
from streamlines.contracts.influx import MEASUREMENT_BARS
from streamlines.contracts.time import ns_to_datetime
from streamlines.contracts.timeframes import BarTimeframe
from streamlines.errors import UserError
from streamlines.settings import Settings

log = logging.getLogger(__name__)

# How far back a symbol without stored bars looks for its latest completed bar: past weekends
# and holidays.
LOOKBACK = {
    BarTimeframe.DAY_1: timedelta(days=14),
    BarTimeframe.HOUR_1: timedelta(days=5),
    BarTimeframe.MINUTE_1: timedelta(days=5),
}
# Alpaca's free plan refuses SIP data younger than 15 minutes; requests end that long ago.
RECENT_DATA_DELAY = timedelta(minutes=15)

# The newest stored bar of every symbol at one timeframe (one series per symbol, so last()
# per series is per symbol, and InfluxDB answers it from its index).
LAST_BARS_FLUX = """
from(bucket: bucket_name)
  |> range(start: time(v: 0))
  |> filter(fn: (r) => r._measurement == measurement and r.timeframe == timeframe)
  |> filter(fn: (r) => r._field == "close")
  |> last()
  |> map(fn: (r) => ({symbol: r.symbol, t_ns: int(v: r._time)}))
"""


def last_bar_times(settings: Settings, bucket: str, timeframe: BarTimeframe) -> dict[str, int]:
    """Symbol -> start (UTC ns) of its newest bar in ``bucket`` at ``timeframe``."""
    params = {"bucket_name": bucket, "measurement": MEASUREMENT_BARS, "timeframe": timeframe.value}
    try:
        with InfluxDBClient(**influx_client_config(settings), timeout=60_000) as client:
            tables = client.query_api().query(LAST_BARS_FLUX, params=params)
    except ApiException as exc:
        if exc.status == 404:
            raise UserError(
                f"InfluxDB has no bucket {bucket!r}",
                "use --bucket market (created by `streamlines stack up`) or create the bucket",
            ) from None
        raise UserError(f"InfluxDB refused the query ({exc.status}): {exc.body}") from None
    except (HTTPError, OSError) as exc:
        raise UserError(
            f"cannot reach InfluxDB at {settings.influx_url}: {exc}",
            "start the local stack with `streamlines stack up`",
        ) from None
    return {
        str(record["symbol"]): int(record["t_ns"]) for table in tables for record in table.records
    }


def daily_jobs(
    stored: dict[str, int], symbols: list[str] | None, timeframe: BarTimeframe, now: datetime
) -> list[Job]:
    """What ``--daily`` fetches: every stored symbol (or only ``symbols``) from just after its
    newest stored bar; a symbol not stored yet, its latest completed bar only."""
    wanted = symbols if symbols else sorted(stored)
    end = now - RECENT_DATA_DELAY
    jobs = []
    for symbol in wanted:
        last = stored.get(symbol)
        if last is not None:
            start = ns_to_datetime(last) + timedelta(microseconds=1)
            jobs.append(Job(symbol, start, end, completed_by=now, if_empty=None))
            continue
        lookback = LOOKBACK[timeframe]
        jobs.append(
            Job(
                symbol,
                now - lookback,
                end,
                completed_by=now,
                latest_only=True,
                if_empty=f"no completed {timeframe.value} bar in the {lookback.days} days "
                f"before {now:%Y-%m-%d %H:%M} UTC: an unknown symbol, or no trading then",
            )
        )
    return jobs


def next_run(now: datetime, at: dtime) -> datetime:
    """The first time of day ``at`` (UTC) strictly after ``now``."""
    today = now.astimezone(UTC).replace(hour=at.hour, minute=at.minute, second=0, microsecond=0)
    return today if today > now else today + timedelta(days=1)


def run_every_day(
    run_once: Callable[[], None],
    at: dtime,
    stop: threading.Event,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> int:
    """Call ``run_once`` every day at ``at`` (UTC) until ``stop`` is set; returns how many runs
    there were. A failed run is logged and the schedule goes on."""
    runs = 0
    while True:
        when = next_run(clock(), at)
        log.info("next daily gather at %s", when.isoformat(timespec="minutes"))
        if stop.wait(max(0.0, (when - clock()).total_seconds())):
            return runs
        try:
            run_once()
        except UserError as exc:
            log.error("daily gather failed: %s; trying again at the next run", exc)
        runs += 1
