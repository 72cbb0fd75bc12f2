"""jobs.common.sources: one source builder for Kafka and Kinesis, and ``--source`` on every
job's command line (checked through ``--print-sql``: the SQL the job would run)."""

from __future__ import annotations

import re

import pytest

import jobs.common.sources
from jobs.beacons.options import parse_args as beacons_args
from jobs.common.kinesis import KinesisSource
from jobs.common.options import RunOptions
from jobs.common.sources import json_source_options, known_topics
from jobs.currents.options import parse_args as currents_args
from jobs.narwhal.options import parse_args as narwhal_args
from jobs.ripples.options import parse_args as ripples_args
from jobs.ripples.sql import source_ddl as ripples_sources
from streamlines.contracts.topics import TOPIC_QUOTES, TOPIC_TRADES

KINESIS = KinesisSource(region="eu-west-1", account="123456789012")


def test_kafka_sources_start_at_a_time_with_the_kafka_option() -> None:
    opts = RunOptions(bootstrap="k:1", group_id="g", kafka_properties={"security.protocol": "SSL"})
    options = json_source_options(
        opts, "market.bars", startup_mode="timestamp", bounded=False, from_time_ms=1_325_000_000_000
    )
    assert options["connector"] == "kafka"
    assert options["scan.startup.mode"] == "timestamp"
    assert options["scan.startup.timestamp-millis"] == "1325000000000"
    assert options["properties.security.protocol"] == "SSL"


def test_kinesis_sources_read_the_stream_of_the_topics_name() -> None:
    opts = RunOptions(bootstrap="k:1", group_id="g", source="kinesis", kinesis=KINESIS)
    options = json_source_options(
        opts, "market.trades", startup_mode="group-offsets", bounded=False
    )
    assert options["connector"] == "kinesis"
    assert options["stream.arn"].endswith(":stream/market.trades")
    assert not any(key.startswith(("properties.", "scan.startup")) for key in options)


def test_kinesis_inputs_are_not_looked_for_in_kafka(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobs.common.sources, "existing_topics", lambda *a: {"analytics.ripples"})
    kafka = RunOptions(bootstrap="k:1", group_id="g")
    kinesis = RunOptions(bootstrap="k:1", group_id="g", source="kinesis", kinesis=KINESIS)
    assert known_topics(kafka, "c", ["market.trades"]) == {"analytics.ripples"}
    assert known_topics(kinesis, "c", ["market.trades", None]) == {
        "analytics.ripples", "market.trades",
    }  # fmt: skip


def connectors(ddl: list[str]) -> list[str]:
    return [m for d in ddl for m in re.findall(r"'connector' = '([a-z-]+)'", d)]


def test_ripples_reads_both_streams_from_kinesis_and_still_writes_kafka() -> None:
    opts = ripples_args(
        ["--bootstrap", "k:1", "--source", "kinesis", "--kinesis-region", "eu-west-1",
         "--kinesis-account", "123456789012", "--kinesis-endpoint", "https://kinesis.example"]
    )  # fmt: skip
    sources = ripples_sources(opts)
    assert connectors(sources) == ["kinesis", "kinesis"]
    for ddl, topic in zip(sources, (TOPIC_TRADES, TOPIC_QUOTES), strict=True):
        assert f"arn:aws:kinesis:eu-west-1:123456789012:stream/{topic}" in ddl
        assert "'aws.endpoint' = 'https://kinesis.example'" in ddl
        # the watermark and idleness are the job's, whatever the connector
        assert "WATERMARK FOR" in ddl
        assert "'scan.watermark.idle-timeout'" in ddl
        assert "auto.offset.reset" not in ddl


@pytest.mark.parametrize(
    ("parse", "own"),
    [(currents_args, []), (beacons_args, []), (narwhal_args, ["--model-path", "m.ubj"])],
)
def test_every_job_takes_the_source_option(parse: object, own: list[str]) -> None:
    args = ["--bootstrap", "k:1", "--source", "kinesis", "--kinesis-account", "123456789012"]
    opts = parse([*own, *args])  # type: ignore[operator]
    assert opts.source == "kinesis"
    assert opts.kinesis is not None
    assert opts.kinesis.account == "123456789012"


def test_on_aws_the_account_is_required(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("STREAMLINES_KINESIS_ADDRESS", "aws")
    with pytest.raises(SystemExit):
        ripples_args(["--bootstrap", "k:1", "--source", "kinesis"])
    assert "--kinesis-account is required" in capsys.readouterr().err
