"""The Alembic migrations build exactly the ORM's tables (``streamlines/metadata/tables.py``):
a table or column added to one and not the other fails here. Downgrading to nothing and
upgrading again works too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect, text

from streamlines.metadata.database import alembic_config
from streamlines.metadata.tables import Base


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'metadata.db'}"


def _differences(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection), Base.metadata)


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def test_the_migrations_build_exactly_the_orms_tables(url):
    command.upgrade(alembic_config(url), "head")
    engine = create_engine(url)
    assert _tables(engine) == set(Base.metadata.tables)
    assert _differences(engine) == []


def test_the_comparison_sees_one_missing_column(url):
    """The check above can fail: a schema one column short of the ORM's differs."""
    command.upgrade(alembic_config(url), "head")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE api_keys DROP COLUMN last_used_at"))
    (difference,) = _differences(engine)
    assert difference[0] == "add_column"
    assert (difference[2], difference[3].name) == ("api_keys", "last_used_at")


def test_downgrade_to_nothing_and_upgrade_again(url):
    config = alembic_config(url)
    command.upgrade(config, "head")
    engine = create_engine(url)

    command.downgrade(config, "base")
    assert _tables(engine) == set()
    with engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() is None

    command.upgrade(config, "head")
    assert _differences(engine) == []
