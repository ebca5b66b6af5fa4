"""A patient's screening history, by pseudonym, or by the hospital's own patient id for its staff.

The hospital's patient id appears in answers only for that hospital's staff
(``hospital_patient_id``); a lookup by it is a POST, so it is never in a URL or an access log.
"""

from __future__ import annotations

from typing import Any

from flask import Response, g, request, url_for

from screening import queries
from screening.db.models import Patient, RiskClass
from web.api import api
from web.api.params import choice_param, date_range, page_json, respond
from web.auth import api_login_required
from web.authz import hospital_param, search_pseudonyms, visible_hospital_ids, visible_patient
from web.errors import bad_request, not_found
from web.listing import api_window, sort_param
from web.presenters import history_json, identifier_of, iso
from web.state import db


def patient_filter() -> queries.PatientFilter:
    """The patient-list filters of the query string (shared by the page and the API)."""
    hospital = hospital_param()
    start, end = date_range()
    return queries.PatientFilter(
        referred_only=request.args.get("referred") in ("1", "true", "yes"),
        risk_class=choice_param("class", [r.value for r in RiskClass]), sex=choice_param("sex", ["F", "M"]),
        hospital_id=hospital.id if hospital else None, screened_from=start, screened_to=end,
        pseudonym=(request.args.get("q") or "").strip()[:32] or None)


def patient_summary_json(patient: Patient) -> dict[str, Any]:
    return {"pseudonym": patient.pseudonym, "hospital_patient_id": identifier_of(patient),
            "hospital": {"code": patient.hospital.code, "name": patient.hospital.name}, "sex": patient.sex,
            "latest": {"class": patient.latest_class.value if patient.latest_class else None,
                       "p_osteoporosis": patient.latest_risk, "referred": patient.latest_referred,
                       "screened_at": iso(patient.latest_screened_at),
                       "model_version": patient.latest_model_version_id},
            "links": {"self": url_for("api.get_patient", pseudonym=patient.pseudonym)}}


@api.get("/patients")
@api_login_required
def list_patients() -> Response:
    """Screened patients you may see (latest result first by default), filtered, sorted, paged, with the total."""
    window = api_window()
    sort = sort_param(tuple(queries.PATIENT_SORTS), queries.PATIENT_DEFAULT_SORT)
    rows, total = queries.list_patients(db(), visible_hospital_ids(db(), g.user), window, patient_filter(), sort)
    body = page_json([patient_summary_json(p) for p in rows], total, window.limit, window.offset)
    body["sort"] = sort.param
    return respond(body, [p.latest_model_version_id for p in rows])


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
