"""Fixtures: a migrated PostgreSQL database with the test world, and apps on it.

``world_db`` is per module (building a database costs ~0.5 s, and most tests only
read); tests that must start from nothing take the per-test ``postgres_url``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from screening.config import Settings, load_settings
from screening.db import schema
from screening.db.session import session_scope
from screening.storage import LocalObjectStore
from tests.fixtures_services import temporary_database
from tests.integration.web.world import World, build
from web import create_app

pytestmark = pytest.mark.integration


def web_settings(database_url: str, var_dir: Path, **extra: str) -> Settings:
    env = {"OSTEO_DATABASE_URL": database_url, "OSTEO_VAR_DIR": str(var_dir),
           "OSTEO_STORAGE_DIR": str(var_dir / "objects"), "OSTEO_PUBLIC_BASE_URL": "http://localhost"}
    env.update({f"OSTEO_{k.upper()}": v for k, v in extra.items()})
    return load_settings(env)


@pytest.fixture(scope="module")
def world_db() -> Iterator[str]:
    with temporary_database() as url:
        schema.upgrade(url)
        yield url


@pytest.fixture(scope="module")
def world_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("web-world")


@pytest.fixture(scope="module")
def world(world_db: str, world_dir: Path) -> World:
    settings = web_settings(world_db, world_dir)
    store = LocalObjectStore(settings.storage_dir)
    with session_scope(world_db) as session:
        return build(session, store)


@pytest.fixture
def enqueued() -> list[tuple[str, tuple]]:
    return []


@pytest.fixture
def app(world: World, world_db: str, world_dir: Path, enqueued: list):  # type: ignore[no-untyped-def]
    settings = web_settings(world_db, world_dir)
    app = create_app(settings, enqueue=lambda name, args: enqueued.append((name, args)),
                     rate_limits={"upload": (1000, 60), "login": (1000, 60), "login_ip": (1000, 60)})
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()
