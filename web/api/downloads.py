"""Report and overlay downloads through the app, so every download is authorised and audited.

A report downloaded by staff of the patient's own hospital is rendered again with the
hospital's patient id (:mod:`screening.reports.identified`); everyone else gets the
stored report, which names the patient by pseudonym only.
"""

from __future__ import annotations

import io
import logging
import threading
from functools import lru_cache

from flask import Response, g, request, send_file
from sqlalchemy import select

from screening.accounts import audit
from screening.db.models import Batch, Image, Patient, Prediction, Report
from screening.faults import is_infrastructure_error
from screening.storage import ObjectNotFound
from screening.vocabulary import CLAHE_VIEW, MEASUREMENT_VIEW, OVERLAY_COLORMAPS
from web.api import api
from web.auth import api_login_required
from web.authz import can_see_hospital
from web.errors import not_found
from web.presenters import identifier_of
from web.security import isolate_stored_file
from web.state import db, state

logger = logging.getLogger(__name__)
REPORT_TYPES = {"pdf": ("pdf_key", "application/pdf"), "html": ("html_key", "text/html; charset=utf-8")}
# One PDF renderer per web process; WeasyPrint's shared font state is not for concurrent threads.
_render_lock = threading.Lock()


@lru_cache(maxsize=1)
def _renderer():  # type: ignore[no-untyped-def]
    from screening.reports.render import ReportRenderer

    return ReportRenderer()


def _stream(key: str, mimetype: str, name: str, action: str, target_type: str, target_id: str,
            as_attachment: bool) -> Response:
    try:
        stream = state().store.open(key)
    except ObjectNotFound:
        raise not_found("the file is missing from storage") from None
    _audit(action, target_type, target_id)
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
    name = f"osteo-report-{patient.pseudonym}-{row.batch_id[:8]}.{fmt}"
    identifier = identifier_of(patient)
    if identifier is not None:
        body = _identified_report(patient, row.batch_id, identifier, fmt)
        if body is not None:
            _audit("report.download", "report", str(report_id), identified=True)
            return isolate_stored_file(send_file(io.BytesIO(body), mimetype=mimetype, download_name=name,
                                                 as_attachment=fmt == "pdf"))
    return _stream(key, mimetype, name, "report.download", "report", str(report_id), as_attachment=fmt == "pdf")


def _identified_report(patient: Patient, batch_id: str, identifier: str, fmt: str) -> bytes | None:
    """The report rendered with the hospital's patient id; None (the stored one is served) if it cannot be."""
    from screening.reports.context import ReportDataError
    from screening.reports.identified import patient_report

    try:
        with _render_lock:
            return patient_report(db(), state().store, patient, batch_id, identifier, fmt, _renderer)
    except ReportDataError:
        return None
    except Exception as exc:
        if is_infrastructure_error(exc):
            raise
        logger.exception("report of batch %s could not be rendered with the hospital id; serving the stored one",
                         batch_id)
        return None


def _audit(action: str, target_type: str, target_id: str, **details: object) -> None:
    audit(db(), action, user_id=g.user.id, target_type=target_type, target_id=target_id,
          ip=request.remote_addr, via=g.get("auth"), **details)
    db().commit()


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
