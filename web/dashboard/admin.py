"""Admin pages: hospitals, users, API tokens, model versions (with cards) and the active one, DICOM nodes.

Every change is audited in the same transaction as the change itself.
"""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from screening.accounts import (
    AccountError,
    add_hospital,
    add_user,
    audit,
    create_token,
    get_hospital,
    get_user,
    revoke_token,
)
from screening.db.models import ApiToken, DicomAeTitle, DicomDestination, Hospital, ModelVersion, Role, User
from screening.interop import nodes
from screening.model_registry import promote
from web.auth import admin_required
from web.dashboard import dashboard
from web.errors import not_found
from web.state import db


def _audit(action: str, target_type: str, target_id: str, **details: object) -> None:
    audit(db(), action, user_id=g.user.id, target_type=target_type, target_id=target_id,
          ip=request.remote_addr, **details)


@dashboard.get("/admin")
@admin_required
def admin() -> str:
    session = db()
    return render_template(
        "admin.html",
        hospitals=session.scalars(select(Hospital).order_by(Hospital.region, Hospital.district, Hospital.code)).all(),
        users=session.scalars(select(User).order_by(User.email)).all(),
        tokens=session.scalars(select(ApiToken).order_by(ApiToken.created_at.desc())).all(),
        models=session.scalars(select(ModelVersion).order_by(ModelVersion.created_at.desc())).all(),
        ae_titles=session.scalars(select(DicomAeTitle).order_by(DicomAeTitle.ae_title)).all(),
        destinations=session.scalars(select(DicomDestination).order_by(DicomDestination.hospital_id,
                                                                         DicomDestination.name)).all(),
        roles=[r.value for r in Role], new_secret=None)


def _form(name: str) -> str | None:
    return (request.form.get(name) or "").strip() or None


@dashboard.post("/admin/hospitals")
@admin_required
def admin_add_hospital() -> Response:
    try:
        hospital = add_hospital(db(), _form("code") or "", _form("name") or "", _form("district") or "",
                                _form("region") or "")
        if not (hospital.name and hospital.district and hospital.region):
            raise AccountError("a hospital needs a name, a district and a region")
    except AccountError as exc:
        db().rollback()
        flash(str(exc), "error")
    else:
        _audit("admin.hospital.add", "hospital", hospital.code, district=hospital.district, region=hospital.region)
        db().commit()
        flash(f"Hospital {hospital.code} added.", "info")
    return redirect(url_for("dashboard.admin"))


@dashboard.post("/admin/users")
@admin_required
def admin_add_user() -> Response:
    try:
        role = Role(request.form.get("role", ""))
        user = add_user(db(), _form("email") or "", role, password=_form("password"), name=_form("name") or "",
                        hospital_code=_form("hospital"), district=_form("district"), region=_form("region"))
    except (AccountError, ValueError) as exc:
        db().rollback()
        flash(str(exc), "error")
    else:
        _audit("admin.user.add", "user", str(user.id), email=user.email, role=user.role.value)
        db().commit()
        flash(f"User {user.email} added.", "info")
    return redirect(url_for("dashboard.admin"))


@dashboard.post("/admin/tokens")
@admin_required
def admin_create_token() -> Response | str:
    try:
        user = get_user(db(), _form("email") or "")
        issued = create_token(db(), user, _form("name") or "api")
    except AccountError as exc:
        db().rollback()
        flash(str(exc), "error")
        return redirect(url_for("dashboard.admin"))
    _audit("admin.token.create", "token", issued.token.prefix, email=user.email)
    db().commit()
    flash(f"Token for {user.email} created. Copy it now: it is shown only once.", "info")
    return render_template("token_created.html", secret=issued.secret, user=user)


@dashboard.post("/admin/tokens/revoke")
@admin_required
def admin_revoke_token() -> Response:
    try:
        token = revoke_token(db(), _form("prefix") or "")
    except AccountError as exc:
        flash(str(exc), "error")
    else:
        _audit("admin.token.revoke", "token", token.prefix)
        db().commit()
        flash(f"Token {token.prefix}… revoked.", "info")
    return redirect(url_for("dashboard.admin"))


@dashboard.post("/admin/dicom/ae-titles")
@admin_required
def admin_add_ae_title() -> Response:
    try:
        row = nodes.add_ae_title(db(), get_hospital(db(), _form("hospital") or ""), _form("ae_title") or "")
    except AccountError as exc:
        db().rollback()
        flash(str(exc), "error")
    else:
        _audit("admin.dicom.ae.add", "ae_title", row.ae_title, hospital=row.hospital.code)
        db().commit()
        flash(f"Studies sent from AE title {row.ae_title} now belong to {row.hospital.code}.", "info")
    return redirect(url_for("dashboard.admin"))


@dashboard.post("/admin/dicom/ae-titles/remove")
@admin_required
def admin_remove_ae_title() -> Response:
    try:
        nodes.remove_ae_title(db(), _form("ae_title") or "")
    except AccountError as exc:
        flash(str(exc), "error")
    else:
        _audit("admin.dicom.ae.remove", "ae_title", _form("ae_title") or "")
        db().commit()
        flash("AE title removed: the listener refuses it from now on.", "info")
    return redirect(url_for("dashboard.admin"))


@dashboard.post("/admin/dicom/destinations")
@admin_required
def admin_add_destination() -> Response:
    port = _form("port")
    try:
        destination = nodes.add_destination(
            db(), get_hospital(db(), _form("hospital") or ""), _form("name") or "", host=_form("host"),
            port=int(port) if port and port.isdigit() else None, ae_title=_form("ae_title"), url=_form("url"))
    except AccountError as exc:
        db().rollback()
        flash(str(exc), "error")
    else:
        _audit("admin.dicom.destination.add", "destination", str(destination.id), hospital=destination.hospital.code,
               kind=destination.kind.value)
        db().commit()
        flash(f"Results of {destination.hospital.code} now also go to {destination.name}.", "info")
    return redirect(url_for("dashboard.admin"))


@dashboard.post("/admin/dicom/destinations/active")
@admin_required
def admin_destination_active() -> Response:
    destination = db().get(DicomDestination, int(_form("id") or 0) if (_form("id") or "").isdigit() else 0)
    if destination is None:
        raise not_found("no such destination")
    destination.active = request.form.get("active") == "1"
    _audit("admin.dicom.destination.active", "destination", str(destination.id), active=destination.active)
    db().commit()
    flash(f"Destination {destination.name} {'enabled' if destination.active else 'disabled'}.", "info")
    return redirect(url_for("dashboard.admin"))


@dashboard.post("/admin/models/activate")
@admin_required
def admin_activate_model() -> Response:
    try:
        version = promote(db(), _form("id") or "", g.user.id, _form("reason") or "", ip=request.remote_addr)
    except LookupError:
        raise not_found("no such model version") from None
    db().commit()
    note = "" if version.bundle_key else " It is not in the object store: only workers whose bundle it is can use it."
    flash(f"Model {version.name} ({version.id}) is now active for new batches; screened batches keep their model."
          + note, "info")
    return redirect(url_for("dashboard.admin"))


@dashboard.get("/admin/models/<version_id>")
@admin_required
def admin_model_card(version_id: str) -> str:
    version = db().get(ModelVersion, version_id)
    if version is None:
        raise not_found("no such model version")
    return render_template("model_card.html", version=version)
