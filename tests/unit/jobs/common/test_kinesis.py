from datetime import UTC, datetime

import pytest

from jobs.common.kafka import with_options
from jobs.common.kinesis import KinesisSource, kinesis_json_source_options
from streamlines.errors import UserError

EMULATOR = KinesisSource(
    region="us-east-1", account="000000000000", endpoint="https://127.0.0.1:4567",
    access_key_id="mock", secret_access_key="mock",
)  # fmt: skip
AWS = KinesisSource(region="eu-west-1", account="123456789012")


def test_an_emulated_stream_is_named_by_arn_with_the_endpoint_and_static_keys() -> None:
    options = kinesis_json_source_options(
        "market.trades", EMULATOR, startup_mode="group-offsets", bounded=False
    )
    assert options == {
        "connector": "kinesis",
        "stream.arn": "arn:aws:kinesis:us-east-1:000000000000:stream/market.trades",
        "aws.region": "us-east-1",
        "source.init.position": "TRIM_HORIZON",
        "format": "json",
        "json.ignore-parse-errors": "true",
        "aws.endpoint": "https://127.0.0.1:4567",
        "aws.trust.all.certificates": "true",
        "aws.credentials.provider": "BASIC",
        "aws.credentials.basic.accesskeyid": "mock",
        "aws.credentials.basic.secretkey": "mock",
    }


def test_real_aws_uses_the_default_credentials_chain_and_no_endpoint() -> None:
    options = kinesis_json_source_options(
        "market.quotes", AWS, startup_mode="latest-offset", bounded=False
    )
    assert options["stream.arn"] == "arn:aws:kinesis:eu-west-1:123456789012:stream/market.quotes"
    assert options["aws.credentials.provider"] == "AUTO"
    assert options["source.init.position"] == "LATEST"
    assert not any(k.startswith("aws.credentials.basic") or k == "aws.endpoint" for k in options)


def test_a_timestamp_start_is_written_in_the_connectors_format() -> None:
    at = datetime(2012, 1, 6, 14, 30, 0, 250_000, tzinfo=UTC)
    ms = int(at.timestamp() * 1000)
    options = kinesis_json_source_options(
        "market.bars", AWS, startup_mode="timestamp", bounded=False, from_time_ms=ms
    )
    assert options["source.init.position"] == "AT_TIMESTAMP"
    assert options["source.init.timestamp"] == "2012-01-06T14:30:00.250+00:00"
    assert options["source.init.timestamp.format"] == "yyyy-MM-dd'T'HH:mm:ss.SSSXXX"
    # what it says, read back as the connector reads it
    assert datetime.fromisoformat(options["source.init.timestamp"]) == at


def test_a_bounded_kinesis_source_is_refused_with_the_way_out() -> None:
    with pytest.raises(UserError) as refused:
        kinesis_json_source_options(
            "market.bars", AWS, startup_mode="earliest-offset", bounded=True
        )
    assert "--source kafka" in str(refused.value.hint)


def test_the_options_render_as_a_with_clause() -> None:
    body = with_options(
        kinesis_json_source_options("it's", AWS, startup_mode="earliest-offset", bounded=False)
    )
    assert "'stream.arn' = 'arn:aws:kinesis:eu-west-1:123456789012:stream/it''s'" in body
