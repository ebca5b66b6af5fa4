"""Hospital pages: upload form, batch list with live progress, one batch's results."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from screening import queries
from screening.db.models import BatchStatus, Role
from web.api.batches import batch_filter, results_of
from web.auth import login_required
from web.authz import visible_batch, visible_hospital_ids
from web.dashboard import dashboard
from web.deliveries import resend_visible_delivery
from web.errors import Problem
from web.listing import PER_PAGE_CHOICES, Pager, page_window, sort_param
from web.state import db
from web.uploads import accept, archive_filename

PAGE_SIZE = 25
RESULTS_PAGE = 100


@dashboard.get("/batches")
@login_required
def batches() -> str:
    window = page_window(PAGE_SIZE)
    sort = sort_param(tuple(queries.BATCH_SORTS), queries.BATCH_DEFAULT_SORT)
    visible = visible_hospital_ids(db(), g.user)
    rows, total = queries.list_batches(db(), visible, window, batch_filter(), sort)
    hospitals = queries.hospitals_in_scope(db(), visible)
    return render_template("batches.html", batches=rows, pager=Pager(total, window, sort), args=request.args,
                           can_upload=g.user.role in (Role.STAFF, Role.ADMIN),
                           hospitals=hospitals if len(hospitals) > 1 else [],
                           upload_hospitals=hospitals if g.user.role is Role.ADMIN else [],
                           statuses=[s.value for s in BatchStatus], per_page_choices=PER_PAGE_CHOICES)


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
    window = page_window(RESULTS_PAGE)
    rows, total = results_of(batch, window)
    referred, _ = queries.batch_results(db(), batch, None, only="referred")
    rejected, _ = queries.batch_results(db(), batch, None, only="rejected")
    reports = queries.batch_reports(db(), batch.id)
    version = queries.model_versions_by_id(db(), [batch.model_version_id]).get(batch.model_version_id or "")
    sort = sort_param(tuple(queries.RESULT_SORTS), queries.RESULT_DEFAULT_SORT)
    return render_template("batch.html", batch=batch, rows=rows, referred=referred, rejected=rejected,
                           reports=reports, model_version=version, pager=Pager(total, window, sort),
                           args=request.args, result_filters=queries.RESULT_FILTERS,
                           per_page_choices=PER_PAGE_CHOICES, deliveries=queries.batch_deliveries(db(), batch.id),
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
