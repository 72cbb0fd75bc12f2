"""A gather run with the bar source, the InfluxDB writer and the Kafka sink faked."""

from __future__ import annotations

import io
import threading
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
from influxdb_client.rest import ApiException
from rich.console import Console

from connectors.gather.client import Fetched, SourceUnavailable, SymbolFailed
from connectors.gather.run import Gatherer, Job
from connectors.sinks.influx import write_error
from connectors.sinks.kafka import Counters
from streamlines.contracts.events import HistoryBar
from streamlines.contracts.time import datetime_to_ns
from streamlines.contracts.timeframes import BarTimeframe
from streamlines.errors import UserError

DAY = timedelta(days=1)
START = datetime(2018, 7, 2, tzinfo=UTC)


def bar(symbol: str, when: datetime, timeframe: str = "1Day") -> HistoryBar:
    return HistoryBar(
        symbol=symbol, t_ns=datetime_to_ns(when), timeframe=timeframe, open=10, high=12, low=9,
        close=11, volume=100, adj_open=10, adj_high=12, adj_low=9, adj_close=11, adj_volume=100,
        adj_factor=1,
    )  # fmt: skip


class FakeClient:
    """Daily bars for every day of each window; ``unknown`` symbols have none."""

    def __init__(self, unknown: tuple[str, ...] = (), fail: dict[str, Exception] | None = None):
        self.unknown = unknown
        self.fail = fail or {}
        self.stopping = threading.Event()
        self.retries = 0
        self.calls: list[tuple[str, datetime, datetime]] = []
        self.source = type("S", (), {"name": "the fake"})()

    def stop(self) -> None:
        self.stopping.set()

    def fetch(
        self, symbol: str, timeframe: BarTimeframe, start: datetime, end: datetime
    ) -> Fetched:
        self.calls.append((symbol, start, end))
        if symbol in self.fail:
            raise self.fail[symbol]
        if symbol in self.unknown:
            return Fetched([], [])
        days = []
        day = start
        while day <= end:
            days.append(bar(symbol, day, timeframe.value))
            day += timeframe.length
        return Fetched(days, [])


class FakeWriter:
    def __init__(self, batch_size: int = 5000, error: Exception | None = None) -> None:
        self.batch_size = batch_size
        self.bucket = "test"
        self.batches: list[list[str]] = []
        self.points_written = 0
        self.error = error

    def write(self, points: list[str]) -> int:
        if self.error:  # as InfluxWriter does once its retries are spent
            raise write_error(self.error, self.bucket) from None
        self.batches.append(list(points))
        self.points_written += len(points)
        return len(points)


class FakeSink:
    def __init__(self) -> None:
        self.records: list[tuple[str, HistoryBar]] = []
        self.dead: list[tuple[str, str, Any]] = []
        self.counters = Counters()

    def send(self, topic: str, event: HistoryBar) -> None:
        self.records.append((topic, event))
        self.counters.acked += 1

    def dead_letter(self, topic: str, reason: str, raw: Any, source: str) -> None:
        self.dead.append((topic, reason, raw))
        self.counters.acked += 1
        self.counters.dead_lettered += 1

    def flush(self, timeout: float | None = None) -> None:
        pass


def gatherer(
    client: Any, writer: Any, sink: Any = None, timeframe: BarTimeframe = BarTimeframe.DAY_1
):
    console = Console(file=io.StringIO(), width=120)
    return Gatherer(client, writer, sink, "history", timeframe, concurrency=3, console=console)


def test_windows_cover_the_range_once_with_inclusive_ends():
    job = Job("A", START, START + timedelta(days=25, hours=3))
    cuts = job.windows(BarTimeframe.MINUTE_1)
    assert cuts[0][0] == job.start
    assert cuts[-1][1] == job.end
    assert len(cuts) == 3  # 10-day windows
    for (_, end), (start, _) in pairwise(cuts):
        assert start - end == timedelta(microseconds=1)
    assert Job("A", START, START).windows(BarTimeframe.DAY_1) == [(START, START)]


def test_only_bars_whose_period_has_ended_are_kept():
    job = Job("A", START, START + 3 * DAY, completed_by=START + 2 * DAY + timedelta(hours=1))
    bars = [bar("A", START + k * DAY) for k in range(4)]
    assert [b.t_ns for b in job.keep(bars, BarTimeframe.DAY_1)] == [
        datetime_to_ns(START),
        datetime_to_ns(START + DAY),
    ]


def test_every_bar_is_written_and_sent_and_an_unknown_symbol_is_reported():
    client = FakeClient(unknown=("FOO",))
    writer, sink = FakeWriter(batch_size=7), FakeSink()
    jobs = [Job(s, START, START + 9 * DAY, if_empty="no bars") for s in ("A", "FOO", "B")]
    report = gatherer(client, writer, sink).run(jobs)
    assert report.failed == {"FOO": "no bars"}
    assert (report.results["A"].bars, report.results["B"].bars) == (10, 10)
    lines = [text for batch in writer.batches for text in batch]
    assert len(lines) == len(set(lines)) == 20 == report.points
    assert max(len(batch) for batch in writer.batches) >= 7  # batched, not one write per bar
    assert sorted({e.symbol for _, e in sink.records}) == ["A", "B"]
    assert {topic for topic, _ in sink.records} == {"history"}
    assert report.records == 20


def test_a_symbol_that_fails_is_reported_and_the_others_go_on():
    client = FakeClient(fail={"BAD": SymbolFailed("HTTP 400: invalid symbol")})
    writer = FakeWriter()
    jobs = [Job(s, START, START + 2 * DAY) for s in ("BAD", "A")]
    report = gatherer(client, writer).run(jobs)
    assert report.failed == {"BAD": "HTTP 400: invalid symbol"}
    assert report.points == 3


def test_up_to_date_is_not_a_failure_when_there_is_nothing_new():
    report = gatherer(FakeClient(unknown=("A",)), FakeWriter()).run(
        [Job("A", START, START + DAY, if_empty=None)]
    )
    assert report.failed == {}
    assert report.bars == 0


def test_latest_only_keeps_the_latest_completed_bar():
    writer = FakeWriter()
    job = Job("A", START, START + 6 * DAY, completed_by=START + 5 * DAY, latest_only=True)
    report = gatherer(FakeClient(), writer).run([job])
    assert report.bars == 1
    (only,) = writer.batches[0]
    assert only.endswith(f" {datetime_to_ns(START + 4 * DAY)}")


def test_rejected_bars_are_dead_lettered_and_counted():
    class Rejecting(FakeClient):
        def fetch(self, symbol: str, timeframe: BarTimeframe, start: Any, end: Any) -> Fetched:
            good = super().fetch(symbol, timeframe, start, end)
            return Fetched(good.bars[:1], [({"t": "x"}, "invalid history bar: low")])

    sink = FakeSink()
    report = gatherer(Rejecting(), FakeWriter(), sink).run([Job("A", START, START + DAY)])
    assert report.results["A"].rejected == 1
    assert sink.dead == [("history", "invalid history bar: low", {"t": "x"})]
    assert report.dead_lettered == 1


def test_a_source_that_cannot_be_reached_stops_the_run_with_a_user_error():
    down = SourceUnavailable("cannot reach the fake", "start it")
    client = FakeClient(fail={"A": down})
    with pytest.raises(UserError, match="cannot reach the fake") as info:
        gatherer(client, FakeWriter()).run([Job(s, START, START) for s in ("A", "B", "C")])
    assert info.value.hint == "start it"
    assert client.stopping.is_set()


def test_influx_refusing_the_bucket_is_a_user_error():
    writer = FakeWriter(error=ApiException(status=404, reason="bucket not found"))
    with pytest.raises(UserError, match="InfluxDB has no bucket 'test'"):
        gatherer(FakeClient(), writer).run([Job("A", START, START)])
