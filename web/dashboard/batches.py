"""Hospital pages: upload form, batch list with live progress, one batch's results."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from screening import queries
from screening.db.models import Role
from web.api.params import int_param
from web.auth import login_required
from web.authz import visible_batch, visible_hospital_ids
from web.dashboard import dashboard
from web.deliveries import resend_visible_delivery
from web.errors import Problem
from web.state import db
from web.uploads import accept, archive_filename

PAGE_SIZE = 25
RESULTS_PAGE = 200
MAX_PAGE_NUMBER = 10**6


def _page() -> int:
    return int_param("page", 1, 1, MAX_PAGE_NUMBER)


@dashboard.get("/batches")
@login_required
def batches() -> str:
    page = _page()
    visible = visible_hospital_ids(db(), g.user)
    rows, total = queries.list_batches(db(), visible, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    hospitals = queries.hospitals_in_scope(db(), visible) if g.user.role is Role.ADMIN else []
    return render_template("batches.html", batches=rows, total=total, page=page, page_size=PAGE_SIZE,
                           can_upload=g.user.role in (Role.STAFF, Role.ADMIN), hospitals=hospitals)


@dashboard.post("/batches")
@login_required
def upload() -> Response:
    upload = request.files.get("archive")
    if upload is None or not upload.filename:
        flash("Choose an archive (.zip, .tar, .tar.gz) to upload.", "error")
        return redirect(url_for("dashboard.batches"))
    try:
        batch, _ = accept(g.user, request.form.get("hospital") or None, upload.stream,
                          archive_filename(upload.filename), None)
    except Problem as problem:
        if problem.code == 429:
            raise
        flash(problem.detail, "error")
        return redirect(url_for("dashboard.batches"))
    flash(f"{batch.original_filename} was received and queued for screening.", "info")
    return redirect(url_for("dashboard.batches"))


@dashboard.get("/batches/<batch_id>")
@login_required
def batch_page(batch_id: str) -> str:
    batch = visible_batch(batch_id)
    rows, total = queries.batch_results(db(), batch, RESULTS_PAGE, 0)
    referred, _ = queries.batch_results(db(), batch, None, only="referred")
    rejected, _ = queries.batch_results(db(), batch, None, only="rejected")
    reports = queries.batch_reports(db(), batch.id)
    version = queries.model_versions_by_id(db(), [batch.model_version_id]).get(batch.model_version_id or "")
    return render_template("batch.html", batch=batch, rows=rows, total=total, referred=referred,
                           rejected=rejected, reports=reports, model_version=version,
                           shown=min(total, RESULTS_PAGE), deliveries=queries.batch_deliveries(db(), batch.id),
                           can_resend=g.user.role in (Role.STAFF, Role.ADMIN))


@dashboard.post("/batches/<batch_id>/deliveries/<id:delivery_id>/resend")
@login_required
def resend_delivery(batch_id: str, delivery_id: int) -> Response:
    try:
        delivery = resend_visible_delivery(batch_id, delivery_id)
    except Problem as problem:
        if problem.code in (403, 404):
            raise
        flash(problem.detail, "error")
    else:
        flash(f"Results are being sent to {delivery.destination.name} again.", "info")
    return redirect(url_for("dashboard.batch_page", batch_id=batch_id))
