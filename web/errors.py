"""Errors as ``application/problem+json`` (RFC 9457) for the API, friendly pages for people.

Every client mistake raises :class:`Problem` (or a werkzeug HTTPException) with a
sentence that says what was wrong, so bad input is always a 4xx, never a 500.
An outage of the database, broker or object store (``screening.faults``) is a 503
with Retry-After, so clients retry instead of giving up.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

from screening.faults import INFRASTRUCTURE_ERRORS, is_infrastructure_error

logger = logging.getLogger(__name__)
PROBLEM_TYPE_BASE = "https://osteo-ai.example/problems/"
OUTAGE_RETRY_AFTER = 30  # seconds: long enough for a broker or database restart


class Problem(HTTPException):
    """An HTTP error with a title and a detail sentence; ``extra`` fields go into the JSON."""

    def __init__(self, status: int, title: str, detail: str, retry_after: int | None = None,
                 **extra: Any) -> None:
        super().__init__(detail)
        self.code = status
        self.title = title
        self.detail = detail
        self.retry_after = retry_after
        self.extra = extra


def bad_request(detail: str, title: str = "Bad request") -> Problem:
    return Problem(400, title, detail)


def not_found(detail: str) -> Problem:
    return Problem(404, "Not found", detail)


def forbidden(detail: str) -> Problem:
    return Problem(403, "Forbidden", detail)


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path in ("/healthz", "/readyz")


def problem_response(status: int, title: str, detail: str, retry_after: int | None = None,
                     **extra: Any) -> Response:
    slug = title.lower().replace(" ", "-")
    body = {"type": PROBLEM_TYPE_BASE + slug, "title": title, "status": status, "detail": detail, **extra}
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="osteo-ai"'
    return response


def _handle(exc: HTTPException) -> Response:
    return _respond(exc)


def _respond(exc: HTTPException) -> Response:
    status = exc.code or 500
    if isinstance(exc, Problem):
        title, detail, retry, extra = exc.title, exc.detail, exc.retry_after, exc.extra
    elif isinstance(exc, CSRFError):
        title, detail, retry, extra = "CSRF check failed", f"{exc.description} Reload the page and try again.", None, {}
    else:
        title, detail, retry, extra = exc.name, exc.description or exc.name, None, {}
    if wants_json():
        return problem_response(status, title, detail, retry, **extra)
    page = Response(render_template("error.html", status=status, title=title, detail=detail), status,
                    mimetype="text/html")
    if retry is not None:
        page.headers["Retry-After"] = str(retry)
    return page


def _outage(exc: Exception) -> Response:
    """A database, broker or object-store outage: 503 with Retry-After, never a 500 and never the details.

    What failed (endpoints, buckets, driver messages) goes to the log, not to the
    client. Errors of the same classes that are not outages are re-raised (500).
    """
    if not is_infrastructure_error(exc):
        raise exc
    logger.warning("answering 503 for %s %s: %s: %s", request.method, request.path, type(exc).__name__, exc)
    g.user, g.active_model = None, None  # the page must render without the database
    return _respond(Problem(503, "Service unavailable",
                            "a service the app depends on is unavailable; try again shortly",
                            retry_after=OUTAGE_RETRY_AFTER))


def register(app: Flask) -> None:
    app.register_error_handler(HTTPException, _handle)
    for error in (*INFRASTRUCTURE_ERRORS, sa_exc.DBAPIError):
        app.register_error_handler(error, _outage)
