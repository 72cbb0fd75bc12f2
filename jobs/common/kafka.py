"""The jobs' Kafka tables in Flink SQL (JSON sources, the analytics sink), SQL literals and
``WITH`` options, and the check that input topics exist."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence

from kafka.admin import KafkaAdminClient
from pyflink.common import Types
from pyflink.common.typeinfo import TypeInformation

from streamlines.connections import kafka_client_config_from_properties, kafka_errors, redacted
from streamlines.errors import UserError

# A Kafka broker refuses a transaction timeout above its transaction.max.timeout.ms (15 min by
# default), and Flink's sink asks for 1 h unless told: 10 min keeps under the default and well
# above a checkpoint's longest wait (interval + timeout, flink-conf/config.yaml). It is also how
# long a transaction left open by a job that died and was submitted again (under a new prefix)
# holds read_committed consumers back before the broker aborts it.
TRANSACTION_TIMEOUT_MS = 600_000
# Read only committed records: the analytics sinks write in transactions, and a plain consumer
# would also see the records of aborted ones (repeats after a restart).
ISOLATION_LEVEL = "read_committed"

SINK_DDL = """CREATE TABLE {table} (
  symbol STRING,
  metric STRING,
  t_ns BIGINT,
  `values` MAP<STRING, DOUBLE>
) WITH (
{with_options}
)"""

# The same topic and records, for a job that writes each record's JSON itself (``record``).
ENCODED_SINK_DDL = """CREATE TABLE {table} (
  symbol STRING,
  record BYTES
) WITH (
{with_options}
)"""


def sql_string(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def with_options(options: dict[str, str]) -> str:
    """The body of a ``WITH (...)`` clause, one ``'key' = 'value'`` a line."""
    return ",\n".join(f"  {sql_string(k)} = {sql_string(v)}" for k, v in options.items())


def client_properties(properties: Mapping[str, str]) -> dict[str, str]:
    """The Kafka client's ``properties`` (security.protocol, sasl.jaas.config, ...) as a Kafka
    table's options (``properties.<key>``)."""
    return {f"properties.{key}": value for key, value in properties.items()}


def printable(script: str, properties: Mapping[str, str]) -> str:
    """A job's SQL for ``--print-sql``: the secrets among its Kafka ``properties`` masked."""
    return redacted(script, properties)


def kafka_json_source_options(
    bootstrap: str,
    topic: str,
    group_id: str,
    *,
    startup_mode: str,
    bounded: bool,
    properties: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """A Kafka source of JSON records (the wire format of ``contracts.events``), starting at
    ``startup_mode`` (a ``scan.startup.mode``); ``bounded``: read up to the latest offsets at
    start, then finish. ``properties``: the Kafka client's own (``RunOptions.kafka_properties``)."""
    options = {
        "connector": "kafka",
        "topic": topic,
        "properties.bootstrap.servers": bootstrap,
        "properties.group.id": group_id,
        "scan.startup.mode": startup_mode,
        "format": "json",
        "properties.isolation.level": ISOLATION_LEVEL,
        # Producers validate what they write (bad records go to a dead-letter topic); anything
        # still unreadable here is skipped rather than failing the job.
        "json.ignore-parse-errors": "true",
        **client_properties(properties or {}),
    }
    if bounded:
        options["scan.bounded.mode"] = "latest-offset"
    return options


def analytics_sink_ddl(
    table: str,
    bootstrap: str,
    topic: str,
    *,
    exactly_once: bool = False,
    properties: Mapping[str, str] | None = None,
    encoded: bool = False,
) -> str:
    """The table of an analytics topic: JSON records ``{"symbol", "metric", "t_ns", "values"}``
    keyed by symbol. Written at least once, or with ``exactly_once`` in Kafka transactions
    committed with each checkpoint (and at the end of a bounded run), so that a restart from a
    checkpoint aborts what was written after it instead of repeating it to ``read_committed``
    consumers. Every INSERT into an exactly-once table needs a transactional-id prefix of its
    own: ``own_transactions``. ``properties``: the Kafka client's own. ``encoded``: the table
    takes ``symbol`` and ``record``, the record's JSON as the job wrote it (raw value format);
    the topic gets the same records."""
    options = analytics_sink_options(bootstrap, topic, properties)
    if encoded:
        options |= {"value.format": "raw", "value.fields-include": "EXCEPT_KEY"}
    if exactly_once:
        options |= {
            "sink.delivery-guarantee": "exactly-once",
            "sink.transactional-id-prefix": transactional_id_prefix(table, topic),
            "properties.transaction.timeout.ms": str(TRANSACTION_TIMEOUT_MS),
        }
    ddl = ENCODED_SINK_DDL if encoded else SINK_DDL
    return ddl.format(table=table, with_options=with_options(options))


def analytics_sink_options(
    bootstrap: str, topic: str, properties: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The WITH options of an analytics topic written at least once: JSON values keyed by
    symbol."""
    return {
        "connector": "kafka",
        "topic": topic,
        "properties.bootstrap.servers": bootstrap,
        "key.format": "raw",
        "key.fields": "symbol",
        "value.format": "json",
        "value.fields-include": "ALL",
        "sink.delivery-guarantee": "at-least-once",
        **client_properties(properties or {}),
    }


def transactional_id_prefix(table: str, topic: str) -> str:
    """A prefix of this submission's own: two jobs writing one topic at once (the demo's live
    currents and a history run) must not share transactional ids, or each fences the other's
    producer. A restart from a checkpoint keeps the job's plan, and so its prefix, and aborts
    what its predecessor left open."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", f"{table}-{topic}")
    return f"streamlines-{name}-{uuid.uuid4().hex[:12]}"


def own_transactions(inserts: Sequence[str], table: str, topic: str) -> list[str]:
    """The ``INSERT INTO <table>`` statements each with a transactional-id prefix of its own
    (a dynamic table option hint): each INSERT is a Kafka sink of its own, and Flink refuses
    two sinks with one prefix (their transactional ids would fence each other)."""
    base = transactional_id_prefix(table, topic)
    target = f"INSERT INTO {table}"
    out = []
    for i, insert in enumerate(inserts):
        if not insert.startswith(target):
            raise ValueError(f"not an INSERT INTO {table}: {insert[:60]}")
        hint = f"/*+ OPTIONS('sink.transactional-id-prefix'={sql_string(f'{base}-{i}')}) */"
        out.append(f"{target} {hint}{insert[len(target) :]}")
    return out


def analytics_row_type() -> TypeInformation:
    """The DataStream row of an analytics sink table (``analytics_sink_ddl``): symbol, metric,
    t_ns, values."""
    return Types.ROW_NAMED(
        ["symbol", "metric", "t_ns", "values"],
        [Types.STRING(), Types.STRING(), Types.LONG(), Types.MAP(Types.STRING(), Types.DOUBLE())],
    )


def existing_topics(
    bootstrap: str, client_id: str, properties: Mapping[str, str] | None = None
) -> set[str]:
    """The topics the Kafka cluster has (``properties``: the Kafka client's, as the tables')."""
    config = kafka_client_config_from_properties(bootstrap, properties or {})
    with kafka_errors(config):
        admin = KafkaAdminClient(**config, client_id=client_id)
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
