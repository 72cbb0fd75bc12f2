"""The one InfluxDB writer: batched, synchronous writes with nanosecond timestamps.

Synchronous on purpose: a caller that commits its input (Kafka offsets) after ``write``
returns loses nothing, and points written with deterministic timestamps overwrite rather
than duplicate when the same input is written again, which also makes a retried write safe:
a batch that failed on a transient error (InfluxDB busy or restarting: 429, 5xx, connection
refused) is sent again with backoff, and what still fails is a UserError that says what to do:
``InfluxUnavailable`` when InfluxDB was down or busy throughout, which a caller that can wait
(the analytics sink) takes as a reason to pause and try again later.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from itertools import islice
from typing import Any, cast

from influxdb_client import InfluxDBClient, Point, WritePrecision
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.rest import ApiException

from streamlines.connections import influx_client_config
from streamlines.errors import UserError
from streamlines.settings import Settings

log = logging.getLogger(__name__)

# influxdb-client annotates ``write_precision`` as ``WritePrecision``, whose values are its
# class's str constants ("ns"): the constant is what the client expects.
PRECISION_NS = cast(WritePrecision, WritePrecision.NS)


# A batch that failed on a transient error is sent again after 1, 2, 4, 8 and 16 s.
WRITE_RETRY_DELAYS_S = (1.0, 2.0, 4.0, 8.0, 16.0)


def is_transient(exc: Exception) -> bool:
    """InfluxDB busy or restarting: 429, 5xx (a 500 "timeout" too), or no connection."""
    if isinstance(exc, ApiException):
        return exc.status is not None and (exc.status == 429 or exc.status >= 500)
    return isinstance(exc, OSError) or "urllib3" in type(exc).__module__


class InfluxUnavailable(UserError):
    """A write failed on a transient error (``is_transient``) through every retry: InfluxDB is
    down, restarting or overloaded, and the same write may succeed later."""


def write_error(exc: Exception, bucket: str) -> Exception:
    """The UserError for a write InfluxDB did not take (``exc`` itself if it is not InfluxDB's);
    an ``InfluxUnavailable`` when the failure was transient."""
    error = _write_error(exc, bucket)
    if is_transient(exc) and isinstance(error, UserError):
        return InfluxUnavailable(str(error.args[0]), error.hint)
    return error


def _write_error(exc: Exception, bucket: str) -> Exception:
    if isinstance(exc, ApiException):
        if exc.status == 404:
            return UserError(
                f"InfluxDB has no bucket {bucket!r}",
                "use a bucket `streamlines stack up` creates (market, analytics) or create it",
            )
        if exc.status == 500 and "timeout" in str(exc.body):
            return UserError(
                f"InfluxDB timed out writing to bucket {bucket!r}",
                "give the bucket long shard groups (InfluxDB's 7-day default spreads years of "
                "bars over hundreds of shards; see docs/gather.md), or write a shorter range",
            )
        return UserError(
            f"InfluxDB refused a write to bucket {bucket!r} ({exc.status}): {exc.body}"
        )
    if isinstance(exc, OSError) or "urllib3" in type(exc).__module__:
        return UserError(
            f"cannot reach InfluxDB: {exc}", "start the local stack with `streamlines stack up`"
        )
    return exc


class InfluxWriter:
    def __init__(
        self,
        url: str,
        token: str,
        org: str,
        bucket: str,
        batch_size: int = 5000,
        retry_delays: tuple[float, ...] = WRITE_RETRY_DELAYS_S,
        **tls: Any,
    ) -> None:
        """``tls``: InfluxDBClient's ``verify_ssl`` and ``ssl_ca_cert`` for an https URL."""
        self.bucket = bucket
        self.batch_size = batch_size
        self.org = org
        self.retry_delays = retry_delays
        self._client = InfluxDBClient(url=url, token=token, org=org, timeout=30_000, **tls)
        self._write = self._client.write_api(write_options=SYNCHRONOUS)
        self.points_written = 0

    @classmethod
    def from_settings(cls, settings: Settings, bucket: str) -> InfluxWriter:
        return cls(**influx_client_config(settings), bucket=bucket)

    def write(self, points: Iterable[Point | str]) -> int:
        """Write every point (in batches); returns how many. Retries transient failures; raises
        a UserError (see ``write_error``) if InfluxDB still refuses. A point may also be one line
        of line protocol, for writers that build many quickly."""
        count = 0
        iterator = iter(points)
        while batch := list(islice(iterator, self.batch_size)):
            self._write_batch(batch)
            count += len(batch)
        self.points_written += count
        return count

    def _write_batch(self, batch: list[Point | str]) -> None:
        for attempt, delay in enumerate((*self.retry_delays, None), start=1):
            try:
                self._write.write(
                    bucket=self.bucket,
                    org=self.org,
                    record=batch,
                    write_precision=PRECISION_NS,
                )
                return
            except Exception as exc:
                if delay is None or not is_transient(exc):
                    raise write_error(exc, self.bucket) from None
                log.warning(
                    "InfluxDB write to %s failed (%s), attempt %d; again in %.0f s",
                    self.bucket,
                    str(exc).splitlines()[0][:200],
                    attempt,
                    delay,
                )
                time.sleep(delay)

    def close(self) -> None:
        self._write.close()
        self._client.close()

    def __enter__(self) -> InfluxWriter:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
