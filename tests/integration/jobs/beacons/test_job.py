"""The beacons job on the standalone cluster, on real data, against pandas
(``tests/references/beacons.py``, 1e-9 relative): the S&P 500's valuation 1999-2018 from
Shiller's monthly series, GOOG's 34 earnings reactions 2004-2013 against the S&P 500, and the
event studies. Bad fundamentals go to the dead-letter topic with their reason while the job
goes on; a restated month rewrites exactly the days it covers.
"""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

import pandas as pd
from kafka import KafkaConsumer, KafkaProducer

from connectors.sinks.kafka import ensure_topics
from jobs.registry import JOBS
from streamlines.contracts.events import Fundamental
from streamlines.contracts.metrics import METRIC_VALUATION, event_metric, event_study_metric
from streamlines.contracts.topics import dead_letter_topic
from streamlines.datasets import load_daily_bars
from tests.references import beacons as reference
from tests.references.compare import assert_close
from tests.support.beacons import (
    daily_history_bars,
    fundamentals,
    goog_announcement_events,
    goog_announcements,
    ns,
    shiller_facts,
)
from tests.support.flink import run_job, running_job
from tests.support.kafka import produce

BEACONS = JOBS["beacons"]
VALUATION_FIELDS = ("close", "pe", "earnings_yield", "dividend_yield", "cape", "price_sales",
                    "earnings_ttm", "dividend_ttm", "earnings_10y")  # fmt: skip
Latest = dict[tuple[str, str, int], dict[str, Any]]


def latest_records(bootstrap: str, topic: str, idle_ms: int = 5_000) -> tuple[Latest, int]:
    """The last record of each (metric, symbol, t_ns) on ``topic`` (an upsert stream), and how
    many records there were."""
    consumer = KafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
        consumer_timeout_ms=idle_ms,
    )  # fmt: skip
    latest: Latest = {}
    count = 0
    try:
        for record in consumer:
            value = json.loads(record.value)
            assert record.key == value["symbol"].encode()
            latest[value["metric"], value["symbol"], value["t_ns"]] = value["values"]
            count += 1
    finally:
        consumer.close()
    return latest, count


def dead_letters(bootstrap: str, topic: str, idle_ms: int = 5_000) -> list[dict[str, Any]]:
    consumer = KafkaConsumer(
        dead_letter_topic(topic), bootstrap_servers=bootstrap, auto_offset_reset="earliest",
        consumer_timeout_ms=idle_ms,
    )  # fmt: skip
    try:
        return [json.loads(record.value) for record in consumer]
    finally:
        consumer.close()


def bad_fundamentals() -> dict[str, bytes]:
    """What a provider or a user's file could send wrong, by the reason it must be refused."""
    first = goog_announcement_events()[0]
    wire = json.loads(first.to_wire())
    future = int(pd.Timestamp("2100-01-04", tz="UTC").value)
    return {
        "Field required": json.dumps({k: v for k, v in wire.items() if k != "value"}).encode(),
        "is after now": json.dumps(wire | {"t_ns": future}).encode(),
        "must be positive": json.dumps(
            wire | {"fact": "shares_outstanding", "value": -1000.0, "estimate": None}
        ).encode(),
        "conflicting duplicate": json.dumps(wire | {"value": first.value + 1}).encode(),
        "Invalid JSON": b"{not json",
    }


def send_raw(bootstrap: str, topic: str, payloads: list[bytes]) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    for payload in payloads:
        producer.send(topic, key=b"GOOG", value=payload)
    producer.flush(timeout=60)
    producer.close()


def check_sp500_valuation(latest: Latest) -> int:
    bars = load_daily_bars("SP500")
    expected = reference.valuation(bars["close"], shiller_facts())
    for stamp, row in expected.iterrows():
        got = latest[METRIC_VALUATION, "SP500", ns(stamp)]
        assert_close(got, {k: row[k] for k in VALUATION_FIELDS}, f"SP500 {stamp:%Y-%m-%d}")
    return len(expected)


def check_goog_events(latest: Latest) -> None:
    goog = load_daily_bars("GOOG")
    sp500 = load_daily_bars("SP500")["adj_close"]
    after_close = pd.Series(True, index=goog_announcements().index)
    expected = reference.event_moves(goog["close"], sp500, after_close)
    assert len(expected) == 34
    events = {t: v for (m, s, t), v in latest.items() if m == event_metric("earnings")}
    assert sorted(events) == [ns(day) for day in expected.index]
    for day0, row in expected.iterrows():
        assert_close(events[ns(day0)], row.to_dict(), f"GOOG earnings {day0:%Y-%m-%d}")
    for window in ("0_1", "m1_5"):
        metric = event_study_metric("earnings", window)
        studies = {t: v for (m, s, t), v in latest.items() if m == metric and s == "GOOG"}
        assert len(studies) == 34
        for k, (day0, _) in enumerate(expected.iterrows(), start=1):
            want: dict[str, float | None] = dict(
                reference.event_study(expected[f"abnormal_{window}"].iloc[:k])
            )
            if k == 1:
                want |= {"std": None, "t_stat": None}
            assert_close(studies[ns(day0)], want, f"GOOG study {window} as of {day0:%Y-%m-%d}")


def test_bounded_run_on_real_data_matches_pandas(stack, settings, unique_name):
    bars, facts, out = (f"{unique_name}-{part}" for part in ("bars", "facts", "out"))
    ensure_topics(settings.kafka_bootstrap, [bars, facts, out, dead_letter_topic(facts)])
    produce(
        settings.kafka_bootstrap, bars, daily_history_bars("SP500") + daily_history_bars("GOOG")
    )
    good = fundamentals("SP500", shiller_facts()) + goog_announcement_events()
    produce(settings.kafka_bootstrap, facts, good)
    bad = bad_fundamentals()
    send_raw(settings.kafka_bootstrap, facts, list(bad.values()))
    produce(settings.kafka_bootstrap, facts, good[:50])  # a re-gather: repeats change nothing

    run_job(
        settings, BEACONS.file, "--bootstrap", settings.kafka_bootstrap, "--bars-topic", bars,
        "--fundamentals-topic", facts, "--output-topic", out, "--bounded", timeout=900,
    )  # fmt: skip

    latest, _ = latest_records(settings.kafka_bootstrap, out)
    assert check_sp500_valuation(latest) > 5_000
    check_goog_events(latest)
    assert not [k for k in latest if k[0] == METRIC_VALUATION and k[1] == "GOOG"]
    letters = dead_letters(settings.kafka_bootstrap, facts)
    assert len(letters) == len(bad)
    # Two operators write dead letters (the schema check, the book's conflict check): match
    # each bad record to its letter by the reason, not by order.
    for reason, payload in bad.items():
        matching = [letter for letter in letters if reason in letter["reason"]]
        assert len(matching) == 1, (reason, letters)
        assert matching[0]["raw"] == payload.decode()


def job_state(settings, job_id: str) -> str:
    with urllib.request.urlopen(f"{settings.flink_rest_url}/jobs/{job_id}") as response:
        return str(json.load(response)["state"])


def wait_for(consumer: KafkaConsumer, count: int, timeout_s: float) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout_s
    while len(records) < count and time.monotonic() < deadline:
        for batch in consumer.poll(timeout_ms=1_000).values():
            records.extend(json.loads(record.value) for record in batch)
    return records


def drain(consumer: KafkaConsumer, quiet_s: float) -> list[dict[str, Any]]:
    """What comes until nothing has for ``quiet_s`` seconds."""
    records: list[dict[str, Any]] = []
    while more := wait_for(consumer, 1, timeout_s=quiet_s):
        records.extend(more)
    return records


def test_a_restatement_rewrites_exactly_its_days_and_bad_input_leaves_the_job_running(
    stack, settings, unique_name
):
    """Streaming run: the S&P 500's 2009 bars and the monthly facts of late 2008 and 2009; once
    every day's valuation is out, a bad record (refused, the job goes on) and then March 2009's
    earnings restated (revision 1): the records that follow are March's trading days, no
    other, with the new figure."""
    bars, facts, out = (f"{unique_name}-{part}" for part in ("bars", "facts", "out"))
    ensure_topics(settings.kafka_bootstrap, [bars, facts, out, dead_letter_topic(facts)])
    year = daily_history_bars("SP500", "2009-01-01", "2009-12-31")
    monthly = shiller_facts("2008-12-01", "2009-12-01")
    produce(settings.kafka_bootstrap, bars, year)
    produce(settings.kafka_bootstrap, facts, fundamentals("SP500", monthly))
    consumer = KafkaConsumer(out, bootstrap_servers=settings.kafka_bootstrap,
                             auto_offset_reset="earliest")  # fmt: skip
    try:
        with running_job(
            settings, BEACONS.file, "--bootstrap", settings.kafka_bootstrap, "--bars-topic",
            bars, "--fundamentals-topic", facts, "--output-topic", out, "--group-id", unique_name,
        ) as job_id:  # fmt: skip
            first = wait_for(consumer, len(year), timeout_s=180)
            # A day is valued again when a fact that covers it is read after its bar (both
            # topics are full when the job starts: which it reads first is up to the sources).
            first += drain(consumer, quiet_s=5)
            assert {r["t_ns"] for r in first} == {bar.t_ns for bar in year}

            send_raw(settings.kafka_bootstrap, facts, [bad_fundamentals()["must be positive"]])
            march = pd.Timestamp("2009-03-01", tz="UTC")
            old = float(monthly["earnings_ttm"][march])
            restated = Fundamental(symbol="SP500", fact="earnings_ttm", t_ns=ns(march),
                                   value=old * 0.9, source="MULTPL", revision=1)  # fmt: skip
            produce(settings.kafka_bootstrap, facts, [restated])

            march_days = {bar.t_ns for bar in year if bar.time.month == 3}
            second = wait_for(consumer, len(march_days), timeout_s=120)
            time.sleep(3)  # anything more would be a day the restatement does not cover
            second += wait_for(consumer, 1, timeout_s=2)
            assert {r["t_ns"] for r in second} == march_days
            assert len(second) == len(march_days)
            for record in second:
                values = record["values"]
                assert values["earnings_ttm"] == old * 0.9
                assert values["pe"] == values["close"] / (old * 0.9)
            assert job_state(settings, job_id) == "RUNNING"
    finally:
        consumer.close()
    letters = dead_letters(settings.kafka_bootstrap, facts)
    assert len(letters) == 1
    assert "must be positive" in letters[0]["reason"]
