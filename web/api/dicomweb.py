"""STOW-RS (DICOMweb store, PS3.18 10.5): systems that push studies over HTTP instead of C-STORE.

``POST /api/v1/dicomweb/studies`` with ``multipart/related; type="application/dicom"``
and an API token: the instances of each study become one batch in the express
lane, exactly as a study the DICOM listener gathers
(:func:`screening.interop.intake.submit_study`), and the results go back to the
hospital's destinations. The answer is the standard DICOM JSON store response
(ReferencedSOPSequence, FailedSOPSequence): 200 when every instance was taken, 202
when some were not, 409 when none was; ``Location`` and ``X-Osteo-Batches`` name the
batches (``GET /api/v1/screenings/{id}`` follows one).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections import defaultdict
from typing import Any

from flask import Response, g, request, url_for

from screening.accounts import audit
from screening.interop.intake import Instance, NotAnInstance, submit_study
from screening.interop.multipart import MultipartError, boundary_of, iter_parts
from screening.pipeline import NotYetQueued
from screening.sealing import Sealer
from web.api import api
from web.auth import api_login_required
from web.authz import upload_hospital
from web.errors import Problem
from web.state import db, state
from web.uploads import rate_limit

DICOM_JSON = "application/dicom+json"
CANNOT_UNDERSTAND = 0xC000


@api.post("/dicomweb/studies")
@api_login_required
def stow_studies() -> Response:
    hospital = upload_hospital(db(), g.user, request.args.get("hospital"))
    rate_limit("upload", str(g.user.id))
    try:
        boundary = boundary_of(request.headers.get("Content-Type", ""))
    except MultipartError as exc:
        raise Problem(415, "Unsupported media type",
                      f'send multipart/related; type="application/dicom" with a boundary ({exc})') from None
    studies: dict[str, list[Instance]] = defaultdict(list)
    failed: list[dict[str, Any]] = []
    with tempfile.TemporaryFile(prefix="osteo-stow-") as body:
        shutil.copyfileobj(request.stream, body, 1024 * 1024)
        try:
            for headers, content in iter_parts(body, boundary):
                media = headers.get("content-type", "application/dicom").split(";")[0].strip().lower()
                try:
                    if media != "application/dicom":
                        raise NotAnInstance(f"a part of type {media} is not a DICOM instance")
                    instance = Instance.read(content)
                except NotAnInstance:
                    failed.append(_failure(CANNOT_UNDERSTAND))
                    continue
                studies[str(instance.header.StudyInstanceUID)].append(instance)
        except MultipartError as exc:
            raise Problem(400, "Bad request", f"the multipart/related body is malformed: {exc}") from None
    stored, batches = [], []
    sealer = Sealer.from_settings(state().settings)
    for instances in studies.values():
        label = f"STOW-RS study ({len(instances)} image{'s' if len(instances) != 1 else ''})"
        try:
            batch_id = submit_study(db(), state().store, state().enqueue, sealer, hospital, instances, label,
                                    uploader_id=g.user.id).batch.id
        except NotYetQueued as exc:
            batch_id = exc.batch_id  # stored and committed: the recovery sweep queues it
        batches.append(batch_id)
        stored += instances
        audit(db(), "stow.upload", user_id=g.user.id, target_type="batch", target_id=batch_id,
              ip=request.remote_addr, hospital=hospital.code, instances=len(instances), via=g.get("auth"))
        db().commit()
    if not stored and not failed:
        raise Problem(400, "Bad request", "the body holds no DICOM instance")
    return _store_response(stored, failed, batches)


def _failure(reason: int) -> dict[str, Any]:
    """A FailedSOPSequence item for a part that is no readable instance (it has no UIDs to name)."""
    return {"00081197": {"vr": "US", "Value": [reason]}}


def _store_response(stored: list[Instance], failed: list[dict[str, Any]], batches: list[str]) -> Response:
    body: dict[str, Any] = {}
    if stored:
        body["00081199"] = {"vr": "SQ", "Value": [
            {"00081150": {"vr": "UI", "Value": [str(i.header.SOPClassUID)]},
             "00081155": {"vr": "UI", "Value": [str(i.header.SOPInstanceUID)]}} for i in stored]}
    if failed:
        body["00081198"] = {"vr": "SQ", "Value": failed}
    status = 200 if not failed else (202 if stored else 409)
    response = Response(json.dumps(body), status=status, mimetype=DICOM_JSON)
    if batches:
        response.headers["Location"] = url_for("api.get_screening", batch_id=batches[0])
        response.headers["X-Osteo-Batches"] = ",".join(batches)
    return response
