"""The Flink environment of a job: one StreamExecutionEnvironment and the StreamTableEnvironment
over it, in UTC, checkpointed, with fixed operator uids, with the job's own configuration on
top."""

from __future__ import annotations

from collections.abc import Mapping

from pyflink.datastream import StreamExecutionEnvironment
from pyflink.table import EnvironmentSettings, StreamTableEnvironment

from jobs.common.jars import job_jar_uris
from jobs.common.options import RunOptions
from streamlines.settings import Settings

# A savepoint maps its state to operators by uid. Left to Flink (the default, PLAN_ONLY), the
# planner's operators get none and their ids are hashes of where they sit in the chained graph,
# so a change of chaining alone loses their state. ALWAYS gives every SQL operator the uid
# "<ExecNode id>_<transformation>" (e.g. 7_over-aggregate), the ids counted in the order the
# job's statements are planned: the same in every submission of the same job, whatever its
# parallelism or chaining (docs/cluster.md, "Upgrade", says which changes keep them).
# The jobs' own Python operators set theirs with .uid().
SQL_UIDS = {"table.exec.uid.generation": "ALWAYS"}


def build_environment(
    opts: RunOptions,
    name: str,
    config: Mapping[str, str] | None = None,
    defaults: Mapping[str, str] | None = None,
) -> tuple[StreamExecutionEnvironment, StreamTableEnvironment]:
    """(StreamExecutionEnvironment, StreamTableEnvironment) of the job ``name``: parallelism
    from ``opts``; checkpoints every ``opts.checkpoint_interval_s`` unless the cluster's
    configuration turns them on already; on a local mini-cluster, the connector jars; a uid on
    every SQL operator (``SQL_UIDS``). Then the job's own table ``config``, and ``defaults``:
    set unless the cluster's configuration has them."""
    stream_env = StreamExecutionEnvironment.get_execution_environment()
    if opts.parallelism is not None:
        stream_env.set_parallelism(opts.parallelism)
    if stream_env.get_checkpoint_config().get_checkpoint_interval() <= 0:
        stream_env.enable_checkpointing(opts.checkpoint_interval_s * 1000)
    if opts.local:
        stream_env.add_jars(*job_jar_uris(Settings()))
    table_env = StreamTableEnvironment.create(stream_env, EnvironmentSettings.in_streaming_mode())
    table_config = table_env.get_config()
    table_config.set("table.local-time-zone", "UTC")
    table_config.set("pipeline.name", name)
    for key, value in SQL_UIDS.items():
        table_config.set(key, value)
    if opts.parallelism is not None:
        table_config.set("parallelism.default", str(opts.parallelism))
    for key, value in (config or {}).items():
        table_config.set(key, value)
    for key, value in (defaults or {}).items():
        if not table_config.get(key, ""):
            table_config.set(key, value)
    return stream_env, table_env


def execute(stream_env: StreamExecutionEnvironment, name: str, opts: RunOptions) -> None:
    """Submit the job; with ``--bounded`` or ``--local`` wait until it has finished (a bounded
    run is over when this returns; a local mini-cluster lives only as long as this process)."""
    client = stream_env.execute_async(name)
    if opts.bounded or opts.local:
        client.get_job_execution_result().result()
