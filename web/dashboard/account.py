"""A user's own account: changing the password, which ends every other session of the user."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from screening.accounts import AccountError, audit, set_password
from web.auth import authenticate, login_required, login_session
from web.dashboard import dashboard
from web.state import db
from web.uploads import rate_limit


@dashboard.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password() -> Response | tuple[str, int] | str:
    if request.method == "GET":
        return render_template("password.html")
    rate_limit("login", f"{request.remote_addr}:{g.user.email}")  # the current password is guessable here too
    if authenticate(g.user.email, request.form.get("current", "")) is None:
        flash("The current password is wrong.", "error")
        return render_template("password.html"), 400
    try:
        set_password(db(), g.user, request.form.get("new", ""))
    except AccountError as exc:
        db().rollback()
        flash(f"{str(exc)[0].upper()}{str(exc)[1:]}.", "error")
        return render_template("password.html"), 400
    audit(db(), "password.change", user_id=g.user.id, target_type="user", target_id=str(g.user.id),
          ip=request.remote_addr)
    db().commit()
    login_session(g.user)  # this browser continues under the new session generation
    flash("Password changed. Every other session of your account was logged out.", "info")
    return redirect(url_for("dashboard.home"))
