"""streamlines.connections against a real broker with a SASL_SSL listener (PLAIN, one user,
a CA and certificate made with openssl): the project's producer helper, admin client and
topic reader log in with the settings; a wrong password or an untrusted certificate is a
UserError, not a stack trace; and a Flink job submitted with `streamlines jobs submit`'s
service reads and writes through the secured listener (checked against pandas)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from kafka import KafkaAdminClient

from connectors.sinks.kafka import KafkaSink, ensure_topics
from connectors.topic_reader import read_to_end
from streamlines.contracts.events import Trade
from streamlines.errors import UserError
from streamlines.submit import service
from tests.references.ripples import assert_close, reference_bars
from tests.support.kafka import analytics_by_metric
from tests.support.secured_kafka import PASSWORD, SecuredBroker, secured_broker

DAY_NS = int(pd.Timestamp("2024-03-04 14:30", tz="UTC").value)


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecuredBroker]:
    with secured_broker(tmp_path_factory.mktemp("secured-kafka")) as running:
        yield running


def topic_partitions(broker: SecuredBroker, topic: str) -> int:
    """The topic's partition count, asked over the PLAINTEXT listener (not the code under
    test)."""
    admin = KafkaAdminClient(bootstrap_servers=broker.plain.kafka_bootstrap)
    try:
        (description,) = admin.describe_topics([topic])
        return len(description["partitions"])
    finally:
        admin.close()


def test_the_producer_helper_admin_client_and_reader_log_in_with_the_settings(broker):
    secured = broker.client_settings()
    topic = "secured-records"
    assert ensure_topics(secured, [topic], partitions=2) == [topic]
    assert topic_partitions(broker, topic) == 2
    sent = {(f"k{i % 5}".encode(), json.dumps({"i": i}).encode()) for i in range(200)}
    sink = KafkaSink(secured, client_id="secured-test")
    for key, value in sorted(sent):
        sink.produce(topic, key, value)
    sink.flush(30)
    sink.close(10)
    assert (sink.counters.acked, sink.counters.failed) == (200, 0)
    over_sasl = {(r.key, r.value) for r in read_to_end(secured, topic)}
    over_plaintext = {(r.key, r.value) for r in read_to_end(broker.plain.kafka_bootstrap, topic)}
    assert over_sasl == over_plaintext == sent


def test_a_wrong_password_is_a_user_error_naming_the_settings(broker):
    wrong = broker.client_settings(password="not-" + PASSWORD)
    with pytest.raises(UserError) as refused:
        KafkaSink(wrong, block_timeout=5.0)
    message = str(refused.value)
    # The broker's refusal, or (when kafka-python reads the hang-up before the answer) its
    # hanging up on the login.
    assert "the SASL login of user 'alice' (PLAIN)" in message
    assert "STREAMLINES_KAFKA_SASL_PASSWORD" in str(refused.value.hint)
    assert PASSWORD not in message
    with pytest.raises(UserError, match="the SASL login of user 'alice'"):
        ensure_topics(wrong, ["never-made"], timeout=5.0)


def test_a_broker_certificate_of_an_unknown_ca_is_a_user_error(broker):
    untrusting = broker.client_settings(kafka_ssl_cafile=None)  # the system's CAs only
    with pytest.raises(UserError) as refused:
        ensure_topics(untrusting, ["never-made"], timeout=5.0)
    assert "the TLS connection to Kafka at" in str(refused.value)
    assert "CERTIFICATE_VERIFY_FAILED" in str(refused.value)
    assert "STREAMLINES_KAFKA_SSL_CAFILE" in str(refused.value.hint)
    with pytest.raises(UserError) as refused_producer:
        KafkaSink(untrusting, block_timeout=5.0)  # librdkafka's own TLS
    assert "the TLS connection to Kafka at" in str(refused_producer.value)
    assert "certificate verify failed" in str(refused_producer.value)
    assert "STREAMLINES_KAFKA_SSL_CAFILE" in str(refused_producer.value.hint)


def generated_trades() -> pd.DataFrame:
    """Two symbols' trades over two minutes, each at a millisecond of its own."""
    rng = np.random.default_rng(17)
    frames = []
    for s, symbol in enumerate(("GOOG", "SPX")):
        count = 240
        t_ns = DAY_NS + np.arange(count) * 500_000_000 + s * 7_000_000
        price = np.round(100 * (s + 1) + np.cumsum(rng.normal(0, 0.05, count)), 2)
        size = rng.integers(1, 500, count).astype(float)
        trade_id = np.arange(count) + s * 10_000
        frames.append(
            pd.DataFrame(
                {"symbol": symbol, "t_ns": t_ns, "price": price, "size": size, "id": trade_id}
            )
        )
    return pd.concat(frames, ignore_index=True).sort_values("t_ns", ignore_index=True)


@pytest.mark.usefixtures("stack")
def test_a_submitted_job_reads_and_writes_through_the_secured_listener(broker, tmp_path: Path):
    secured = broker.client_settings()
    trades_topic, quotes_topic, output = "secured-trades", "secured-quotes", "secured-ripples"
    ensure_topics(secured, [trades_topic, quotes_topic, output])
    trades = generated_trades()
    sink = KafkaSink(secured, client_id="secured-test")
    for r in trades.itertuples():
        event = Trade(
            symbol=r.symbol, t_ns=int(r.t_ns), price=float(r.price), size=float(r.size),
            trade_id=int(r.id), conditions=("@",),
        )  # fmt: skip
        sink.send(trades_topic, event)
    sink.flush(30)
    sink.close(10)

    # `streamlines jobs submit ripples ...`: the broker's address is the SASL_SSL listener
    # alone, so the job's tables and its topic check can only work with the properties the
    # service derived from the settings.
    code = service.submit(
        secured, "ripples",
        ["--trades-topic", trades_topic, "--quotes-topic", quotes_topic,
         "--output-topic", output, "--bounded", "--parallelism", "1"],
        local=False, detached=False,
    )  # fmt: skip
    assert code == 0

    by_metric = analytics_by_metric(read_to_end(secured, output))
    for metric, seconds in (("bar_1s", 1), ("bar_1m", 60)):
        expected = reference_bars(trades, seconds)
        got = by_metric[metric]
        assert len(got) == len(expected), metric
        for row in expected.to_dict("records"):
            key = (row.pop("symbol"), int(row.pop("t_ns")))
            assert_close(got[key], row, f"{metric} {key}")
