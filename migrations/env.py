"""Alembic environment: the database URL comes from the product's settings.

``osteo db upgrade`` passes the URL in the Alembic config; a plain ``alembic``
call falls back to ``OSTEO_DATABASE_URL`` through ``load_settings``.
"""

from __future__ import annotations

from alembic import context

from screening.config import load_settings
from screening.db.models import Base
from screening.db.session import get_engine

config = context.config
target_metadata = Base.metadata


def _database_url() -> str:
    return config.get_main_option("sqlalchemy.url") or load_settings().database_url


def run_migrations_offline() -> None:
    context.configure(url=_database_url(), target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    # render_as_batch lets ALTERs work on SQLite, which cannot alter columns in place.
    with get_engine(_database_url()).connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=True, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
