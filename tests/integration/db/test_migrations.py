"""The Alembic history builds exactly the schema the models describe, on both backends."""

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from screening.db import Base, DatabaseUnavailable, check_connection, get_engine, schema


def _drift(database_url: str) -> list:
    with get_engine(database_url).connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)


def _assert_migrates_without_drift(database_url: str) -> None:
    schema.upgrade(database_url)
    schema.upgrade(database_url)  # a second run is a no-op, not an error
    assert schema.current_revision(database_url) == schema.head_revision()
    assert _drift(database_url) == []
    tables = set(sa.inspect(get_engine(database_url)).get_table_names())
    assert set(Base.metadata.tables) <= tables


def test_sqlite_schema_matches_models(tmp_path):
    _assert_migrates_without_drift(f"sqlite:///{tmp_path}/osteo.db")


@pytest.mark.integration
def test_postgresql_schema_matches_models(postgres_url):
    _assert_migrates_without_drift(postgres_url)


def test_unreachable_database_names_itself():
    url = "postgresql://osteo:secret@127.0.0.1:1/osteo"
    with pytest.raises(DatabaseUnavailable, match=r"cannot reach the database postgresql://osteo:\*\*\*@127.0.0.1:1/osteo: .*refused"):
        check_connection(url)
