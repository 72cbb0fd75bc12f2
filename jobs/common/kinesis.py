"""The jobs' Kinesis source tables in Flink SQL: the ``WITH`` options of Flink's ``kinesis``
table connector (flink-connector-aws 5.x and later, the ``KinesisStreamsSource``) for a stream
of the same JSON records ingest writes to Kafka (``connectors.sinks.kinesis`` names each stream
after its topic).

The connector is not part of Flink's distribution and no Flink 2.x build of it is served by the
registry this project installs from, so the Kafka source stays the tested path; a cluster that
reads Kinesis adds the connector's jar (docs/cluster.md names its coordinates)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from streamlines.errors import UserError

# Kafka's scan.startup.mode → the Kinesis source's initial position. A Kinesis source has no
# consumer group: where it resumes lives in Flink's checkpoints, so the group's offsets become
# the start of the stream (the trim horizon) on a first run.
INITIAL_POSITIONS = {
    "earliest-offset": "TRIM_HORIZON",
    "group-offsets": "TRIM_HORIZON",
    "latest-offset": "LATEST",
    "timestamp": "AT_TIMESTAMP",
}

# The account kinesis-mock (the local stack's emulator) puts its streams in.
EMULATOR_ACCOUNT = "000000000000"
# How ``source.init.timestamp`` is written (Java's SimpleDateFormat; the connector's default).
TIMESTAMP_FORMAT = "yyyy-MM-dd'T'HH:mm:ss.SSSXXX"


@dataclass(frozen=True, kw_only=True)
class KinesisSource:
    """Where the streams are: the region and account (a stream's ARN), an endpoint other than
    AWS's (an emulator), and static keys, or none for the AWS default credentials chain."""

    region: str
    account: str
    endpoint: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None

    def stream_arn(self, stream: str) -> str:
        return f"arn:aws:kinesis:{self.region}:{self.account}:stream/{stream}"


def kinesis_json_source_options(
    stream: str,
    source: KinesisSource,
    *,
    startup_mode: str,
    bounded: bool,
    from_time_ms: int | None = None,
) -> dict[str, str]:
    """A Kinesis source of JSON records, the counterpart of ``kafka_json_source_options``:
    ``startup_mode`` is the Kafka source's (see ``INITIAL_POSITIONS``), ``from_time_ms`` where
    a ``timestamp`` start begins."""
    if bounded:
        raise UserError(
            f"a Kinesis source cannot be bounded (stream {stream}): it reads until cancelled",
            "run the bounded (history) part of the job with --source kafka, or drop --bounded",
        )
    if startup_mode not in INITIAL_POSITIONS:
        raise ValueError(f"no Kinesis initial position for startup mode {startup_mode!r}")
    options = {
        "connector": "kinesis",
        "stream.arn": source.stream_arn(stream),
        "aws.region": source.region,
        "source.init.position": INITIAL_POSITIONS[startup_mode],
        "format": "json",
        "json.ignore-parse-errors": "true",
    }
    if startup_mode == "timestamp":
        if from_time_ms is None:
            raise ValueError("a timestamp start needs from_time_ms")
        at = datetime.fromtimestamp(from_time_ms / 1000, UTC)
        options["source.init.timestamp"] = at.strftime("%Y-%m-%dT%H:%M:%S.") + (
            f"{from_time_ms % 1000:03d}+00:00"
        )
        options["source.init.timestamp.format"] = TIMESTAMP_FORMAT
    if source.endpoint:
        options["aws.endpoint"] = source.endpoint
        # An emulator's TLS certificate is its own (kinesis-mock's is self-signed).
        if source.endpoint.startswith("https://"):
            options["aws.trust.all.certificates"] = "true"
    if source.access_key_id and source.secret_access_key:
        options |= {
            "aws.credentials.provider": "BASIC",
            "aws.credentials.basic.accesskeyid": source.access_key_id,
            "aws.credentials.basic.secretkey": source.secret_access_key,
        }
    else:
        options["aws.credentials.provider"] = "AUTO"
    return options
