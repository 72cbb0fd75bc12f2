"""The server's one reader of pipeline health: asks Kafka and Flink at most once per poll
interval whoever asks (the query, any number of subscriptions), and turns their failures into
a state that says what is wrong instead of an error."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from kafka import KafkaAdminClient

from graphql_server.health.flink import JobInfo, read_jobs
from graphql_server.health.kafka import ConsumerLagInfo, read_lags
from streamlines.connections import kafka_client_config
from streamlines.settings import Settings
from streamlines.stack.http import request_json

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HealthSnapshot:
    updated_at: datetime
    consumers: tuple[ConsumerLagInfo, ...] = ()
    jobs: tuple[JobInfo, ...] = ()
    kafka_error: str | None = None
    flink_error: str | None = None
    content: tuple = field(init=False, compare=False)

    def __post_init__(self) -> None:
        # what a subscriber is told about when it changes: all but the time
        state = (self.consumers, self.jobs, self.kafka_error, self.flink_error)
        object.__setattr__(self, "content", state)


class HealthMonitor:
    def __init__(self, settings: Settings) -> None:
        self.bootstrap = settings.kafka_bootstrap
        self._kafka_config = kafka_client_config(settings)
        self.flink_url = settings.flink_rest_url
        self.poll_s = settings.graphql_health_poll_seconds
        self.heartbeat_s = settings.graphql_health_heartbeat_seconds
        self._lock = asyncio.Lock()
        self._latest: HealthSnapshot | None = None
        self._read_at = 0.0
        self._admin: KafkaAdminClient | None = None

    async def snapshot(self) -> HealthSnapshot:
        """The state as of at most half a poll interval ago."""
        async with self._lock:
            if self._latest is None or time.monotonic() - self._read_at > self.poll_s / 2:
                self._latest = await asyncio.to_thread(self.read)
                self._read_at = time.monotonic()
            return self._latest

    async def watch(self) -> AsyncGenerator[HealthSnapshot, None]:
        """The state now, then whenever it changes (asked every poll interval), and at least
        every heartbeat interval."""
        last: HealthSnapshot | None = None
        sent_at = 0.0
        while True:
            current = await self.snapshot()
            due = time.monotonic() - sent_at >= self.heartbeat_s
            if last is None or current.content != last.content or due:
                yield current
                last, sent_at = current, time.monotonic()
            await asyncio.sleep(self.poll_s)

    def read(self) -> HealthSnapshot:
        consumers: list[ConsumerLagInfo] = []
        jobs: list[JobInfo] = []
        kafka_error = flink_error = None
        try:
            consumers = read_lags(self._kafka())
        except Exception as exc:
            self._drop_admin()
            log.warning("consumer lag from Kafka at %s failed: %s", self.bootstrap, exc)
            kafka_error = (
                f"Kafka at {self.bootstrap} did not answer ({type(exc).__name__}): start it "
                "with `streamlines stack up kafka`"
            )
        try:
            jobs = read_jobs(self._flink)
        except Exception as exc:
            log.warning("the Flink jobs from %s failed: %s", self.flink_url, exc)
            flink_error = (
                f"Flink's REST API at {self.flink_url} did not answer ({type(exc).__name__}): "
                "start it with `streamlines stack up flink`"
            )
        return HealthSnapshot(
            updated_at=datetime.now(UTC),
            consumers=tuple(consumers),
            jobs=tuple(jobs),
            kafka_error=kafka_error,
            flink_error=flink_error,
        )

    def _flink(self, path: str) -> object:
        return request_json("GET", f"{self.flink_url}{path}", timeout=5)

    def _kafka(self) -> KafkaAdminClient:
        if self._admin is None:
            self._admin = KafkaAdminClient(
                **self._kafka_config,
                client_id="streamlines-graphql-health",
                request_timeout_ms=5_000,
            )
        return self._admin

    def _drop_admin(self) -> None:
        if self._admin is not None:
            try:
                self._admin.close()
            except Exception:  # closing a client whose broker is gone
                log.debug("closing the Kafka admin client failed", exc_info=True)
            self._admin = None

    def close(self) -> None:
        self._drop_admin()
