"""Fixtures for the machine's real PostgreSQL and Redis.

Each PostgreSQL test gets a fresh database (created and dropped here) so
migrations and data never leak between tests.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from tests.conftest import port_open, require

PG_ADMIN_URL = os.environ.get("OSTEO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("OSTEO_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _postgres_available() -> bool:
    if not port_open("127.0.0.1", 5432):
        return False
    try:
        engine = sa.create_engine(PG_ADMIN_URL)
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
        engine.dispose()
        return True
    except sa.exc.OperationalError:
        return False


@contextmanager
def temporary_database() -> Iterator[str]:
    """A new, empty PostgreSQL database for the block, dropped afterwards (skip/fail if none)."""
    require(_postgres_available(), f"PostgreSQL at {PG_ADMIN_URL}")
    name = f"osteo_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """URL of a new, empty PostgreSQL database, dropped after the test."""
    with temporary_database() as url:
        yield url


@pytest.fixture
def redis_url() -> str:
    """URL of the machine's Redis; the test owns database 0's keys it creates."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
        available = True
    except redis.exceptions.RedisError:
        available = False
    require(available, f"Redis at {REDIS_URL}")
    return REDIS_URL
