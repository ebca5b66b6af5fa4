"""Admin pages: model versions (with cards) and promotion, DICOM nodes, hospitals, users, API tokens, the audit trail.

Every list is filtered, sorted and paged with its total; every change is audited in the
same transaction as the change itself.
"""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from screening import admin_lists as lists
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
from screening.db.models import DicomAeTitle, DicomDestination, Hospital, ModelVersion, Role
from screening.interop import nodes
from screening.listing import Sort, Window
from screening.model_registry import promote
from web.api.params import choice_param, date_range
from web.auth import admin_required
from web.dashboard import dashboard
from web.errors import not_found
from web.listing import PER_PAGE_CHOICES, Pager, page_window, sort_param
from web.state import db


def _audit(action: str, target_type: str, target_id: str, **details: object) -> None:
    audit(db(), action, user_id=g.user.id, target_type=target_type, target_id=target_id,
          ip=request.remote_addr, **details)


ADMIN_PAGE = 50


def _text(name: str) -> str | None:
    return (request.args.get(name) or "").strip()[:100] or None


def _list_page(template: str, rows: list, total: int, window: Window, sort: Sort, **context: object) -> str:
    return render_template(template, rows=rows, pager=Pager(total, window, sort), args=request.args,
                           per_page_choices=PER_PAGE_CHOICES, roles=[r.value for r in Role], **context)


@dashboard.get("/admin")
@admin_required
def admin() -> str:
    session = db()
    window = page_window(ADMIN_PAGE)
    sort = sort_param(tuple(lists.MODEL_SORTS), lists.DEFAULT_SORTS["models"])
    models, total = lists.list_models(session, window, sort)
    counts = {name: lists_total(session, name) for name in ("hospitals", "users", "tokens", "audit")}
    return _list_page(
        "admin.html", models, total, window, sort, counts=counts, new_secret=None,
        ae_titles=session.scalars(select(DicomAeTitle).order_by(DicomAeTitle.ae_title)).all(),
        destinations=session.scalars(select(DicomDestination).order_by(DicomDestination.hospital_id,
                                                                         DicomDestination.name)).all())


def lists_total(session: Session, name: str) -> int:
    listing = {"hospitals": lists.list_hospitals, "users": lists.list_users, "tokens": lists.list_tokens,
               "audit": lists.list_audit}[name]
    return listing(session, Window(1))[1]  # type: ignore[operator]


@dashboard.get("/admin/hospitals")
@admin_required
def admin_hospitals() -> str:
    window = page_window(ADMIN_PAGE)
    sort = sort_param(tuple(lists.HOSPITAL_SORTS), lists.DEFAULT_SORTS["hospitals"])
    rows, total = lists.list_hospitals(db(), window, _text("q"), _text("region"), sort)
    regions = sorted(set(db().scalars(select(Hospital.region))))
    return _list_page("admin_hospitals.html", rows, total, window, sort, regions=regions)


@dashboard.get("/admin/users")
@admin_required
def admin_users() -> str:
    window = page_window(ADMIN_PAGE)
    sort = sort_param(tuple(lists.USER_SORTS), lists.DEFAULT_SORTS["users"])
    role = choice_param("role", [r.value for r in Role])
    active = choice_param("active", ["yes", "no"])
    rows, total = lists.list_users(db(), window, role, _text("q"), None if active is None else active == "yes",
                                   sort)
    return _list_page("admin_users.html", rows, total, window, sort)


@dashboard.get("/admin/tokens")
@admin_required
def admin_tokens() -> str:
    window = page_window(ADMIN_PAGE)
    sort = sort_param(tuple(lists.TOKEN_SORTS), lists.DEFAULT_SORTS["tokens"])
    rows, total = lists.list_tokens(db(), window, choice_param("state", ["active", "revoked"]), _text("q"), sort)
    return _list_page("admin_tokens.html", rows, total, window, sort)


@dashboard.get("/admin/audit")
@admin_required
def admin_audit() -> str:
    window = page_window(ADMIN_PAGE)
    sort = sort_param(tuple(lists.AUDIT_SORTS), lists.DEFAULT_SORTS["audit"])
    start, end = date_range()
    rows, total = lists.list_audit(db(), window, _text("action"), _text("user"), start, end, sort)
    return _list_page("admin_audit.html", rows, total, window, sort)


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
    return redirect(url_for("dashboard.admin_hospitals"))


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
    return redirect(url_for("dashboard.admin_users"))


@dashboard.post("/admin/tokens")
@admin_required
def admin_create_token() -> Response | str:
    try:
        user = get_user(db(), _form("email") or "")
        issued = create_token(db(), user, _form("name") or "api")
    except AccountError as exc:
        db().rollback()
        flash(str(exc), "error")
        return redirect(url_for("dashboard.admin_tokens"))
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
    return redirect(url_for("dashboard.admin_tokens"))


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
