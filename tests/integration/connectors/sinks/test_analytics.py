"""analytics topic -> InfluxDB through the real Kafka and InfluxDB: points at the records'
own times, bad records in the dead-letter topic, and a replay that adds nothing."""

from __future__ import annotations

import json
from typing import Any

from kafka import KafkaProducer

from connectors.sinks.analytics import run_sink
from streamlines.contracts.events import Prediction
from streamlines.contracts.influx import MEASUREMENT_PREDICTIONS, MEASUREMENT_RIPPLES
from streamlines.contracts.topics import dead_letter_topic

T0 = 1_325_601_060_000_000_000  # 2012-01-03 14:31 UTC


def _points(influx, bucket):
    tables = influx.query_api().query(
        "from(bucket: b) |> range(start: 2012-01-01T00:00:00Z, stop: 2012-01-05T00:00:00Z)",
        params={"b": bucket},
    )
    return sorted(
        (
            r.values["symbol"],
            r.values["metric"],
            r.get_time().isoformat(),
            r.get_field(),
            r.get_value(),
        )
        for t in tables
        for r in t
    )


def test_records_land_as_points_and_a_replay_adds_nothing(
    stack, settings, unique_name, bucket, influx, read_topic
):
    topic = f"{unique_name}.ripples"
    good: list[dict[str, Any]] = [
        {
            "symbol": symbol,
            "metric": "bar_1m",
            "t_ns": T0 + minute * 60_000_000_000,
            "values": {"close": 100.0 + minute, "count": minute + 1, "vwap": None},
        }
        for minute in range(30)
        for symbol in ("GOOG", "BTC/USD")
    ]
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    for i, record in enumerate(good):
        producer.send(topic, key=record["symbol"].encode(), value=json.dumps(record).encode())
        if i == 10:
            producer.send(topic, value=b'{"symbol": "GOOG", "t_ns": 5}')  # no metric, no values
    producer.flush()
    producer.close()

    counters = run_sink(settings, topic, bucket, f"{unique_name}-g1", exit_when_idle=3,
                        measurement=MEASUREMENT_RIPPLES)  # fmt: skip
    assert (counters.read, counters.dead_lettered) == (61, 1)

    points = _points(influx, bucket)
    assert len(points) == 2 * 30 * 2  # two fields each (vwap is null: no field)
    assert ("GOOG", "bar_1m", "2012-01-03T14:31:00+00:00", "close", 100.0) in points
    assert ("BTC/USD", "bar_1m", "2012-01-03T15:00:00+00:00", "count", 30) in points

    [dead] = read_topic(dead_letter_topic(topic), 1)
    letter = json.loads(dead.value)
    assert "metric: Field required" in letter["reason"]
    assert letter["source"] == topic

    # Another group reads the whole topic again: the same points, overwritten, not added.
    run_sink(settings, topic, bucket, f"{unique_name}-g2", exit_when_idle=3,
             measurement=MEASUREMENT_RIPPLES)  # fmt: skip
    assert _points(influx, bucket) == points


def test_predictions_land_in_their_measurement_with_the_model_tags(
    stack, settings, unique_name, make_bucket, influx
):
    """analytics.predictions -> measurement predictions (a topic of the test's own, named as
    the contract's, so the sink takes its measurement from the --measurement given)."""
    topic = f"{unique_name}.predictions"
    bucket = make_bucket("predictions")
    predictions = [
        Prediction(
            symbol="GOOG",
            t_ns=T0 + day * 86_400_000_000_000,
            model_id="goog-x",
            timeframe="1Day",
            horizon=5,
            value=0.25 + day / 100,
        )
        for day in range(3)
    ]
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    for prediction in predictions:
        producer.send(topic, key=prediction.key(), value=prediction.to_wire())
    producer.send(topic, value=b'{"symbol": "GOOG", "t_ns": 5, "metric": "bar_1m"}')
    producer.flush()
    producer.close()

    counters = run_sink(settings, topic, bucket, f"{unique_name}-g", exit_when_idle=3,
                        measurement=MEASUREMENT_PREDICTIONS)  # fmt: skip
    assert (counters.read, counters.written, counters.dead_lettered) == (4, 3, 1)
    tables = influx.query_api().query(
        "from(bucket: b) |> range(start: 2012-01-01T00:00:00Z, stop: 2012-01-10T00:00:00Z)"
        ' |> filter(fn: (r) => r._measurement == "predictions")',
        params={"b": bucket},
    )
    got = sorted(
        (r.values["symbol"], r.values["model_id"], r.values["timeframe"], r.get_field(),
         int(r.get_time().timestamp()) * 1_000_000_000, r.get_value())
        for t in tables for r in t
    )  # fmt: skip
    expected = sorted(
        [(p.symbol, p.model_id, p.timeframe, "value", p.t_ns, p.value) for p in predictions]
        + [(p.symbol, p.model_id, p.timeframe, "horizon", p.t_ns, 5) for p in predictions]
    )
    assert got == expected
