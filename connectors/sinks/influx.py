"""The one InfluxDB writer: batched, synchronous writes with nanosecond timestamps.

Synchronous on purpose: a caller that commits its input (Kafka offsets) after ``write``
returns loses nothing, and points written with deterministic timestamps overwrite rather
than duplicate when the same input is written again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from itertools import islice

from influxdb_client import InfluxDBClient, Point, WritePrecision
from influxdb_client.client.write_api import SYNCHRONOUS

from streamlines.settings import Settings

log = logging.getLogger(__name__)


class InfluxWriter:
    def __init__(self, url: str, token: str, org: str, bucket: str, batch_size: int = 5000) -> None:
        self.bucket = bucket
        self.batch_size = batch_size
        self.org = org
        self._client = InfluxDBClient(url=url, token=token, org=org, timeout=30_000)
        self._write = self._client.write_api(write_options=SYNCHRONOUS)
        self.points_written = 0

    @classmethod
    def from_settings(cls, settings: Settings, bucket: str) -> InfluxWriter:
        return cls(
            settings.influx_url,
            settings.influx_token.get_secret_value(),
            settings.influx_org,
            bucket,
        )

    def write(self, points: Iterable[Point | str]) -> int:
        """Write every point (in batches); returns how many. Raises if InfluxDB refuses.
        A point may also be one line of line protocol, for writers that build many quickly."""
        count = 0
        iterator = iter(points)
        while batch := list(islice(iterator, self.batch_size)):
            self._write.write(
                bucket=self.bucket, org=self.org, record=batch, write_precision=WritePrecision.NS
            )
            count += len(batch)
        self.points_written += count
        return count

    def close(self) -> None:
        self._write.close()
        self._client.close()

    def __enter__(self) -> InfluxWriter:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
