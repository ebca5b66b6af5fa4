"""A patient's screening history, by pseudonym, or by the hospital's own patient id for its staff.

The hospital's patient id appears in answers only for that hospital's staff
(``hospital_patient_id``); a lookup by it is a POST, so it is never in a URL or an access log.
"""

from __future__ import annotations

from flask import Response, g, request

from screening import queries
from web.api import api
from web.api.params import respond
from web.auth import api_login_required
from web.authz import search_pseudonyms, visible_hospital_ids, visible_patient
from web.errors import bad_request, not_found
from web.presenters import history_json
from web.state import db


@api.get("/patients/<pseudonym>")
@api_login_required
def get_patient(pseudonym: str) -> Response:
    patient = visible_patient(pseudonym)
    entries = queries.patient_history(db(), patient)
    outside = queries.patient_not_eligible(db(), patient)
    return respond(history_json(patient, entries, outside), [e.prediction.model_version_id for e in entries])


@api.post("/patients/lookup")
@api_login_required
def lookup_patient() -> Response:
    """Body ``{"id": "..."}``: a pseudonym, or (hospital staff) their hospital's patient id."""
    body = request.get_json(silent=True)
    text = body.get("id") if isinstance(body, dict) else None
    if not isinstance(text, str) or not text.strip():
        raise bad_request('send JSON {"id": "<hospital patient id or pseudonym>"}')
    found = queries.find_patients(db(), visible_hospital_ids(db(), g.user), search_pseudonyms(db(), g.user, text))
    if len(found) != 1:
        raise not_found("no patient that you can see has this id or pseudonym")
    patient = found[0]
    entries = queries.patient_history(db(), patient)
    outside = queries.patient_not_eligible(db(), patient)
    return respond(history_json(patient, entries, outside), [e.prediction.model_version_id for e in entries])
