"""A PyFlink SQL job for the stack test: reads trades from one Kafka topic (bounded at the
latest offset, so the job ends by itself) and writes each trade's notional to another."""

from __future__ import annotations

import argparse

from pyflink.table import EnvironmentSettings, TableEnvironment


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--input", required=True)
    parser.add_argument("--output", required=True)
    args = parser.parse_args()

    env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    env.execute_sql(f"""
        CREATE TABLE trades (
            S STRING, p DOUBLE, s BIGINT, i BIGINT
        ) WITH (
            'connector' = 'kafka',
            'topic' = '{args.input}',
            'properties.bootstrap.servers' = '{args.bootstrap}',
            'properties.group.id' = '{args.input}-job',
            'scan.startup.mode' = 'earliest-offset',
            'scan.bounded.mode' = 'latest-offset',
            'format' = 'json'
        )""")
    env.execute_sql(f"""
        CREATE TABLE notional (
            symbol STRING, trade_id BIGINT, notional DOUBLE
        ) WITH (
            'connector' = 'kafka',
            'topic' = '{args.output}',
            'properties.bootstrap.servers' = '{args.bootstrap}',
            'format' = 'json'
        )""")
    env.execute_sql("INSERT INTO notional SELECT UPPER(S), i, p * s FROM trades WHERE s > 0").wait()


if __name__ == "__main__":
    main()
