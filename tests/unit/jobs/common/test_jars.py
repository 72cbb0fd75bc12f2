"""jobs.common.jars: a local run finds the connector and function jars where the stack installs
them, and says what to run when one is missing."""

from __future__ import annotations

import pytest

from jobs.common.jars import connectors_dir, functions_dir, job_jar_uris
from streamlines.errors import UserError
from streamlines.settings import Settings
from streamlines.stack.services.flink import FlinkService


def test_the_jars_are_where_the_stack_puts_them(tmp_path):
    settings = Settings(home=tmp_path)
    service = FlinkService(settings)
    assert connectors_dir(tmp_path) == service.connectors_dir / "libs"
    assert functions_dir(tmp_path) == service.functions_dir / "libs"
    with pytest.raises(UserError, match=r"(?s)Kafka SQL connector.*streamlines stack install"):
        job_jar_uris(settings)
    connectors_dir(tmp_path).mkdir(parents=True)
    connector = connectors_dir(tmp_path) / "flink-sql-connector-kafka.jar"
    connector.touch()
    with pytest.raises(UserError, match=r"(?s)Java functions.*streamlines stack install"):
        job_jar_uris(settings)
    functions_dir(tmp_path).mkdir(parents=True)
    functions = functions_dir(tmp_path) / "streamlines-flink-functions-0123456789ab.jar"
    functions.touch()
    assert job_jar_uris(settings) == [connector.as_uri(), functions.as_uri()]
