"""FHIR export of screening results: a patient's history or a batch, as an R4-family Bundle.

Same scope rules as the JSON API (a patient or batch the caller may see), and the
export is audited like a report download: the Bundle embeds the PDF reports.
"""

from __future__ import annotations

import json

from flask import Response, g, request

from screening import queries
from screening.accounts import audit
from screening.interop.fhir import Screened, bundle
from web.api import api
from web.auth import api_login_required
from web.authz import visible_batch, visible_patient
from web.state import db, state

FHIR_JSON = "application/fhir+json; fhirVersion=4.0"


@api.get("/patients/<pseudonym>/fhir")
@api_login_required
def patient_fhir(pseudonym: str) -> Response:
    patient = visible_patient(pseudonym)
    entries = queries.patient_history(db(), patient)
    names = _model_names([e.prediction.model_version_id for e in entries])
    items = [Screened(patient, e.batch, e.image, e.prediction, e.report, names[e.prediction.model_version_id])
             for e in entries]
    return _respond(items, "patient", patient.pseudonym)


@api.get("/batches/<batch_id>/fhir")
@api_login_required
def batch_fhir(batch_id: str) -> Response:
    batch = visible_batch(batch_id)
    rows, _ = queries.batch_results(db(), batch, None)
    reports = queries.batch_reports(db(), batch.id)
    names = _model_names([batch.model_version_id])
    items = [Screened(row.patient, batch, row.image, row.prediction, reports.get(row.patient.id),
                      names[row.prediction.model_version_id])
             for row in rows if row.prediction is not None and row.patient is not None]
    return _respond(items, "batch", batch.id)


def _model_names(ids: list[str | None]) -> dict[str, str]:
    versions = queries.model_versions_by_id(db(), [i for i in ids if i])
    return {i: (versions[i].name if i in versions else i) for i in ids if i}


def _respond(items: list[Screened], target_type: str, target_id: str) -> Response:
    document = bundle(items, state().store.get_bytes)
    audit(db(), "fhir.export", user_id=g.user.id, target_type=target_type, target_id=target_id,
          ip=request.remote_addr, via=g.get("auth"))
    db().commit()
    return Response(json.dumps(document), mimetype="application/fhir+json",
                    headers={"Content-Type": FHIR_JSON})
