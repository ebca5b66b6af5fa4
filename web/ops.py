"""Operational endpoints: health checks."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify
from sqlalchemy import text

from screening.storage import StorageError
from web.state import db, state

logger = logging.getLogger(__name__)
ops = Blueprint("ops", __name__)
HEALTH_KEY = "health/probe"


def _dependency_checks() -> dict[str, str]:
    checks: dict[str, str] = {}
    try:
        db().execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy; say which part
        db().rollback()
        checks["database"] = f"unavailable: {type(exc).__name__}"
    try:
        state().store.exists(HEALTH_KEY)
        checks["object_store"] = "ok"
    except StorageError as exc:  # the message names endpoint and bucket: log it, answer only the kind
        logger.warning("object store check failed: %s", exc)
        checks["object_store"] = f"unavailable: {type(exc).__name__}"
    return checks


def _redis_check(url: str) -> str:
    """The broker and rate limiter's Redis answers PING (the URL, with its password, is never shown)."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except redis.exceptions.RedisError as exc:
        logger.warning("redis check failed: %s", type(exc).__name__)
        return f"unavailable: {type(exc).__name__}"
    finally:
        client.close()
    return "ok"


def _schema_check() -> str:
    """The database schema is at the newest migration (a deploy ran ``osteo db upgrade``)."""
    from alembic.script import ScriptDirectory

    from screening.db.schema import alembic_config, current_revision

    settings = state().settings
    try:
        head = ScriptDirectory.from_config(alembic_config(settings.database_url)).get_current_head()
        current = current_revision(settings.database_url)
    except Exception as exc:  # noqa: BLE001
        return f"unavailable: {type(exc).__name__}"
    return "ok" if current == head else f"at revision {current}, expected {head}: run 'osteo db upgrade'"


def _answer(checks: dict[str, str]) -> tuple[Response, int]:
    healthy = all(value == "ok" for value in checks.values())
    return jsonify(status="ok" if healthy else "unavailable", checks=checks), 200 if healthy else 503


@ops.get("/healthz")
def healthz() -> tuple[Response, int]:
    """Health: the database and the object store answer; 503 names what is down."""
    return _answer(_dependency_checks())


@ops.get("/readyz")
def readyz() -> tuple[Response, int]:
    """Readiness to take traffic: healthy, the schema is migrated to head, and Redis (when configured) answers."""
    checks = _dependency_checks()
    if checks["database"] == "ok":
        checks["schema"] = _schema_check()
    if redis_url := state().settings.redis_url:
        checks["redis"] = _redis_check(redis_url)
    return _answer(checks)
