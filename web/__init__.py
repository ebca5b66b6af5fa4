"""The Flask web app: JSON API under ``/api/v1`` and server-rendered dashboards.

``create_app`` builds everything from the settings. The web process never imports
TensorFlow: it stores uploads, writes rows and enqueues pipeline steps by name.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask

from screening.config import Settings, load_settings
from screening.storage import ObjectStore, open_store
from web import auth, errors, inputs, security
from web.ratelimit import build_limiter
from web.state import EXTENSION, Enqueue, WebState, close_db

SESSION_HOURS = 8


def default_enqueue(settings: Settings) -> Enqueue:
    """Send steps through a Celery app built from ``settings`` (imported lazily: no worker code at import)."""
    from worker.app import create_app as create_celery
    from worker.routing import publisher

    return publisher(create_celery(settings))


def create_app(settings: Settings | None = None, *, enqueue: Enqueue | None = None,
               store: ObjectStore | None = None,
               rate_limits: dict[str, tuple[int, int]] | None = None) -> Flask:
    """Build the app; ``enqueue``, ``store`` and ``rate_limits`` default to what the settings say."""
    settings = settings or load_settings()
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_upload_bytes,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.production,
        SESSION_COOKIE_NAME="osteo_session",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=SESSION_HOURS),
        WTF_CSRF_CHECK_DEFAULT=False,  # checked in protect_session_writes, so tokens are exempt
        WTF_CSRF_TIME_LIMIT=SESSION_HOURS * 3600,
        JSON_SORT_KEYS=False,
    )
    app.json.sort_keys = False
    app.extensions[EXTENSION] = WebState.build(
        settings, store or open_store(settings), enqueue or default_enqueue(settings),
        build_limiter(settings.redis_url, rate_limits))
    auth.csrf.init_app(app)
    inputs.register(app)
    app.before_request(auth.load_current_user)
    app.before_request(auth.protect_session_writes)
    app.teardown_appcontext(close_db)
    errors.register(app)
    security.register(app)
    _register_blueprints(app)
    _register_template_helpers(app)
    return app


def _register_blueprints(app: Flask) -> None:
    from web.api import api
    from web.dashboard import dashboard
    from web.ops import ops

    app.register_blueprint(ops)
    app.register_blueprint(api, url_prefix="/api/v1")
    app.register_blueprint(dashboard)


def _register_template_helpers(app: Flask) -> None:
    from web.presenters import template_globals

    app.context_processor(template_globals)
