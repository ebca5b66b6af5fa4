"""A patient's screening history (by pseudonym; raw identifiers never reach the API)."""

from __future__ import annotations

from flask import Response

from screening import queries
from web.api import api
from web.api.params import respond
from web.auth import api_login_required
from web.authz import visible_patient
from web.presenters import history_json
from web.state import db


@api.get("/patients/<pseudonym>")
@api_login_required
def get_patient(pseudonym: str) -> Response:
    patient = visible_patient(pseudonym)
    entries = queries.patient_history(db(), patient)
    outside = queries.patient_not_eligible(db(), patient)
    return respond(history_json(patient, entries, outside), [e.prediction.model_version_id for e in entries])
