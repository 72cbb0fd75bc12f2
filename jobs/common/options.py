"""The options every job has: where Kafka is, its consumer group, bounded or not, local or on a
cluster, the watermark bound, checkpointing and parallelism (``RunOptions``, which each job's
``Options`` extends), and their command line."""

from __future__ import annotations

import argparse
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jobs.common.kinesis import EMULATOR_ACCOUNT, KinesisSource
from streamlines.aws import EMULATOR_ACCESS_KEY, EMULATOR_SECRET_KEY
from streamlines.connections import kafka_java_properties
from streamlines.settings import Settings


@dataclass(frozen=True, kw_only=True)
class RunOptions:
    bootstrap: str
    group_id: str  # each job's Options defaults it to the job's name
    bounded: bool = False
    local: bool = False
    out_of_orderness_s: int = 2
    checkpoint_interval_s: int = 10
    parallelism: int | None = None
    print_sql: bool = False
    # The Kafka client's properties beyond the bootstrap servers (security.protocol,
    # sasl.jaas.config, ...), for every Kafka table and the job's own topic check.
    kafka_properties: Mapping[str, str] = field(default_factory=dict)
    # Where the input is read: "kafka" topics, or "kinesis" streams of the same names (see
    # jobs/common/sources.py); the output always goes to Kafka.
    source: str = "kafka"
    kinesis: KinesisSource | None = None


def positive_int(text: str) -> int:
    """An argparse type: a whole number above 0."""
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, not {text}")
    return value


def add_run_arguments(parser: argparse.ArgumentParser, job: str) -> None:
    """The arguments of ``RunOptions``. (The topics are each job's own; add them before or
    after.)"""
    parser.add_argument("--bootstrap", help="Kafka bootstrap servers (default: the local stack)")
    parser.add_argument("--group-id", default=None, help=f"Kafka consumer group (default {job})")
    parser.add_argument(
        "--bounded", action="store_true", help="stop at the topics' latest offsets at start"
    )
    parser.add_argument("--local", action="store_true", help="run on a local mini-cluster")
    parser.add_argument("--out-of-orderness", type=positive_int, default=2, metavar="SECONDS")
    parser.add_argument("--checkpoint-interval", type=positive_int, default=10, metavar="SECONDS")
    parser.add_argument("--parallelism", type=positive_int, default=None)
    parser.add_argument(
        "--print-sql", action="store_true", help="print the job's SQL statements and exit"
    )
    parser.add_argument(
        "--source",
        choices=("kafka", "kinesis"),
        default="kafka",
        help="read the input topics from Kafka (default) or Kinesis streams of the same names "
        "(needs the flink-sql-connector-aws-kinesis-streams jar on the cluster: docs/cluster.md)",
    )
    parser.add_argument(
        "--kinesis-region", default=None, help="AWS region of the streams (default: the settings')"
    )
    parser.add_argument(
        "--kinesis-endpoint",
        default=None,
        help="Kinesis endpoint URL (default: the settings': the local emulator, or AWS's own "
        "with STREAMLINES_KINESIS_ADDRESS=aws)",
    )
    parser.add_argument(
        "--kinesis-account",
        default=None,
        help="AWS account id of the streams' ARNs (required on AWS; the emulator's otherwise)",
    )
    parser.add_argument(
        "--kafka-property",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a Kafka client property of every Kafka table, e.g. security.protocol=SASL_SSL "
        "(repeatable; default with --local: the settings')",
    )
    parser.add_argument(
        "--kafka-property-file",
        action="append",
        default=[],
        metavar="KEY=PATH",
        help="a Kafka client property whose value is the content of the file PATH, for a "
        "secret such as sasl.jaas.config (read at start; repeatable)",
    )


def add_from_time_argument(parser: argparse.ArgumentParser, default_start: str) -> None:
    """``--from-time EPOCH_MS``: where a live source starts (``default_start`` says where it
    starts without it)."""
    parser.add_argument(
        "--from-time",
        type=positive_int,
        default=None,
        metavar="EPOCH_MS",
        help="start at the first record written to Kafka at or after this time (Unix ms), "
        "e.g. when a replay restarts from its first day (older records would put the "
        f"watermark ahead of it); default: {default_start}",
    )


def bootstrap_and_group_id(
    parser: argparse.ArgumentParser, args: argparse.Namespace, job: str
) -> tuple[str, str]:
    """The Kafka bootstrap servers (the local stack's with ``--local`` or ``--print-sql``;
    required otherwise) and the consumer group: ``--group-id``, else the job's name, or a new
    group per ``--bounded`` run (which reads from the start and commits nothing another run
    should resume from)."""
    bootstrap = args.bootstrap
    if bootstrap is None:
        if not (args.local or args.print_sql):
            parser.error("--bootstrap is required unless --local")
        bootstrap = Settings().kafka_bootstrap
    group_id = args.group_id or (f"{job}-{uuid.uuid4().hex[:8]}" if args.bounded else job)
    return bootstrap, group_id


def kafka_properties(parser: argparse.ArgumentParser, args: argparse.Namespace) -> dict[str, str]:
    """The Kafka client properties of ``--kafka-property`` and ``--kafka-property-file``;
    without either, with ``--local`` (or ``--print-sql``), the settings' (as the bootstrap
    servers)."""
    properties: dict[str, str] = {}
    for given in args.kafka_property:
        key, value = _key_value(parser, "--kafka-property", given)
        properties[key] = value
    for given in args.kafka_property_file:
        key, path = _key_value(parser, "--kafka-property-file", given)
        try:
            properties[key] = Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            parser.error(f"--kafka-property-file {key}: cannot read {path}: {exc.strerror}")
    if not properties and (args.local or args.print_sql):
        return kafka_java_properties(Settings())
    return properties


def _key_value(parser: argparse.ArgumentParser, option: str, given: str) -> tuple[str, str]:
    key, sep, value = given.partition("=")
    if not sep or not key.strip():
        parser.error(f"{option} takes KEY=VALUE, not {given.split('=', 1)[0]!r}")
    return key.strip(), value


def kinesis_source(parser: argparse.ArgumentParser, args: argparse.Namespace) -> KinesisSource:
    """Where ``--source kinesis`` reads: the arguments, else the settings' Kinesis (the local
    emulator, with its dummy keys; or real AWS, with the default credentials chain)."""
    settings = Settings()
    endpoint = args.kinesis_endpoint or settings.kinesis_endpoint
    emulated = args.kinesis_endpoint is not None or settings.kinesis_emulated
    account = args.kinesis_account or (EMULATOR_ACCOUNT if emulated else None)
    if account is None:
        parser.error(
            "--kinesis-account is required with --source kinesis on AWS (the streams' ARNs "
            "name it): pass your 12-digit account id"
        )
    return KinesisSource(
        region=args.kinesis_region or settings.aws_region,
        account=account,
        endpoint=endpoint,
        access_key_id=EMULATOR_ACCESS_KEY if emulated else None,
        secret_access_key=EMULATOR_SECRET_KEY if emulated else None,
    )


def run_options(
    parser: argparse.ArgumentParser, args: argparse.Namespace, job: str
) -> dict[str, Any]:
    """The ``RunOptions`` fields from arguments parsed with ``add_run_arguments``, as keyword
    arguments of a job's ``Options``."""
    bootstrap, group_id = bootstrap_and_group_id(parser, args, job)
    return {
        "bootstrap": bootstrap,
        "group_id": group_id,
        "bounded": args.bounded,
        "local": args.local,
        "out_of_orderness_s": args.out_of_orderness,
        "checkpoint_interval_s": args.checkpoint_interval,
        "parallelism": args.parallelism,
        "print_sql": args.print_sql,
        "kafka_properties": kafka_properties(parser, args),
        "source": args.source,
        "kinesis": kinesis_source(parser, args) if args.source == "kinesis" else None,
    }
