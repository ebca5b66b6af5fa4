"""One study, one call: ``POST /api/v1/screenings`` with one X-ray and its patient's age and sex.

The image is wrapped into a batch of one (:mod:`screening.wrap_upload`) and goes
through :func:`web.uploads.accept` like any upload: same authentication, limits,
rate limit, Idempotency-Key and audit, in the express lane so it never waits behind
a bulk upload. Without ``wait`` the answer is 202 with a status URL; with
``?wait=SECONDS`` the request polls the batch (each look a short transaction, so no
database connection is held while it sleeps) and answers with the result once the
batch has finished, or 202 when the time is up.
"""

from __future__ import annotations

import tempfile
import time
from typing import Any

from flask import Response, g, request, url_for

from screening import queries
from screening.db.models import Batch
from screening.listing import Window
from screening.vocabulary import is_finished
from screening.wrap_upload import StudyFields, StudyFieldsError, single_image_archive
from web.api import api
from web.api.params import int_param, respond
from web.auth import api_login_required
from web.authz import upload_hospital, visible_batch
from web.errors import Problem, bad_request
from web.presenters import batch_json, delivery_json, result_json
from web.state import db
from web.uploads import accept, idempotency_key

IMAGE_TYPES = {"image/png", "image/jpeg", "application/dicom", "application/octet-stream"}
MAX_WAIT_S = 120  # below gunicorn's worker timeout (300 s), with room for the upload itself
POLL_S = 0.25
RESULTS_SHOWN = 100  # a PACS study is a few images; a page of the batch's results beyond that


@api.post("/screenings")
@api_login_required
def create_screening() -> Response:
    wait = int_param("wait", 0, 0, MAX_WAIT_S)
    key = idempotency_key()
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("image")
        if upload is None or not upload.filename:
            raise bad_request("send the X-ray in the multipart field 'image'")
        source, filename, values = upload.stream, upload.filename, request.form
    elif request.mimetype in IMAGE_TYPES:
        if request.content_length == 0:
            raise bad_request("the image is empty")
        source, filename, values = request.stream, request.headers.get("X-Filename"), request.args
    else:
        raise Problem(415, "Unsupported media type",
                      "send multipart/form-data with the field 'image' (and age_years, sex), or a raw body of type "
                      f"{', '.join(sorted(IMAGE_TYPES))} with them as query parameters; "
                      f"got {request.mimetype or 'no Content-Type'!r}")
    hospital_code = values.get("hospital") or request.args.get("hospital")
    upload_hospital(db(), g.user, hospital_code)  # 403/422 before the image is read
    fields = StudyFields(patient_id=values.get("patient_id"), age_years=values.get("age_years"),
                         age_months=values.get("age_months"), sex=values.get("sex"),
                         study_date=values.get("study_date"))
    with tempfile.TemporaryFile(prefix="osteo-screening-") as archive:
        try:
            wrapped = single_image_archive(source, filename, fields, archive)
        except StudyFieldsError as exc:
            raise Problem(422, "Unprocessable screening", str(exc)) from None
        archive.seek(0)
        batch, created = accept(g.user, hospital_code, archive, wrapped.member, key, express=True, via="screening")
    batch = _wait_for(batch.id, wait) if wait else batch
    return _screening_response(batch, status=202 if created and not is_finished(batch.status) else 200)


@api.get("/screenings/<batch_id>")
@api_login_required
def get_screening(batch_id: str) -> Response:
    wait = int_param("wait", 0, 0, MAX_WAIT_S)
    batch = visible_batch(batch_id)
    if wait and not is_finished(batch.status):
        batch = _wait_for(batch.id, wait)
    return _screening_response(batch)


def _wait_for(batch_id: str, seconds: int) -> Batch:
    """The batch once finished, or as it is when ``seconds`` have passed."""
    deadline = time.monotonic() + seconds
    session = db()
    while True:
        session.commit()  # end the transaction: the next look sees the workers' commits, no connection held
        batch = session.get_one(Batch, batch_id, populate_existing=True)
        if is_finished(batch.status) or time.monotonic() >= deadline:
            return batch
        time.sleep(POLL_S)


def _screening_response(batch: Batch, status: int = 200) -> Response:
    versions = queries.model_versions_by_id(db(), [batch.model_version_id])
    body: dict[str, Any] = {
        "id": batch.id,
        "status": batch.status.value,
        "finished": is_finished(batch.status),
        "status_url": url_for("api.get_screening", batch_id=batch.id),
        "batch": batch_json(batch, versions),
    }
    results: list[dict[str, Any]] = []
    if is_finished(batch.status):
        rows, _ = queries.batch_results(db(), batch, Window(RESULTS_SHOWN))
        reports = queries.batch_reports(db(), batch.id)
        results = [result_json(row, reports) for row in rows]
    body["results"] = results
    body["deliveries"] = [delivery_json(d) for d in queries.batch_deliveries(db(), batch.id)]
    # The one image of a one-study call (None until the batch has finished).
    body["result"] = results[0] if len(results) == 1 else None
    response = respond(body, [batch.model_version_id], status=status)
    if status == 202:
        response.headers["Location"] = body["status_url"]
        response.headers["Retry-After"] = "2"
    return response
