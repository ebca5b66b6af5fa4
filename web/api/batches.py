"""Batches: upload, list, status, per-image results (JSON or CSV), summary document."""

from __future__ import annotations

import io
from typing import Any

from flask import Response, g, request, send_file, url_for

from screening import queries
from screening.csvsafe import safe_writer
from screening.db.models import Batch, BatchStatus, RiskClass
from screening.identity import may_see_identifier
from screening.listing import Window
from screening.pipeline.problems import list_problems
from screening.storage import ObjectNotFound
from web.api import api
from web.api.params import choice_param, date_range, page_json, page_params, respond
from web.auth import api_login_required
from web.authz import hospital_param, visible_batch, visible_hospital_ids
from web.deliveries import resend_visible_delivery
from web.errors import Problem, bad_request, not_found
from web.listing import api_window, sort_param
from web.presenters import DISCLAIMER, batch_json, delivery_json, identifier_of, result_json
from web.security import isolate_stored_file
from web.state import db, state
from web.uploads import CONTENT_TYPES, accept, archive_filename, idempotency_key

CSV_COLUMNS = ("filename", "quality", "reason", "error", "class", "p_normal", "p_osteopenia", "p_osteoporosis",
               "referred", "patient", "model_version", "eligible", "eligibility_reason",
               "measured", "cortical_index", "cortical_thickness_mm", "measurement_reason", "radiogrammetry_version",
               "hospital_patient_id", "tier", "refer_threshold", "capacity_threshold")


@api.post("/batches")
@api_login_required
def create_batch() -> Response:
    key = idempotency_key()
    mimetype = request.mimetype
    if mimetype == "multipart/form-data":
        upload = request.files.get("archive")
        if upload is None or not upload.filename:
            raise bad_request("send the archive in the multipart field 'archive'")
        stream, filename = upload.stream, archive_filename(upload.filename)
        hospital = request.form.get("hospital") or request.args.get("hospital")
    elif mimetype in CONTENT_TYPES:
        if request.content_length == 0:
            raise bad_request("the uploaded archive is empty")
        stream, filename = request.stream, archive_filename(request.headers.get("X-Filename"), mimetype)
        hospital = request.args.get("hospital") or request.headers.get("X-Hospital")
    else:
        raise Problem(415, "Unsupported media type",
                      f"send multipart/form-data with field 'archive', or a raw body of type "
                      f"{', '.join(sorted(CONTENT_TYPES))}; got {mimetype or 'no Content-Type'!r}")
    batch, created = accept(g.user, hospital, stream, filename, key)
    body = batch_json(batch, {})
    body["status_url"] = url_for("api.get_batch", batch_id=batch.id)
    response = respond(body, [batch.model_version_id], status=202 if created else 200)
    response.headers["Location"] = body["status_url"]
    return response


def batch_filter() -> queries.BatchFilter:
    """The batch-list filters of the query string (shared by the page and the API)."""
    hospital = hospital_param()
    start, end = date_range()
    return queries.BatchFilter(hospital_id=hospital.id if hospital else None,
                               status=choice_param("status", [s.value for s in BatchStatus]),
                               uploaded_from=start, uploaded_to=end,
                               text=(request.args.get("q") or "").strip()[:100] or None)


@api.get("/batches")
@api_login_required
def list_batches() -> Response:
    window = api_window()
    sort = sort_param(tuple(queries.BATCH_SORTS), queries.BATCH_DEFAULT_SORT)
    batches, total = queries.list_batches(db(), visible_hospital_ids(db(), g.user), window, batch_filter(), sort)
    versions = queries.model_versions_by_id(db(), [b.model_version_id for b in batches])
    items = [batch_json(b, versions) for b in batches]
    body = page_json(items, total, window.limit, window.offset)
    body["sort"] = sort.param
    return respond(body, versions)


@api.get("/batches/<batch_id>")
@api_login_required
def get_batch(batch_id: str) -> Response:
    batch = visible_batch(batch_id)
    versions = queries.model_versions_by_id(db(), [batch.model_version_id])
    body = batch_json(batch, versions)
    body["deliveries"] = [delivery_json(d) for d in queries.batch_deliveries(db(), batch.id)]
    return respond(body, [batch.model_version_id])


@api.post("/batches/<batch_id>/deliveries/<id:delivery_id>/resend")
@api_login_required
def resend_delivery(batch_id: str, delivery_id: int) -> Response:
    """Send a batch's results to one destination again, from its first try (staff of the hospital, admins)."""
    delivery = resend_visible_delivery(batch_id, delivery_id)
    return respond(delivery_json(delivery), [], status=202)


def _wants_csv() -> bool:
    fmt = choice_param("format", ["json", "csv"])
    if fmt:
        return fmt == "csv"
    return request.accept_mimetypes.best_match(["application/json", "text/csv"]) == "text/csv"


@api.get("/batches/<batch_id>/results")
@api_login_required
def batch_results(batch_id: str) -> Response:
    batch = visible_batch(batch_id)
    reports = queries.batch_reports(db(), batch.id)
    if _wants_csv():
        rows, _ = results_of(batch, None)
        return _csv_response(batch, [result_json(row, reports) for row in rows])
    window = api_window(default_limit=100)
    rows, total = results_of(batch, window)
    body = page_json([result_json(row, reports) for row in rows], total, window.limit, window.offset)
    body["batch"] = {"id": batch.id, "status": batch.status.value, "model_version": batch.model_version_id}
    return respond(body, [batch.model_version_id])


def results_of(batch: Batch, window: Window | None) -> tuple[list[queries.ResultRow], int]:
    """The batch's results the query string asks for: ``only``, ``class``, ``q`` (file name), ``sort``."""
    return queries.batch_results(
        db(), batch, window, only=choice_param("only", queries.RESULT_FILTERS),
        risk_class=choice_param("class", [r.value for r in RiskClass]),
        text=(request.args.get("q") or "").strip()[:100] or None,
        sort=sort_param(tuple(queries.RESULT_SORTS), queries.RESULT_DEFAULT_SORT))


def _csv_response(batch: Batch, results: list[dict[str, Any]]) -> Response:
    out = io.StringIO()
    out.write(f"# {DISCLAIMER} Batch {batch.id}; model version {batch.model_version_id or 'not yet screened'}\n")
    writer = safe_writer(out)
    writer.writerow(CSV_COLUMNS)
    for r in results:
        probs = r["probabilities"] or {}
        writer.writerow([r["filename"], r["quality"], r["reason"] or "", r["error"] or "", r["class"] or "",
                         _num(probs.get("normal")), _num(probs.get("osteopenia")), _num(probs.get("osteoporosis")),
                         _yes_no(r["referred"]),
                         r["patient"] or "", r["model_version"] or "",
                         _yes_no(r["eligible"]), r["eligibility_reason"] or "",
                         _yes_no(r["measured"]), _num(r["cortical_index"]), _num(r["cortical_thickness_mm"], 3),
                         r["measurement_reason"] or "", r["radiogrammetry_version"] or "",
                         r["hospital_patient_id"] or "", r["tier"] or "",
                         _num((r["thresholds"] or {}).get("refer")), _num((r["thresholds"] or {}).get("capacity"))])
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="batch-{batch.id}-results.csv"'
    return response


def _num(value: float | None, digits: int = 4) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


@api.get("/batches/<batch_id>/summary")
@api_login_required
def batch_summary_document(batch_id: str) -> Response:
    """The batch's rendered summary report (written when the batch finishes)."""
    batch = visible_batch(batch_id)
    if not batch.summary_key:
        raise not_found("this batch has no summary report yet")
    if may_see_identifier(g.user, batch.hospital_id):
        from screening.reports.identified import batch_summary_html

        # The hospital's own staff get the referral list with their patient ids (rendered now, never stored).
        body = batch_summary_html(db(), batch, identifier_of)
        return isolate_stored_file(send_file(io.BytesIO(body), mimetype="text/html; charset=utf-8",
                                             download_name=batch.summary_key.rsplit("/", 1)[-1]))
    try:
        stream = state().store.open(batch.summary_key)
        content_type = state().store.content_type(batch.summary_key)
    except ObjectNotFound:
        raise not_found("the batch's summary report is missing from storage") from None
    return isolate_stored_file(send_file(stream, mimetype=content_type,
                                         download_name=batch.summary_key.rsplit("/", 1)[-1]))



@api.get("/batches/<batch_id>/problems")
@api_login_required
def batch_problems(batch_id: str) -> Response:
    """Every problem of the batch (manifest lines, missing files, failed images and reports), a page at a time."""
    batch = visible_batch(batch_id)
    limit, offset = page_params(default_limit=100)
    problems, total = list_problems(db(), batch.id, limit, offset)
    items = [{"file": name, "message": message} for name, message in problems]
    return respond(page_json(items, total, limit, offset), [batch.model_version_id])
