"""jobs.common.jars: a local run finds the connector jars where the stack installs them."""

from __future__ import annotations

import pytest

from jobs.common.jars import connector_jar_uris, connectors_dir
from streamlines.errors import UserError
from streamlines.settings import Settings
from streamlines.stack.services.flink import FlinkService


def test_the_jars_are_where_the_stack_puts_them(tmp_path):
    settings = Settings(home=tmp_path)
    assert connectors_dir(tmp_path) == FlinkService(settings).connectors_dir / "libs"
    with pytest.raises(UserError, match="streamlines stack install"):
        connector_jar_uris(settings)
    connectors_dir(tmp_path).mkdir(parents=True)
    jar = connectors_dir(tmp_path) / "flink-sql-connector-kafka.jar"
    jar.touch()
    assert connector_jar_uris(settings) == [jar.as_uri()]
