"""Report and overlay downloads through the app, so every download is authorised and audited."""

from __future__ import annotations

from flask import Response, g, request, send_file
from sqlalchemy import select

from screening.accounts import audit
from screening.db.models import Batch, Image, Patient, Prediction, Report
from screening.storage import ObjectNotFound
from screening.vocabulary import CLAHE_VIEW, MEASUREMENT_VIEW, OVERLAY_COLORMAPS
from web.api import api
from web.auth import api_login_required
from web.authz import can_see_hospital
from web.errors import not_found
from web.security import isolate_stored_file
from web.state import db, state

REPORT_TYPES = {"pdf": ("pdf_key", "application/pdf"), "html": ("html_key", "text/html; charset=utf-8")}


def _stream(key: str, mimetype: str, name: str, action: str, target_type: str, target_id: str,
            as_attachment: bool) -> Response:
    try:
        stream = state().store.open(key)
    except ObjectNotFound:
        raise not_found("the file is missing from storage") from None
    audit(db(), action, user_id=g.user.id, target_type=target_type, target_id=target_id,
          ip=request.remote_addr, via=g.get("auth"))
    db().commit()
    return isolate_stored_file(send_file(stream, mimetype=mimetype, download_name=name, as_attachment=as_attachment))


@api.get("/reports/<id:report_id>.<fmt>")
@api_login_required
def report(report_id: int, fmt: str) -> Response:
    if fmt not in REPORT_TYPES:
        raise not_found(f"reports come as .pdf or .html, not .{fmt}")
    row = db().get(Report, report_id)
    patient = db().get(Patient, row.patient_id) if row else None
    if row is None or patient is None or not can_see_hospital(db(), g.user, patient.hospital_id):
        raise not_found(f"no report {report_id} that you can see")
    attribute, mimetype = REPORT_TYPES[fmt]
    key = getattr(row, attribute)
    if not key:
        raise not_found(f"report {report_id} has no {fmt.upper()} version" + (f": {row.error}" if row.error else ""))
    return _stream(key, mimetype, f"osteo-report-{patient.pseudonym}-{row.batch_id[:8]}.{fmt}",
                   "report.download", "report", str(report_id), as_attachment=fmt == "pdf")


@api.get("/images/<bigid:image_id>/overlay/<colormap>")
@api_login_required
def overlay(image_id: int, colormap: str) -> Response:
    if colormap not in (*OVERLAY_COLORMAPS, CLAHE_VIEW, MEASUREMENT_VIEW):
        raise not_found(f"overlays are {', '.join(OVERLAY_COLORMAPS)}, clahe or {MEASUREMENT_VIEW}, "
                        f"not {colormap!r}")
    image = db().get(Image, image_id)
    if image is None or not can_see_hospital(db(), g.user, image.hospital_id):
        raise not_found(f"no image {image_id} that you can see")
    if colormap == MEASUREMENT_VIEW:
        # Made at ingest for every measured hand, screened or not (not-eligible patients are measured too).
        if not image.measurement_overlay_key:
            raise not_found(f"image {image_id} has no measurement overlay (the hand was not measured)")
        return _stream(image.measurement_overlay_key, "image/png", f"image-{image_id}-{colormap}.png",
                       "overlay.download", "image", str(image_id), as_attachment=False)
    # The batch's own model: the one its results, reports and summary name (a newer model may
    # have screened the image since, e.g. a candidate under evaluation).
    batch = db().get(Batch, image.batch_id)
    prediction = db().scalar(select(Prediction).where(Prediction.image_id == image_id,
                                                      Prediction.model_version_id == batch.model_version_id))
    key = None
    if prediction is not None:
        key = prediction.clahe_key if colormap == "clahe" else (prediction.overlay_keys or {}).get(colormap)
    if not key:
        raise not_found(f"image {image_id} has no {colormap} overlay (not screened yet?)")
    return _stream(key, "image/png", f"image-{image_id}-{colormap}.png", "overlay.download", "image",
                   str(image_id), as_attachment=False)
