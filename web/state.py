"""What the web app holds for its lifetime, and the per-request database session.

Kept in ``app.extensions`` rather than module globals so several apps (tests,
benchmarks) can live in one process with different settings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app, g
from sqlalchemy.orm import Session, sessionmaker

from screening.config import Settings
from screening.db.session import get_engine
from screening.storage import ObjectStore
from web.ratelimit import RateLimiter

Enqueue = Callable[[str, tuple], None]
EXTENSION = "osteo"


@dataclass
class WebState:
    settings: Settings
    store: ObjectStore
    enqueue: Enqueue
    limiter: RateLimiter
    sessions: sessionmaker[Session]

    @classmethod
    def build(cls, settings: Settings, store: ObjectStore, enqueue: Enqueue, limiter: RateLimiter) -> WebState:
        factory = sessionmaker(bind=get_engine(settings.database_url), expire_on_commit=False)
        return cls(settings, store, enqueue, limiter, factory)


def state() -> WebState:
    return current_app.extensions[EXTENSION]


def db() -> Session:
    """The request's session, opened on first use and closed at teardown."""
    if "db" not in g:
        g.db = state().sessions()
    return g.db


def close_db(_exc: BaseException | None = None) -> None:
    session = g.pop("db", None)
    if session is not None:
        session.close()
