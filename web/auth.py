"""Who is calling: an API token (``Authorization: Bearer osteo_...``) or a login session.

Tokens are looked up by the sha256 of the secret, so the database never holds
a usable secret. The session cookie is signed, not stored, so it carries the user's
session generation: logout and password changes bump it, and older cookies are
refused. Session logins are protected against CSRF; token requests are not
browser-driven and are exempt. Failed and successful logins are audited.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import Any, TypeVar

from flask import g, redirect, request, session, url_for
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import select
from werkzeug.security import check_password_hash

from screening.accounts import end_sessions, hash_token
from screening.db.models import ApiToken, Role, User
from web.errors import Problem, forbidden
from web.state import db

F = TypeVar("F", bound=Callable[..., Any])
csrf = CSRFProtect()
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
LAST_USED_RESOLUTION = timedelta(minutes=5)


def _aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment and moment.tzinfo is None else moment


def user_from_token(secret: str) -> User:
    """The active user owning the unrevoked, unexpired token ``secret``, else a 401."""
    token = db().scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(secret)))
    now = datetime.now(UTC)
    if token is None or token.revoked_at is not None or (token.expires_at and _aware(token.expires_at) < now):
        raise Problem(401, "Unauthorized", "the API token is unknown, revoked or expired")
    if not token.user.active:
        raise Problem(401, "Unauthorized", "the token's user account is disabled")
    if token.last_used_at is None or _aware(token.last_used_at) < now - LAST_USED_RESOLUTION:
        token.last_used_at = now  # coarse on purpose: no database write on every API call
        db().commit()
    return token.user


def load_current_user() -> None:
    """Before every request: set ``g.user`` and ``g.auth`` ('token', 'session' or None)."""
    g.user, g.auth = None, None
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise Problem(401, "Unauthorized", "use 'Authorization: Bearer <token>'")
        g.user, g.auth = user_from_token(secret.strip()), "token"
        return
    user_id = session.get("user_id")
    if user_id is not None:
        user = db().get(User, user_id) if isinstance(user_id, int) else None
        if user is not None and user.active and session.get("generation") == user.session_generation:
            g.user, g.auth = user, "session"
        else:
            session.clear()  # logged out, password changed or account disabled since the cookie was issued


def protect_session_writes() -> None:
    """CSRF check for state-changing requests made with a login session (not with a token)."""
    if request.method in UNSAFE_METHODS and g.get("auth") != "token":
        csrf.protect()


def authenticate(email: str, password: str) -> User | None:
    user = db().scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or not user.active or not user.password_hash:
        return None
    return user if check_password_hash(user.password_hash, password) else None


def login_session(user: User) -> None:
    session.clear()  # a fresh session on login: no fixation
    session.permanent = True
    session["user_id"] = user.id
    session["generation"] = user.session_generation


def logout_session() -> None:
    """End the login server-side too, so a copy of the cookie stops working (every session of the user ends)."""
    if g.get("auth") == "session":
        end_sessions(g.user)
        db().commit()
    session.clear()


def api_login_required(view: F) -> F:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if g.get("user") is None:
            raise Problem(401, "Unauthorized", "log in or send 'Authorization: Bearer <token>'")
        return view(*args, **kwargs)
    return wrapper  # type: ignore[return-value]


def login_required(view: F) -> F:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if g.get("user") is None:
            return redirect(url_for("dashboard.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)
    return wrapper  # type: ignore[return-value]


def admin_required(view: F) -> F:
    @wraps(view)
    @login_required
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if g.user.role is not Role.ADMIN:
            raise forbidden("this page is for administrators")
        return view(*args, **kwargs)
    return wrapper  # type: ignore[return-value]
