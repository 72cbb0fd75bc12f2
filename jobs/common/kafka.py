"""The jobs' Kafka tables in Flink SQL (JSON sources, the analytics sink), SQL literals and
``WITH`` options, and the check that input topics exist."""

from __future__ import annotations

from kafka.admin import KafkaAdminClient
from pyflink.common import Types
from pyflink.common.typeinfo import TypeInformation

from streamlines.errors import UserError

SINK_DDL = """CREATE TABLE {table} (
  symbol STRING,
  metric STRING,
  t_ns BIGINT,
  `values` MAP<STRING, DOUBLE>
) WITH (
{with_options}
)"""


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
    return SINK_DDL.format(table=table, with_options=with_options(options))


def analytics_row_type() -> TypeInformation:
    """The DataStream row of an analytics sink table (``analytics_sink_ddl``): symbol, metric,
    t_ns, values."""
    return Types.ROW_NAMED(
        ["symbol", "metric", "t_ns", "values"],
        [Types.STRING(), Types.STRING(), Types.LONG(), Types.MAP(Types.STRING(), Types.DOUBLE())],
    )


def existing_topics(bootstrap: str, client_id: str) -> set[str]:
    """The topics the Kafka cluster has."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id=client_id)
    try:
        return set(admin.list_topics())
    finally:
        admin.close()


def missing_topic_error(kind: str, topic: str, option: str) -> UserError:
    """Why a job cannot start on a topic that does not exist: a Kafka source bounded at the
    latest offsets never finishes on one."""
    return UserError(
        f"{kind} topic {topic} does not exist",
        f"check {option}, or start ingest (it creates its topics)",
    )
