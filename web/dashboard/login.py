"""Login, logout and the landing page that sends each role where it works."""

from __future__ import annotations

from urllib.parse import urlparse

from flask import flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from screening.accounts import audit
from screening.db.models import Role
from web.auth import authenticate, login_required, login_session, logout_session
from web.dashboard import dashboard
from web.state import db
from web.uploads import rate_limit


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths, so the login form cannot bounce users to another site."""
    if not target:
        return None
    parsed = urlparse(target)
    return target if not parsed.scheme and not parsed.netloc and target.startswith("/") else None


@dashboard.get("/")
@login_required
def home() -> Response:
    if g.user.role is Role.STAFF:
        return redirect(url_for("dashboard.batches"))
    return redirect(url_for("dashboard.overview"))


@dashboard.route("/login", methods=["GET", "POST"])
def login() -> Response | str:
    if request.method == "GET":
        return render_template("login.html", next=_safe_next(request.args.get("next")))
    email = request.form.get("email", "").strip().lower()
    rate_limit("login_ip", str(request.remote_addr))  # one address guessing across many e-mails
    rate_limit("login", f"{request.remote_addr}:{email}")
    user = authenticate(email, request.form.get("password", ""))
    if user is None:
        audit(db(), "login.failure", ip=request.remote_addr, email=email)
        db().commit()
        flash("Wrong e-mail or password.", "error")
        return render_template("login.html", next=_safe_next(request.form.get("next")), email=email), 401
    audit(db(), "login.success", user_id=user.id, target_type="user", target_id=str(user.id), ip=request.remote_addr)
    db().commit()
    login_session(user)
    return redirect(_safe_next(request.form.get("next")) or url_for("dashboard.home"))


@dashboard.post("/logout")
def logout() -> Response:
    logout_session()
    flash("You are logged out.", "info")
    return redirect(url_for("dashboard.login"))
