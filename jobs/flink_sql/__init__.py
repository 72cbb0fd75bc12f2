"""What the Flink SQL jobs over Kafka (``jobs/ripples.py``, ``jobs/currents.py``) share: their
run options on the command line, SQL literals and WITH options, the Kafka source and analytics
sink tables, the check that input topics exist, and the connector jars of a local run.

A package rather than ``jobs/flink_sql.py``: every ``jobs/*.py`` is a job to
``streamlines jobs submit``. The jobs import it as ``jobs.flink_sql``, under ``flink run -py``
too: the cluster's Python has this project installed.
"""

from __future__ import annotations

import argparse
import uuid
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from streamlines.settings import Settings


# Command line -------------------------------------------------------------------------------


def positive_int(text: str) -> int:
    """An argparse type: a whole number above 0."""
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, not {text}")
    return value


def add_run_arguments(parser: argparse.ArgumentParser, job: str) -> None:
    """The options every job has: where Kafka is, its consumer group, bounded or not, local
    or on a cluster, the watermark bound, checkpointing and parallelism. (The topics are each
    job's own; add them before or after.)"""
    parser.add_argument("--bootstrap", help="Kafka bootstrap servers (default: the local stack)")
    parser.add_argument("--group-id", default=None, help=f"Kafka consumer group (default {job})")
    parser.add_argument(
        "--bounded", action="store_true", help="stop at the topics' latest offsets at start"
    )
    parser.add_argument("--local", action="store_true", help="run on a local mini-cluster")
    parser.add_argument("--out-of-orderness", type=positive_int, default=2, metavar="SECONDS")
    parser.add_argument("--checkpoint-interval", type=positive_int, default=10, metavar="SECONDS")
    parser.add_argument("--parallelism", type=positive_int, default=None)


def bootstrap_and_group_id(
    parser: argparse.ArgumentParser, args: argparse.Namespace, job: str
) -> tuple[str, str]:
    """The Kafka bootstrap servers (the local stack's with ``--local``; required otherwise)
    and the consumer group: ``--group-id``, else the job's name, or a new group per
    ``--bounded`` run (which reads from the start and commits nothing another run should
    resume from)."""
    bootstrap = args.bootstrap
    if bootstrap is None:
        if not args.local:
            parser.error("--bootstrap is required unless --local")
        bootstrap = local_settings().kafka_bootstrap
    group_id = args.group_id or (f"{job}-{uuid.uuid4().hex[:8]}" if args.bounded else job)
    return bootstrap, group_id


def local_settings() -> Settings:
    """The project's settings (the local stack); imported here, not at the top, so that the
    SQL can be built without them."""
    from streamlines.settings import Settings

    return Settings()


# SQL ----------------------------------------------------------------------------------------


def sql_string(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def with_options(options: dict[str, str]) -> str:
    """The body of a ``WITH (...)`` clause, one ``'key' = 'value'`` a line."""
    return ",\n".join(f"  {sql_string(k)} = {sql_string(v)}" for k, v in options.items())


def kafka_json_source_options(
    bootstrap: str, topic: str, group_id: str, *, startup_mode: str, bounded: bool
) -> dict[str, str]:
    """A Kafka source of JSON records (the wire format of ``contracts.events``), starting at
    ``startup_mode`` (a ``scan.startup.mode``); ``bounded``: read up to the latest offsets at
    start, then finish."""
    options = {
        "connector": "kafka",
        "topic": topic,
        "properties.bootstrap.servers": bootstrap,
        "properties.group.id": group_id,
        "scan.startup.mode": startup_mode,
        "format": "json",
        # Producers validate what they write (bad records go to a dead-letter topic); anything
        # still unreadable here is skipped rather than failing the job.
        "json.ignore-parse-errors": "true",
    }
    if bounded:
        options["scan.bounded.mode"] = "latest-offset"
    return options


def analytics_sink_ddl(table: str, bootstrap: str, topic: str) -> str:
    """The table of an analytics topic: JSON records ``{"symbol", "metric", "t_ns", "values"}``
    keyed by symbol, written at least once."""
    options = {
        "connector": "kafka",
        "topic": topic,
        "properties.bootstrap.servers": bootstrap,
        "key.format": "raw",
        "key.fields": "symbol",
        "value.format": "json",
        "value.fields-include": "ALL",
        "sink.delivery-guarantee": "at-least-once",
    }
    return f"""CREATE TABLE {table} (
  symbol STRING,
  metric STRING,
  t_ns BIGINT,
  `values` MAP<STRING, DOUBLE>
) WITH (
{with_options(options)}
)"""


# Topics -------------------------------------------------------------------------------------


class MissingTopicError(SystemExit):
    """An input topic does not exist; the message names it and the fix."""


def existing_topics(bootstrap: str, client_id: str) -> set[str]:
    """The topics the Kafka cluster has."""
    from kafka.admin import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id=client_id)
    try:
        return set(admin.list_topics())
    finally:
        admin.close()


def missing_topic_error(kind: str, topic: str, option: str) -> MissingTopicError:
    """Why a job cannot start on a topic that does not exist: a Kafka source bounded at the
    latest offsets never finishes on one."""
    return MissingTopicError(
        f"error: {kind} topic {topic} does not exist\n"
        f"  fix: check {option}, or start ingest (it creates its topics)"
    )


# Running locally ----------------------------------------------------------------------------


def kafka_connector_jar_uris() -> list[str]:
    """The Kafka SQL connector jar(s) the local stack installed, as URIs for a mini-cluster."""
    from streamlines.stack.services.flink import FlinkService

    jars = sorted((FlinkService(local_settings()).connectors_dir / "libs").glob("*.jar"))
    if not jars:
        raise SystemExit("no Kafka SQL connector jar: run `streamlines stack install` first")
    return [jar.as_uri() for jar in jars]
