"""Flink's ceiling on this machine: Kafka JSON -> Kafka JSON with no state, in Flink SQL.

The same two pre-filled topics the ripples job reads, read the same way (the project's JSON
Kafka source, bounded at the latest offsets at start, parallelism 1), and every trade and every
quote copied (all its fields, re-encoded as JSON, keyed by symbol) to one output topic:
two INSERTs in one job, no watermarks, no keyed exchange, no state. The environment is the
ripples job's (``build_environment``: checkpointing as the cluster has it, object reuse).

    flink run -py benchmarks/peers/passthrough.py --bootstrap HOST:PORT --trades-topic T \
        --quotes-topic Q --output-topic OUT --group-id G

``python -m benchmarks.peers`` submits it like ``benchmarks.ripples_throughput`` submits the
job, and times it by Flink's job duration.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a file by `flink run -py`: import the repo's modules
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from jobs.common.environment import build_environment
from jobs.common.kafka import analytics_sink_options, kafka_json_source_options, with_options
from jobs.common.options import RunOptions

SOURCE_DDL = """CREATE TABLE {name} (
{columns}
) WITH (
{with_options}
)"""
# Every field of the wire format (streamlines.contracts.events).
TRADE_COLUMNS = (
    "symbol STRING", "t_ns BIGINT", "price DOUBLE", "size DOUBLE", "trade_id BIGINT",
    "conditions ARRAY<STRING>",
)  # fmt: skip
QUOTE_COLUMNS = (
    "symbol STRING", "t_ns BIGINT", "bid_price DOUBLE", "bid_size DOUBLE",
    "ask_price DOUBLE", "ask_size DOUBLE", "conditions ARRAY<STRING>",
)  # fmt: skip


def statements(
    bootstrap: str, trades: str, quotes: str, output: str, group_id: str
) -> tuple[list[str], list[str]]:
    """(DDL, INSERTs) of the pass-through."""
    ddl = []
    tables = (("trades", trades, TRADE_COLUMNS), ("quotes", quotes, QUOTE_COLUMNS))
    for name, topic, columns in tables:
        options = kafka_json_source_options(
            bootstrap, topic, group_id, startup_mode="earliest-offset", bounded=True
        )
        ddl.append(
            SOURCE_DDL.format(
                name=name, columns=",\n".join(f"  {c}" for c in columns),
                with_options=with_options(options),
            )
        )  # fmt: skip
        ddl.append(
            SOURCE_DDL.format(
                name=f"{name}_out", columns=",\n".join(f"  {c}" for c in columns),
                with_options=with_options(analytics_sink_options(bootstrap, output)),
            )
        )  # fmt: skip
    inserts = [f"INSERT INTO {name}_out SELECT * FROM {name}" for name in ("trades", "quotes")]
    return ddl, inserts


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for option in ("--bootstrap", "--trades-topic", "--quotes-topic", "--output-topic"):
        parser.add_argument(option, required=True)
    parser.add_argument("--group-id", required=True)
    parser.add_argument("--parallelism", type=int, default=1)
    args = parser.parse_args(argv)
    opts = RunOptions(
        bootstrap=args.bootstrap, group_id=args.group_id, bounded=True, parallelism=args.parallelism
    )
    _, env = build_environment(
        opts,
        f"passthrough {args.trades_topic} {args.quotes_topic}",
        defaults={"pipeline.object-reuse": "true"},
    )
    ddl, inserts = statements(
        args.bootstrap, args.trades_topic, args.quotes_topic, args.output_topic, args.group_id
    )
    for statement in ddl:
        env.execute_sql(statement)
    statement_set = env.create_statement_set()
    for insert in inserts:
        statement_set.add_insert_sql(insert)
    statement_set.execute().wait()


if __name__ == "__main__":
    main()
